import assert from "node:assert/strict";
import { SpanKind } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace";
import { SluiceMetrics } from "../telemetry/sluice_metrics.ts";
import { setupTracing } from "../telemetry/tracing.ts";
import { API_BASE } from "./app.ts";
import { testServer } from "./test_support.ts";

const PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN = "00f067aa0ba902b7";

Deno.test("requests get server spans continuing traceparent, logs carry the trace id, /metrics counts them", async () => {
  const exporter = new InMemorySpanExporter();
  const tracing = setupTracing({ exporter, env: {} });
  const metrics = new SluiceMetrics();
  const s = await testServer({
    deps: {
      metrics,
      tracer: tracing.tracer,
      hooks: { handle: () => Promise.resolve(new Response("bad signature", { status: 401 })) },
    },
  });
  try {
    const res = await s.call(`${API_BASE}/runs`, {
      as: "viewer",
      headers: { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const missing = await s.call("/no/such/thing");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const hook = await s.call("/hooks/leads/crm", { method: "POST", body: "{}" });
    assert.equal(hook.status, 401);
    await hook.body?.cancel();
    const health = await s.call("/healthz");
    await health.body?.cancel();

    const spans = exporter.getFinishedSpans();
    const api = spans.find((x) => x.name === `GET ${API_BASE}/runs`);
    assert.ok(api, `spans: ${spans.map((x) => x.name).join(", ")}`);
    assert.equal(api.kind, SpanKind.SERVER);
    assert.equal(api.spanContext().traceId, PARENT_TRACE);
    assert.equal(api.parentSpanContext?.spanId, PARENT_SPAN);
    assert.equal(api.attributes["http.response.status_code"], 200);
    assert.equal(api.attributes["http.route"], `${API_BASE}/runs`);
    assert.ok(!spans.some((x) => x.name.includes("healthz")), "probes make no spans");

    const line = s.logs.map((l) => JSON.parse(l)).find((l) =>
      l.msg === "request" && l.path === `${API_BASE}/runs`
    );
    assert.equal(line?.traceId, PARENT_TRACE, "the access log carries the trace id");

    const scrape = await s.call("/metrics");
    assert.equal(scrape.status, 200);
    assert.match(scrape.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await scrape.text();
    assert.ok(
      text.includes(
        `sluice_http_requests_total{method="GET",route="${API_BASE}/runs",status="200"} 1`,
      ),
    );
    assert.ok(
      text.includes('sluice_http_requests_total{method="GET",route="unmatched",status="404"} 1'),
    );
    assert.ok(
      text.includes(
        'sluice_webhooks_total{pipeline="leads",hook="crm",result="rejected",status="401"} 1',
      ),
    );
  } finally {
    await s.dispose();
    await tracing.close();
  }
});

Deno.test("invented methods and unknown paths share a few metric series (real HTTP on loopback)", async () => {
  const metrics = new SluiceMetrics();
  const s = await testServer({ deps: { metrics } });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req, info) => s.app.fetch(req, info),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  try {
    // The request series (label sets with their counts), leaving out the scrapes themselves.
    const series = async () =>
      (await (await fetch(`${url}/metrics`)).text()).split("\n")
        .filter((l) => l.startsWith("sluice_http_requests_total{") && !l.includes("/metrics"));
    const labels = (lines: string[]) => lines.map((l) => l.slice(0, l.lastIndexOf(" ")));
    for (let i = 1; i <= 20; i++) {
      for (
        const [method, path] of [
          [`ZZTOP${i}`, "/healthz"],
          [`ZZTOP${i}`, `/api/v1/runs`],
          ["GET", `/no/such/path-${i}`],
          ["GET", `/api/v1/no-such-${i}`],
          [`ZZTOP${i}`, `/random-${i}`],
        ]
      ) {
        const res = await fetch(`${url}${path}`, { method });
        await res.body?.cancel();
      }
    }
    const after = await series();
    const text = after.join("\n");
    assert.doesNotMatch(text, /ZZTOP|path-\d|no-such-|random-/, text);
    const methods = new Set(after.map((l) => /method="([^"]*)"/.exec(l)![1]));
    assert.deepEqual([...methods].sort(), ["GET", "OTHER"]);
    assert.ok(after.length <= 4, `a handful of series, got ${after.length}:\n${text}`);
    const other = after.filter((l) => l.includes('method="OTHER"'))
      .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);
    assert.equal(other, 60, "every invented method is counted, as OTHER");

    // A second round of new names adds no series.
    for (let i = 21; i <= 30; i++) {
      await (await fetch(`${url}/gone-${i}`, { method: `ZZTOP${i}` })).body?.cancel();
      await (await fetch(`${url}/gone-${i}`)).body?.cancel();
    }
    assert.deepEqual(labels(await series()), labels(after));
  } finally {
    await server.shutdown();
    await s.dispose();
  }
});
