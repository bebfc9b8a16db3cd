import assert from "node:assert/strict";
import { context, createTraceState, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { LightTracer, type SpanData, type SpanSink } from "./light_tracer.ts";
import {
  otlpEnvOptions,
  OtlpHttpSpanSink,
  otlpTraceRequest,
  parseOtlpHeaders,
  unixNanos,
} from "./otlp_http.ts";
import { toReadableSpan } from "./sdk_exporter_sink.ts";
import { selfSignedCert } from "../plugins/test_support.ts";
import { join } from "../paths.ts";

function someSpans(): SpanData[] {
  const spans: SpanData[] = [];
  const sink: SpanSink = {
    onEnd: (s) => void spans.push(s),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const tracer = new LightTracer(sink);
  const remote = trace.setSpanContext(context.active(), {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: 1,
    isRemote: true,
    traceState: createTraceState("vendor=x"),
  });
  const server = tracer.startSpan("POST /hooks/:id", {
    kind: SpanKind.SERVER,
    attributes: { "http.status_code": 202, ratio: 0.25, ok: true, tags: ["a", "b"], name: 'é"\n' },
  }, remote);
  server.addEvent("accepted", { items: 3 });
  server.recordException(new Error("late"));
  server.end();
  const local = tracer.startSpan("stage s", {
    links: [{ context: server.spanContext(), attributes: { why: "follows" } }],
  }, trace.setSpan(context.active(), server));
  local.setStatus({ code: SpanStatusCode.ERROR, message: "chunk failed" });
  local.end();
  tracer.startSpan("root", { root: true, kind: SpanKind.CLIENT }).end();
  return spans;
}

Deno.test("the OTLP/JSON request equals what OpenTelemetry's own serializer writes for the same spans", () => {
  const spans = someSpans();
  const resource = { "service.name": "sluice", "sluice.role": "worker" };
  const scope = { name: "sluice" };
  const ours = JSON.parse(JSON.stringify(otlpTraceRequest(spans, resource, scope)));
  const sdkResource = resourceFromAttributes(resource); // one object: the SDK groups by identity
  const theirs = JSON.parse(
    new TextDecoder().decode(
      JsonTraceSerializer.serializeRequest(
        spans.map((s) => toReadableSpan(s, sdkResource, scope)),
      )!,
    ),
  );
  assert.deepEqual(ours, theirs);
  const [server, local, root] = ours.resourceSpans[0].scopeSpans[0].spans;
  assert.equal(server.parentSpanId, "00f067aa0ba902b7");
  assert.equal(server.traceState, "vendor=x");
  assert.equal(server.kind, 2);
  assert.equal(server.flags, 0x301, "sampled, parent's remoteness known and remote");
  assert.equal(local.parentSpanId, server.spanId);
  assert.equal(local.status.code, 2);
  assert.equal(root.parentSpanId, undefined);
});

Deno.test("nanosecond times keep sub-millisecond digits", () => {
  assert.equal(unixNanos(1_796_000_000_000), "1796000000000000000");
  assert.equal(unixNanos(1_796_000_000_000.25), "1796000000000250000");
  assert.equal(unixNanos(1_796_000_000_000.9999999), "1796000000001000000");
  assert.equal(unixNanos(0.5), "500000");
});

/** A loopback collector answering with the statuses given, in turn (then 200). */
function collector(statuses: number[] = []) {
  const requests: { headers: Headers; body: { resourceSpans: unknown[] }; raw: number }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const bytes = new Uint8Array(await req.arrayBuffer());
    const text = req.headers.get("content-encoding") === "gzip"
      ? await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip")))
        .text()
      : new TextDecoder().decode(bytes);
    requests.push({ headers: req.headers, body: JSON.parse(text), raw: bytes.length });
    const status = statuses.shift() ?? 200;
    return new Response("{}", { status, headers: status === 429 ? { "retry-after": "1" } : {} });
  });
  const spansOf = (i: number) =>
    (requests[i].body as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] })
      .resourceSpans[0].scopeSpans[0].spans.map((s) => s.name);
  return { url: `http://127.0.0.1:${server.addr.port}/v1/traces`, requests, spansOf, server };
}

