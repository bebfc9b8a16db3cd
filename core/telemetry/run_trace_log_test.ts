import assert from "node:assert/strict";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { createLogger } from "./log.ts";
import { withRunTraceIds } from "./run_trace_log.ts";
import { createTelemetry } from "./setup.ts";
import { runTraceIds } from "./tracing.ts";

Deno.test("log lines about a run carry its trace id; a child bound to a run too", () => {
  const lines: Record<string, unknown>[] = [];
  const log = withRunTraceIds(createLogger({ write: (l) => lines.push(JSON.parse(l)) }));
  log.info("run created", { run: "r-1", pipeline: "p" });
  log.warn("no run here", { component: "queue" });
  log.child({ run: "r-2", stage: "dns" }).error("chunk failed", { chunk: 3 });
  const trace = (run: string) => runTraceIds(run).traceId;
  assert.equal(lines[0].traceId, trace("r-1"));
  assert.equal(lines[1].traceId, undefined, "a line without a run gets none");
  assert.deepEqual([lines[2].run, lines[2].traceId, lines[2].chunk], ["r-2", trace("r-2"), 3]);
});

Deno.test("Telemetry.runLog adds trace ids only when tracing is on", async () => {
  const lines: Record<string, unknown>[] = [];
  const base = createLogger({ write: (l) => lines.push(JSON.parse(l)) });
  const off = createTelemetry({ env: {} });
  const on = createTelemetry({ env: {}, exporter: new InMemorySpanExporter() });
  try {
    off.runLog(base).info("x", { run: "r-3" });
    on.runLog(base).info("y", { run: "r-3" });
    assert.equal(lines[0].traceId, undefined);
    assert.equal(lines[1].traceId, runTraceIds("r-3").traceId);
  } finally {
    await off.close();
    await on.close();
  }
});
