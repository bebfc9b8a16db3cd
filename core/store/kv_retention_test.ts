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

    const old = await te.start(YAML, { inputFile: upload, dataDir: te.dir });
    assert.equal(old.inputFile, join("uploads", "old.csv"), "kept relative to the data folder");
    await te.engine.waitForRun(old.id);
    const oldUser = await te.start(YAML, { inputFile: mine, dataDir: te.dir });
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

Deno.test("KV retention leaves no key of a purged run behind (the source's progress included)", async () => {
  let t = 1_000_000;
  const te = await testEngine({ now: () => t });
  try {
    const store = te.backend.store as KvStore;
    const old = await te.start(YAML);
    await te.engine.waitForRun(old.id);
    t += 10 * 86_400_000;
    const r = startKvRetention({ store, retentionMs: 86_400_000, now: () => t });
    try {
      assert.equal(await r.runOnce(), 1);
    } finally {
      await r.close();
    }
    const kv = (te.backend as unknown as { kv: Deno.Kv }).kv;
    const left: string[] = [];
    for await (const e of kv.list({ prefix: [] })) {
      if (e.key.includes(old.id)) left.push(JSON.stringify(e.key));
    }
    assert.deepEqual(left, [], "every key naming the purged run is deleted");
  } finally {
    await te.dispose();
  }
});

Deno.test("KV retention deletes a purged run's per-run plugin folders and the artifacts named after it; shared files stay", async () => {
  let t = 1_000_000;
  const te = await testEngine({ now: () => t });
  try {
    const store = te.backend.store as KvStore;
    // The stage's `{run}` path names the run's file (`exports/leads-<run id>.csv`).
    const yaml = YAML.replace("value: A }", "value: A, path: 'exports/leads-{run}.csv' }");
    const old = await te.start(yaml);
    await te.engine.waitForRun(old.id);
    t += 10 * 86_400_000;
    const recent = await te.start(yaml);
    await te.engine.waitForRun(recent.id);
    const tag = join(te.dir, "plugin-data", "tag");
    // What a sink leaves: its default per-run folder (a finished file, or the parts of a run
    // that never finished), a file named after the run elsewhere, and a file every run rewrites.
    const write = async (rel: string) => {
      const p = join(tag, rel);
      await Deno.mkdir(p.slice(0, p.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(p, "x\n");
      return p;
    };
    const own = await write(`runs/${old.id}/leads.csv`);
    await write(`runs/${old.id}/leads.csv.parts/0000000000.part`);
    const named = await write(`exports/leads-${old.id}.csv`);
    const shared = await write("latest.csv");
    const other = await write(`runs/${recent.id}/leads.csv`);
    // The CLI's own file of each run (the --out it remembers).
    const cliFile = (id: string) => join(te.dir, "runs", id, "cli.json");
    for (const id of [old.id, recent.id]) {
      await Deno.mkdir(join(te.dir, "runs", id), { recursive: true });
      await Deno.writeTextFile(cliFile(id), "{}\n");
    }
    const rel = (p: string) => p.slice(te.dir.length + 1);
    assert.ok(
      await store.transitionRun(old.id, ["succeeded"], "succeeded", {
        artifacts: [own, named, shared].map((p) => ({
          stage: "tag",
          name: p.slice(p.lastIndexOf("/") + 1),
          path: rel(p),
          bytes: 2,
        })),
      }),
    );
    const r = startKvRetention({
      store,
      retentionMs: 86_400_000,
      dataDir: te.dir,
      now: () => t,
    });
    try {
      assert.equal(await r.runOnce(), 1);
    } finally {
      await r.close();
    }
    assert.equal(await exists(join(tag, "runs", old.id)), false, "its per-run folder is gone");
    assert.equal(await exists(named), false, "an artifact named after the run is gone");
    assert.ok(await exists(shared), "a file at a fixed path stays (later runs write it)");
    assert.ok(await exists(other), "another run's folder stays");
    assert.equal(await exists(join(te.dir, "runs", old.id)), false, "its CLI folder is gone");
    assert.ok(await exists(cliFile(recent.id)), "another run's CLI file stays");
  } finally {
    await te.dispose();
  }
});

Deno.test("KV retention deletes a purged run's snapshot of its source file; the file itself and newer runs' snapshots stay", async () => {
  let t = 1_000_000;
  const te = await testEngine({ now: () => t, firstParty: true });
  try {
    const store = te.backend.store as KvStore;
    const file = join(te.dir, "plugin-data", "csv-source", "crm.csv");
    await Deno.mkdir(join(te.dir, "plugin-data", "csv-source"), { recursive: true });
    await Deno.writeTextFile(file, "name,domain\nAcme,acme.example\n");
    const yaml = "name: weekly\nsource: { plugin: csv-source, with: { path: crm.csv } }\n" +
      "stages:\n  - { id: tag, plugin: tag, with: { field: band, value: A } }\n";
    const old = await te.start(yaml, { dataDir: te.dir });
    assert.equal((await te.engine.waitForRun(old.id)).state, "succeeded");
    t += 10 * 86_400_000;
    const recent = await te.start(yaml, { dataDir: te.dir });
    assert.equal((await te.engine.waitForRun(recent.id)).state, "succeeded");
    assert.ok(
      await exists(join(te.dir, old.inputFile!)),
      "a run keeps its snapshot until it is purged",
    );
    const r = startKvRetention({ store, retentionMs: 86_400_000, dataDir: te.dir, now: () => t });
    try {
      assert.equal(await r.runOnce(), 1);
    } finally {
      await r.close();
    }
    assert.equal(
      await exists(join(te.dir, old.inputFile!)),
      false,
      "the purged run's snapshot is gone",
    );
    assert.equal(await exists(join(te.dir, "runs", old.id)), false);
    assert.ok(await exists(join(te.dir, recent.inputFile!)), "a newer run's snapshot stays");
    assert.ok(await exists(file), "the source file stays");
  } finally {
    await te.dispose();
  }
});
