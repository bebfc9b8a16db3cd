import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace";
import { parse as parseYaml } from "yaml";
import { verifySignature } from "../../sdk/api/signature.ts";
import { Engine } from "../engine/engine.ts";
import { prepareRun } from "../engine/prepare.ts";
import { FAST, runOutput } from "../engine/test_helpers.ts";
import { join } from "../paths.ts";
import { Pipeline } from "../pipeline/model.ts";
import { openRegistry } from "../plugins/registry.ts";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import { createLogger } from "./log.ts";
import { createTelemetry } from "./setup.ts";
import { runTraceIds } from "./tracing.ts";

const SECRETS: Record<string, string> = {
  // Quotes and backslashes: JSON escapes them, and masking must find the escaped form too
  // (`7Hq2` is looked for alone as well: no escaping of the key may show).
  API_KEY: 'sk-live-"7Hq2\\Zx9Kp4',
  SOURCE_TOKEN: "src-tok-Ww81Lm3n",
  ALERT_SECRET: "whsec-Yy55Rr77",
};

interface Alert {
  headers: Headers;
  body: string;
}

/** A real engine with the real sandbox, KV store, telemetry and a loopback alert receiver. */
async function harness() {
  const dir = await Deno.makeTempDir({ prefix: "sluice-telemetry-" });
  const backend = await openKvBackend(join(dir, "sluice.kv"));
  const registry = await openRegistry({
    builtinDir: fileURLToPath(new URL("./testdata", import.meta.url)),
    installDir: join(dir, "plugins"),
    lockPath: join(dir, "plugins.lock"),
  });
  const lines: string[] = [];
  const secretValues = new Set<string>();
  const log = createLogger({
    level: "debug",
    format: "json",
    write: (l) => lines.push(l),
    secrets: () => secretValues,
  });
  const alerts: Alert[] = [];
  let alertUrl = "";
  const receiver = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => alertUrl = `http://127.0.0.1:${port}/alert`,
  }, async (req) => {
    alerts.push({ headers: req.headers, body: await req.text() });
    return new Response("ok");
  });
  const exporter = new InMemorySpanExporter();
  const secrets = (n: string) => SECRETS[n];
  const telemetry = createTelemetry({
    exporter,
    log,
    secrets,
    secretValues,
    env: {},
    sleep: () => Promise.resolve(),
  });
  telemetry.watchStore(backend.store);
  const executor = new SandboxExecutor({
    ...telemetry.sandbox,
    log: (e) =>
      log[e.level](e.msg, { run: e.runId, stage: e.stageId, chunk: e.chunk, source: e.source }),
  });
  const engine = new Engine({
    backend,
    executor,
    dataDir: dir,
    secrets,
    secretValues,
    log,
    telemetry: telemetry.engine,
  });
  await engine.start();
  const start = (yaml: string) => {
    const pipeline = Pipeline.parse(parseYaml(yaml));
    const run = prepareRun({
      pipeline,
      yaml,
      file: "obs.yaml",
      registry,
      inputs: {},
      trigger: { kind: "cli" },
      defaults: FAST,
    });
    return engine.createRun(run);
  };
  return {
    backend,
    engine,
    telemetry,
    exporter,
    lines,
    alerts,
    alertUrl: () => alertUrl,
    start,
    async dispose() {
      await engine.close();
      await executor.close();
      await telemetry.close();
      backend.close();
      await receiver.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function pipelineYaml(alertUrl: string, fail: boolean): string {
  return `
name: obs
onFailure: { webhook: "${alertUrl}", secret: "\${{ secrets.ALERT_SECRET }}" }
source:
  plugin: secret-source
  chunk: 5
  with: { count: 12, token: "\${{ secrets.SOURCE_TOKEN }}" }
stages:
  - id: leak
    plugin: leaky
    retry: { attempts: ${fail ? 1 : 3} }
    onError: fail
    with:
      apiKey: "\${{ secrets.API_KEY }}"
      url: "https://api.example/v1?key=\${{ secrets.API_KEY }}"
      fail: ${fail}
`;
}

function assertNoSecrets(texts: string[], what: string) {
  for (const [i, text] of texts.entries()) {
    for (const [name, value] of Object.entries(SECRETS)) {
      const escaped = JSON.stringify(value).slice(1, -1);
      for (const form of [value, escaped, JSON.stringify(escaped).slice(1, -1), "7Hq2"]) {
        assert.ok(!text.includes(form), `${what} #${i} leaks secret ${name}: ${text}`);
      }
    }
  }
}

function spanTexts(spans: ReadableSpan[]): string[] {
  return spans.map((s) =>
    JSON.stringify({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })
  );
}

Deno.test("a run is one trace: run span, chunk spans, plugin-call spans and ctx.trace in the sandbox; metrics count it; no secret reaches logs or spans", async () => {
  const h = await harness();
  try {
    const run = await h.start(pipelineYaml(h.alertUrl(), false));
    const done = await h.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    const ids = runTraceIds(run.id);
    // The chunk that settled the run ends its span just after waitForRun resolves.
    for (let i = 0; i < 200 && h.exporter.getFinishedSpans().length < 15; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }

    const spans = h.exporter.getFinishedSpans();
    assert.ok(spans.every((s) => s.spanContext().traceId === ids.traceId), "one trace per run");
    const root = spans.find((s) => s.name === "run obs");
    assert.ok(root, "the run's root span was written");
    assert.equal(root.spanContext().spanId, ids.spanId);
    assert.equal(root.attributes["sluice.run.state"], "succeeded");
    const chunkSpans = spans.filter((s) => s.name.startsWith("stage "));
    assert.equal(chunkSpans.filter((s) => s.name === "stage source").length, 3);
    const leak = chunkSpans.filter((s) => s.name === "stage leak");
    assert.equal(leak.length, 3);
    for (const s of chunkSpans) assert.equal(s.parentSpanContext?.spanId, ids.spanId);
    assert.equal(leak.reduce((n, s) => n + Number(s.attributes["sluice.items.out"]), 0), 12);
    assert.equal(leak[0].attributes["sluice.plugin"], "leaky");
    const calls = spans.filter((s) => s.name === "plugin process");
    assert.equal(calls.length, 3);
    const chunkIds = new Set(leak.map((s) => s.spanContext().spanId));
    for (const c of calls) assert.ok(chunkIds.has(c.parentSpanContext?.spanId ?? ""));

    // The plugin saw the plugin-call span's context as ctx.trace.
    const out = await runOutput(h.backend, run);
    const callIds = new Set(calls.map((s) => s.spanContext().spanId));
    for (const item of out) {
      const t = item.trace as { traceId: string; spanId: string; traceparent: string };
      assert.equal(t.traceId, ids.traceId);
      assert.ok(callIds.has(t.spanId), "ctx.trace names the plugin-call span");
      assert.equal(t.traceparent, `00-${t.traceId}-${t.spanId}-01`);
    }

    const text = await h.telemetry.metrics.registry.render();
    const has = (line: string) => assert.ok(text.includes(line), `metrics lack: ${line}`);
    has('sluice_runs_created_total{pipeline="obs",trigger="cli"} 1');
    has('sluice_runs_finished_total{pipeline="obs",state="succeeded"} 1');
    has('sluice_items_total{pipeline="obs",stage="leak",plugin="leaky",outcome="out"} 12');
    has(
      'sluice_items_total{pipeline="obs",stage="source",plugin="secret-source",outcome="out"} 12',
    );
    has('sluice_chunks_total{pipeline="obs",stage="leak",plugin="leaky",outcome="done"} 3');
    has(
      'sluice_chunk_duration_seconds_count{pipeline="obs",stage="leak",plugin="leaky",outcome="done"} 3',
    );
    has('sluice_plugin_events_total{plugin="leaky",stage="leak",name="rate_limit_wait_ms"} 15');
    has('sluice_plugin_gauge{plugin="leaky",stage="leak",name="circuit_open"} 0');
    assert.match(text, /sluice_sandbox_starts_total\{plugin="leaky"\} [12]\n/);
    // Kept warm for the next run of the plugin (closed after the sandbox's idle time).
    assert.match(text, /sluice_sandbox_instances\{plugin="leaky",stage="leak"\} [12]\n/);
    has('sluice_runs{state="running"} 0');
    has("sluice_queue_oldest_age_seconds 0");

    const pluginLines = h.lines.filter((l) => l.includes('"stage":"leak"'));
    assert.ok(pluginLines.some((l) => l.includes("secrets:")), "the plugin's logs were kept");
    assert.ok(h.lines.some((l) => l.includes("source config")));
    for (const l of h.lines) JSON.parse(l); // one JSON object per line
    assertNoSecrets(h.lines, "log line");
    assertNoSecrets(spanTexts(spans), "span");
    assert.equal(h.alerts.length, 0, "no alert for a run that succeeded");
  } finally {
    await h.dispose();
  }
});

Deno.test("a failed run sends its signed onFailure alert, marks its spans as errors and leaks no secret", async () => {
  const h = await harness();
  try {
    const run = await h.start(pipelineYaml(h.alertUrl(), true));
    const done = await h.engine.waitForRun(run.id);
    assert.equal(done.state, "failed");
    await h.telemetry.engine.close(); // alerts in flight
    for (
      let i = 0;
      i < 200 && !h.exporter.getFinishedSpans().some((s) => s.name === "run obs");
      i++
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(h.alerts.length, 1);
    const alert = h.alerts[0];
    const signature = alert.headers.get("x-sluice-signature");
    assert.match(signature ?? "", /^t=\d+,sha256=[0-9a-f]{64}$/);
    assert.ok(await verifySignature(SECRETS.ALERT_SECRET, signature, alert.body));
    assert.equal(await verifySignature("wrong-secret", signature, alert.body), false);
    const body = JSON.parse(alert.body);
    assert.equal(body.event, "run.failed");
    assert.equal(body.pipeline, "obs");
    assert.equal(body.run.id, run.id);
    assert.match(body.run.error, /stage leak chunk \d failed after 1 attempt/);
    assertNoSecrets([alert.body], "alert");

    const spans = h.exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === "run obs");
    assert.equal(root?.status.code, 2, "the run span is an error");
    const failedChunk = spans.find((s) =>
      s.name === "stage leak" && s.attributes["sluice.chunk.outcome"] === "dead"
    );
    assert.ok(failedChunk, "the dead chunk's span says so");
    assert.equal(failedChunk.status.code, 2);
    const call = spans.find((s) => s.name === "plugin process" && s.status.code === 2);
    assert.match(call?.status.message ?? "", /upstream refused key \[secret\]/);

    const text = await h.telemetry.metrics.registry.render();
    assert.ok(text.includes('sluice_runs_finished_total{pipeline="obs",state="failed"} 1'));
    assert.ok(text.includes('sluice_alerts_total{pipeline="obs",result="sent"} 1'));
    assert.match(text, /sluice_chunks_total\{[^}]*stage="leak"[^}]*outcome="dead"\} [12]\n/);

    assert.ok(h.lines.some((l) => l.includes('"msg":"run failed"')));
    assert.ok(h.lines.some((l) => l.includes("onFailure alert sent")));
    assertNoSecrets(h.lines, "log line");
    const failedLines = h.lines.filter((l) => l.includes("upstream refused key"));
    assert.ok(failedLines.length > 0, "the failure was logged");
    for (const l of failedLines) JSON.parse(l); // still one JSON object per line
    assert.ok(failedLines.some((l) => l.includes('{\\"request\\":{\\"key\\":\\"********\\"}}')));

    // The run's own log (the UI shows it) masks the key inside the JSON of the message too.
    await h.engine.close(); // flushes the run log lines
    const runLog = (await h.backend.store.readRunLog?.(run.id, 1000)) ?? [];
    const failures = runLog.filter((l) => l.msg.includes("upstream refused key"));
    assert.ok(failures.length > 0, `the failure is in the run log: ${JSON.stringify(runLog)}`);
    assert.ok(failures.every((l) => l.msg.includes('{"request":{"key":"********"}}')));
    assertNoSecrets(runLog.map((l) => l.msg), "run log line");
    assertNoSecrets(spanTexts(spans), "span");
  } finally {
    await h.dispose();
  }
});
