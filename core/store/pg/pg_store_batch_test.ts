import assert from "node:assert/strict";
import { startPostgres } from "../../../testing/postgres.ts";
import type { EngineMessage } from "../../queue/queue.ts";
import type { ChunkCommit, RunRecord } from "../store.ts";
import { decodeParts } from "../chunk_codec.ts";
import { openPgBackend } from "./pg_backend.ts";
import { pgFactory } from "./test_support.ts";

function run(id: string): RunRecord {
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
  };
}

const msg = (runId: string, stage: number, chunk: number): EngineMessage => ({
  kind: "chunk",
  runId,
  stage,
  chunk,
  attempt: 1,
});

function commit(runId: string, stage: number, chunk: number, o: Partial<ChunkCommit> = {}) {
  return {
    runId,
    stage,
    chunk,
    items: [{ key: `${runId}-${stage}-${chunk}`, n: chunk }],
    rejected: [],
    counters: { in: 1, out: 1, chunksDone: 1, busyMs: 2.4 },
    next: [msg(runId, stage + 1, chunk)],
    ...o,
  };
}

/** Waits for `p`, or fails after `ms` instead of hanging. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new Error(`${what} did not happen`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}

Deno.test("PostgreSQL store: batched commits and reads", async (t) => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  const open = async (url: string, o: object = {}) =>
    await openPgBackend({ visibilityMs: 2000, pollMs: 50, ...o, url });
  try {
    await t.step("commits made together share statements and each chunk commits once", async () => {
      const b = await open(await f.newDatabase());
      try {
        for (const id of ["a", "b"]) await b.store.createRun(run(id), []);
        const commits: ChunkCommit[] = [];
        for (const id of ["a", "b"]) {
          for (let c = 0; c < 10; c++) commits.push(commit(id, 1, c));
          commits.push(commit(id, 0, 0, {
            counters: { out: 1, chunksDone: 1 },
            source: { nextChunk: 1, cursor: { at: id }, done: false },
            next: [msg(id, 0, 1)],
          }));
        }
        // Two deliveries of one chunk in the same batch: one commits, the other is a duplicate.
        commits.push(commit("a", 1, 3, { items: [{ key: "other" }] }));
        const ok = await Promise.all(commits.map((c) => b.store.commitChunk(c)));
        assert.equal(ok.filter((x) => x).length, commits.length - 1);
        assert.equal(ok[3] !== ok.at(-1), true, "exactly one of the two a/1/3 commits won");
        const stats = b.store.batchStats.commits;
        assert.ok(
          stats.batches < stats.calls,
          `${stats.batches} statements, ${stats.calls} commits`,
        );
        assert.equal(stats.retried, 0, "no batch failed");
        for (const id of ["a", "b"]) {
          const c = await b.store.counters(id, 2);
          assert.deepEqual([c[1].in, c[1].out, c[1].chunksDone], [10, 10, 10]);
          assert.deepEqual([c[0].out, c[0].chunksDone], [1, 1]);
          assert.ok(c[1].busyMs >= 10 && c[1].busyMs <= 30, "busy time summed (rounded)");
          assert.deepEqual(await b.store.sourceProgress(id), {
            nextChunk: 1,
            cursor: { at: id },
            done: false,
          });
          assert.deepEqual(await b.store.doneChunks(id, 1), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        }
        const won = ok[3] ? commits[3] : commits.at(-1)!;
        assert.deepEqual(await b.store.readChunk("a", 1, 3), won.items);
        const keys = (await b.sql<{ key: string }[]>`SELECT key FROM sluice_queue ORDER BY key`)
          .map((r) => r.key);
        const want = ["a", "b"].flatMap((id) => [
          `${id}/0/1`,
          ...Array.from({ length: 10 }, (_, c) => `${id}/2/${c}`),
        ]).sort();
        assert.deepEqual(keys, want, "each commit wrote its next messages once");
      } finally {
        await b.close();
      }
    });

    await t.step("a bad commit in a batch fails alone", async () => {
      const b = await open(await f.newDatabase());
      try {
        await b.store.createRun(run("a"), []);
        const out = await Promise.allSettled([
          b.store.commitChunk(commit("a", 1, 0)),
          b.store.commitChunk(commit("missing-run", 1, 0)),
          b.store.commitChunk(commit("a", 1, 1)),
        ]);
        assert.deepEqual(out.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
        assert.deepEqual(await b.store.doneChunks("a", 1), [0, 1]);
        assert.equal(b.store.batchStats.commits.retried, 1);
      } finally {
        await b.close();
      }
    });

    await t.step("chunk and settle states match the single reads", async () => {
      const url = await f.newDatabase();
      const b = await open(url);
      const other = await open(url); // reads the database, not what b's commits kept
      try {
        await b.store.createRun(run("r"), []);
        for (let c = 0; c < 3; c++) {
          assert.ok(
            await b.store.commitChunk(commit("r", 0, c, {
              source: { nextChunk: c + 1, cursor: c, done: c === 2 },
              next: [],
            })),
          );
        }
        // Reserved for b: its continuation's state comes from the commit.
        assert.ok(await b.store.commitChunk(commit("r", 1, 0, { next: [msg("r", 2, 0)] })));
        await b.store.setAttempts("r", 1, 1, { attempts: 2, lastError: "boom", nextAt: 5 });
        await b.store.setAttempts("r", 1, 2, {
          attempts: 3,
          lastError: "dead",
          nextAt: 0,
          dead: true,
        });
        await b.store.addDeadLetter({
          runId: "r",
          stage: 1,
          stageId: "s1",
          chunk: 2,
          attempts: 3,
          error: "dead",
          at: 1,
          items: 1,
        });
        const asks: [number, number][] = [[0, 3], [1, 0], [1, 1], [1, 2], [2, 0], [2, 1]];
        for (const store of [b.store, other.store]) {
          const got = await Promise.all(asks.map(([s, c]) => store.chunkState("r", s, c)));
          for (const [i, [s, c]] of asks.entries()) {
            const stored = s > 0 ? await other.store.readChunk("r", s - 1, c) : undefined;
            const want = {
              done: s > 0 && await other.store.isChunkDone("r", s, c),
              ...(s === 0 ? { progress: await other.store.sourceProgress("r") } : {}),
              attempts: await other.store.getAttempts("r", s, c),
              // The input as stored, shown here as its items and count.
              input: stored && { items: stored, count: stored.length },
              text: stored,
            };
            if (want.done) want.input = want.text = undefined;
            const { inputRaw, ...rest } = got[i];
            assert.deepEqual(
              JSON.parse(JSON.stringify({
                ...rest,
                input: inputRaw && {
                  items: decodeParts(inputRaw.parts),
                  count: inputRaw.count,
                },
                // The text the store kept is the same JSON as the bytes.
                text: inputRaw && JSON.parse(inputRaw.text!),
              })),
              JSON.parse(JSON.stringify(want)),
              `state of ${s}/${c}`,
            );
          }
        }
        assert.ok(other.store.batchStats.states.batches < other.store.batchStats.states.calls);
        const settle = await Promise.all([
          other.store.settleState("r", 1),
          other.store.settleState("r", 2),
        ]);
        const progress = await other.store.sourceProgress("r");
        assert.deepEqual(settle, [
          { progress, lastDone: 1, deadChunks: 1, sourceDead: false },
          { progress, lastDone: 0, deadChunks: 1, sourceDead: false },
        ]);
      } finally {
        await b.close();
        await other.close();
      }
    });

    await t.step("a slot kept idle by one process goes to another that waits", async () => {
      const url = await f.newDatabase();
      const a = await open(url);
      const b = await open(url);
      try {
        const slots = async () =>
          (await a.sql<{ holder: string }[]>`SELECT holder FROM sluice_slots WHERE scope = 's'`)
            .map((r) => r.holder);
        // Slots are kept once the process listens for waiters (from its first acquire on).
        let kept: string[] = [];
        for (let i = 0; i < 100 && kept.length === 0; i++) {
          await (await a.limits.acquire("s", 1))();
          kept = await slots();
          if (!kept.length) await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(kept.length, 1, "a freed slot stays with its process for a while");
        await (await a.limits.acquire("s", 1))();
        assert.deepEqual(await slots(), kept, "and is taken again without a new row");
        let active = 0;
        let peak = 0;
        const use = async (x: typeof a) => {
          const free = await x.limits.acquire("s", 1);
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, 10));
          active--;
          await free();
        };
        // b waits for the scope: a gives its idle slot up; then they take turns.
        await within(Promise.all([use(b), use(a), use(b), use(a)]), 20_000, "taking turns");
        assert.equal(peak, 1, "the limit held");
      } finally {
        await a.close();
        await b.close();
      }
    });
  } finally {
    await f.close();
    await pg.close();
  }
});
