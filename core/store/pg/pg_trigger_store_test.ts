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
    await fn(new PgTriggerStore(pools[0]), new PgTriggerStore(pools[1]));
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
  } finally {
    await f.close();
    await pg.close();
  }
});
