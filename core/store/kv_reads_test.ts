import assert from "node:assert/strict";
import { KvStore } from "./kv_backend.ts";
import type { RunRecord } from "./store.ts";

async function withStore(fn: (store: KvStore, kv: Deno.Kv) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-reads-" });
  const kv = await Deno.openKv(`${dir}/s.kv`);
  try {
    await fn(new KvStore(kv), kv);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const run: RunRecord = {
  id: "r",
  pipeline: "p",
  pipelineYaml: "",
  pipelineFile: "p.yaml",
  stages: [],
  inputs: {},
  trigger: { kind: "cli" },
  state: "running",
  createdAt: 1,
};

const commit = (store: KvStore, stage: number, chunk: number, n: number, rejected = 0) =>
  store.commitChunk({
    runId: "r",
    stage,
    chunk,
    items: Array.from({ length: n }, (_, k) => ({ key: `s${stage}c${chunk}i${k}` })),
    rejected: Array.from(
      { length: rejected },
      (_, k) => ({ key: `bad${chunk}-${k}`, reason: "x" }),
    ),
    counters: {},
    next: [],
  });

Deno.test("doneChunks windows and readChunks read several chunks in one go", async () => {
  await withStore(async (store) => {
    await store.createRun(run, []);
    for (const c of [0, 1, 2, 5, 8, 13, 21, 34]) await commit(store, 1, c, c % 4);
    assert.deepEqual(await store.doneChunks("r", 1), [0, 1, 2, 5, 8, 13, 21, 34]);
    assert.deepEqual(await store.doneChunks("r", 1, { from: 6, limit: 3 }), [8, 13, 21]);
    assert.deepEqual(await store.doneChunks("r", 1, { from: 35 }), []);
    const got = await store.readChunks("r", 1, [34, 3, 1, 5, 13]);
    assert.deepEqual(got.map((items) => items?.map((i) => i.key)), [
      ["s1c34i0", "s1c34i1"],
      undefined,
      ["s1c1i0"],
      ["s1c5i0"],
      ["s1c13i0"],
    ]);
    // Chunks whose parts are split (over the part size) come back whole.
    const big = Array.from({ length: 400 }, (_, k) => ({ key: `b${k}`, pad: "x".repeat(400) }));
    await store.commitChunk({
      runId: "r",
      stage: 2,
      chunk: 0,
      items: big,
      rejected: [],
      counters: {},
      next: [],
    });
    assert.deepEqual((await store.readChunks("r", 2, [0]))[0], big);
  });
});

Deno.test("readRejected reads only chunks with rejects, skipping parts of commits that never happened", async () => {
  await withStore(async (store, kv) => {
    await store.createRun(run, []);
    await commit(store, 0, 0, 2, 1);
    await commit(store, 0, 1, 2, 0);
    await commit(store, 1, 0, 1, 2);
    // A staged commit that crashed before its atomic commit left parts under another token.
    await kv.set(
      ["chunk_rej", "r", 0, 1, "lost-token", 0],
      new TextEncoder().encode('[{"key":"ghost","reason":"y"}]'),
    );
    await kv.set(
      ["chunk_rej", "r", 1, 7, "lost-token", 0],
      new TextEncoder().encode('[{"key":"ghost2","reason":"y"}]'),
    );
    const rows = await Array.fromAsync(store.readRejected("r"));
    assert.deepEqual(rows.map((r) => [r.stage, r.chunk, r.key]), [
      [0, 0, "bad0-0"],
      [1, 0, "bad0-0"],
      [1, 0, "bad0-1"],
    ]);
  });
});
