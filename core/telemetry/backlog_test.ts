import assert from "node:assert/strict";
import { backlogCollector, type BacklogRun, type BacklogStore } from "./backlog.ts";
import { MetricsRegistry } from "./metrics.ts";
import { metricsRequest } from "./metrics_server.ts";
import { SluiceMetrics } from "./sluice_metrics.ts";

/** A store with fixed runs: `done[runId]` are the chunksDone per stage. */
function fakeStore(runs: BacklogRun[], done: Record<string, number[]>): BacklogStore {
  return {
    listRuns: ({ state }) => Promise.resolve({ runs: state === "running" ? runs : [] }),
    sourceProgress: () => Promise.resolve({ done: true }),
    counters: (id) =>
      Promise.resolve(done[id].map((chunksDone) => ({ chunksDone, chunksDead: 0 }))),
  };
}

const sample = (text: string, series: string) =>
  new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1];

Deno.test("queue depth: an unlabelled total over every stage, 0 when idle", async () => {
  const runs: BacklogRun[] = [
    { id: "r1", pipeline: "leads", createdAt: 0, stages: [{ id: "read" }, { id: "probe" }] },
    { id: "r2", pipeline: "other", createdAt: 0, stages: [{ id: "read" }, { id: "rdap" }] },
  ];
  const busy = new SluiceMetrics();
  busy.registry.collect(
    backlogCollector(busy, fakeStore(runs, { r1: [30, 8], r2: [15, 0] }), { now: () => 1000 }),
  );
  const text = await busy.registry.render();
  assert.equal(sample(text, 'sluice_queue_depth{pipeline="leads",stage="probe"}'), "22");
  assert.equal(sample(text, 'sluice_queue_depth{pipeline="other",stage="rdap"}'), "15");
  assert.equal(sample(text, "sluice_queue_depth_all"), "37", "the total, not the largest stage");
  assert.equal(sample(text, "sluice_store_up"), "1");

  const idle = new SluiceMetrics();
  idle.registry.collect(backlogCollector(idle, fakeStore([], {})));
  const quiet = await idle.registry.render();
  assert.equal(sample(quiet, "sluice_queue_depth_all"), "0", "a sample even when idle");
  assert.doesNotMatch(quiet, /^sluice_queue_depth\{/m);
});

Deno.test("/metrics answers at once while the store hangs: in-process metrics and sluice_store_up 0", async () => {
  let reads = 0;
  const hanging: BacklogStore = {
    listRuns: () => {
      reads++;
      return new Promise(() => {}); // a database that never answers
    },
    sourceProgress: () => new Promise(() => {}),
    counters: () => new Promise(() => {}),
  };
  const errors: unknown[] = [];
  const metrics = new SluiceMetrics(
    new MetricsRegistry({ onCollectError: (e) => errors.push(e) }),
  );
  metrics.runsCreated.inc({ pipeline: "leads", trigger: "cli" });
  metrics.queueDepthAll.set(undefined, 99); // a value from before the outage is dropped
  metrics.registry.collect(backlogCollector(metrics, hanging, { timeoutMs: 100 }));
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const res = await Promise.race([
      metricsRequest(new Request("http://worker/metrics"), metrics),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("/metrics did not answer within 2 s")), 2000)
      ),
    ]).finally(() => clearTimeout(timer));
    const text = await res.text();
    assert.ok(performance.now() - t0 < 1000, "the scrape does not wait for the store");
    assert.equal(res.status, 200);
    assert.equal(sample(text, "sluice_store_up"), "0");
    assert.equal(sample(text, 'sluice_runs_created_total{pipeline="leads",trigger="cli"}'), "1");
    assert.equal(sample(text, "sluice_queue_depth_all"), undefined, "no stale depth");
  }
  assert.equal(reads, 1, "a hanging read is not started again by the next scrape");
  assert.equal(errors.length, 2);
  assert.match(String((errors[0] as Error).message), /did not answer within 100 ms/);
});
