import assert from "node:assert/strict";
import { startPostgres } from "../../../testing/postgres.ts";
import {
  RUN_LOG_CAPPED,
  RUN_LOG_MAX_LINES,
  RUN_LOG_MAX_MSG,
  type RunLogEntry,
  type RunRecord,
} from "../store.ts";
import { connectPg } from "./connect.ts";
import { migrate, MIGRATIONS } from "./migrate.ts";
import { openPgBackend, type PgBackend } from "./pg_backend.ts";
import { pgFactory } from "./test_support.ts";

function run(id: string, o: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    pipeline: "p",
    pipelineYaml: "name: p",
    pipelineFile: "p.yaml",
    stages: [],
    inputs: {},
    trigger: { kind: "cli" },
    state: "running",
    createdAt: 1000,
    ...o,
  };
}

const line = (at: number, msg: string, o: Partial<RunLogEntry> = {}): RunLogEntry => ({
  at,
  level: "info",
  stage: "s",
  chunk: 0,
  msg,
  ...o,
});

const lines = (n: number, from: number, tag: string) =>
  Array.from({ length: n }, (_, i) => line(from + i, `${tag} ${i}`));

Deno.test("PostgreSQL run log", async (t) => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  const open = async (url: string) => await openPgBackend({ visibilityMs: 400, pollMs: 50, url });
  /** Two processes on one new database. */
  const two = async (): Promise<[PgBackend, PgBackend]> => {
    const url = await f.newDatabase();
    return [await open(url), await open(url)];
  };
  try {
    await t.step(
      "lines come back by time, then in the order appended by any process; the first `limit`",
      async () => {
        const [a, b] = await two();
        try {
          await a.store.createRun(run("r"), []);
          await a.store.createRun(run("other"), []);
          const tally = { key: "rule:big", count: 3, line: "rule big: {count} item(s)" };
          await a.store.appendRunLog("r", [line(10, "a1"), line(30, "a2", { level: "warn" })]);
          await b.store.appendRunLog("r", [
            line(20, "b1", { stage: "score", chunk: 4, level: "warn", tally }),
            line(10, "b2"),
            line(10, "b3", { chunk: -1 }),
          ]);
          await a.store.appendRunLog("r", [line(10, "a3", { level: "error" })]);
          await a.store.appendRunLog("r", []);
          await b.store.appendRunLog("other", [line(1, "elsewhere")]);
          const log = await b.store.readRunLog("r", 100);
          assert.deepEqual(log.map((l) => l.msg), ["a1", "b2", "b3", "a3", "b1", "a2"]);
          assert.deepEqual(log[4], {
            at: 20,
            level: "warn",
            stage: "score",
            chunk: 4,
            msg: "b1",
            tally,
          });
          assert.deepEqual(log[2], { at: 10, level: "info", stage: "s", chunk: -1, msg: "b3" });
          assert.ok(!("tally" in log[0]), "no tally key on a line without one");
          assert.deepEqual((await a.store.readRunLog("r", 3)).map((l) => l.msg), [
            "a1",
            "b2",
            "b3",
          ]);
          assert.deepEqual(await a.store.readRunLog("r", 0), []);
          assert.deepEqual(await a.store.readRunLog("none", 10), []);
          assert.deepEqual((await a.store.readRunLog("other", 10)).map((l) => l.msg), [
            "elsewhere",
          ]);
        } finally {
          await a.close();
          await b.close();
        }
      },
    );

    await t.step(
      "a run keeps 5000 lines across processes, one of them says so; long lines are cut",
      async () => {
        const [a, b] = await two();
        try {
          await a.store.createRun(run("r"), []);
          // Two processes, each under its own cap (the engine's), append at the same time.
          const each = async (s: PgBackend, tag: string) => {
            for (let i = 0; i < 30; i++) await s.store.appendRunLog("r", lines(100, i * 100, tag));
          };
          await Promise.all([each(a, "a"), each(b, "b")]);
          const log = await a.store.readRunLog("r", 20_000);
          assert.equal(log.length, RUN_LOG_MAX_LINES);
          const capped = log.filter((l) => l.msg.startsWith("(log capped at "));
          assert.equal(capped.length, 1, "one line says the log is capped");
          assert.match(capped[0].msg, /^\(log capped at 5000 lines\) [ab] \d+$/);
          await b.store.appendRunLog("r", [line(0, "too late")]);
          assert.equal((await a.store.readRunLog("r", 20_000)).length, RUN_LOG_MAX_LINES);
          assert.ok(!(await a.store.readRunLog("r", 20_000)).some((l) => l.msg === "too late"));

          // A line the engine already marked as the cap's is not marked twice.
          await a.store.createRun(run("engine"), []);
          const marked = lines(RUN_LOG_MAX_LINES, 0, "x");
          marked[RUN_LOG_MAX_LINES - 1].msg = `${RUN_LOG_CAPPED}x last`;
          await a.store.appendRunLog("engine", marked);
          const got = await a.store.readRunLog("engine", 20_000);
          assert.equal(got.length, RUN_LOG_MAX_LINES);
          assert.equal(got.at(-1)!.msg, `${RUN_LOG_CAPPED}x last`);

          // Messages are cut at 2000 characters; text PostgreSQL cannot store is replaced.
          await a.store.createRun(run("odd"), []);
          await a.store.appendRunLog("odd", [
            line(1, "y".repeat(5000)),
            line(2, "nul\0here \ud800 lone", {
              tally: { key: "k\0", count: 1, line: "l \udc00 {count}" },
            }),
          ]);
          const [long, odd] = await a.store.readRunLog("odd", 10);
          assert.equal(long.msg, "y".repeat(RUN_LOG_MAX_MSG));
          assert.equal(odd.msg, "nul\ufffdhere \ufffd lone");
          assert.deepEqual(odd.tally, { key: "k\ufffd", count: 1, line: "l \ufffd {count}" });
        } finally {
          await a.close();
          await b.close();
        }
      },
    );

    await t.step("purging a run deletes its log lines (and its line count)", async () => {
      const [a, b] = await two();
      try {
        const t0 = Date.now();
        await a.store.createRun(run("old", { state: "succeeded", finishedAt: t0 - 20_000 }), []);
        await a.store.createRun(run("aged", { state: "failed", finishedAt: t0 - 20_000 }), []);
        await a.store.createRun(run("kept", { state: "succeeded", finishedAt: t0 }), []);
        for (const id of ["old", "aged", "kept"]) {
          await a.store.appendRunLog(id, lines(3, 0, id));
          await b.store.appendRunLog(id, lines(2, 5, id));
        }
        const count = async (table: string, id: string) =>
          (await a.sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM ${a.sql(table)} WHERE run_id = ${id}`)[0].n;
        assert.equal(await count("sluice_run_log", "old"), 5);
        assert.equal(await count("sluice_run_log_lines", "old"), 1);
        // Retention by the caller's clock, and by the database's (the maintenance holder's way).
        assert.equal(await a.store.purgeFinished(t0 - 10_000, 1), 1);
        assert.equal(await b.store.purgeFinishedOlderThan(10_000, 100), 1);
        for (const id of ["old", "aged"]) {
          assert.deepEqual(await a.store.readRunLog(id, 100), []);
          assert.equal(await count("sluice_run_log", id), 0);
          assert.equal(await count("sluice_run_log_lines", id), 0);
        }
        assert.equal((await a.store.readRunLog("kept", 100)).length, 5, "other runs keep theirs");
        await a.store.deleteRun("kept");
        assert.equal(await count("sluice_run_log", "kept"), 0);
      } finally {
        await a.close();
        await b.close();
      }
    });

    await t.step(
      "migration 5 adds the run log to a database with runs; an older build refuses it",
      async () => {
        const url = await f.newDatabase();
        const sql = connectPg(url);
        try {
          await migrate(sql, MIGRATIONS.filter((m) => m.version <= 4));
          await sql`INSERT INTO sluice_runs (id, pipeline, state, created_at, record)
            VALUES ('old', 'p', 'running', 1, ${JSON.stringify(run("old"))}::text::json)`;
          assert.deepEqual((await migrate(sql, MIGRATIONS.filter((m) => m.version <= 5))).applied, [
            5,
          ]);
          await assert.rejects(
            () => migrate(sql, MIGRATIONS.filter((m) => m.version <= 4)),
            /schema is at version 5, newer than this build knows \(4\): upgrade sluice/,
          );
        } finally {
          await sql.end();
        }
        const b = await open(url);
        try {
          await b.store.appendRunLog("old", [line(1, "after the upgrade")]);
          assert.deepEqual((await b.store.readRunLog("old", 10)).map((l) => l.msg), [
            "after the upgrade",
          ]);
        } finally {
          await b.close();
        }
      },
    );
  } finally {
    await f.close();
    await pg.close();
  }
});
