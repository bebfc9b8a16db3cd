import assert from "node:assert/strict";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { join, ROOT } from "../paths.ts";
import { runBacklog } from "./backlog.ts";
import { EngineTelemetry } from "./engine_telemetry.ts";
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

Deno.test("with Deno's built-in OpenTelemetry a run's span and its chunk spans share the run's trace", async () => {
  const bodies: unknown[] = [];
  const sink = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (new URL(req.url).pathname === "/v1/traces") bodies.push(await req.json());
    else await req.body?.cancel();
    return Response.json({});
  });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./testdata/deno_otel_run.ts", import.meta.url).pathname,
        "r-deno",
      ],
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.addr.port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    type OtlpSpan = { name: string; traceId: string; spanId: string; parentSpanId?: string };
    const spans = (bodies as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }[])
      .flatMap((b) => b.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)));
    const ids = runTraceIds("r-deno");
    const run = spans.find((s) => s.name === "run p");
    const chunk = spans.find((s) => s.name === "stage s");
    assert.ok(run && chunk, `spans received: ${spans.map((s) => s.name).join(", ")}`);
    assert.equal(chunk.traceId, ids.traceId);
    assert.equal(chunk.parentSpanId, ids.spanId);
    // Deno chooses the run span's own id; it joins the run's trace under the same parent.
    assert.equal(run.traceId, ids.traceId);
    assert.equal(run.parentSpanId, ids.spanId);
  } finally {
    await sink.shutdown();
  }
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

Deno.test("sluice run exports its run, chunk and plugin spans over OTLP/HTTP with the OTEL_* headers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-otlp-" });
  const requests: { auth: string | null; body: OtlpBody }[] = [];
  const collector = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (new URL(req.url).pathname !== "/v1/traces") return new Response("", { status: 404 });
    requests.push({ auth: req.headers.get("authorization"), body: await req.json() });
    return Response.json({});
  });
  try {
    await Deno.writeTextFile(
      join(dir, "p.yaml"),
      "name: traced\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n  - { id: tag, plugin: set-fields, with: { set: { x: 1 } } }\n",
    );
    await Deno.writeTextFile(join(dir, "in.jsonl"), '{"id":"a"}\n{"id":"b"}\n');
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(ROOT, "core/cli.ts"),
        "run",
        "p.yaml",
        "--input",
        "in.jsonl",
        "--run-id",
        "otlp-1",
      ],
      env: {
        SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
        SLUICE_DATA_DIR: join(dir, "data"),
        SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
        SLUICE_LOG_LEVEL: "warn",
        SLUICE_TELEMETRY_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}/`,
        OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20t0k",
      },
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.ok(requests.length > 0, "the collector got no request");
    assert.ok(requests.every((r) => r.auth === "Bearer t0k"));
    const resource = requests[0].body.resourceSpans[0].resource.attributes;
    assert.deepEqual(resource.find((a) => a.key === "service.name")?.value, {
      stringValue: "sluice",
    });
    const spans = requests.flatMap((r) =>
      r.body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans))
    );
    const ids = runTraceIds("otlp-1");
    const run = spans.find((s) => s.name === "run traced");
    const chunks = spans.filter((s) => s.name === "stage tag");
    const calls = spans.filter((s) => s.name.startsWith("plugin "));
    assert.ok(run, `spans: ${spans.map((s) => s.name).join(", ")}`);
    assert.deepEqual([run.traceId, run.spanId, run.parentSpanId], [
      ids.traceId,
      ids.spanId,
      undefined,
    ]);
    assert.ok(
      chunks.length >= 1 && calls.length >= 1,
      `spans: ${spans.map((s) => s.name).join(", ")}`,
    );
    for (const c of chunks) {
      assert.equal(c.traceId, ids.traceId);
      assert.equal(c.parentSpanId, ids.spanId);
      const attr = Object.fromEntries(c.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
      assert.equal(attr["sluice.run.id"], "otlp-1");
      assert.equal(attr["sluice.stage.id"], "tag");
    }
    const chunkIds = new Set(chunks.map((c) => c.spanId));
    assert.ok(calls.some((c) => chunkIds.has(c.parentSpanId ?? "")), "a plugin call under a chunk");
    assert.ok(spans.every((s) => /^\d{19}$/.test(s.startTimeUnixNano)));
  } finally {
    await collector.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: unknown }[] };
    scopeSpans: {
      spans: {
        name: string;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        startTimeUnixNano: string;
        attributes: { key: string; value: Record<string, unknown> }[];
      }[];
    }[];
  }[];
}

Deno.test("a run created before this process started gets its run span at its own times", async () => {
  const exporter = new InMemorySpanExporter();
  const t = setupTracing({ exporter, env: {} });
  const hooks = new EngineTelemetry({ tracer: t.tracer, withRunIds: t.withRunIds });
  // Epoch ms below the process's time origin: as a bare number the API reads it as performance.now().
  const createdAt = Math.floor(performance.timeOrigin) - 86_400_000;
  hooks.runSettled({
    id: "r-old",
    pipeline: "p",
    pipelineYaml: "name: p\n",
    state: "succeeded",
    createdAt,
    finishedAt: createdAt + 5_000,
    stages: [],
  });
  await t.flush();
  const [run] = exporter.getFinishedSpans();
  await t.close();
  assert.deepEqual(run.startTime, [Math.floor(createdAt / 1000), (createdAt % 1000) * 1e6]);
  assert.deepEqual(run.duration, [5, 0]);
});
