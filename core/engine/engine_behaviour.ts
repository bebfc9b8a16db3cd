/**
 * The engine's behaviour tests, written once and run against every backend: `engine_test.ts`
 * runs them on Deno KV, `core/store/pg/engine_pg_test.ts` on PostgreSQL.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { showRunLog } from "../cli/run_log.ts";
import { runTallies } from "../store/run_tallies.ts";
import {
  type RawChunk,
  RUN_LOG_CAPPED,
  RUN_LOG_MAX_LINES,
  type RunRecord,
} from "../store/store.ts";
import { type BackendFactory, runOutput, testEngine } from "./test_helpers.ts";
import { InProcessExecutor } from "./in_process_executor.ts";
import type { CallContext, StageExecutor, StageInstance } from "./executor.ts";
import { withRawItems } from "../../sdk/raw_items.ts";
import type { Item } from "../../sdk/types.ts";

/** A named behaviour test. */
export type Behaviour = [name: string, fn: () => Promise<void>];

/** The engine behaviour tests over backends made by `make` (one backend per test folder). */
export function engineBehaviour(make: BackendFactory): Behaviour[] {
  const tests: Behaviour[] = [];
  const te = (o: Parameters<typeof testEngine>[0] = {}) => testEngine({ ...o, backend: make });
  const g = globalThis as unknown as { __slow?: { active: number; peak: number; calls: number } };

  tests.push(["a run moves every item through every stage once and counts them", async () => {
    const t = await te();
    try {
      const run = await t.start(`
  name: basic
  source: { plugin: gen-source, with: { count: 95, bad: 10 } }
  stages:
    - { id: a, plugin: tag@^1, with: { field: a } }
    - { id: b, plugin: tag, with: { field: b, drop: [1, 2] } }
    - { id: c, plugin: tag, with: { field: c }, when: "item.n < 50" }
  `);
      const done = await t.engine.waitForRun(run.id);
      assert.equal(done.state, "succeeded", done.error);
      const out = await runOutput(t.backend, run);
      const keys = out.map((i) => i.key as string);
      // 95 generated, every 10th has no key (9 rejected), 2 dropped by stage b.
      assert.equal(keys.length, 95 - 9 - 2);
      assert.equal(new Set(keys).size, keys.length, "no duplicates");
      for (const i of out) {
        assert.equal(i.a, true);
        assert.equal(i.b, true);
        assert.equal(i.c, (i.n as number) < 50 ? true : undefined);
      }
      const c = await t.backend.store.counters(run.id, 4);
      assert.deepEqual([c[0].out, c[0].rejected, c[0].chunksDone], [86, 9, 10]);
      assert.deepEqual([c[2].in, c[2].out, c[2].filtered], [86, 84, 2]);
      assert.equal(c[3].skipped, out.filter((i) => (i.n as number) >= 50).length);
      const rejected = [];
      for await (const r of t.backend.store.readRejected(run.id)) rejected.push(r);
      assert.equal(rejected.length, 9);
      assert.match(rejected[0].reason, /without a string "key"/);
    } finally {
      await t.dispose();
    }
  }]);

  tests.push(["a failing chunk retries with backoff and then succeeds", async () => {
    const t = await te();
    try {
      const run = await t.start(`
  name: retry
  source: { plugin: gen-source, with: { count: 30 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 2, chunks: [1], tag: retry }, retry: { attempts: 3, delay: 5ms } }
  `);
      const done = await t.engine.waitForRun(run.id);
      assert.equal(done.state, "succeeded", done.error);
      const out = await runOutput(t.backend, run);
      assert.equal(out.length, 30);
      const calls = new Set(
        out.filter((i) => (i.n as number) >= 10 && (i.n as number) < 20).map((i) => i.flakyCalls),
      );
      assert.deepEqual([...calls], [3], "chunk 1 succeeded on its third call");
      const att = await t.backend.store.getAttempts(run.id, 1, 1);
      assert.equal(att?.attempts, 2);
      assert.match(att!.lastError, /flaky failure 2 of chunk 1/);
      // The run's own log keeps the retries, tagged by stage and chunk, for the UI (lines are
      // written in the background, in batches). Every backend keeps one.
      const readLog = t.backend.store.readRunLog?.bind(t.backend.store);
      assert.ok(readLog, "the store keeps a run log");
      let log = await readLog(run.id, 100);
      for (let i = 0; i < 50 && log.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        log = await readLog(run.id, 100);
      }
      const retries = log.filter((l) => l.stage === "f" && l.chunk === 1 && l.level === "warn");
      assert.equal(retries.length, 2, JSON.stringify(log));
      assert.match(retries[0].msg, /attempt 1 failed, retrying in \d+ ms: flaky failure 1/);
    } finally {
      await t.dispose();
    }
  }]);

  tests.push([
    "a chunk whose error asks for a wait (Retry-After) is retried no sooner",
    async () => {
      const t = await te();
      try {
        const run = await t.start(`
  name: wait
  source: { plugin: gen-source, with: { count: 10 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 1, tag: wait, retryAfterMs: 1500 }, retry: { attempts: 3, delay: 5ms } }
  `);
        const started = Date.now();
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const att = await t.backend.store.getAttempts(run.id, 1, 0);
        assert.equal(att?.attempts, 1);
        assert.ok(att!.nextAt - started >= 1400, `retried after ${att!.nextAt - started} ms`);
        assert.ok(Date.now() - started >= 1400, "the run waited for the retry");
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a wait asked for beyond the cap is capped at 15 minutes, and the log says so",
    async () => {
      const t = await te();
      try {
        const run = await t.start(`
  name: capped
  source: { plugin: gen-source, with: { count: 3 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 1, tag: capped, retryAfterMs: 100000000 }, retry: { attempts: 3, delay: 5ms } }
  `);
        const started = Date.now();
        let att = await t.backend.store.getAttempts(run.id, 1, 0);
        for (let i = 0; i < 100 && !att; i++) {
          await new Promise((r) => setTimeout(r, 50));
          att = await t.backend.store.getAttempts(run.id, 1, 0);
        }
        assert.ok(att, "the chunk failed once");
        const wait = att.nextAt - started;
        assert.ok(wait > 14 * 60_000 && wait <= 15 * 60_000 + 5_000, `waits ${wait} ms`);
        const readLog = t.backend.store.readRunLog?.bind(t.backend.store);
        assert.ok(readLog, "the store keeps a run log");
        let log = await readLog(run.id, 100);
        for (let i = 0; i < 50 && !log.some((l) => l.stage === "f"); i++) {
          await new Promise((r) => setTimeout(r, 100));
          log = await readLog(run.id, 100);
        }
        const line = log.find((l) => l.stage === "f" && l.level === "warn");
        assert.match(
          line?.msg ?? "",
          /retrying in 900000 ms \(the error asked to wait 100000 s; waits are capped at 15 min\)/,
        );
        await t.engine.cancelRun(run.id);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push(["an InputError goes to the dead-letter list at once, without retries", async () => {
    const t = await te();
    try {
      const run = await t.start(`
  name: permanent
  source: { plugin: gen-source, with: { count: 30 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 9, chunks: [1], tag: permanent, permanent: true }, retry: { attempts: 3, delay: 5ms } }
  `);
      const failed = await t.engine.waitForRun(run.id);
      assert.equal(failed.state, "failed");
      const dead = await t.backend.store.listDeadLetters(run.id);
      assert.deepEqual(dead.map((d) => [d.stageId, d.chunk, d.attempts]), [["f", 1, 1]]);
      assert.match(dead[0].error, /flaky failure 1 of chunk 1/);
    } finally {
      await t.dispose();
    }
  }]);

  tests.push([
    "an exhausted chunk goes to the dead-letter list, the run fails, retry replays it",
    async () => {
      const t = await te();
      try {
        const run = await t.start(`
  name: dead
  source: { plugin: gen-source, with: { count: 30 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 4, chunks: [2], tag: dead }, retry: { attempts: 2, delay: 5ms } }
    - { id: t, plugin: tag, with: { field: t } }
  `);
        const failed = await t.engine.waitForRun(run.id);
        assert.equal(failed.state, "failed");
        assert.match(
          failed.error!,
          /1 chunk\(s\) are in the dead-letter list.*stage f chunk 2.*sluice runs retry/,
        );
        const dead = await t.backend.store.listDeadLetters(run.id);
        assert.equal(dead.length, 1);
        assert.deepEqual([dead[0].stageId, dead[0].chunk, dead[0].attempts], ["f", 2, 2]);
        assert.match(dead[0].error, /flaky failure 2/);
        assert.equal((await runOutput(t.backend, run)).length, 20, "other chunks finished");
        let c = await t.backend.store.counters(run.id, 3);
        assert.deepEqual([c[1].chunksDead, c[1].failed], [1, 10]);

        // Two more failures are left in the plugin (calls 3 and 4), then it works.
        assert.equal(await t.engine.retryRun(run.id), 1);
        const again = await t.engine.waitForRun(run.id);
        assert.equal(again.state, "failed", "replay fails twice more");
        await t.engine.retryRun(run.id);
        const ok = await t.engine.waitForRun(run.id);
        assert.equal(ok.state, "succeeded", ok.error);
        const out = await runOutput(t.backend, run);
        assert.equal(out.length, 30);
        assert.equal(new Set(out.map((i) => i.key)).size, 30);
        c = await t.backend.store.counters(run.id, 3);
        assert.deepEqual([c[1].chunksDead, c[1].failed, c[1].chunksDone], [0, 0, 3]);
        assert.equal((await t.backend.store.listDeadLetters(run.id)).length, 0);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "onError: skip turns a failed chunk's items into rejected items and finishes",
    async () => {
      const t = await te();
      try {
        const run = await t.start(`
  name: skip
  source: { plugin: gen-source, with: { count: 25 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 9, chunks: [0], tag: skip }, retry: { attempts: 2, delay: 1ms }, onError: skip }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        assert.equal((await runOutput(t.backend, run)).length, 15);
        const rejected = [];
        for await (const r of t.backend.store.readRejected(run.id)) rejected.push(r);
        assert.equal(rejected.length, 10);
        assert.match(
          rejected[0].reason,
          /stage f chunk 0 failed after 2 attempt\(s\): flaky failure 2/,
        );
        assert.equal(rejected[0].key, "i-0");
        const c = await t.backend.store.counters(run.id, 2);
        assert.equal(c[1].failed, 10);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push(["onError: fail fails the run at once and keeps the chunk for replay", async () => {
    const t = await te();
    try {
      const run = await t.start(`
  name: failfast
  source: { plugin: gen-source, with: { count: 200 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 9, chunks: [0], tag: fail }, retry: { attempts: 1 }, onError: fail }
  `);
      const done = await t.engine.waitForRun(run.id);
      assert.equal(done.state, "failed");
      assert.match(done.error!, /stage f chunk 0 failed after 1 attempt\(s\).*sluice runs retry/);
      assert.equal((await t.backend.store.listDeadLetters(run.id)).length, 1);
    } finally {
      await t.dispose();
    }
  }]);

  tests.push([
    "a stage's configuration error fails the run at once, with no retry and nothing to replay",
    async () => {
      const t = await te();
      try {
        const run = await t.start(`
  name: config
  source: { plugin: gen-source, with: { count: 30 }, chunk: 10 }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 0, tag: nope, setupError: config }, retry: { attempts: 3, delay: 5ms } }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "failed");
        assert.match(done.error!, /with\.tag "nope" is not a tag.*start a new run/);
        assert.doesNotMatch(done.error!, /dead-letter/);
        // Whichever chunk reached the stage first failed the run: one attempt, never a second.
        const tries = await Promise.all(
          [0, 1, 2].map(async (c) =>
            (await t.backend.store.getAttempts(run.id, 1, c))?.attempts ?? 0
          ),
        );
        assert.ok(
          tries.every((n) => n <= 1) && tries.some((n) => n === 1),
          `not retried: ${tries}`,
        );
        assert.deepEqual(await t.backend.store.listDeadLetters(run.id), []);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a run another process ended is dropped here by its own next message, with no run after it",
    async () => {
      // No sweep in the test's time: the run's own messages must drop it.
      const t = await te({ localsSweepMs: 60_000 });
      try {
        const run = await t.start(`
  name: ends
  source: { plugin: gen-source, with: { count: 400 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 150 }, concurrency: 1 }
  `);
        while (t.engine.runsHeld === 0) await new Promise((r) => setTimeout(r, 5));
        // Its cancel written to the store directly, as another process would.
        assert.ok(
          await t.backend.store.transitionRun(run.id, ["running", "queued"], "cancelled", {
            finishedAt: Date.now(),
          }),
        );
        // The chunk in flight ends, the chunks waiting for the stage's slot see the run ended
        // (once the engine's cached run record is stale): the last of them drops its state.
        for (let i = 0; i < 150 && t.engine.runsHeld !== 0; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(t.engine.runsHeld, 0);
        const c = await t.backend.store.counters(run.id, 2);
        assert.ok(c[1].chunksDone < 40, `the run stopped early: ${c[1].chunksDone} chunks done`);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a when: stage takes the items the stage before it just committed here, without parsing the stored chunk again",
    async () => {
      // Counts every read of a chunk's stored input: the parsed handoff makes none for the
      // inputs of b and c (both have a when:), while a's input (after the source) is read.
      const reads = new Map<number, number>();
      const count = (stage: number) => reads.set(stage, (reads.get(stage) ?? 0) + 1);
      const counted: BackendFactory = async (dir) => {
        const b = await make(dir);
        const store = b.store;
        const chunkState = store.chunkState?.bind(store);
        if (chunkState) {
          store.chunkState = async (runId, stage, chunk) => {
            const st = await chunkState(runId, stage, chunk);
            const raw = st?.inputRaw;
            if (!st || !raw) return st;
            const input: RawChunk = {
              count: raw.count,
              get parts() {
                count(stage);
                return raw.parts;
              },
              get text() {
                count(stage);
                return raw.text;
              },
            };
            return { ...st, inputRaw: input };
          };
        }
        const readChunk = store.readChunk.bind(store);
        store.readChunk = (runId, stage, chunk) => {
          count(stage + 1);
          return readChunk(runId, stage, chunk);
        };
        return b;
      };
      // A day of grace: a machine stalled for a second must not make the test fail.
      const t = await testEngine({ backend: counted, handoff: { maxAgeMs: 86_400_000, max: 100 } });
      try {
        const run = await t.start(`
  name: handoff
  source: { plugin: gen-source, with: { count: 60 } }
  stages:
    - { id: a, plugin: tag, with: { field: a } }
    - { id: b, plugin: tag, with: { field: b }, when: "item.n < 40" }
    - { id: c, plugin: tag, with: { field: c, drop: [15] }, when: "item.n >= 10" }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const out = await runOutput(t.backend, run);
        assert.equal(out.length, 59);
        for (const i of out) {
          const n = i.n as number;
          assert.equal(i.a, true);
          assert.equal(i.b, n < 40 ? true : undefined, `b of ${i.key}`);
          assert.equal(i.c, n >= 10 ? true : undefined, `c of ${i.key}`);
        }
        const c = await t.backend.store.counters(run.id, 4);
        assert.deepEqual([c[2].in, c[2].skipped, c[3].in, c[3].skipped, c[3].filtered], [
          60,
          20,
          60,
          10,
          1,
        ]);
        assert.ok((reads.get(1) ?? 0) >= 6, `a's input was read: ${[...reads]}`);
        assert.equal(reads.get(2) ?? 0, 0, "b parsed a's stored output again");
        assert.equal(reads.get(3) ?? 0, 0, "c parsed b's stored output again");
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "the engine drops a run's in-memory state when it ends (succeeded, failed, cancelled)",
    async () => {
      const t = await te({ localsSweepMs: 50 });
      const settle = async (want: number, what: string) => {
        for (let i = 0; i < 100 && t.engine.runsHeld !== want; i++) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(t.engine.runsHeld, want, what);
      };
      try {
        assert.equal(t.engine.runsHeld, 0);
        const ok = await t.start(`
  name: ends
  source: { plugin: gen-source, with: { count: 40 } }
  stages:
    - { id: a, plugin: tag, with: { field: a }, when: "item.n < 20" }
  `);
        assert.equal((await t.engine.waitForRun(ok.id)).state, "succeeded");
        await settle(0, "a run that succeeded");
        const bad = await t.start(`
  name: ends
  source: { plugin: gen-source, with: { count: 30 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 9, chunks: [1], tag: gone, permanent: true } }
  `);
        assert.equal((await t.engine.waitForRun(bad.id)).state, "failed");
        await settle(0, "a run that failed");
        // A run cancelled while a chunk of it runs keeps its semaphore until that chunk is done
        // (a retry must not run more chunks at once than the stage allows).
        const slowYaml = `
  name: ends
  source: { plugin: gen-source, with: { count: 400 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 150 }, concurrency: 1 }
  `;
        const slow = await t.start(slowYaml);
        while (t.engine.runsHeld === 0) await new Promise((r) => setTimeout(r, 5));
        await t.engine.cancelRun(slow.id);
        await settle(0, "a run cancelled with a chunk in flight");
        // A run another process ended (here: its cancel written to the store directly) sends
        // nothing here; a later run's chunks sweep it up.
        const elsewhere = await t.start(slowYaml);
        while (t.engine.runsHeld === 0) await new Promise((r) => setTimeout(r, 5));
        assert.ok(
          await t.backend.store.transitionRun(elsewhere.id, ["running", "queued"], "cancelled", {
            finishedAt: Date.now(),
          }),
        );
        // Its chunk in flight ends; the messages that come after it see the run ended.
        await new Promise((r) => setTimeout(r, 400));
        const next = await t.start(`
  name: ends
  source: { plugin: gen-source, with: { count: 10 } }
  stages:
    - { id: a, plugin: tag, with: { field: a } }
  `);
        assert.equal((await t.engine.waitForRun(next.id)).state, "succeeded");
        await settle(0, "a run another process ended, swept");
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push(["cancel stops a run: no chunk commits afterwards", async () => {
    const t = await te();
    try {
      const run = await t.start(`
  name: cancel
  source: { plugin: gen-source, with: { count: 400 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 30 }, concurrency: 1 }
  `);
      while ((await t.backend.store.counters(run.id, 2))[1].chunksDone < 2) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await t.engine.cancelRun(run.id, "operator said stop");
      const after = (await t.backend.store.counters(run.id, 2))[1].chunksDone;
      await new Promise((r) => setTimeout(r, 200));
      const later = (await t.backend.store.counters(run.id, 2))[1].chunksDone;
      assert.ok(later <= after + 1, `at most the call in flight commits (${after} -> ${later})`);
      assert.ok(later < 40);
      const r = await t.backend.store.getRun(run.id);
      assert.equal(r?.state, "cancelled");
      assert.equal(r?.error, "operator said stop");
      await assert.rejects(
        () => t.engine.cancelRun(run.id),
        /is cancelled and cannot be cancelled/,
      );
    } finally {
      await t.dispose();
    }
  }]);

  tests.push([
    "finish runs in reverse stage order: a stage's finish never runs when a later one's failed",
    async () => {
      const f = { order: [] as string[] };
      (globalThis as unknown as { __finish?: typeof f }).__finish = f;
      const t = await te();
      try {
        const run = await t.start(`
  name: finish-order
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: ledger, plugin: finish-sink, with: { name: ledger } }
    - { id: export, plugin: finish-sink, with: { name: export } }
  `);
        const ok = await t.engine.waitForRun(run.id);
        assert.equal(ok.state, "succeeded", ok.error);
        assert.deepEqual(f.order, ["export", "ledger"], "the stage closest to the end first");

        f.order = [];
        const bad = await t.start(`
  name: finish-fails
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: ledger, plugin: finish-sink, with: { name: ledger } }
    - { id: export, plugin: finish-sink, with: { name: export, fail: true } }
  `);
        const done = await t.engine.waitForRun(bad.id);
        assert.equal(done.state, "failed");
        assert.match(done.error!, /finish of export failed/);
        assert.deepEqual(f.order, [], "the ledger's finish never ran: nothing was delivered");

        // A configuration error in a finish fails the run at once: another attempt meets it too.
        (f as { calls?: number }).calls = 0;
        const cfg = await t.start(`
  name: finish-config
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: export, plugin: finish-sink, with: { name: export, fail: config } }
  `);
        const failed = await t.engine.waitForRun(cfg.id);
        assert.equal(failed.state, "failed");
        assert.match(failed.error!, /with\.name export is wrong\. Fix the stage's with:/);
        assert.equal((f as { calls?: number }).calls, 1, "finish was not tried again");
      } finally {
        delete (globalThis as unknown as { __finish?: unknown }).__finish;
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "finish runs the other stages in reverse stage order, then the stages whose plugin declares finishLast",
    async () => {
      const f = { order: [] as string[] };
      (globalThis as unknown as { __finish?: typeof f }).__finish = f;
      const t = await te();
      try {
        const run = await t.start(`
  name: finish-last-order
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: a, plugin: finish-sink, with: { name: a } }
    - { id: memory1, plugin: finish-last-sink, with: { name: memory1 } }
    - { id: b, plugin: finish-sink, with: { name: b } }
    - { id: memory2, plugin: finish-last-sink, with: { name: memory2 } }
    - { id: c, plugin: finish-sink, with: { name: c } }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        assert.deepEqual(f.order, ["c", "b", "a", "memory2", "memory1"]);
      } finally {
        delete (globalThis as unknown as { __finish?: unknown }).__finish;
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a run's log keeps what its export stage reported at run end and its stages' run tallies",
    async () => {
      const t = await te({ firstParty: true });
      try {
        // gen-source's keys are text: the rule does not evaluate for any of the 25 items.
        const run = await t.start(`
  name: logged
  source: { plugin: gen-source, with: { count: 25 } }
  stages:
    - id: score
      plugin: score
      with:
        rules:
          - { id: big, when: "item.key > 3", points: 20, reason: a larger business }
    - { id: csv, plugin: csv-export, with: { leadsOnly: false, columns: [key] } }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        // Every line is stored once the run has ended (what the run summary reads then).
        const log = (await t.backend.store.readRunLog?.(run.id, 20_000)) ?? [];
        const finish = log.filter((l) => l.chunk === -1 && l.level === "info" && l.stage === "csv");
        assert.match(
          finish[0]?.msg ?? "",
          /^csv-export: 25 row\(s\) written to \S+leads\.csv from 3 chunk\(s\)$/,
          JSON.stringify(log),
        );
        const perChunk = log.filter((l) => l.stage === "score" && l.tally);
        assert.deepEqual(perChunk.map((l) => [l.chunk, l.tally!.count]).sort(), [
          [0, 10],
          [1, 10],
          [2, 5],
        ]);
        const notes = await runTallies(t.backend.store, done);
        assert.deepEqual(notes.map((n) => [n.stage, n.key, n.count, n.partial]), [
          ["score", "rule:big", 25, false],
        ]);
        assert.match(
          notes[0].text,
          /^rule "a larger business" \(id big\) did not evaluate for 25 item\(s\): /,
        );
        assert.deepEqual(log, [...log].sort((a, b) => a.at - b.at), "oldest first");
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a chunk a stage's chunk: splits comes in calls with parts of their own: every call's rows and tallies count",
    async () => {
      const t = await te({ firstParty: true });
      try {
        // Chunks of 10, 10 and 5 items in calls of at most 4: parts 0-2, 0-2 and 0-1.
        const run = await t.start(`
  name: split
  source: { plugin: gen-source, with: { count: 25 }, chunk: 10 }
  stages:
    - id: score
      plugin: score
      chunk: 4
      with:
        rules:
          - { id: big, when: "item.key > 3", points: 20, reason: a larger business }
    - { id: parts, plugin: tag, chunk: 4, with: { field: t, part: p } }
    - { id: csv, plugin: csv-export, chunk: 4, with: { leadsOnly: false, columns: [key] } }
    - { id: jsonl, plugin: jsonl-export, chunk: 4, with: { leadsOnly: false } }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const out = await runOutput(t.backend, run);
        assert.equal(out.length, 25);
        for (const i of out) {
          assert.equal(i.p, Math.floor(((i.n as number) % 10) / 4), `ctx.part of ${i.key}`);
        }
        const log = (await t.backend.store.readRunLog?.(run.id, 20_000)) ?? [];
        const written = (stage: string) => {
          const line = log.find((l) => l.chunk === -1 && l.level === "info" && l.stage === stage);
          const m = /^\S+: 25 row\(s\) written to (\S+) from 3 chunk\(s\)$/.exec(line?.msg ?? "");
          assert.ok(m, `${stage}'s report: ${JSON.stringify(line)}`);
          return m[1];
        };
        const keys = out.map((i) => i.key as string).sort();
        const csv = (await Deno.readTextFile(written("csv"))).trim().split("\r\n");
        assert.deepEqual(csv.slice(1).sort(), keys, "each call's rows are in the CSV");
        const jsonl = (await Deno.readTextFile(written("jsonl"))).trim().split("\n");
        assert.deepEqual(jsonl.map((l) => JSON.parse(l).key).sort(), keys);
        // score logs its tally once per call: each call of a chunk counts, not only its last.
        const tallies = log.filter((l) => l.stage === "score" && l.tally);
        assert.equal(tallies.length, 8);
        const notes = await runTallies(t.backend.store, done);
        assert.deepEqual(notes.map((n) => [n.stage, n.key, n.count]), [["score", "rule:big", 25]]);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a stage's items are stored as the plugin's JSON text, not serialized again",
    async () => {
      // An executor whose answers keep their items' text as a plugin process's do, spaced as
      // JSON.stringify never spaces it: what the store holds shows which of the two it wrote.
      const inner = new InProcessExecutor();
      const executor: StageExecutor = {
        async open(spec) {
          const inst = await inner.open(spec);
          if (!inst.process) return inst;
          const process = inst.process.bind(inst);
          return Object.assign(Object.create(inst), {
            async process(items: Item[], ctx: CallContext) {
              const res = await process(items, ctx);
              const text = `[ ${res.items.map((i) => JSON.stringify(i)).join(" , ")} ]`;
              withRawItems(res as unknown as Record<string, unknown>, res.items, text);
              return res;
            },
          }) as StageInstance;
        },
        close: () => inner.close(),
      };
      const t = await te({ executor });
      try {
        const run = await t.start(`
  name: raw-items
  source: { plugin: gen-source, with: { count: 3 } }
  stages:
    - { id: a, plugin: tag, with: { field: a } }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const raw = await t.backend.store.readChunkRaw!(run.id, 1, 0);
        const text = raw!.parts.map((p) => new TextDecoder().decode(p)).join("");
        assert.match(text, /^\[ \{"key":"i-0".*\} , \{"key":"i-1".*\} , \{"key":"i-2".*\} \]$/);
        const items = await t.backend.store.readChunk(run.id, 1, 0);
        assert.deepEqual(items, JSON.parse(text));
        assert.deepEqual(items!.map((i) => i.a), [true, true, true]);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a when: that fails for items at run time is in the run's log per chunk and counted in its notes",
    async () => {
      const t = await te();
      try {
        // gen-source's keys are text: `item.key > 3` passes validate (item is dyn) but has no
        // overload for any item, in each of the 3 chunks.
        const run = await t.start(`
  name: when-fails
  source: { plugin: gen-source, with: { count: 25 } }
  stages:
    - { id: a, plugin: tag, with: { field: a } }
    - { id: gate, plugin: tag, with: { field: g }, when: "item.key > 3" }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const c = await t.backend.store.counters(run.id, 3);
        assert.equal(c[2].skipped, 25, "every item skipped the stage");
        // Read back as `sluice runs log RUN` does.
        const out: string[] = [];
        const err: string[] = [];
        await showRunLog(t.backend.store, done, {
          out: (s) => out.push(s),
          err: (s) => err.push(s),
        }, { json: true });
        const lines = out.map((l) => JSON.parse(l));
        const gate = lines.filter((l) => l.stage === "gate")
          .sort((x, y) => x.chunk - y.chunk);
        assert.deepEqual(gate.map((l) => [l.level, l.chunk]), [
          ["warn", 0],
          ["warn", 1],
          ["warn", 2],
        ], JSON.stringify(lines));
        assert.match(
          gate[0].msg,
          /^stage "gate": when: "item\.key > 3" could not be evaluated for 10 item\(s\) of chunk 0 \(first: i-0\): expression "item\.key > 3" failed: found no matching overload .*such items skip the stage/,
        );
        assert.match(gate[2].msg, /for 5 item\(s\) of chunk 2 \(first: i-20\)/);
        // And as the run's notes (the API's run detail, the run page, `sluice runs show`): the
        // whole run's count, once.
        const notes = await runTallies(t.backend.store, done);
        assert.deepEqual(notes.map((n) => [n.stage, n.key, n.count]), [[
          "gate",
          "when-failed",
          25,
        ]]);
        assert.match(
          notes[0].text,
          /^stage "gate": when: "item\.key > 3" could not be evaluated for 25 item\(s\) \(the first in chunk 0: i-0\)/,
        );
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a run recorded with a when: validation now refuses skips its items and its log says why",
    async () => {
      const t = await te();
      try {
        // As a run recorded before validate refused a method called as a function.
        const run = await t.start(`
  name: when-refused
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: gate, plugin: tag, with: { field: g }, when: 'contains(item.key, "S")' }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const log = (await t.backend.store.readRunLog?.(run.id, 20_000)) ?? [];
        assert.deepEqual(log.map((l) => [l.stage, l.level]), [["gate", "warn"]]);
        assert.match(log[0].msg, /it is a method: write item\.key\.contains\("S"\)/);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a run whose chunks filled its log still keeps what its export reported at run end",
    async () => {
      const t = await te({ firstParty: true });
      try {
        // Three chunks of 2,000 warnings each: the log's cap is reached in the third.
        const run = await t.start(`
  name: chatty
  source: { plugin: gen-source, with: { count: 25 } }
  stages:
    - { id: noisy, plugin: chatty, with: { lines: 2000 } }
    - { id: csv, plugin: csv-export, with: { leadsOnly: false, columns: [key] } }
  `);
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const log = (await t.backend.store.readRunLog?.(run.id, 20_000)) ?? [];
        const chunkLines = log.filter((l) => l.chunk !== -1);
        assert.equal(chunkLines.length, RUN_LOG_MAX_LINES, "the chunks' lines are capped");
        assert.equal(chunkLines.filter((l) => l.msg.startsWith(RUN_LOG_CAPPED)).length, 1);
        const finish = log.filter((l) => l.chunk === -1 && l.level === "info" && l.stage === "csv");
        assert.match(finish[0]?.msg ?? "", /^csv-export: 25 row\(s\) written to /);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "seen-before remembers nothing of a run whose earlier stage's finish failed after the exports finished",
    async () => {
      const f = { order: [] as string[] };
      (globalThis as unknown as { __finish?: typeof f }).__finish = f;
      const t = await te({ firstParty: true });
      const pipeline = (failA: boolean) => `
  name: weekly
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: score, plugin: tag, with: { field: lead, value: true } }
    - { id: a, plugin: finish-sink, with: { name: a, fail: ${failA} } }
    - { id: only-new, plugin: seen-before, with: { scope: weekly } }
    - { id: export, plugin: finish-sink, with: { name: export } }
  `;
      const leads = async (run: RunRecord) =>
        (await runOutput(t.backend, run)).filter((i) => i.lead === true).length;
      try {
        // Stage a (before seen-before) fails its finish on every attempt, after the export's.
        const failed = await t.start(pipeline(true));
        const done = await t.engine.waitForRun(failed.id);
        assert.equal(done.state, "failed");
        assert.match(done.error!, /finish of a failed/);
        assert.deepEqual(f.order, ["export", "export", "export"], "three attempts, a failed each");
        const ledger = join(t.dir, "plugin-data", "seen-before", "ledger", "weekly");
        assert.equal(
          await Deno.stat(join(ledger, `${failed.id}.jsonl`)).catch(() => undefined),
          undefined,
          "the failed run's ledger was never committed",
        );

        // The next run delivered nothing before: all its leads are new, and it remembers them.
        f.order = [];
        const next = await t.start(pipeline(false));
        const ok = await t.engine.waitForRun(next.id);
        assert.equal(ok.state, "succeeded", ok.error);
        assert.equal(await leads(next), 5, "the failed run's leads count as new");
        assert.deepEqual(f.order, ["export", "a"], "seen-before's finish ran after both");
        assert.ok(await Deno.stat(join(ledger, `${next.id}.jsonl`)), "its ledger is committed");

        // The run after it sees them as delivered (the ledger works in this pipeline).
        const third = await t.start(pipeline(false));
        assert.equal((await t.engine.waitForRun(third.id)).state, "succeeded");
        assert.equal(await leads(third), 0, "delivered by the second run");
      } finally {
        delete (globalThis as unknown as { __finish?: unknown }).__finish;
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "a run stopped during finish resumes in a new engine and commits seen-before's ledger once every finish succeeded",
    async () => {
      let open!: () => void;
      let started!: () => void;
      const inFinish = new Promise<void>((r) => started = r);
      const f = {
        order: [] as string[],
        gate: new Promise<void>((r) => open = r),
        started: () => started(),
      };
      (globalThis as unknown as { __finish?: typeof f }).__finish = f;
      const dir = await Deno.makeTempDir({ prefix: "sluice-resume-finish-" });
      const yaml = `
  name: weekly
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: score, plugin: tag, with: { field: lead, value: true } }
    - { id: a, plugin: finish-sink, with: { name: a } }
    - { id: only-new, plugin: seen-before, with: { scope: weekly } }
    - { id: export, plugin: finish-sink, with: { name: export } }
  `;
      const first = await te({ dir, firstParty: true });
      const run = await first.start(yaml);
      await inFinish; // the export's finish holds: the process stops in the middle of finishing
      await first.stop();
      const ledger = join(dir, "plugin-data", "seen-before", "ledger", "weekly", `${run.id}.jsonl`);
      assert.equal(await Deno.stat(ledger).catch(() => undefined), undefined, "not committed yet");
      delete (f as { gate?: Promise<void> }).gate;
      open();
      const second = await te({ dir, firstParty: true });
      try {
        const done = await second.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        assert.ok(await Deno.stat(ledger), "committed by the resumed finish");
        const next = await second.start(yaml);
        assert.equal((await second.engine.waitForRun(next.id)).state, "succeeded");
        const out = await runOutput(second.backend, next);
        assert.equal(out.filter((i) => i.lead === true).length, 0, "delivered by the first run");
      } finally {
        open();
        delete (globalThis as unknown as { __finish?: unknown }).__finish;
        await second.dispose();
      }
    },
  ]);

  tests.push([
    "a run writing its exports (finish) refuses a cancel and ends as it would",
    async () => {
      let open!: () => void;
      let started!: () => void;
      const inFinish = new Promise<void>((r) => started = r);
      const f = {
        order: [] as string[],
        gate: new Promise<void>((r) => open = r),
        started: () => started(),
      };
      (globalThis as unknown as { __finish?: typeof f }).__finish = f;
      const t = await te();
      try {
        const run = await t.start(`
  name: finish-cancel
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: ledger, plugin: finish-sink, with: { name: ledger } }
    - { id: export, plugin: finish-sink, with: { name: export } }
  `);
        await inFinish;
        await assert.rejects(
          () => t.engine.cancelRun(run.id),
          new RegExp(
            `run ${run.id} is writing its exports \\(finish\\); it cannot be cancelled now: ` +
              "wait for it to end",
          ),
        );
        assert.equal((await t.backend.store.getRun(run.id))?.state, "running");
        open();
        const done = await t.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        assert.deepEqual(f.order, ["export", "ledger"], "every finish ran");
      } finally {
        open();
        delete (globalThis as unknown as { __finish?: unknown }).__finish;
        await t.dispose();
      }
    },
  ]);

  tests.push(["stage concurrency and the global bound hold", async () => {
    g.__slow = { active: 0, peak: 0, calls: 0 };
    const t = await te({ concurrency: 3 });
    try {
      const run = await t.start(`
  name: conc
  source: { plugin: gen-source, with: { count: 200 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 15 }, concurrency: 2 }
  `);
      assert.equal((await t.engine.waitForRun(run.id)).state, "succeeded");
      assert.equal(g.__slow.calls, 20);
      assert.equal(g.__slow.peak, 2, "stage concurrency 2 reached, never exceeded");
    } finally {
      await t.dispose();
    }
    g.__slow = { active: 0, peak: 0, calls: 0 };
    const t2 = await te({ concurrency: 1 });
    try {
      const run = await t2.start(`
  name: conc2
  source: { plugin: gen-source, with: { count: 100 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 10 }, concurrency: 8 }
  `);
      assert.equal((await t2.engine.waitForRun(run.id)).state, "succeeded");
      assert.equal(g.__slow.peak, 1, "the global bound of 1 wins over the stage's 8");
    } finally {
      await t2.dispose();
    }
  }]);

  tests.push(["a duplicate delivery never duplicates output", async () => {
    const t = await te();
    try {
      const run = await t.start(`
  name: dup
  source: { plugin: gen-source, with: { count: 50 } }
  stages:
    - { id: a, plugin: tag, with: { field: a } }
  `);
      await t.engine.waitForRun(run.id);
      for (let c = 0; c < 5; c++) {
        await t.backend.queue.enqueue({
          kind: "chunk",
          runId: run.id,
          stage: 1,
          chunk: c,
          attempt: 1,
        });
      }
      await t.engine.recover();
      await new Promise((r) => setTimeout(r, 100));
      const c = await t.backend.store.counters(run.id, 2);
      assert.deepEqual([c[1].in, c[1].out, c[1].chunksDone], [50, 50, 5]);
      assert.equal((await runOutput(t.backend, run)).length, 50);
    } finally {
      await t.dispose();
    }
  }]);

  tests.push([
    "a run interrupted by a stop resumes in a new engine and finishes exactly once",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "sluice-resume-" });
      g.__slow = { active: 0, peak: 0, calls: 0 };
      const first = await te({ dir });
      const run = await first.start(`
  name: resume
  source: { plugin: gen-source, with: { count: 300 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 10 }, concurrency: 1 }
    - { id: t, plugin: tag, with: { field: t } }
  `);
      while ((await first.backend.store.counters(run.id, 3))[2].chunksDone < 3) {
        await new Promise((r) => setTimeout(r, 5));
      }
      await first.stop();
      const second = await te({ dir });
      try {
        const done = await second.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const out = await runOutput(second.backend, run);
        assert.equal(out.length, 300);
        assert.equal(new Set(out.map((i) => i.key)).size, 300);
      } finally {
        await second.dispose();
      }
    },
  ]);

  tests.push(["a stage's rateLimit throttles items per key", async () => {
    let slept = 0;
    const timer = {
      t: 0,
      now() {
        return this.t;
      },
      sleep(ms: number) {
        this.t += ms;
        slept += ms;
        return Promise.resolve();
      },
    };
    const t = await te({ timer });
    try {
      const run = await t.start(`
  name: rl
  source: { plugin: gen-source, with: { count: 30 } }
  stages:
    - id: a
      plugin: tag
      with: { field: a }
      concurrency: 1
      rateLimit: { rate: 10, per: 1s, burst: 1, key: "item.n % 2 == 0 ? 'even' : 'odd'" }
  `);
      const done = await t.engine.waitForRun(run.id);
      assert.equal(done.state, "succeeded", done.error);
      // Items alternate between two keys, each with its own bucket of 1 at 10/s: every second
      // item waits 100 ms and the other key's bucket refills meanwhile, so the stage runs at 20
      // items/s: 29 intervals of 50 ms, in 14 sleeps of 100 ms.
      assert.equal(slept, 14 * 100);
    } finally {
      await t.dispose();
    }
  }]);
  tests.push([
    "a source held back by maxSourceAhead stays within it and resumes when a chunk leaves",
    async () => {
      // The re-read of the run's progress is a minute away: the run finishes in time only if
      // each chunk the last stage finishes wakes the source.
      const t = await te({ maxSourceAhead: 3, sourceAheadPollMs: 60_000 });
      try {
        const run = await t.start(`
  name: ahead
  source: { plugin: gen-source, with: { count: 200 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 20 }, concurrency: 1 }
    - { id: t, plugin: tag, with: { field: t } }
  `);
        let widest = 0;
        let watch = true;
        const watching = (async () => {
          while (watch) {
            const c = await t.backend.store.counters(run.id, 3);
            widest = Math.max(widest, c[0].chunksDone - c[2].chunksDone);
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        let done;
        try {
          done = await t.engine.waitForRun(run.id, AbortSignal.timeout(20_000));
        } finally {
          watch = false;
          await watching;
        }
        assert.equal(done.state, "succeeded", done.error);
        assert.equal((await runOutput(t.backend, run)).length, 200);
        // Chunk n is read when at most maxSourceAhead chunks before it are still in the run.
        assert.ok(widest >= 3, `the source ran ahead (${widest} chunks)`);
        assert.ok(widest <= 4, `the source ran ${widest} chunks ahead of the last stage`);
      } finally {
        await t.dispose();
      }
    },
  ]);

  tests.push([
    "dead letters at a middle stage do not hold back the source (maxSourceAhead)",
    async () => {
      const t = await te({ maxSourceAhead: 2 });
      try {
        const run = await t.start(`
  name: ahead-dead
  source: { plugin: gen-source, with: { count: 100 } }
  stages:
    - id: f
      plugin: flaky
      with: { failTimes: 9, chunks: [0, 1, 2, 3, 4, 5], tag: ahead-dead }
      retry: { attempts: 1 }
      onError: deadLetter
    - { id: t, plugin: tag, with: { field: t } }
  `);
        const done = await t.engine.waitForRun(run.id, AbortSignal.timeout(20_000));
        assert.equal(done.state, "failed");
        assert.match(done.error!, /6 chunk\(s\) are in the dead-letter list/);
        assert.equal((await runOutput(t.backend, run)).length, 40, "chunks 6 to 9 finished");
      } finally {
        await t.dispose();
      }
    },
  ]);
  tests.push(["a held-back source stops waiting when its run is cancelled", async () => {
    let reads = 0; // the engine's reads of counters (not this test's)
    let own = false;
    const counting: BackendFactory = async (dir) => {
      const b = await make(dir);
      const store = new Proxy(b.store, {
        get(target, prop) {
          if (prop === "counters" && !own) reads++;
          const v = Reflect.get(target, prop);
          return typeof v === "function" ? v.bind(target) : v;
        },
      });
      return { ...b, store };
    };
    const t = await testEngine({ backend: counting, maxSourceAhead: 1, sourceAheadPollMs: 20 });
    try {
      const run = await t.start(`
  name: ahead-cancel
  source: { plugin: gen-source, with: { count: 100 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 60000 }, concurrency: 1 }
    - { id: t, plugin: tag, with: { field: t } }
  `);
      const sourceChunks = async () => {
        own = true;
        try {
          return (await t.backend.store.counters(run.id, 3))[0].chunksDone;
        } finally {
          own = false;
        }
      };
      // The source reads two chunks, then waits for the (very) slow stage.
      while (await sourceChunks() < 2) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(reads > 3, "the held-back source re-reads the run's progress");
      await t.engine.cancelRun(run.id);
      await new Promise((r) => setTimeout(r, 400)); // the run cache expires within 250 ms
      const after = reads;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(reads, after, "no more reads once the run is cancelled");
      assert.equal(await sourceChunks(), 2);
    } finally {
      await t.dispose();
    }
  }]);

  return tests;
}
