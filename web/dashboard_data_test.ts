import assert from "node:assert/strict";
import { KvStore } from "../core/store/kv_backend.ts";
import type { RunRecord, RunState, Store } from "../core/store/store.ts";
import { CHART_STATES, dashboardData, LeadCounter } from "./dashboard_data.ts";

const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 10, 28, 12, 30);

function run(id: string, createdAt: number, state: RunState): RunRecord {
  return {
    id,
    pipeline: "leads",
    pipelineYaml: "",
    pipelineFile: "leads.yaml",
    stages: ["source", "transform"].map((kind, i) => ({
      id: `s${i}`,
      plugin: "x@^1",
      resolved: { manifest: { kind } },
    })) as unknown as RunRecord["stages"],
    inputs: {},
    trigger: { kind: "api" },
    state: "queued",
    createdAt,
    ...(state === "failed" ? { error: `failed ${id}` } : {}),
  };
}

async function withStore(fn: (store: KvStore) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-dash-" });
  const kv = await Deno.openKv(`${dir}/s.kv`);
  try {
    await fn(new KvStore(kv, { now: () => NOW }));
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs in the last hours, each moved through the engine's transitions to its final state. */
async function fill(store: KvStore) {
  const states: RunState[] = ["succeeded", "failed", "cancelled", "running", "queued"];
  for (let i = 0; i < 40; i++) {
    const state = states[i % 5];
    const r = run(`r${String(i).padStart(2, "0")}`, NOW - (40 - i) * 20 * 60_000, state);
    await store.createRun(r, []);
    if (state !== "queued") await store.transitionRun(r.id, ["queued"], "running");
    if (state !== "queued" && state !== "running") {
      await store.transitionRun(r.id, ["running"], state, { error: r.error });
    }
  }
  // A running run whose source read 3 chunks and whose last stage finished 1.
  for (const [stage, chunk] of [[0, 0], [0, 1], [0, 2], [1, 0]]) {
    await store.commitChunk({
      runId: "r38",
      stage,
      chunk,
      items: [{ key: `k${chunk}`, lead: stage === 1 }],
      rejected: [],
      counters: { out: 1, chunksDone: 1 },
      source: stage === 0 ? { nextChunk: chunk + 1, cursor: null, done: false } : undefined,
      next: [],
    });
  }
}

/** The store without its statistics: the dashboard reads the newest runs instead. */
function withoutStats(store: KvStore): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "runStats" || prop === "itemIndexStats") return undefined;
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

Deno.test("the dashboard from run statistics matches the one from reading every run", async () => {
  await withStore(async (store) => {
    await fill(store);
    const fast = await dashboardData({ store, now: NOW, hours: 24 });
    const slow = await dashboardData({ store: withoutStats(store), now: NOW, hours: 24 });
    assert.deepEqual(fast.hours, slow.hours);
    assert.deepEqual(fast.perState, slow.perState);
    assert.equal(fast.runsInWindow, 40);
    assert.equal(fast.capped, false);
    const total = (s: RunState) =>
      fast.perState[CHART_STATES.indexOf(s)].reduce((a, b) => a + b, 0);
    assert.deepEqual(CHART_STATES.map(total), [8, 8, 8, 8, 8]);
    assert.equal(fast.queuedRuns, 8);
    assert.equal(fast.runningRuns, 8);
    assert.equal(fast.pendingChunks, slow.pendingChunks);
    assert.equal(fast.pendingChunks, 2);
    assert.deepEqual(fast.failures.map((r) => r.id), ["r36", "r31", "r26", "r21", "r16"]);
    assert.deepEqual(fast.failures, slow.failures);
    assert.equal(fast.lastSucceeded?.id, "r35");
    // Items by the hour of their commit (the store's clock): 3 read, 1 out of the last stage.
    assert.equal(fast.itemsRead, 3);
    assert.equal(fast.itemsOut, 1);
    assert.equal(fast.itemsPerHour.at(-1), 3);
  });
});

Deno.test("the dashboard no longer caps: every run of the window counts", async () => {
  await withStore(async (store) => {
    const runs = Array.from(
      { length: 1200 },
      (_, i) => ({ ...run(`b${i}`, NOW - i * 60_000, "failed"), state: "failed" as RunState }),
    );
    assert.equal(await store.importRuns(runs), 1200);
    const fast = await dashboardData({ store, now: NOW });
    assert.equal(fast.runsInWindow, 1200);
    assert.equal(fast.capped, false);
    const slow = await dashboardData({ store: withoutStats(store), now: NOW });
    assert.equal(slow.runsInWindow, 500);
    assert.equal(slow.capped, true);
  });
});

Deno.test("leads of a run come from the item index's counts, exact past the scan limit", async () => {
  await withStore(async (store) => {
    const r = { ...run("big", NOW - HOUR, "succeeded"), state: "succeeded" as RunState };
    await store.createRun(r, []);
    for (let c = 0; c < 5; c++) {
      await store.commitChunk({
        runId: "big",
        stage: 1,
        chunk: c,
        items: Array.from({ length: 100 }, (_, k) => ({ key: `k${c}-${k}`, lead: k % 4 === 0 })),
        rejected: [],
        counters: { out: 100 },
        next: [],
      });
    }
    assert.deepEqual(await new LeadCounter(store, { maxItems: 50 }).count(r), {
      leads: 125,
      partial: false,
      field: true,
      unknown: 0,
      items: 500,
    });
    assert.deepEqual(await new LeadCounter(withoutStats(store), { maxItems: 50 }).count(r), {
      leads: 13,
      partial: true,
      field: true,
      unknown: 0,
      items: 50,
    });
  });
});