function spanNamed(name: string): SpanData {
  let out: SpanData | undefined;
  new LightTracer({
    onEnd: (s) => void (out = s),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  }).startSpan(name, { root: true }).end();
  return out!;
}

Deno.test("spans go out in batches: full ones at once, the rest after the delay or on flush", async () => {
  const c = collector();
  const sink = new OtlpHttpSpanSink({
    url: c.url,
    resource: { "service.name": "t" },
    scope: { name: "sluice" },
    maxBatch: 3,
    delayMs: 100,
  });
  try {
    for (let i = 0; i < 7; i++) sink.onEnd(spanNamed(`s${i}`));
    await sink.flush();
    assert.deepEqual([0, 1, 2].map(c.spansOf), [["s0", "s1", "s2"], ["s3", "s4", "s5"], ["s6"]]);
    sink.onEnd(spanNamed("late"));
    const t0 = Date.now();
    while (c.requests.length < 4 && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(c.spansOf(3), ["late"], "a partial batch leaves after the delay");
    assert.equal(c.requests[0].headers.get("content-type"), "application/json");
    await sink.close();
    sink.onEnd(spanNamed("after close"));
    await sink.flush();
    assert.equal(c.requests.length, 4);
  } finally {
    await sink.close();
    await c.server.shutdown();
  }
});

Deno.test("a 503 or 429 is retried; a 400 is given up at once and reported, without the headers", async () => {
  const c = collector([503, 429, 200, 400]);
  const errors: string[] = [];
  const waits: number[] = [];
  const sink = new OtlpHttpSpanSink({
    url: c.url,
    resource: {},
    scope: { name: "sluice" },
    headers: { "x-api-key": "k-secret-1" },
    sleep: (ms) => (waits.push(ms), Promise.resolve()),
    onError: (m) => errors.push(m),
  });
  try {
    sink.onEnd(spanNamed("kept"));
    await sink.flush();
    assert.equal(c.requests.length, 3);
    assert.equal(errors.length, 0, "retried, not given up");
    assert.deepEqual(waits, [500, 1000], "backoff, then the 429's Retry-After (1 s)");
    sink.onEnd(spanNamed("refused"));
    await sink.flush();
    assert.equal(c.requests.length, 4, "a 400 is not retried");
    assert.deepEqual(c.spansOf(3), ["refused"]);
    assert.deepEqual(c.spansOf(2), ["kept"]);
    assert.equal(c.requests[3].headers.get("x-api-key"), "k-secret-1");
    assert.equal(errors.length, 1);
    assert.match(
      errors[0],
      /exporting 1 spans to http:\/\/127\.0\.0\.1:\d+\/v1\/traces failed \(HTTP 400\)/,
    );
    assert.ok(!errors[0].includes("k-secret-1"));
  } finally {
    await sink.close();
    await c.server.shutdown();
  }
});

Deno.test("an unreachable collector loses spans after its attempts, and a full queue drops and counts", async () => {
  const errors: string[] = [];
  const down = new OtlpHttpSpanSink({
    url: "http://127.0.0.1:9/v1/traces",
    resource: {},
    scope: { name: "sluice" },
    attempts: 2,
    sleep: () => Promise.resolve(),
    onError: (m) => errors.push(m),
  });
  down.onEnd(spanNamed("x"));
  await down.close();
  assert.equal(errors.length, 1);
  assert.match(errors[0], /exporting 1 spans to .* failed \(.+\); they are lost/);

  const c = collector();
  const reported: string[] = [];
  const full = new OtlpHttpSpanSink({
    url: c.url,
    resource: {},
    scope: { name: "sluice" },
    maxQueue: 4,
    maxBatch: 10,
    delayMs: 60_000,
    onError: (m) => reported.push(m),
  });
  try {
    for (let i = 0; i < 6; i++) full.onEnd(spanNamed(`q${i}`));
    assert.equal(full.dropped, 2);
    await full.flush();
    assert.deepEqual(c.spansOf(0), ["q0", "q1", "q2", "q3"]);
    assert.deepEqual(reported, ["2 spans were dropped so far: more than 4 waited for export"]);
  } finally {
    await full.close();
    await c.server.shutdown();
  }
});

Deno.test("gzip compression and the standard OTEL_* variables", async () => {
  const env = {
    OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20abc, x-team = core",
    OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-team=traces",
    OTEL_EXPORTER_OTLP_TIMEOUT: "2500",
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: "gzip",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    OTEL_BSP_MAX_QUEUE_SIZE: "100",
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "50",
  };
  const opts = otlpEnvOptions(env);
  assert.deepEqual(opts, {
    headers: { authorization: "Bearer abc", "x-team": "traces" },
    timeoutMs: 2500,
    compression: "gzip",
    delayMs: 200,
    maxQueue: 100,
    maxBatch: 50,
  });
  assert.deepEqual(otlpEnvOptions({}), {});
  assert.throws(
    () => otlpEnvOptions({ OTEL_BSP_MAX_QUEUE_SIZE: "lots" }),
    /OTEL_BSP_MAX_QUEUE_SIZE="lots": expected a whole number/,
  );
  assert.throws(
    () => otlpEnvOptions({ OTEL_EXPORTER_OTLP_COMPRESSION: "zstd" }),
    /OTEL_EXPORTER_OTLP_COMPRESSION="zstd": expected gzip or none/,
  );
  assert.throws(
    () => parseOtlpHeaders("api-key", "OTEL_EXPORTER_OTLP_HEADERS"),
    (e: Error) =>
      /OTEL_EXPORTER_OTLP_HEADERS: expected key=value/.test(e.message) &&
      !e.message.includes("api-key"),
  );

  const c = collector();
  const sink = new OtlpHttpSpanSink({
    url: c.url,
    resource: {},
    scope: { name: "sluice" },
    ...opts,
  });
  try {
    for (let i = 0; i < 20; i++) sink.onEnd(spanNamed("same name, repeated"));
    await sink.flush();
    const [req] = c.requests;
    assert.equal(req.headers.get("content-encoding"), "gzip");
    assert.equal(req.headers.get("authorization"), "Bearer abc");
    assert.equal(c.spansOf(0).length, 20);
    assert.ok(req.raw < JSON.stringify(req.body).length / 3, `gzip body ${req.raw} bytes`);
  } finally {
    await sink.close();
    await c.server.shutdown();
  }
});

Deno.test("a collector behind TLS with its own CA: OTEL_EXPORTER_OTLP_CERTIFICATE makes it trusted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "otlp-tls-" });
  const tls = await selfSignedCert(dir);
  const names: string[][] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, ...tls },
    async (req) => {
      const body = await req.json();
      names.push(body.resourceSpans[0].scopeSpans[0].spans.map((s: { name: string }) => s.name));
      return Response.json({});
    },
  );
  const url = `https://127.0.0.1:${server.addr.port}/v1/traces`;
  const base = { url, resource: {}, scope: { name: "sluice" }, attempts: 1 };
  try {
    const errors: string[] = [];
    const untrusted = new OtlpHttpSpanSink({ ...base, onError: (m) => errors.push(m) });
    untrusted.onEnd(spanNamed("refused"));
    await untrusted.close();
    assert.equal(names.length, 0);
    assert.match(
      errors[0] ?? "",
      /exporting 1 spans to https:.* failed \(.*(certificate|UnknownIssuer).*\)/i,
    );

    const opts = otlpEnvOptions({ OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: join(dir, "cert.pem") });
    assert.deepEqual(opts.tls, { caCerts: [tls.cert] });
    const trusted = new OtlpHttpSpanSink({ ...base, ...opts });
    trusted.onEnd(spanNamed("over tls"));
    await trusted.close();
    assert.deepEqual(names, [["over tls"]]);

    const mtls = otlpEnvOptions({
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: join(dir, "cert.pem"),
      OTEL_EXPORTER_OTLP_CLIENT_KEY: join(dir, "key.pem"),
    });
    assert.deepEqual(mtls.tls, { cert: tls.cert, key: tls.key });
    assert.throws(
      () => otlpEnvOptions({ OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: join(dir, "cert.pem") }),
      /OTEL_EXPORTER_OTLP_CLIENT_KEY is not set: a client certificate and its key go together/,
    );
    assert.throws(
      () => otlpEnvOptions({ OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, "absent.pem") }),
      /OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read .*absent\.pem/,
    );
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("numbers go out as a collector reads them: NaN and Infinity as strings, huge integers as doubles", () => {
  const span = spanNamed("numbers");
  Object.assign(span.attributes, {
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    big: 1e21,
    unsafe: 2 ** 53 + 2,
    n: 42,
    list: [NaN, 1.5],
  });
  const json = JSON.stringify(otlpTraceRequest([span], {}, { name: "sluice" }));
  assert.ok(!json.includes("null") && !/"intValue":[^,}]*e/.test(json), json);
  const values = Object.fromEntries(
    JSON.parse(json).resourceSpans[0].scopeSpans[0].spans[0].attributes.map((
      a: { key: string; value: unknown },
    ) => [a.key, a.value]),
  );
  assert.deepEqual(values, {
    nan: { doubleValue: "NaN" },
    inf: { doubleValue: "Infinity" },
    ninf: { doubleValue: "-Infinity" },
    big: { doubleValue: 1e21 },
    unsafe: { doubleValue: 2 ** 53 + 2 },
    n: { intValue: 42 },
    list: { arrayValue: { values: [{ doubleValue: "NaN" }, { doubleValue: 1.5 }] } },
  });
});

