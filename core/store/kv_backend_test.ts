import assert from "node:assert/strict";
import { chunkDirFor } from "./chunk_files.ts";
import { KvStore, openKvBackend } from "./kv_backend.ts";
import { GuardFailedError, type RunGuard, type RunRecord } from "./store.ts";

async function withBackend(fn: (b: Awaited<ReturnType<typeof openKvBackend>>) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
  const b = await openKvBackend(`${dir}/sluice.kv`);
  try {
    await fn(b);
  } finally {
    b.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function run(id: string, pipeline: string, createdAt: number): RunRecord {
  return {
    id,
    pipeline,
    pipelineYaml: "",
    pipelineFile: "x.yaml",
    stages: [],
    inputs: {},
    trigger: { kind: "cli" },
    state: "queued",
    createdAt,
  };
}

/** A KV store on a file without its chunk folder: item data in KV parts (the older layout). */
async function partsStore(path: string) {
  const kv = await Deno.openKv(path);
  return { store: new KvStore(kv), close: () => kv.close() };
}

const bigChunk = () => ({
  items: Array.from({ length: 3000 }, (_, i) => ({ key: `k${i}`, text: "x".repeat(400) })),
  rejected: Array.from({ length: 500 }, (_, i) => ({ key: `bad${i}`, reason: "y".repeat(300) })),
});

/** Names of the files in a run's chunk folder (none when it does not exist). */
async function chunkFiles(kvPath: string, runId: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(`${chunkDirFor(kvPath)}/${runId}`)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

for (const layout of ["chunk files", "KV parts"] as const) {
  Deno.test(`chunks far above the 64 KiB value cap round-trip (${layout})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
    const path = `${dir}/sluice.kv`;
    const b = layout === "chunk files" ? await openKvBackend(path) : await partsStore(path);
    const store = b.store;
    try {
      await store.createRun(run("r1", "p", 1), []);
      const { items: big, rejected } = bigChunk();
      // ~1.3 MB: larger than one atomic commit may carry, so KV parts are staged first.
      const ok = await store.commitChunk({
        runId: "r1",
        stage: 1,
        chunk: 0,
        items: big,
        rejected,
        counters: { in: 3000, out: 3000, chunksDone: 1 },
        next: [],
      });
      assert.equal(ok, true);
      assert.deepEqual(await store.readChunk("r1", 1, 0), big);
      assert.deepEqual(await store.readChunks!("r1", 1, [0, 1]), [big, undefined]);
      // The stored bytes, joined, are the chunk's JSON, with the item count beside them.
      const raw = await store.readChunkRaw!("r1", 1, 0);
      if (layout === "chunk files") {
        assert.equal(raw?.parts.length, 1, "one file");
        assert.equal((await chunkFiles(path, "r1")).length, 1);
      } else {
        assert.ok(raw && raw.parts.length > 1, "a chunk this large is stored in several parts");
        assert.deepEqual(await chunkFiles(path, "r1"), []);
      }
      assert.equal(raw!.count, 3000);
      const joined = new Uint8Array(raw!.parts.reduce((n, p) => n + p.length, 0));
      raw!.parts.reduce((at, p) => (joined.set(p, at), at + p.length), 0);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(joined)), big);
      assert.equal(await store.readChunkRaw!("r1", 1, 1), undefined, "not committed");
      const back = [];
      for await (const r of store.readRejected("r1")) back.push(r);
      assert.equal(back.length, 500);
      assert.equal(back[499].key, "bad499");
      // A second commit of the same chunk is refused, leaves the first intact and no file.
      const before = await chunkFiles(path, "r1");
      const again = await store.commitChunk({
        runId: "r1",
        stage: 1,
        chunk: 0,
        items: [{ key: "dup" }],
        rejected: [],
        counters: { in: 1 },
        next: [],
      });
      assert.equal(again, false);
      assert.equal((await store.readChunk("r1", 1, 0))!.length, 3000);
      assert.deepEqual(await chunkFiles(path, "r1"), before);
      const c = await store.counters("r1", 2);
      assert.deepEqual([c[1].in, c[1].out, c[1].chunksDone], [3000, 3000, 1]);
      // Deleting the run deletes its chunk data.
      await store.deleteRun("r1");
      assert.equal(await store.readChunk("r1", 1, 0), undefined);
      assert.deepEqual(await chunkFiles(path, "r1"), []);
    } finally {
      b.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("chunk files: the KV holds only the done mark; chunks kept in KV parts stay readable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
  const path = `${dir}/sluice.kv`;
  const commit = (store: KvStore | Awaited<ReturnType<typeof openKvBackend>>["store"], n: number) =>
    store.commitChunk({
      runId: "r1",
      stage: 1,
      chunk: n,
      items: [{ key: `item-${n}`, n }],
      rejected: [],
      counters: { out: 1, chunksDone: 1 },
      next: [],
    });
  try {
    // Written by a store of the older layout.
    const old = await partsStore(path);
    await old.store.createRun(run("r1", "p", 1), []);
    assert.equal(await commit(old.store, 0), true);
    old.close();

    const b = await openKvBackend(path);
    try {
      assert.equal(await commit(b.store, 1), true);
      assert.deepEqual(await b.store.readChunks!("r1", 1, [0, 1]), [
        [{ key: "item-0", n: 0 }],
        [{ key: "item-1", n: 1 }],
      ]);
      assert.deepEqual(await b.store.readChunk("r1", 1, 0), [{ key: "item-0", n: 0 }]);
      const parts: Deno.KvKey[] = [];
      for await (const e of b.kv!.list({ prefix: ["chunk_out", "r1"] })) parts.push(e.key);
      assert.deepEqual(parts.map((k) => k[3]), [0], "only the older chunk has KV parts");
      const [file] = await chunkFiles(path, "r1");
      assert.match(file, /^1-1-[0-9a-f-]{36}\.json$/);

      // A chunk file gone missing is a corrupt store, and the error says which file.
      await Deno.remove(`${chunkDirFor(path)}/r1/${file}`);
      await assert.rejects(
        () => b.store.readChunk("r1", 1, 1),
        /chunk 1 of stage 1 of run r1 is marked done but its file .*1-1-.*\.json is missing/,
      );
    } finally {
      b.close();
    }
    // A store opened without the chunk folder says where the data is.
    const bare = await partsStore(path);
    try {
      await assert.rejects(
        () => bare.store.readChunkRaw!("r1", 1, 1),
        /kept in a chunk file, but this store was opened without its chunk folder/,
      );
    } finally {
      bare.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runs list newest first, filter by pipeline and state, and paginate by cursor", async () => {
  await withBackend(async ({ store }) => {
    for (let i = 0; i < 7; i++) {
      await store.createRun(run(`r${i}`, i % 2 ? "odd" : "even", 1000 + i), []);
    }
    await store.transitionRun("r3", ["queued"], "running");
    assert.equal(await store.transitionRun("r3", ["queued"], "failed"), false, "from-state guard");
    const p1 = await store.listRuns({ limit: 3 });
    assert.deepEqual(p1.runs.map((r) => r.id), ["r6", "r5", "r4"]);
    const p2 = await store.listRuns({ limit: 3, cursor: p1.cursor });
    assert.deepEqual(p2.runs.map((r) => r.id), ["r3", "r2", "r1"]);
    assert.deepEqual((await store.listRuns({ pipeline: "odd" })).runs.map((r) => r.id), [
      "r5",
      "r3",
      "r1",
    ]);
    assert.deepEqual((await store.listRuns({ state: "running" })).runs.map((r) => r.id), ["r3"]);
    await store.deleteRun("r3");
    assert.equal(await store.getRun("r3"), undefined);
    assert.deepEqual((await store.listRuns({ pipeline: "odd" })).runs.map((r) => r.id), [
      "r5",
      "r1",
    ]);
  });
});

Deno.test("dead letters count while parked and uncount when removed for replay", async () => {
  await withBackend(async ({ store }) => {
    await store.createRun(run("r", "p", 1), []);
    const d = {
      runId: "r",
      stage: 1,
      stageId: "s",
      chunk: 4,
      attempts: 3,
      error: "boom",
      at: 5,
      items: 7,
    };
    assert.equal(await store.addDeadLetter(d), true);
    assert.equal(await store.addDeadLetter(d), false, "parking twice is a no-op");
    let c = await store.counters("r", 2);
    assert.deepEqual([c[1].chunksDead, c[1].failed], [1, 7]);
    assert.deepEqual(await store.listDeadLetters("r"), [d]);
    assert.equal(await store.removeDeadLetter("r", 1, 4), true);
    c = await store.counters("r", 2);
    assert.deepEqual([c[1].chunksDead, c[1].failed], [0, 0]);
    assert.deepEqual(await store.listDeadLetters("r"), []);
  });
});

Deno.test("a run created with a guard: written together, or neither when the guard's check fails", async () => {
  await withBackend(async (b) => {
    const kv = b.kv!;
    const guardOn = (db: Deno.Kv, key: Deno.KvKey): RunGuard => ({
      kv: db,
      apply: (op) => op.check({ key, versionstamp: null }).set(key, "claimed"),
    });
    await b.store.createRun(run("g1", "p", 1), [], guardOn(kv, ["claim", "a"]));
    assert.equal((await b.store.getRun("g1"))?.id, "g1");
    assert.equal((await kv.get(["claim", "a"])).value, "claimed");

    // The same claim again: no run, and the error says it was the guard.
    await assert.rejects(
      () => b.store.createRun(run("g2", "p", 2), [], guardOn(kv, ["claim", "a"])),
      GuardFailedError,
    );
    assert.equal(await b.store.getRun("g2"), undefined);
    assert.equal((await b.store.listRuns({ pipeline: "p" })).runs.length, 1);

    // A run id that exists is still that error, not the guard's.
    await assert.rejects(
      () => b.store.createRun(run("g1", "p", 3), [], guardOn(kv, ["claim", "b"])),
      /already exists/,
    );
    assert.equal((await kv.get(["claim", "b"])).versionstamp, null);

    // A guard on another handle (even of the same file) is not accepted.
    const other = await Deno.openKv(":memory:");
    try {
      assert.equal(b.store.acceptsGuard?.(guardOn(kv, ["x"])), true);
      assert.equal(b.store.acceptsGuard?.(guardOn(other, ["x"])), false);
      await assert.rejects(
        () => b.store.createRun(run("g3", "p", 4), [], guardOn(other, ["x"])),
        TypeError,
      );
    } finally {
      other.close();
    }
  });
});

Deno.test("runs of one pipeline version share one stored snapshot; records read back whole", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
  const path = `${dir}/sluice.kv`;
  const stages = [{ id: "s", plugin: "p@1", manifest: "m".repeat(2000) }] as unknown as RunRecord[
    "stages"
  ];
  const full = (id: string, at: number, yaml = "name: p\n"): RunRecord => ({
    ...run(id, "p", at),
    pipelineYaml: yaml,
    stages: structuredClone(stages),
  });
  const a = await openKvBackend(path);
  try {
    const kv = a.kv!;
    for (let i = 0; i < 5; i++) await a.store.createRun(full(`r${i}`, i), []);
    await a.store.createRun(full("v2", 9, "name: p\n# edited\n"), []);
    const snaps = await Array.fromAsync(kv.list({ prefix: ["run_snapshot"] }));
    assert.equal(snaps.length, 2, "one snapshot per pipeline version");
    const raw = (await kv.get<Record<string, unknown>>(["run", "r3"])).value!;
    assert.equal(raw.pipelineYaml, undefined);
    assert.equal(raw.stages, undefined);
    assert.ok(JSON.stringify(raw).length < 400, JSON.stringify(raw));

    assert.deepEqual(await a.store.getRun("r3"), full("r3", 3));
    assert.deepEqual((await a.store.getRun("v2"))?.pipelineYaml, "name: p\n# edited\n");
    const listed = (await a.store.listRuns({ pipeline: "p" })).runs;
    assert.deepEqual(listed.map((r) => [r.id, r.stages.length, r.pipelineYaml.length]), [
      ["v2", 1, 17],
      ["r4", 1, 8],
      ["r3", 1, 8],
      ["r2", 1, 8],
      ["r1", 1, 8],
      ["r0", 1, 8],
    ]);

    // A state change keeps the reference; a change of the stages writes their new snapshot.
    assert.ok(await a.store.transitionRun("r1", ["queued"], "running", { startedAt: 5 }));
    assert.equal(
      (await kv.get<Record<string, unknown>>(["run", "r1"])).value!.snapshot,
      raw.snapshot,
    );
    assert.deepEqual(await a.store.getRun("r1"), {
      ...full("r1", 1),
      state: "running",
      startedAt: 5,
    });
    const changed = [{ ...stages[0], id: "t" }] as RunRecord["stages"];
    assert.ok(await a.store.transitionRun("r2", ["queued"], "running", { stages: changed }));
    assert.deepEqual((await a.store.getRun("r2"))?.stages, changed);
    assert.equal((await Array.fromAsync(kv.list({ prefix: ["run_snapshot"] }))).length, 3);

    // A record written before snapshots existed (inline) reads as it is.
    await kv.set(["run", "old"], full("old", 1));
    assert.deepEqual(await a.store.getRun("old"), full("old", 1));

    // Another process on the same file reads the shared snapshot; a missing one is a clear error.
    const b = await openKvBackend(path);
    try {
      assert.deepEqual(await b.store.getRun("v2"), full("v2", 9, "name: p\n# edited\n"));
      await kv.delete(["run_snapshot", raw.snapshot as string]);
      await assert.rejects(
        () => b.store.getRun("r0"),
        /run r0: its pipeline snapshot .* is missing/,
      );
    } finally {
      b.close();
    }
  } finally {
    a.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pipeline snapshot larger than one KV value (64 KiB) is kept in parts; one past the limit is refused with what to do", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
  const path = `${dir}/sluice.kv`;
  // 150 KB of comments, some of them beyond Latin-1 (two bytes a character in V8).
  const yaml = "name: p\n" +
    Array.from(
      { length: 1500 },
      (_, i) => `# ${i} ${i % 3 ? "Straße Köln" : "東京 ✓"} ${"x".repeat(80)}\n`,
    ).join("");
  const stages = [{ id: "s", plugin: "p@1", manifest: "m".repeat(40_000) }] as unknown as RunRecord[
    "stages"
  ];
  const big = (id: string, at: number): RunRecord => ({
    ...run(id, "p", at),
    pipelineYaml: yaml,
    stages: structuredClone(stages),
  });
  const a = await openKvBackend(path);
  try {
    await a.store.createRun(big("r1", 1), []);
    await a.store.createRun(big("r2", 2), []);
    assert.ok(await a.store.transitionRun("r1", ["queued"], "running", { startedAt: 5 }));
    const parts = await Array.fromAsync(a.kv!.list({ prefix: ["run_snapshot_part"] }));
    assert.ok(parts.length >= 7, `${parts.length} parts`);
    assert.equal(await (a.store as KvStore).importRuns([big("i1", 3), big("i2", 4)]), 2);
  } finally {
    a.close();
  }
  // Read back whole by another handle, which has not seen the snapshot.
  const b = await openKvBackend(path);
  try {
    for (const id of ["r1", "r2", "i2"]) {
      const r = await b.store.getRun(id);
      assert.equal(r?.pipelineYaml, yaml, id);
      assert.deepEqual(r?.stages, stages);
    }
    assert.equal((await b.store.getRun("r1"))?.state, "running");
    const huge = { ...big("h", 9), pipelineYaml: "name: p\n" + "#".repeat(700_000) };
    await assert.rejects(
      b.store.createRun(huge, []),
      /run h: pipeline p with its plugins' manifests takes 7\d\d KB, more than the embedded store keeps for a run \(600 KB\): shorten the pipeline file/,
    );
  } finally {
    b.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a pipeline snapshot beyond Latin-1 counts two bytes a character: one past the limit is refused with what to do, not with KV's size error", async () => {
  const backend = await openKvBackend(":memory:");
  try {
    // 250,000 characters (500 KB as KV stores them) fit: a run is kept and read back whole.
    const fits = { ...run("w1", "p", 1), pipelineYaml: "name: p\n# " + "—".repeat(250_000) };
    await backend.store.createRun(fits, []);
    assert.equal((await backend.store.getRun("w1"))?.pipelineYaml, fits.pipelineYaml);
    // 450,000 characters: 900 KB, more than one atomic write holds (800 KiB).
    const huge = { ...run("w2", "p", 2), pipelineYaml: "name: p\n# " + "—".repeat(450_000) };
    await assert.rejects(
      backend.store.createRun(huge, []),
      /run w2: pipeline p with its plugins' manifests takes 900 KB, more than the embedded store keeps for a run \(600 KB\): shorten the pipeline file/,
    );
    assert.equal(await backend.store.getRun("w2"), undefined);
  } finally {
    backend.close();
  }
});

for (const layout of ["chunk files", "KV parts"] as const) {
  Deno.test(`a commit's itemsJson is stored as it is, not serialized again (${layout})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
    const path = `${dir}/sluice.kv`;
    const b = layout === "chunk files" ? await openKvBackend(path) : await partsStore(path);
    try {
      await b.store.createRun(run("r1", "p", 1), []);
      // A plugin's text (spacing JSON.stringify would not make) that parses to the items.
      const itemsJson = '[ {"key": "a", "n": 1}, {"key": "b"} ]';
      const items = JSON.parse(itemsJson);
      assert.equal(
        await b.store.commitChunk({
          runId: "r1",
          stage: 1,
          chunk: 0,
          items,
          itemsJson,
          rejected: [],
          counters: { out: 2, chunksDone: 1 },
          next: [],
        }),
        true,
      );
      const raw = await b.store.readChunkRaw!("r1", 1, 0);
      assert.equal(new TextDecoder().decode(raw!.parts[0]), itemsJson);
      assert.equal(raw!.count, 2);
      assert.deepEqual(await b.store.readChunk("r1", 1, 0), items);
    } finally {
      b.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

for (const layout of ["chunk files", "KV parts"] as const) {
  Deno.test(`a commit of a count and bytes only (a sink's input passed on) stores those bytes (${layout})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
    const path = `${dir}/sluice.kv`;
    const b = layout === "chunk files" ? await openKvBackend(path) : await partsStore(path);
    try {
      await b.store.createRun(run("r1", "p", 1), []);
      const text = '[{"key":"é","n":1},{"key":"b"}]';
      const bytes = new TextEncoder().encode(text);
      // As the previous stage's chunk was read: in pieces, one ending inside "é".
      const itemsBytes = [bytes.subarray(0, 10), bytes.subarray(10)];
      assert.equal(
        await b.store.commitChunk({
          runId: "r1",
          stage: 2,
          chunk: 0,
          items: [],
          count: 2,
          itemsBytes,
          rejected: [{ key: "b", reason: "refused by the sink" }],
          counters: { in: 2, out: 2, rejected: 1, chunksDone: 1 },
          next: [],
        }),
        true,
      );
      const raw = (await b.store.readChunkRaw!("r1", 2, 0))!;
      assert.equal(raw.count, 2);
      const joined = new Uint8Array(
        await new Blob(raw.parts as Uint8Array<ArrayBuffer>[]).arrayBuffer(),
      );
      assert.deepEqual(joined, bytes);
      assert.deepEqual(await b.store.readChunk("r1", 2, 0), JSON.parse(text));
      const rejected = [];
      for await (const r of b.store.readRejected("r1")) rejected.push(r.key);
      assert.deepEqual(rejected, ["b"]);
    } finally {
      b.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

for (const layout of ["chunk files", "KV parts"] as const) {
  Deno.test(`a commit of items with their bytes alone (a when stage's joined output) stores those bytes (${layout})`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
    const path = `${dir}/sluice.kv`;
    const b = layout === "chunk files" ? await openKvBackend(path) : await partsStore(path);
    try {
      await b.store.createRun(run("r1", "p", 1), []);
      const items = [{ key: "é", n: 1 }, { key: "b" }];
      // Not what JSON.stringify(items) gives: the store must keep these bytes, not serialize.
      const bytes = new TextEncoder().encode(' [ {"key":"é","n":1}, {"key":"b"} ]');
      assert.equal(
        await b.store.commitChunk({
          runId: "r1",
          stage: 1,
          chunk: 0,
          items,
          itemsBytes: [bytes],
          rejected: [],
          counters: { out: 2, chunksDone: 1 },
          next: [],
        }),
        true,
      );
      const raw = (await b.store.readChunkRaw!("r1", 1, 0))!;
      assert.equal(raw.count, 2);
      const joined = new Uint8Array(
        await new Blob(raw.parts as Uint8Array<ArrayBuffer>[]).arrayBuffer(),
      );
      assert.deepEqual(joined, bytes);
      assert.deepEqual(await b.store.readChunk("r1", 1, 0), items);
    } finally {
      b.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("chunk files: the next stage takes a chunk committed a moment ago from memory, once, and only while fresh", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
  const path = `${dir}/sluice.kv`;
  const kv = await Deno.openKv(path);
  let now = 1_000_000;
  const store = new KvStore(kv, { chunkDir: chunkDirFor(path), now: () => now });
  const commit = (chunk: number, last = false) =>
    store.commitChunk({
      runId: "r1",
      stage: 1,
      chunk,
      items: [{ key: `item-${chunk}` }],
      itemsJson: `[{"key":"item-${chunk}"}]`,
      rejected: [],
      counters: { out: 1, chunksDone: 1 },
      next: last ? [] : [{ kind: "chunk", runId: "r1", stage: 2, chunk, attempt: 1 }],
    });
  const removeFile = async (chunk: number) => {
    for await (const e of Deno.readDir(`${chunkDirFor(path)}/r1`)) {
      if (e.name.startsWith(`1-${chunk}-`)) await Deno.remove(`${chunkDirFor(path)}/r1/${e.name}`);
    }
  };
  const text = async (chunk: number) =>
    new TextDecoder().decode((await store.readChunkRaw("r1", 1, chunk))!.parts[0]);
  try {
    await store.createRun(run("r1", "p", 1), []);
    // Committed with the next stage's message: its bytes stay; the file is not read for them.
    assert.equal(await commit(0), true);
    await removeFile(0);
    assert.equal(await text(0), '[{"key":"item-0"}]');
    // Once: a second reader goes to the file (gone here, so the store says so).
    await assert.rejects(() => text(0), /marked done but its file .* is missing/);
    // The last stage's output (no next stage here) is not kept.
    assert.equal(await commit(1, true), true);
    await removeFile(1);
    await assert.rejects(() => text(1), /is missing/);
    // Kept for a moment only: a second later the file is read.
    assert.equal(await commit(2), true);
    now += 1000;
    await removeFile(2);
    await assert.rejects(() => text(2), /is missing/);
    // Parsed readers (a stage with `when`) take the kept bytes as well.
    assert.equal(await commit(3), true);
    await removeFile(3);
    assert.deepEqual(await store.readChunk("r1", 1, 3), [{ key: "item-3" }]);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a chunk's bytes as the plugin wrote them are stored as they are, in a file or in KV parts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-kv-" });
  const path = `${dir}/sluice.kv`;
  // Not UTF-8 (0xff) where the text has U+FFFD: the bytes decode to the text, and only they
  // being stored gives back 0xff.
  const big = "é".repeat(70_000); // past one KV part (60,000 bytes)
  const text = `[{"key":"a","t":"\uFFFD${big}"}]`;
  const enc = new TextEncoder().encode(text);
  const bytes = new Uint8Array([...enc.subarray(0, 17), 0xff, ...enc.subarray(20)]);
  assert.equal(new TextDecoder().decode(bytes), text);
  const commit = (store: KvStore, chunk: number) =>
    store.commitChunk({
      runId: "r1",
      stage: 1,
      chunk,
      items: JSON.parse(text),
      itemsJson: text,
      // In the pieces they were read in, one of them longer than a KV part.
      itemsBytes: [bytes.subarray(0, 5), bytes.subarray(5, 100_000), bytes.subarray(100_000)],
      rejected: [],
      counters: { out: 1, chunksDone: 1 },
      next: [],
    });
  const joined = async (parts: Uint8Array[]) =>
    new Uint8Array(await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer());
  try {
    const withFiles = await openKvBackend(path);
    const files = withFiles.store as KvStore;
    try {
      await files.createRun(run("r1", "p", 1), []);
      assert.equal(await commit(files, 0), true);
      assert.deepEqual(await joined((await files.readChunkRaw("r1", 1, 0))!.parts), bytes);
      assert.deepEqual(await files.readChunk("r1", 1, 0), JSON.parse(text));
    } finally {
      withFiles.close();
    }
    const inKv = await partsStore(path);
    try {
      assert.equal(await commit(inKv.store, 1), true);
      const raw = (await inKv.store.readChunkRaw("r1", 1, 1))!;
      assert.ok(raw.parts.length > 1, "split into KV parts");
      assert.deepEqual(await joined(raw.parts), bytes);
      assert.deepEqual(await inKv.store.readChunk("r1", 1, 1), JSON.parse(text));
    } finally {
      inKv.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
