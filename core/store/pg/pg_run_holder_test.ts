import assert from "node:assert/strict";
import { startPostgres } from "../../../testing/postgres.ts";
import { openPgBackend } from "./pg_backend.ts";
import { pgRunHolder } from "./pg_run_holder.ts";
import { pgFactory } from "./test_support.ts";

Deno.test("pgRunHolder judges a run's process by its heartbeat in the database, on any host", async () => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  try {
    const b = await openPgBackend({ url: await f.newDatabase() });
    const { sql } = b;
    try {
      // Nobody ever consumed the queue: no process, not alive.
      assert.deepEqual(await pgRunHolder(sql, "R"), { alive: false, working: false, workers: 0 });

      // A worker on another host (a pid that does not live here) with a chunk of R in hand.
      await sql`INSERT INTO sluice_workers (id, host, pid, command, started_at, seen_at)
        VALUES ('far:777:abcd', 'far', 777, 'sluice worker', to_timestamp(1700000000), now())`;
      await sql`INSERT INTO sluice_queue (key, run_id, body, ready_at, locked_by, lease)
        VALUES ('R/1/0', 'R', '{}', now() + interval '30 seconds', 'far:777:abcd', 1)`;
      // A live worker of an older build (no host/pid/command columns written) with nothing of R.
      await sql`INSERT INTO sluice_workers (id, seen_at) VALUES ('near:42:ef01', now())`;
      assert.deepEqual(await pgRunHolder(sql, "R"), {
        process: { pid: 777, host: "far", command: "sluice worker", since: 1_700_000_000_000 },
        alive: true,
        working: true,
        workers: 2,
      });

      // The holder went silent: its chunks go to the other live worker, so the run lives on.
      await sql`UPDATE sluice_workers SET seen_at = now() - interval '1 minute'
        WHERE id = 'far:777:abcd'`;
      const waiting = await pgRunHolder(sql, "R");
      assert.equal(waiting.alive, true);
      assert.equal(waiting.working, false);
      assert.equal(waiting.workers, 1);
      assert.deepEqual(waiting.process && [waiting.process.host, waiting.process.pid], [
        "near",
        42,
      ]);

      // The other one stopped: nobody goes on with R; the process named is its last holder.
      await sql`UPDATE sluice_workers SET stopped = true WHERE id = 'near:42:ef01'`;
      const gone = await pgRunHolder(sql, "R", { staleMs: 30_000 });
      assert.equal(gone.alive, false);
      assert.equal(gone.workers, 0);
      assert.equal(gone.process?.pid, 777);
      assert.equal(gone.process?.host, "far");
      // A longer stale window keeps the silent holder alive.
      assert.equal((await pgRunHolder(sql, "R", { staleMs: 120_000 })).alive, true);
    } finally {
      await b.close();
    }
  } finally {
    await f.close();
    await pg.close();
  }
});
