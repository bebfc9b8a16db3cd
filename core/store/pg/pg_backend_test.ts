import assert from "node:assert/strict";
import { startPostgres } from "../../../testing/postgres.ts";
import type { EngineMessage } from "../../queue/queue.ts";
import type { RunRecord } from "../store.ts";
import { connectPg } from "./connect.ts";
import { migrate, MIGRATIONS } from "./migrate.ts";
import { openPgBackend, type PgBackend } from "./pg_backend.ts";
import { startMaintenance } from "./pg_maintenance.ts";
import { checkClockSkew, ClockSkewError } from "./clock_check.ts";
import { silentLogger } from "../../telemetry/log.ts";
import type { PurgedRun } from "../purged_files.ts";

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
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

const chunk = (runId: string, stage: number, c: number): EngineMessage => ({
  kind: "chunk",
  runId,
  stage,
  chunk: c,
  attempt: 1,
});

/** Collects delivered messages until `n` arrived. */
function collect(b: PgBackend, n: number, hold?: (m: EngineMessage) => Promise<void>) {
  const got: EngineMessage[] = [];
  const ac = new AbortController();
  const done = new Promise<EngineMessage[]>((resolve) => {
    void b.queue.listen(async (m) => {
      got.push(m);
      await hold?.(m);
      if (got.length >= n) resolve(got);
    }, ac.signal);
  });
  return { got, done, stop: () => ac.abort() };
}

