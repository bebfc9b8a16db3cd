import assert from "node:assert/strict";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { runBacklog } from "./backlog.ts";
import { onFailureOf } from "./failure_alert.ts";
import { formatTraceparent, parseTraceparent, runTraceIds, setupTracing } from "./tracing.ts";

Deno.test("traceparent round-trips and malformed values are refused", () => {
  const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const sc = parseTraceparent(tp);
  assert.ok(sc);
  assert.equal(formatTraceparent(sc), tp);
  for (
    const bad of [
      "",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
    ]
  ) assert.equal(parseTraceparent(bad), undefined, bad);
});

Deno.test("a run's trace ids are derived from its id, and its root span gets exactly them", async () => {
  const a = runTraceIds("r1");
  assert.deepEqual(runTraceIds("r1"), a);
  assert.notEqual(runTraceIds("r2").traceId, a.traceId);
  assert.match(a.traceId, /^[0-9a-f]{32}$/);
  assert.match(a.spanId, /^[0-9a-f]{16}$/);
  const exporter = new InMemorySpanExporter();
  const t = setupTracing({ exporter, env: {} });
  t.withRunIds("r1", () => t.tracer.startSpan("run", { root: true })).end();
  t.tracer.startSpan("other", { root: true }).end();
  const [run, other] = exporter.getFinishedSpans();
  assert.equal(run.spanContext().traceId, a.traceId);
  assert.equal(run.spanContext().spanId, a.spanId);
  assert.notEqual(other.spanContext().traceId, a.traceId, "ids are forced only inside withRunIds");
  await t.close();
  assert.equal(setupTracing({ env: { OTEL_DENO: "true" } }).mode, "deno");
  assert.equal(setupTracing({ env: {} }).mode, "off");
});

Deno.test("backlog per stage: the source's next read, then what each stage has not taken yet", () => {
  const c = (chunksDone: number, chunksDead = 0) => ({ chunksDone, chunksDead });
  assert.deepEqual(runBacklog(false, [c(10), c(7, 1), c(2)]), [1, 2, 5]);
  assert.deepEqual(runBacklog(true, [c(10), c(10), c(10)]), [0, 0, 0]);
});

Deno.test("onFailure is read from the run's pipeline snapshot", () => {
  assert.deepEqual(
    onFailureOf("name: x\nonFailure: { webhook: https://a.example/h, secret: s }\n"),
    { webhook: "https://a.example/h", secret: "s" },
  );
  assert.equal(onFailureOf("name: x\n"), undefined);
  assert.equal(onFailureOf(": not yaml ["), undefined);
});
