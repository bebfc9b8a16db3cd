/**
 * Run by `tracing_test.ts` with `OTEL_DENO=true`: one chunk span and the settled run's span,
 * made by the engine's telemetry hooks as `sluice worker` makes them, exported by Deno's built-in
 * OpenTelemetry to the endpoint in `OTEL_EXPORTER_OTLP_ENDPOINT`.
 */
import { createTelemetry } from "../setup.ts";

const tel = createTelemetry({ role: "worker" });
if (tel.tracing.mode !== "deno") throw new Error(`tracing mode ${tel.tracing.mode}, not deno`);
const run = {
  id: Deno.args[0],
  pipeline: "p",
  pipelineYaml: "name: p\n",
  state: "succeeded",
  createdAt: Date.now() - 50,
  finishedAt: Date.now(),
  stages: [{ id: "s", resolved: { manifest: { name: "set-fields" } } }],
};
await tel.engine.chunk({ run, stage: 0, chunk: 0, attempt: 1 }, () => Promise.resolve());
tel.engine.runSettled(run);
await tel.engine.close();
