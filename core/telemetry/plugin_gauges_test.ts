import assert from "node:assert/strict";
import { EngineTelemetry } from "./engine_telemetry.ts";
import { SluiceMetrics } from "./sluice_metrics.ts";

Deno.test("a run's end drops its stages' plugin gauges to 0 (no circuit_open stuck at 1)", async () => {
  const metrics = new SluiceMetrics();
  const tel = new EngineTelemetry({ metrics });
  const rdap = { plugin: "rdap", stage: "rdap", name: "circuit_open" };
  metrics.pluginMetric({
    plugin: "rdap",
    stageId: "rdap",
    kind: "gauge",
    name: "circuit_open",
    value: 1,
  });
  metrics.pluginMetric({ plugin: "rdap", stageId: "rdap", kind: "count", name: "calls", value: 5 });
  metrics.pluginMetric({
    plugin: "mail",
    stageId: "mail",
    kind: "gauge",
    name: "circuit_open",
    value: 1,
  });
  tel.runSettled({
    id: "r",
    pipeline: "p",
    pipelineYaml: "",
    state: "failed",
    createdAt: 0,
    finishedAt: 1,
    stages: [{ id: "rdap", resolved: { manifest: { name: "rdap" } } }],
  });
  await tel.close();
  assert.equal(metrics.pluginGauges.get(rdap), 0, "the run's breaker gauge is cleared");
  assert.equal(
    metrics.pluginGauges.get({ plugin: "mail", stage: "mail", name: "circuit_open" }),
    1,
    "another stage's gauge stays",
  );
  assert.equal(
    metrics.pluginCounters.get({ plugin: "rdap", stage: "rdap", name: "calls" }),
    5,
    "counters are not touched",
  );
});