Deno.test("a collector that hangs: the timeout bounds the whole export, retries included", async () => {
  let release!: () => void;
  const hung = new Promise<void>((r) => (release = r));
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    requests++;
    await hung;
    return new Response("{}");
  });
  const errors: string[] = [];
  const sink = new OtlpHttpSpanSink({
    url: `http://127.0.0.1:${server.addr.port}/v1/traces`,
    resource: {},
    scope: { name: "sluice" },
    timeoutMs: 300,
    onError: (m) => errors.push(m),
  });
  try {
    sink.onEnd(spanNamed("stuck"));
    const t0 = performance.now();
    await sink.close();
    const took = performance.now() - t0;
    assert.ok(took < 3000, `close took ${Math.round(took)} ms (4 attempts of 300 ms + backoff)`);
    assert.equal(requests, 1);
    assert.match(errors[0] ?? "", /exporting 1 spans to .* failed \(.*timeout.*\); they are lost/);
  } finally {
    release();
    await server.shutdown();
  }
});

Deno.test("an empty OTEL_EXPORTER_OTLP_TRACES_* variable counts as unset: the general one applies", () => {
  assert.deepEqual(
    otlpEnvOptions({
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "",
      OTEL_EXPORTER_OTLP_TIMEOUT: "5000",
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: " ",
      OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
    }),
    { timeoutMs: 5000, compression: "gzip" },
  );
  assert.throws(
    () =>
      otlpEnvOptions({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "", OTEL_EXPORTER_OTLP_TIMEOUT: "soon" }),
    /^Error: OTEL_EXPORTER_OTLP_TIMEOUT="soon"/,
  );
});

