import assert from "node:assert/strict";
import { EngineTelemetry } from "./engine_telemetry.ts";
import { MAX_PLUGIN_METRIC_NAMES, SluiceMetrics } from "./sluice_metrics.ts";

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

Deno.test("a plugin reporting endless metric names gets a bounded number of series", async () => {
  const metrics = new SluiceMetrics();
  for (let i = 0; i < 5_000; i++) {
    metrics.pluginMetric({
      plugin: "hostile",
      stageId: "s",
      kind: i % 2 ? "count" : "gauge",
      name: `name_${i}`,
      value: 1,
    });
  }
  metrics.pluginMetric({
    plugin: "hostile",
    stageId: "s2",
    kind: "count",
    name: "x".repeat(10_000),
    value: 1,
  });
  const text = await metrics.registry.render();
  const series = text.split("\n").filter((l) =>
    l.includes('plugin="hostile"') && !l.startsWith("#")
  )
    .filter((l) => /^sluice_plugin_(events_total|gauge)\{/.test(l));
  assert.equal(series.length, MAX_PLUGIN_METRIC_NAMES, "one series per kept name");
  assert.ok(!text.includes("x".repeat(200)), "an overlong name is not kept");
  assert.match(
    text,
    new RegExp(
      `sluice_plugin_metrics_dropped_total\\{plugin="hostile",stage="s"\\} ${
        5_000 - MAX_PLUGIN_METRIC_NAMES
      }`,
    ),
  );
  // A name already kept is still updated.
  metrics.pluginMetric({
    plugin: "hostile",
    stageId: "s",
    kind: "count",
    name: "name_1",
    value: 4,
  });
  assert.equal(metrics.pluginCounters.get({ plugin: "hostile", stage: "s", name: "name_1" }), 5);
});
