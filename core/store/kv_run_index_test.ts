import assert from "node:assert/strict";
import { KvStore, openKvBackend } from "./kv_backend.ts";
import { HOUR_MS } from "./kv_run_index.ts";
import type { RunRecord, RunState } from "./store.ts";

async function withStore(fn: (store: KvStore, kv: Deno.Kv) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-runix-" });
  const kv = await Deno.openKv(`${dir}/s.kv`);
  try {
    await fn(new KvStore(kv), kv);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const T0 = Date.UTC(2026, 10, 28, 10, 0, 0);

function run(id: string, o: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    pipeline: "p",
    pipelineYaml: "",
    pipelineFile: "p.yaml",
    stages: [],
    inputs: {},
    trigger: { kind: "api" },
    state: "queued",
    createdAt: T0,
    ...o,
  };
}

const ids = async (store: KvStore, f: Parameters<KvStore["listRuns"]>[0]) =>
  (await store.listRuns(f)).runs.map((r) => r.id);

Deno.test("the state index follows createRun, transitionRun and deleteRun", async () => {
  await withStore(async (store) => {
    for (let i = 0; i < 6; i++) {
      await store.createRun(
        run(`r${i}`, { createdAt: T0 + i, pipeline: i % 2 ? "odd" : "even" }),
        [],
      );
    }
    assert.deepEqual(await ids(store, { state: "queued" }), ["r5", "r4", "r3", "r2", "r1", "r0"]);
    assert.ok(await store.transitionRun("r1", ["queued"], "running"));
    assert.ok(await store.transitionRun("r3", ["queued"], "running"));
    assert.ok(await store.transitionRun("r3", ["running"], "failed", { error: "boom" }));
    assert.equal(await store.transitionRun("r3", ["running"], "succeeded"), false);
    assert.deepEqual(await ids(store, { state: "queued" }), ["r5", "r4", "r2", "r0"]);
    assert.deepEqual(await ids(store, { state: "running" }), ["r1"]);
    assert.deepEqual(await ids(store, { state: "failed" }), ["r3"]);
    assert.deepEqual(await ids(store, { state: "failed", pipeline: "odd" }), ["r3"]);
    assert.deepEqual(await ids(store, { state: "failed", pipeline: "even" }), []);
    assert.deepEqual(await ids(store, { state: "queued", pipeline: "odd" }), ["r5"]);
    // Pages of the state index continue where the cursor left off.
    const p1 = await store.listRuns({ state: "queued", limit: 3 });
    assert.deepEqual(p1.runs.map((r) => r.id), ["r5", "r4", "r2"]);
    const p2 = await store.listRuns({ state: "queued", limit: 3, cursor: p1.cursor });
    assert.deepEqual(p2.runs.map((r) => r.id), ["r0"]);
    assert.equal(p2.cursor, undefined);
    await store.deleteRun("r5");
    assert.deepEqual(await ids(store, { state: "queued" }), ["r4", "r2", "r0"]);
    const stats = await store.runStats({ from: T0, to: T0 + HOUR_MS });
    assert.deepEqual(stats.states, {
      queued: 3,
      running: 1,
      succeeded: 0,
      failed: 1,
      cancelled: 0,
    });
    assert.deepEqual(stats.hours[0].runs, stats.states);
    const odd = await store.runStats({ from: T0, to: T0 + HOUR_MS, pipeline: "odd" });
    assert.deepEqual(odd.states, { queued: 0, running: 1, succeeded: 0, failed: 1, cancelled: 0 });
  });
});

Deno.test("a trigger filter skips other kinds in the state index", async () => {
  await withStore(async (store) => {
    for (let i = 0; i < 30; i++) {
      await store.createRun(
        run(`r${String(i).padStart(2, "0")}`, {
          createdAt: T0 + i,
          trigger: { kind: i % 3 === 0 ? "cron" : "api" },
          state: i % 2 ? "failed" : "succeeded",
        }),
        [],
      );
    }
    const page = await store.listRuns({ state: "failed", trigger: "cron", limit: 2 });
    assert.deepEqual(page.runs.map((r) => r.id), ["r27", "r21"]);
    const rest = await store.listRuns({
      state: "failed",
      trigger: "cron",
      limit: 10,
      cursor: page.cursor,
    });
    assert.deepEqual(rest.runs.map((r) => r.id), ["r15", "r09", "r03"]);
    // Without a state the trigger is checked on the records.
    assert.equal((await store.listRuns({ trigger: "cron", limit: 100 })).runs.length, 10);
  });
});

Deno.test("run statistics: hours by creation time and state, items by commit hour", async () => {
  let now = T0 + 5 * HOUR_MS + 10;
  await withStore(async (_s, kv) => {
    const store = new KvStore(kv, { now: () => now });
    const states: RunState[] = ["succeeded", "failed", "cancelled"];
    for (let h = 0; h < 3; h++) {
      for (let i = 0; i <= h; i++) {
        const r = run(`h${h}-${i}`, { createdAt: T0 + h * HOUR_MS + i, state: "running" });
        await store.createRun(r, []);
        assert.ok(await store.transitionRun(r.id, ["running"], states[h]));
      }
    }
    const two = { ...run("two", { state: "running" }), stages: [1, 2].map(stageOf) };
    await store.createRun(two, []);
    const commit = (stage: number, chunk: number, out: number) =>
      store.commitChunk({
        runId: "two",
        stage,
        chunk,
        items: Array.from({ length: out }, (_, k) => ({ key: `k${chunk}-${k}` })),
        rejected: [],
        counters: { out },
        next: [],
      });
    await commit(0, 0, 7);
    await commit(1, 0, 5);
    now += HOUR_MS;
    await commit(0, 1, 3);
    const s = await store.runStats({ from: T0, to: T0 + 7 * HOUR_MS });
    assert.equal(s.hours.length, 7);
    assert.deepEqual(s.hours.map((h) => h.runs.succeeded), [1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(s.hours.map((h) => h.runs.failed), [0, 2, 0, 0, 0, 0, 0]);
    assert.deepEqual(s.hours.map((h) => h.runs.cancelled), [0, 0, 3, 0, 0, 0, 0]);
    assert.deepEqual(s.hours.map((h) => h.runs.running), [1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(s.hours.map((h) => h.itemsRead), [0, 0, 0, 0, 0, 7, 3]);
    assert.deepEqual(s.hours.map((h) => h.itemsOut), [0, 0, 0, 0, 0, 5, 0]);
    assert.deepEqual(s.states, { queued: 0, running: 1, succeeded: 1, failed: 2, cancelled: 3 });
  });
});

function stageOf(_: number, i: number) {
  return {
    id: `s${i}`,
    plugin: "x@^1",
    resolved: { manifest: { kind: i === 0 ? "source" : "transform" } },
  } as unknown as RunRecord["stages"][number];
}

Deno.test("runs written before the index are indexed by migrate, also when they moved", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-runix-" });
  const path = `${dir}/s.kv`;
  try {
    const kv = await Deno.openKv(path);
    const store = new KvStore(kv);
    // Old records: written without any index entries.
    for (let i = 0; i < 25; i++) {
      const r = run(`old${String(i).padStart(2, "0")}`, {
        createdAt: T0 + i,
        state: i % 5 ? "succeeded" : "running",
      });
      await kv.atomic().set(["run", r.id], r).set(["runs_by_time", r.createdAt, r.id], r.pipeline)
        .set(["runs_by_pipeline", r.pipeline, r.createdAt, r.id], true).commit();
    }
    // A transition before the migration adds the run without removing what was never added.
    assert.ok(await store.transitionRun("old05", ["running"], "failed"));
    // The first read by state migrates (once per store; the file remembers it is done).
    assert.deepEqual(await ids(store, { state: "running" }), ["old20", "old15", "old10", "old00"]);
    assert.equal(await store.migrate(), 24);
    assert.equal(await new KvStore(kv).migrate(), 0);
    assert.deepEqual(await ids(store, { state: "running" }), ["old20", "old15", "old10", "old00"]);
    assert.deepEqual(await ids(store, { state: "failed" }), ["old05"]);
    const s = await store.runStats({ from: T0, to: T0 + 1 });
    assert.deepEqual(s.states, { queued: 0, running: 4, succeeded: 20, failed: 1, cancelled: 0 });
    // A later transition of a migrated run moves it.
    assert.ok(await store.transitionRun("old10", ["running"], "succeeded"));
    assert.equal((await store.runStats({ from: T0, to: T0 + 1 })).states.succeeded, 21);
    kv.close();
    // openKvBackend migrates on open.
    const b = await openKvBackend(path);
    assert.equal((await b.store.listRuns({ state: "succeeded", limit: 100 })).runs.length, 21);
    b.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("importRuns writes runs with the same indexes as createRun and skips existing ones", async () => {
  await withStore(async (store) => {
    await store.createRun(run("a0", { state: "failed" }), []);
    const many = Array.from(
      { length: 90 },
      (_, i) => run(`a${i}`, { createdAt: T0 + i, state: i % 2 ? "failed" : "succeeded" }),
    );
    assert.equal(await store.importRuns(many), 89);
    assert.equal((await store.listRuns({ state: "failed", limit: 1000 })).runs.length, 46);
    const s = await store.runStats({ from: T0, to: T0 + 1 });
    assert.equal(s.states.failed, 46);
    assert.equal(s.states.succeeded, 44);
  });
});
