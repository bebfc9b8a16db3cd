import assert from "node:assert/strict";
import { context, SpanKind, SpanStatusCode, trace, TraceFlags } from "@opentelemetry/api";
import {
  LightTracer,
  SPAN_LIMIT,
  type SpanData,
  type SpanSink,
  timeInputMs,
} from "./light_tracer.ts";
import { ensureContextManager } from "./tracing.ts";

function collect(): SpanSink & { spans: SpanData[] } {
  const spans: SpanData[] = [];
  return {
    spans,
    onEnd: (s) => void spans.push(s),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

Deno.test("spans nest under the active span, keep their trace, and a root span starts a new one", async () => {
  ensureContextManager();
  const sink = collect();
  const tracer = new LightTracer(sink);
  await tracer.startActiveSpan("outer", { kind: SpanKind.SERVER }, async (outer) => {
    await Promise.resolve();
    const inner = tracer.startSpan("inner"); // after an await: the context followed
    inner.end();
    tracer.startSpan("detached", { root: true }).end();
    outer.end();
  });
  const [inner, detached, outer] = sink.spans;
  assert.deepEqual(sink.spans.map((s) => s.name), ["inner", "detached", "outer"]);
  assert.equal(inner.context.traceId, outer.context.traceId);
  assert.equal(inner.parent?.spanId, outer.context.spanId);
  assert.equal(outer.parent, undefined);
  assert.equal(outer.kind, SpanKind.SERVER);
  assert.equal(inner.kind, SpanKind.INTERNAL);
  assert.notEqual(detached.context.traceId, outer.context.traceId);
  assert.equal(detached.parent, undefined);
  for (const s of sink.spans) {
    assert.match(s.context.traceId, /^[0-9a-f]{32}$/);
    assert.match(s.context.spanId, /^[0-9a-f]{16}$/);
    assert.equal(s.context.traceFlags, TraceFlags.SAMPLED);
    assert.ok(s.endMs >= s.startMs);
  }
  assert.equal(new Set(sink.spans.map((s) => s.context.spanId)).size, 3);
});

Deno.test("a span under an unsampled parent records nothing; forced ids go to the next span only", () => {
  const sink = collect();
  const tracer = new LightTracer(sink);
  const unsampled = trace.setSpanContext(context.active(), {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: TraceFlags.NONE,
    isRemote: true,
  });
  const quiet = tracer.startSpan("quiet", {}, unsampled);
  assert.equal(quiet.isRecording(), false);
  assert.equal(quiet.spanContext().traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  quiet.end();
  assert.equal(sink.spans.length, 0);

  const ids = { traceId: "a".repeat(32), spanId: "b".repeat(16) };
  tracer.withIds(ids, () => {
    tracer.startSpan("run", { root: true }).end();
    tracer.startSpan("second", { root: true }).end();
  });
  const [run, second] = sink.spans;
  assert.deepEqual([run.context.traceId, run.context.spanId], [ids.traceId, ids.spanId]);
  assert.notEqual(second.context.spanId, ids.spanId);
  assert.notEqual(second.context.traceId, ids.traceId);
});

Deno.test("attributes: invalid values are skipped, at most 128 are kept and the rest counted", () => {
  const sink = collect();
  const span = new LightTracer(sink).startSpan("a", { attributes: { n: 1, bad: {} as never } });
  span.setAttribute("s", "x").setAttribute("list", ["a", "b"]).setAttribute("mixed", [1, "a"]);
  span.setAttribute("none", undefined as never);
  span.setAttributes({ f: 1.5, b: true });
  for (let i = 0; i < SPAN_LIMIT; i++) span.setAttribute(`k${i}`, i);
  span.setAttribute("n", 2); // an existing key is still updated when full
  span.end();
  span.setAttribute("late", 1);
  const [s] = sink.spans;
  assert.equal(Object.keys(s.attributes).length, SPAN_LIMIT);
  assert.deepEqual(
    [s.attributes.n, s.attributes.s, s.attributes.list, s.attributes.f, s.attributes.b],
    [2, "x", ["a", "b"], 1.5, true],
  );
  assert.ok(!("bad" in s.attributes) && !("mixed" in s.attributes) && !("none" in s.attributes));
  assert.ok(!("late" in s.attributes));
  assert.equal(s.droppedAttributesCount, 5, "k123…k127 did not fit");

  // A key named like an Object method counts as any other, also within one call.
  const many = new LightTracer(sink).startSpan("b");
  many.setAttributes(
    Object.fromEntries([
      ["toString", "x"],
      ...Array.from({ length: SPAN_LIMIT }, (_, i) => [`m${i}`, i]),
    ]),
  );
  many.end();
  assert.equal(Object.keys(sink.spans[1].attributes).length, SPAN_LIMIT);
  assert.equal(sink.spans[1].droppedAttributesCount, 1);
});

Deno.test("status: UNSET is ignored, OK is final, a message stays with ERROR only", () => {
  const sink = collect();
  const tracer = new LightTracer(sink);
  const a = tracer.startSpan("a");
  a.setStatus({ code: SpanStatusCode.ERROR, message: "boom" });
  a.setStatus({ code: SpanStatusCode.UNSET });
  a.end();
  const b = tracer.startSpan("b");
  b.setStatus({ code: SpanStatusCode.OK, message: "ignored" });
  b.setStatus({ code: SpanStatusCode.ERROR, message: "too late" });
  b.end();
  assert.deepEqual(sink.spans.map((s) => s.status), [
    { code: SpanStatusCode.ERROR, message: "boom" },
    { code: SpanStatusCode.OK },
  ]);
});

Deno.test("events, exceptions, links, names and times; a span ends once", () => {
  const sink = collect();
  const tracer = new LightTracer(sink);
  // Epoch milliseconds after the process started (earlier numbers read as performance.now()).
  const t0 = Math.floor(Date.now()) + 60_000;
  const link = { context: { traceId: "c".repeat(32), spanId: "d".repeat(16), traceFlags: 1 } };
  const span = tracer.startSpan("old", { startTime: new Date(t0), links: [link] });
  span.addEvent("plain", { n: 1 }, [t0 / 1000 + 1, 500_000]);
  span.addEvent("timed", t0 + 2);
  span.recordException(new TypeError("bad input"));
  span.updateName("new");
  span.end(t0 + 5);
  span.end(t0 + 9);
  assert.equal(sink.spans.length, 1);
  const [s] = sink.spans;
  assert.equal(s.name, "new");
  assert.equal(s.startMs, t0);
  assert.equal(s.endMs, t0 + 5);
  assert.deepEqual(s.events.map((e) => [e.name, e.time - t0]), [
    ["plain", 1000.5],
    ["timed", 2],
    ["exception", s.events[2].time - t0],
  ]);
  assert.deepEqual(s.events[0].attributes, { n: 1 });
  assert.equal(s.events[2].attributes["exception.type"], "TypeError");
  assert.equal(s.events[2].attributes["exception.message"], "bad input");
  assert.deepEqual(s.links.map((l) => l.context.spanId), ["d".repeat(16)]);
  // A performance.now() value is read relative to the time origin, as the SDK does.
  assert.ok(Math.abs(timeInputMs(performance.now()) - Date.now()) < 1000);
});

Deno.test("startActiveSpan takes its options and context in any of the API's forms", () => {
  ensureContextManager();
  const sink = collect();
  const tracer = new LightTracer(sink);
  const parent = tracer.startSpan("parent");
  const ctx = trace.setSpan(context.active(), parent);
  const r1 = tracer.startActiveSpan("one", (s) => {
    assert.equal(trace.getActiveSpan(), s);
    s.end();
    return 1;
  });
  const r2 = tracer.startActiveSpan("two", { attributes: { x: 1 } }, (s) => (s.end(), 2));
  const r3 = tracer.startActiveSpan("three", {}, ctx, (s) => (s.end(), 3));
  parent.end();
  assert.deepEqual([r1, r2, r3], [1, 2, 3]);
  const byName = Object.fromEntries(sink.spans.map((s) => [s.name, s]));
  assert.equal(byName.two.attributes.x, 1);
  assert.equal(byName.three.parent?.spanId, byName.parent.context.spanId);
  assert.equal(byName.one.parent, undefined);
});

Deno.test("past 128 events the oldest are dropped, so an exception recorded last is kept", () => {
  const sink = collect();
  const span = new LightTracer(sink).startSpan("busy");
  for (let i = 0; i < SPAN_LIMIT + 2; i++) span.addEvent(`e${i}`);
  span.recordException(new Error("at the end"));
  span.end();
  const [s] = sink.spans;
  assert.equal(s.events.length, SPAN_LIMIT);
  assert.equal(s.droppedEventsCount, 3);
  assert.equal(s.events[0].name, "e3");
  assert.equal(s.events.at(-1)?.name, "exception");
  assert.equal(s.events.at(-1)?.attributes["exception.message"], "at the end");
});

Deno.test("an invalid time (NaN, an invalid Date) is taken as now, never NaN in the span", () => {
  const sink = collect();
  const before = Date.now();
  const span = new LightTracer(sink).startSpan("t", { startTime: new Date("not a date") });
  span.addEvent("e", NaN);
  span.end([NaN, 0]);
  const [s] = sink.spans;
  for (const ms of [s.startMs, s.events[0].time, s.endMs]) {
    assert.ok(Number.isFinite(ms) && ms >= before - 1 && ms <= Date.now() + 1, String(ms));
  }
});