Deno.test("a header HTTP cannot carry fails at startup, without quoting the secret", () => {
  for (
    const text of [
      "x-api-key=k-sec%0Aret-1", // a line break, percent-encoded
      "Authorization: Bearer k-sec=ret-1", // `:` instead of `=`
    ]
  ) {
    assert.throws(
      () => parseOtlpHeaders(text, "OTEL_EXPORTER_OTLP_HEADERS"),
      (e: Error) =>
        /^OTEL_EXPORTER_OTLP_HEADERS: .*not (a )?valid/.test(e.message) &&
        !e.message.includes("k-sec") && !e.message.includes("ret-1"),
      text,
    );
  }
  assert.deepEqual(parseOtlpHeaders("x-api-key=k%3Dv%2C w", "V"), { "x-api-key": "k=v, w" });
});

Deno.test("dropped spans are reported once per new count, not again every minute", async () => {
  const c = collector();
  const reported: string[] = [];
  let now = 1_000_000;
  const sink = new OtlpHttpSpanSink({
    url: c.url,
    resource: {},
    scope: { name: "sluice" },
    maxQueue: 2,
    delayMs: 60_000,
    now: () => now,
    onError: (m) => reported.push(m),
  });
  try {
    const burst = async (n: number) => {
      for (let i = 0; i < n; i++) sink.onEnd(spanNamed(`b${i}`));
      await sink.flush();
      now += 61_000;
    };
    await burst(4);
    await burst(1);
    await burst(2);
    await burst(3);
    assert.deepEqual(reported, [
      "2 spans were dropped so far: more than 2 waited for export",
      "3 spans were dropped so far: more than 2 waited for export",
    ]);
  } finally {
    await sink.close();
    await c.server.shutdown();
  }
});

