import assert from "node:assert/strict";
import { startPostgres } from "../../../testing/postgres.ts";
import { connectPg } from "./connect.ts";
import { migrate } from "./migrate.ts";
import { PgTriggerStore } from "./pg_trigger_store.ts";
import { TRIGGER_STORE_SCENARIOS } from "../../triggers/trigger_store_behaviour.ts";
import { type PgFactory, pgFactory } from "./test_support.ts";

/** Two stores on two pools of one new database (as two servers would have). */
async function withStores(
  f: PgFactory,
  fn: (a: PgTriggerStore, b: PgTriggerStore) => Promise<void>,
) {
  const url = await f.newDatabase();
  const pools = [connectPg(url), connectPg(url)];
  try {
    await migrate(pools[0]);
    // The shared scenarios use synthetic times: judge the lease by the callers' clocks.
    await fn(
      new PgTriggerStore(pools[0], { callerClock: true }),
      new PgTriggerStore(pools[1], { callerClock: true }),
    );
  } finally {
    for (const p of pools) await p.end();
  }
}

Deno.test("PostgreSQL trigger store", async (t) => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  try {
    for (const [name, scenario] of TRIGGER_STORE_SCENARIOS) {
      await t.step(name, () => withStores(f, scenario));
    }
    await t.step("the scheduler lease is judged by the database clock", async () => {
      const url = await f.newDatabase();
      const pools = [connectPg(url), connectPg(url)];
      try {
        await migrate(pools[0]);
        const [a, b] = pools.map((p) => new PgTriggerStore(p));
        const fast = Date.now() + 10 * 60_000;
        assert.equal(await a.acquireLease("scheduler", "A", 30_000, Date.now()), true);
        // A server whose clock runs 10 minutes fast does not see the live lease as expired.
        assert.equal(await b.acquireLease("scheduler", "B", 30_000, fast), false);
        assert.equal((await b.leaseHolder("scheduler", fast))?.owner, "A");
        // Nor does its own lease outlive a healthy server's view by 10 minutes.
        await a.releaseLease("scheduler", "A");
        assert.equal(await b.acquireLease("scheduler", "B", 30_000, fast), true);
        const holder = await a.leaseHolder("scheduler", Date.now());
        assert.ok(
          holder && holder.expiresAt - Date.now() <= 31_000,
          "expiry by the database clock",
        );
      } finally {
        for (const p of pools) await p.end();
      }
    });
  } finally {
    await f.close();
    await pg.close();
  }
});