Deno.test("PostgreSQL backend", async (t) => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  const open = async (url: string, o: Parameters<typeof openPgBackend>[0] | object = {}) =>
    await openPgBackend({ visibilityMs: 400, pollMs: 50, ...o, url });
  try {
    await t.step("migrations apply once, also when processes start together", async () => {
      const url = await f.newDatabase();
      const pools = [connectPg(url), connectPg(url), connectPg(url)];
      try {
        const results = await Promise.all(pools.map((p) => migrate(p)));
        const applied = results.flatMap((r) => r.applied);
        assert.deepEqual(applied, MIGRATIONS.map((m) => m.version), "each applied exactly once");
        assert.ok(results.every((r) => r.version === MIGRATIONS.at(-1)!.version));
        const again = await migrate(pools[0]);
        assert.deepEqual(again.applied, []);
        await pools[0]`UPDATE sluice_migrations SET version = 999 WHERE version = 1`;
        await assert.rejects(() => migrate(pools[0]), /version 999, newer than this build/);
      } finally {
        for (const p of pools) await p.end();
      }
    });

    await t.step(
      "migration 3 keeps the chunks written as json (as text, read back the same)",
      async () => {
        const url = await f.newDatabase();
        const sql = connectPg(url);
        const items = [{ key: "a.com", name: "Ä café", n: 1.5, nested: { list: [1, null] } }];
        const rejected = [{ key: "row 3", reason: "no domain" }];
        try {
          await migrate(sql, MIGRATIONS.filter((m) => m.version <= 2));
          await sql`INSERT INTO sluice_runs (id, pipeline, state, created_at, record)
          VALUES ('old', 'p', 'running', 1, ${JSON.stringify(run("old"))}::text::json)`;
          await sql`INSERT INTO sluice_chunks (run_id, stage, chunk, count, items, rejected, done_at)
          VALUES ('old', 1, 0, 1, ${JSON.stringify(items)}::text::json,
            ${JSON.stringify(rejected)}::text::json, 5)`;
          assert.deepEqual(
            (await migrate(sql, MIGRATIONS.filter((m) => m.version <= 3))).applied,
            [3],
          );
          const [col] = await sql<{ data_type: string }[]>`
          SELECT data_type FROM information_schema.columns
          WHERE table_name = 'sluice_chunks' AND column_name = 'items'`;
          assert.equal(col.data_type, "text");
        } finally {
          await sql.end();
        }
        const b = await open(url);
        try {
          assert.deepEqual(await b.store.readChunk("old", 1, 0), items);
          const raw = await b.store.readChunkRaw!("old", 1, 0);
          assert.equal(raw?.count, 1);
          assert.deepEqual(JSON.parse(new TextDecoder().decode(raw!.parts[0])), items);
          const rej = [];
          for await (const r of b.store.readRejected("old")) rej.push(r);
          assert.deepEqual(rej, [{ ...rejected[0], stage: 1, chunk: 0 }]);
        } finally {
          await b.close();
        }
      },
    );

    await t.step("runs list newest first with cursors and filters", async () => {
      const b = await open(await f.newDatabase());
      try {
        for (let i = 0; i < 7; i++) {
          await b.store.createRun(
            run(`r${i}`, {
              createdAt: 1000 + i,
              pipeline: i % 2 ? "odd" : "even",
              state: i < 3 ? "succeeded" : "running",
            }),
            [],
          );
        }
        await assert.rejects(() => b.store.createRun(run("r1"), []), /already exists/);
        const ids: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await b.store.listRuns({ limit: 3, cursor });
          ids.push(...page.runs.map((r) => r.id));
          cursor = page.cursor;
        } while (cursor);
        assert.deepEqual(ids, ["r6", "r5", "r4", "r3", "r2", "r1", "r0"]);
        const odd = await b.store.listRuns({ pipeline: "odd" });
        assert.deepEqual(odd.runs.map((r) => r.id), ["r5", "r3", "r1"]);
        const done = await b.store.listRuns({ state: "succeeded", limit: 2 });
        assert.deepEqual(done.runs.map((r) => r.id), ["r2", "r1"]);
        assert.ok(done.cursor);
        await assert.rejects(() => b.store.listRuns({ cursor: "junk" }), /not one this server/);
        assert.ok(await b.store.transitionRun("r6", ["running"], "failed", { error: "x" }));
        assert.equal(await b.store.transitionRun("r6", ["running"], "failed"), false);
        assert.ok(
          await b.store.transitionRun("r6", ["failed"], "running", { error: undefined }),
        );
        const r6 = await b.store.getRun("r6");
        assert.equal(r6?.state, "running");
        assert.equal("error" in r6!, false, "an undefined patch field is removed");
      } finally {
        await b.close();
      }
    });

    await t.step("a chunk commit is atomic and happens once", async () => {
      const b = await open(await f.newDatabase());
      try {
        await b.store.createRun(run("r"), []);
        const commit = {
          runId: "r",
          stage: 1,
          chunk: 4,
          items: [{ key: "b", z: 1, a: 2 }, { key: "a" }],
          rejected: [{ key: "x", reason: "bad" }],
          counters: { in: 3, out: 2, rejected: 1, chunksDone: 1 },
          next: [chunk("r", 2, 4)],
        };
        assert.equal(await b.store.commitChunk(commit), true);
        assert.equal(await b.store.commitChunk({ ...commit, items: [] }), false, "duplicate");
        const items = await b.store.readChunk("r", 1, 4);
        assert.deepEqual(items, commit.items);
        assert.deepEqual(Object.keys(items![0]), ["key", "z", "a"], "key order kept");
        const c = await b.store.counters("r", 3);
        assert.deepEqual([c[1].in, c[1].out, c[1].rejected, c[1].chunksDone], [3, 2, 1, 1]);
        assert.deepEqual(await b.store.doneChunks("r", 1), [4]);
        const rej = [];
        for await (const r of b.store.readRejected("r")) rej.push(r);
        assert.deepEqual(rej, [{ key: "x", reason: "bad", stage: 1, chunk: 4 }]);
        const [{ n }] = await b.sql<{ n: number }[]>`
          SELECT count(*)::int AS n FROM sluice_queue WHERE key = 'r/2/4'`;
        assert.equal(n, 1, "the next message was written with the commit");
        await b.store.deleteRun("r");
        assert.equal(await b.store.readChunk("r", 1, 4), undefined);
        const [{ q }] = await b.sql<{ q: number }[]>`SELECT count(*)::int AS q FROM sluice_queue`;
        assert.equal(q, 0);
      } finally {
        await b.close();
      }
    });

    await t.step(
      "a commit of a count and bytes only (a sink's input passed on) keeps them",
      async () => {
        const b = await open(await f.newDatabase());
        try {
          await b.store.createRun(run("r"), []);
          const text = '[{"key":"é","n":1},{"key":"b"}]';
          const bytes = new TextEncoder().encode(text);
          assert.ok(
            await b.store.commitChunk({
              runId: "r",
              stage: 2,
              chunk: 0,
              items: [],
              count: 2,
              // In pieces, one ending inside "é", as a chunk is read.
              itemsBytes: [bytes.subarray(0, 10), bytes.subarray(10)],
              rejected: [],
              counters: { in: 2, out: 2, chunksDone: 1 },
              next: [],
            }),
          );
          const raw = (await b.store.readChunkRaw!("r", 2, 0))!;
          assert.equal(raw.count, 2);
          assert.deepEqual(await b.store.readChunk("r", 2, 0), JSON.parse(text));
        } finally {
          await b.close();
        }
      },
    );

    await t.step(
      "a commit of items with their bytes alone (a when stage's joined output) keeps those",
      async () => {
        const b = await open(await f.newDatabase());
        try {
          await b.store.createRun(run("r"), []);
          const items = [{ key: "é", n: 1 }, { key: "b" }];
          // Not what JSON.stringify(items) gives: the store must keep this text, not serialize.
          const text = ' [ {"key":"é","n":1}, {"key":"b"} ]';
          const bytes = new TextEncoder().encode(text);
          assert.ok(
            await b.store.commitChunk({
              runId: "r",
              stage: 1,
              chunk: 0,
              items,
              itemsBytes: [bytes.subarray(0, 12), bytes.subarray(12)],
              rejected: [],
              counters: { out: 2, chunksDone: 1 },
              next: [],
            }),
          );
          const raw = (await b.store.readChunkRaw!("r", 1, 0))!;
          assert.equal(raw.count, 2);
          assert.equal(raw.text, text);
          assert.deepEqual(await b.store.readChunk("r", 1, 0), items);
        } finally {
          await b.close();
        }
      },
    );

    await t.step("dead letters park and release with their counters", async () => {
      const b = await open(await f.newDatabase());
      try {
        await b.store.createRun(run("r"), []);
        const d = {
          runId: "r",
          stage: 1,
          stageId: "s",
          chunk: 2,
          attempts: 3,
          error: "boom",
          at: 5,
          items: 10,
        };
        assert.ok(await b.store.addDeadLetter(d));
        assert.equal(await b.store.addDeadLetter(d), false);
        await b.store.setAttempts("r", 1, 2, {
          attempts: 3,
          lastError: "boom",
          nextAt: 0,
          dead: true,
        });
        assert.deepEqual(await b.store.listDeadLetters("r"), [d]);
        let c = await b.store.counters("r", 2);
        assert.deepEqual([c[1].chunksDead, c[1].failed], [1, 10]);
        assert.ok(await b.store.removeDeadLetter("r", 1, 2));
        assert.equal(await b.store.removeDeadLetter("r", 1, 2), false);
        c = await b.store.counters("r", 2);
        assert.deepEqual([c[1].chunksDead, c[1].failed], [0, 0]);
        assert.equal(await b.store.getAttempts("r", 1, 2), undefined);
      } finally {
        await b.close();
      }
    });

    await t.step(
      "a message held by a killed process is redelivered after the timeout",
      async () => {
        const b = await open(await f.newDatabase());
        try {
          await b.queue.enqueue(chunk("r", 1, 0));
          // What a worker killed mid-chunk leaves behind: a claimed row nobody heartbeats.
          await b.sql`UPDATE sluice_queue SET ready_at = now() + interval '300 milliseconds',
          locked_by = 'dead', lease = nextval('sluice_queue_lease'), deliveries = 1`;
          const started = performance.now();
          const c = collect(b, 1);
          const [m] = await c.done;
          c.stop();
          assert.deepEqual(m, chunk("r", 1, 0));
          assert.ok(performance.now() - started >= 200, "not before the lock ran out");
        } finally {
          await b.close();
        }
      },
    );

    await t.step(
      "an enqueue while the message is held delivers it once more afterwards",
      async () => {
        const b = await open(await f.newDatabase());
        try {
          await b.queue.enqueue(chunk("r", 1, 0));
          let first = true;
          const c = collect(b, 2, async (m) => {
            if (first) {
              first = false;
              // Same unit enqueued twice while held: merged into one more delivery.
              await b.queue.enqueue(m);
              await b.queue.enqueue(m);
            }
          });
          await c.done;
          await new Promise((r) => setTimeout(r, 200));
          c.stop();
          assert.equal(c.got.length, 2);
          const [{ n }] = await b.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sluice_queue`;
          assert.equal(n, 0);
        } finally {
          await b.close();
        }
      },
    );

    await t.step("delayed messages wait; duplicates of a queued unit merge", async () => {
      const b = await open(await f.newDatabase());
      try {
        await b.queue.enqueue(chunk("r", 1, 1), { delayMs: 300 });
        await b.queue.enqueue(chunk("r", 1, 0));
        await b.queue.enqueue(chunk("r", 1, 0));
        const c = collect(b, 2);
        const got = await c.done;
        c.stop();
        assert.deepEqual(got.map((m) => m.kind === "chunk" && m.chunk), [0, 1]);
      } finally {
        await b.close();
      }
    });

    await t.step("a message whose workers keep dying is parked", async () => {
      const b = await open(await f.newDatabase());
      try {
        await b.queue.enqueue(chunk("r", 1, 0));
        await b.sql`UPDATE sluice_queue SET deliveries = 10`;
        const ac = new AbortController();
        let called = false;
        void b.queue.listen(() => {
          called = true;
          return Promise.resolve();
        }, ac.signal);
        for (let i = 0; i < 100; i++) {
          const [{ n }] = await b.sql<{ n: number }[]>`
            SELECT count(*)::int AS n FROM sluice_queue_dead`;
          if (n) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        ac.abort();
        const dead = await b.sql<{ key: string; reason: string }[]>`
          SELECT key, reason FROM sluice_queue_dead`;
        assert.equal(dead[0]?.key, "r/1/0");
        assert.match(dead[0].reason, /delivered 11 times without finishing/);
        assert.equal(called, false);
      } finally {
        await b.close();
      }
    });

    await t.step("concurrency slots hold across processes", async () => {
      const url = await f.newDatabase();
      const a = await open(url);
      const b = await open(url);
      try {
        let active = 0;
        let peak = 0;
        const work = async (x: PgBackend) => {
          const release = await x.limits.acquire("run/1", 2);
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 20));
          active--;
          await release();
        };
        let done = 0;
        await Promise.all([a, b, a, b, a, b, a, b].map((x) => work(x).then(() => done++)));
        // Never more than the limit at once across both processes (how close it gets to the
        // limit depends on timing); every holder got its turn.
        assert.ok(peak >= 1 && peak <= 2, `peak ${peak}`);
        assert.equal(done, 8);
        // A holder that stops heartbeating loses its slot after the TTL.
        await a.limits.acquire("run/2", 1);
        await a.limits.close();
        const release = await b.limits.acquire("run/2", 1);
        await release();
      } finally {
        await a.close();
        await b.close();
      }
    });

    await t.step("rate-limit buckets are shared by processes", async () => {
      const url = await f.newDatabase();
      // A synthetic clock: bucket time by the callers' clocks.
      const a = await open(url, { callerClock: true });
      const b = await open(url, { callerClock: true });
      try {
        let t = 0;
        let slept = 0;
        const timer = {
          now: () => t,
          sleep: (ms: number) => {
            t += ms;
            slept += ms;
            return Promise.resolve();
          },
        };
        const la = a.limits.rateLimiter("p/s", { rate: 10, perMs: 1000, burst: 2, timer });
        const lb = b.limits.rateLimiter("p/s", { rate: 10, perMs: 1000, burst: 2, timer });
        for (const l of [la, lb, la, lb]) await l.take("host-a");
        // Burst 2 shared by both: the 3rd and 4th take wait 100 ms each.
        assert.equal(slept, 200);
        await la.take("host-b");
        assert.equal(slept, 200, "another key has its own bucket");
      } finally {
        await a.close();
        await b.close();
      }
    });

    await t.step("maintenance: one lease holder purges runs past retention", async () => {
      const url = await f.newDatabase();
      const a = await open(url);
      const b = await open(url);
      try {
        const now = Date.now;
        const t0 = Date.now();
        await a.store.createRun(run("old", { state: "succeeded", finishedAt: t0 - 20_000 }), []);
        await a.store.createRun(run("new", { state: "succeeded", finishedAt: t0 - 1000 }), []);
        await a.store.createRun(run("live", { state: "running" }), []);
        const ma = startMaintenance({ backend: a, retentionMs: 10_000, now, intervalMs: 60_000 });
        const mb = startMaintenance({ backend: b, retentionMs: 10_000, now, intervalMs: 60_000 });
        assert.equal(await ma.runOnce(), true);
        assert.equal(await mb.runOnce(), false, "the other process does not hold the lease");
        assert.equal(await a.store.getRun("old"), undefined);
        assert.ok(await a.store.getRun("new"));
        assert.ok(await a.store.getRun("live"));
        await ma.close();
        assert.equal(await mb.runOnce(), true, "released lease taken over");
        await mb.close();
      } finally {
        await a.close();
        await b.close();
      }
    });
    await t.step(
      "maintenance: rows of processes gone for a week leave sluice_workers",
      async () => {
        const url = await f.newDatabase();
        const a = await open(url);
        try {
          await a.sql`
          INSERT INTO sluice_workers (id, seen_at, stopped) VALUES
            ('gone', now() - interval '8 days', true),
            ('silent', now() - interval '8 days', false),
            ('recent', now() - interval '6 days', true),
            ('holding', now() - interval '8 days', false)`;
          await a.sql`
          INSERT INTO sluice_queue (key, run_id, body, ready_at, locked_by)
          VALUES ('k-held', 'r-held', '{}', now(), 'holding')`;
          const m = startMaintenance({ backend: a, intervalMs: 60_000 });
          assert.equal(await m.runOnce(), true);
          await m.close();
          const ids = (await a.sql<{ id: string }[]>`SELECT id FROM sluice_workers ORDER BY id`)
            .map((r) => r.id);
          assert.ok(!ids.includes("gone") && !ids.includes("silent"), ids.join(","));
          assert.ok(ids.includes("recent"), "a process seen within the week stays");
          assert.ok(ids.includes("holding"), "a process still holding queue messages stays");
        } finally {
          await a.close();
        }
      },
    );
    await t.step(
      "purged runs come with their state (retention keeps succeeded ledgers)",
      async () => {
        const url = await f.newDatabase();
        const a = await open(url);
        try {
          const t0 = Date.now();
          await a.store.createRun(run("ok", { state: "succeeded", finishedAt: t0 - 20_000 }), []);
          await a.store.createRun(run("bad", { state: "failed", finishedAt: t0 - 20_000 }), []);
          const runs: PurgedRun[] = [];
          assert.equal(await a.store.purgeFinished(t0 - 10_000, 100, [], runs), 2);
          assert.deepEqual(
            runs.map((r) => [r.id, r.state]).sort(),
            [["bad", "failed"], ["ok", "succeeded"]],
          );
        } finally {
          await a.close();
        }
      },
    );
    await t.step(
      "a process with a fast clock takes no live lease, starves no bucket, purges nothing early",
      async () => {
        const url = await f.newDatabase();
        const a = await open(url);
        const b = await open(url);
        const fast = () => Date.now() + 10 * 60_000;
        try {
          // Leases: expiry written and judged by the database clock.
          assert.equal(await a.limits.acquireLease("l", "A", 30_000, Date.now()), true);
          assert.equal(await b.limits.acquireLease("l", "B", 30_000, fast()), false);
          assert.equal((await b.limits.leaseHolder("l", fast()))?.owner, "A");
          // Buckets: the fast process takes first; the healthy one still gets tokens in time.
          const timer = (now: () => number) => ({ now, sleep: (ms: number) => delay(ms) });
          const la = a.limits.rateLimiter("p/s", {
            rate: 20,
            perMs: 1000,
            burst: 1,
            timer: timer(fast),
          });
          const lb = b.limits.rateLimiter("p/s", {
            rate: 20,
            perMs: 1000,
            burst: 1,
            timer: timer(Date.now),
          });
          await la.take("h");
          const started = Date.now();
          for (let i = 0; i < 3; i++) await lb.take("h", AbortSignal.timeout(3000));
          assert.ok(Date.now() - started < 2000, "3 tokens at 20/s");
          // Retention: cut-off by the database clock.
          const t0 = Date.now();
          await a.store.createRun(
            run("recent", { state: "succeeded", finishedAt: t0 - 60_000 }),
            [],
          );
          // Input files: Sluice's own (an upload) go with their run; a user's --input stays.
          const dataDir = await Deno.makeTempDir({ prefix: "sluice-retention-" });
          const upload = `${dataDir}/uploads/old.csv`;
          const mine = `${dataDir}/mine.csv`;
          await Deno.mkdir(`${dataDir}/uploads`);
          await Deno.writeTextFile(upload, "name,domain\n");
          await Deno.writeTextFile(mine, "name,domain\n");
          // What the old run's export stage wrote for it alone, and a file later runs share.
          const exportDir = `${dataDir}/plugin-data/csv-export/runs/old`;
          await Deno.mkdir(exportDir, { recursive: true });
          await Deno.writeTextFile(`${exportDir}/leads.csv`, "domain\r\n");
          await Deno.writeTextFile(`${dataDir}/plugin-data/csv-export/latest.csv`, "domain\r\n");
          const stages = [{ id: "sheet", resolved: { manifest: { name: "csv-export" } } }];
          await a.store.createRun(
            run("old", {
              state: "succeeded",
              finishedAt: t0 - 180_000,
              inputFile: upload,
              stages: stages as unknown as RunRecord["stages"],
              artifacts: [{
                stage: "sheet",
                name: "latest.csv",
                path: "plugin-data/csv-export/latest.csv",
                bytes: 8,
              }],
            }),
            [],
          );
          await a.store.createRun(
            run("old-cli", { state: "succeeded", finishedAt: t0 - 180_000, inputFile: mine }),
            [],
          );
          // A scheduled run's snapshot of its source's with.path file goes with it; the file stays.
          const sourceFile = `${dataDir}/plugin-data/csv-source/crm.csv`;
          const snapshot = `${dataDir}/runs/old-cron/input/crm.csv`;
          await Deno.mkdir(`${dataDir}/plugin-data/csv-source`, { recursive: true });
          await Deno.mkdir(`${dataDir}/runs/old-cron/input`, { recursive: true });
          await Deno.writeTextFile(sourceFile, "name,domain\n");
          await Deno.writeTextFile(snapshot, "name,domain\n");
          await a.store.createRun(
            run("old-cron", {
              state: "succeeded",
              finishedAt: t0 - 180_000,
              inputFile: snapshot,
              inputName: "crm.csv",
              sourceFile,
              trigger: { kind: "cron", id: "p/weekly" },
            }),
            [],
          );
          const m = startMaintenance({
            backend: b,
            retentionMs: 120_000,
            now: fast,
            intervalMs: 60_000,
            dataDir,
          });
          await a.limits.releaseLease("maintenance", "A");
          assert.equal(await m.runOnce(), true);
          await m.close();
          assert.ok(await a.store.getRun("recent"), "finished 1 min ago, retention 2 min: kept");
          assert.equal(await a.store.getRun("old"), undefined);
          assert.equal(await a.store.getRun("old-cli"), undefined);
          assert.equal(await Deno.stat(upload).catch(() => null), null, "the upload is deleted");
          assert.ok(await Deno.stat(mine), "a file the user gave stays");
          assert.equal(await a.store.getRun("old-cron"), undefined);
          assert.equal(
            await Deno.stat(`${dataDir}/runs/old-cron`).catch(() => null),
            null,
            "the purged run's snapshot of its source file is deleted",
          );
          assert.ok(await Deno.stat(sourceFile), "the source file itself stays");
          assert.equal(
            await Deno.stat(exportDir).catch(() => null),
            null,
            "the purged run's export folder is deleted",
          );
          assert.ok(
            await Deno.stat(`${dataDir}/plugin-data/csv-export/latest.csv`),
            "a file at a fixed path, which later runs write again, stays",
          );
          await Deno.remove(dataDir, { recursive: true });
        } finally {
          await a.close();
          await b.close();
        }
      },
    );

    await t.step(
      "start-up clock check refuses a far-off clock and accepts a close one",
      async () => {
        const url = await f.newDatabase();
        const a = await open(url);
        try {
          const skew = await checkClockSkew(a.sql);
          assert.ok(Math.abs(skew) < 1000, `skew ${skew}`);
          await assert.rejects(
            () => checkClockSkew(a.sql, { now: () => Date.now() + 10_000 }),
            (e: Error) =>
              e instanceof ClockSkewError && /ahead of the PostgreSQL server's/.test(e.message),
          );
          const warned: string[] = [];
          const log = { ...silentLogger, warn: (msg: string) => void warned.push(msg) };
          await checkClockSkew(a.sql, {
            now: () => Date.now() - 2000,
            log: log as typeof silentLogger,
          });
          assert.match(warned[0], /behind the PostgreSQL server's/);
        } finally {
          await a.close();
        }
      },
    );

    await t.step(
      "a parked message becomes a dead letter: recovery leaves it, replay clears it",
      async () => {
        const url = await f.newDatabase();
        const a = await open(url);
        try {
          const stages = [{ id: "src" }, { id: "probe" }] as unknown as RunRecord["stages"];
          await a.store.createRun(run("r1", { stages }), []);
          await a.queue.enqueue(chunk("r1", 1, 0));
          // As if 10 workers had died handling it: the next delivery parks it.
          await a.sql`UPDATE sluice_queue SET deliveries = 10`;
          const c = collect(a, 1);
          for (let i = 0; i < 100 && (await a.queue.parked()) === 0; i++) await delay(20);
          c.stop();
          assert.equal(c.got.length, 0, "not handed to the engine");
          assert.equal(await a.queue.parked(), 1);
          const dl = await a.store.listDeadLetters("r1");
          assert.equal(dl.length, 1);
          assert.equal(dl[0].stageId, "probe");
          assert.match(dl[0].error, /delivered 11 times without finishing/);
          assert.equal((await a.store.getAttempts("r1", 1, 0))?.dead, true, "recovery skips it");
          assert.equal((await a.store.settleState("r1", 2)).deadChunks, 1);
          assert.equal(await a.store.removeDeadLetter("r1", 1, 0), true);
          assert.equal(await a.queue.parked(), 0, "replay takes it out of sluice_queue_dead");
          assert.equal(await a.store.getAttempts("r1", 1, 0), undefined);
        } finally {
          await a.close();
        }
      },
    );
  } finally {
    await f.close();
    await pg.close();
  }
});