Deno.test("a collector's partial success (some spans rejected) is reported with its reason", async () => {
  let answer = { partialSuccess: { rejectedSpans: "2", errorMessage: "span name too long" } };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    await req.body?.cancel();
    return Response.json(answer);
  });
  const errors: string[] = [];
  let now = 0;
  const sink = new OtlpHttpSpanSink({
    url: `http://127.0.0.1:${server.addr.port}/v1/traces`,
    resource: {},
    scope: { name: "sluice" },
    onError: (m) => errors.push(m),
    now: () => now,
  });
  try {
    for (const n of ["a", "b", "c"]) sink.onEnd(spanNamed(n));
    await sink.flush();
    assert.deepEqual(errors.map((e) => e.replace(/:\d+\//, ":PORT/")), [
      "the collector at http://127.0.0.1:PORT/v1/traces rejected 2 of 3 spans: span name too long",
    ]);
    answer = { partialSuccess: { rejectedSpans: "0", errorMessage: "" } };
    now += 120_000;
    sink.onEnd(spanNamed("d"));
    await sink.flush();
    assert.equal(errors.length, 1, "an empty partialSuccess means all taken");
  } finally {
    await sink.close();
    await server.shutdown();
  }
});

Deno.test("flush waits for the spans waiting when it was called, not for those that keep coming", async () => {
  const c = collector();
  const sink = new OtlpHttpSpanSink({
    url: c.url,
    resource: {},
    scope: { name: "sluice" },
    maxBatch: 2,
  });
  let producing = true;
  let n = 0;
  const producer = (async () => {
    while (producing) {
      // Faster than batches of 2 can leave: the queue never empties.
      for (let i = 0; i < 20; i++) sink.onEnd(spanNamed(`late${n++}`));
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  try {
    for (const name of ["a", "b", "c"]) sink.onEnd(spanNamed(name));
    const flushed = await Promise.race([
      sink.flush().then(() => true),
      new Promise((r) => setTimeout(() => r(false), 5000)),
    ]);
    assert.equal(flushed, true, "flush returned under steady load");
    const sent = c.requests.flatMap((_, i) => c.spansOf(i));
    assert.ok(["a", "b", "c"].every((x) => sent.includes(x)), `sent: ${sent.join(", ")}`);
  } finally {
    producing = false;
    await producer;
    await sink.close();
    await c.server.shutdown();
  }
});
