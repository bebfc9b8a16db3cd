import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { testEngine } from "../engine/test_helpers.ts";
import { chunkDirFor } from "./chunk_files.ts";
import { KvStore } from "./kv_backend.ts";
import { startKvRetention } from "./kv_retention.ts";

const YAML = `name: keep
source: { plugin: gen-source, with: { count: 30 } }
stages:
  - { id: tag, plugin: tag, with: { field: band, value: A } }
`;

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("KV retention deletes runs finished before the cut-off with their chunk files and uploads; newer runs and the user's files stay", async () => {
  let t = 1_000_000;
  const te = await testEngine({ now: () => t });
  try {
    const store = te.backend.store as KvStore;
    const upload = join(te.dir, "uploads", "old.csv");
    await Deno.mkdir(join(te.dir, "uploads"), { recursive: true });
    await Deno.writeTextFile(upload, "name\n");
    const mine = join(te.dir, "mine.csv"); // a --input file of the user's: never deleted
    await Deno.writeTextFile(mine, "name\n");

    const old = await te.start(YAML, { inputFile: upload });
    await te.engine.waitForRun(old.id);
    const oldUser = await te.start(YAML, { inputFile: mine });
    await te.engine.waitForRun(oldUser.id);
    t += 10 * 86_400_000; // ten days later
    const recent = await te.start(YAML);
    await te.engine.waitForRun(recent.id);
    const chunks = chunkDirFor(te.kvPath);
    assert.ok(await exists(join(chunks, old.id)), "a finished run keeps its stage outputs");

    const logs: string[] = [];
    const r = startKvRetention({
      store,
      retentionMs: 7 * 86_400_000,
      dataDir: te.dir,
      now: () => t,
      intervalMs: 3_600_000,
      log: {
        info: (m: string, d?: unknown) => logs.push(`${m} ${JSON.stringify(d)}`),
        warn: (m: string) => logs.push(m),
      } as never,
    });
    try {
      assert.equal(await r.runOnce(), 2, "the two runs older than seven days");
    } finally {
      await r.close();
    }
    assert.equal(await store.getRun(old.id), undefined);
    assert.equal(await store.getRun(oldUser.id), undefined);
    assert.equal((await store.getRun(recent.id))?.state, "succeeded");
    assert.equal(await exists(join(chunks, old.id)), false, "its chunk files are gone");
    assert.ok(await exists(join(chunks, recent.id)));
    assert.equal(await exists(upload), false, "the upload Sluice wrote for it is gone");
    assert.ok(await exists(mine), "a file the user gave stays");
    assert.deepEqual((await store.listRuns({})).runs.map((x) => x.id), [recent.id]);
    assert.deepEqual((await store.listRuns({ state: "succeeded" })).runs.map((x) => x.id), [
      recent.id,
    ]);
    assert.ok(logs.some((l) => l.startsWith('retention {"purged":2}')), logs.join("\n"));
  } finally {
    await te.dispose();
  }
});
