import assert from "node:assert/strict";
import { MetricsRegistry } from "./metrics.ts";

Deno.test("counters, gauges and histograms render in the Prometheus text format", async () => {
  const reg = new MetricsRegistry();
  const runs = reg.counter("sluice_runs_total", "Runs created\nby pipeline", ["pipeline"]);
  runs.inc({ pipeline: "leads" });
  runs.inc({ pipeline: "leads" }, 2);
  runs.inc({ pipeline: 'we"ird\\name\n' });
  const depth = reg.gauge("sluice_queue_depth", "Chunks waiting");
  depth.set(undefined, 7);
  depth.dec();
  const lat = reg.histogram("sluice_chunk_seconds", "Chunk latency", {
    labelNames: ["stage"],
    buckets: [0.1, 1],
  });
  lat.observe({ stage: "dns" }, 0.05);
  lat.observe({ stage: "dns" }, 0.5);
  lat.observe({ stage: "dns" }, 3);
  const text = await reg.render();
  assert.equal(
    text,
    [
      "# HELP sluice_chunk_seconds Chunk latency",
      "# TYPE sluice_chunk_seconds histogram",
      'sluice_chunk_seconds_bucket{stage="dns",le="0.1"} 1',
      'sluice_chunk_seconds_bucket{stage="dns",le="1"} 2',
      'sluice_chunk_seconds_bucket{stage="dns",le="+Inf"} 3',
      'sluice_chunk_seconds_sum{stage="dns"} 3.55',
      'sluice_chunk_seconds_count{stage="dns"} 3',
      "# HELP sluice_queue_depth Chunks waiting",
      "# TYPE sluice_queue_depth gauge",
      "sluice_queue_depth 6",
      "# HELP sluice_runs_total Runs created\\nby pipeline",
      "# TYPE sluice_runs_total counter",
      'sluice_runs_total{pipeline="leads"} 3',
      'sluice_runs_total{pipeline="we\\"ird\\\\name\\n"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("the registry refuses bad names, unknown labels and negative counter steps", () => {
  const reg = new MetricsRegistry();
  assert.throws(() => reg.counter("bad-name", "x"), /invalid metric name/);
  assert.throws(() => reg.gauge("ok", "x", ["__reserved"]), /invalid label name/);
  const c = reg.counter("c_total", "x", ["a"]);
  assert.throws(() => c.inc({ b: "1" }), /unknown label "b"/);
  assert.throws(() => c.inc({ a: "1" }, -1), /counters only go up/);
  assert.equal(reg.counter("c_total", "x", ["a"]), c, "same family returned again");
  assert.throws(() => reg.gauge("c_total", "x", ["a"]), /already registered/);
  assert.throws(() => reg.histogram("h", "x", { labelNames: ["le"] }), /reserved/);
});

Deno.test("collectors refresh values at scrape time and a failing one does not break the scrape", async () => {
  const errors: unknown[] = [];
  const reg = new MetricsRegistry({ onCollectError: (e) => errors.push(e) });
  const g = reg.gauge("sluice_runs", "Runs by state", ["state"]);
  let running = 2;
  reg.collect(() => {
    g.reset();
    g.set({ state: "running" }, running);
  });
  reg.collect(() => {
    throw new Error("store unreachable");
  });
  assert.match(await reg.render(), /sluice_runs\{state="running"\} 2/);
  running = 0;
  g.set({ state: "queued" }, 5);
  const text = await reg.render();
  assert.match(text, /sluice_runs\{state="running"\} 0/);
  assert.doesNotMatch(text, /queued/, "reset drops stale series");
  assert.equal(errors.length, 2);
});
