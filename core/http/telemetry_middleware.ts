/**
 * HTTP telemetry: a server span per request (continuing an incoming W3C `traceparent`), request
 * counts and latency by route, and the `GET /metrics` handler (Prometheus text format).
 * @module
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { Handler, MiddlewareHandler } from "hono";
import { PROMETHEUS_CONTENT_TYPE } from "../telemetry/metrics.ts";
import type { SluiceMetrics } from "../telemetry/sluice_metrics.ts";
import { parseTraceparent } from "../telemetry/tracing.ts";
import type { AppEnv } from "./app_env.ts";

/** Options of {@linkcode httpTelemetry}. */
export interface HttpTelemetryOptions {
  tracer?: Tracer;
  metrics?: SluiceMetrics;
}

/** Paths whose requests get no span (probes and scrapes would drown the traces). */
const QUIET = new Set(["/healthz", "/readyz", "/metrics"]);

/** The request methods that get their own metric series; any other is {@linkcode OTHER_METHOD}. */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
]);

/** The method label of every request whose method is not in {@linkcode KNOWN_METHODS}. */
export const OTHER_METHOD = "OTHER";

/**
 * The method as a metric label and span name part: one of {@linkcode KNOWN_METHODS}, else
 * {@linkcode OTHER_METHOD}, so a client inventing methods (`curl -X ZZTOP1`) cannot create series.
 */
export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : OTHER_METHOD;
}

/** Server spans and request metrics. Mount it first. */
export function httpTelemetry(opts: HttpTelemetryOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = c.req.path;
    const method = methodLabel(c.req.method);
    const t0 = performance.now();
    const tracer = QUIET.has(path) ? undefined : opts.tracer;
    const remote = parseTraceparent(c.req.header("traceparent"));
    const parent = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : context.active();
    const span = tracer?.startSpan(`${method} ${path}`, {
      kind: SpanKind.SERVER,
      attributes: {
        // OpenTelemetry's convention: unknown methods as `_OTHER`, the original beside it.
        "http.request.method": method === OTHER_METHOD ? "_OTHER" : method,
        ...(method === OTHER_METHOD ? { "http.request.method_original": c.req.method } : {}),
        "url.path": path,
      },
    }, parent);
    try {
      if (span) await context.with(trace.setSpan(parent, span), next);
      else await next();
    } finally {
      // A route pattern as registered (`/api/v1/runs/:id`), never the request's path: the label
      // set is bounded by the route table; unknown paths all count as `unmatched`.
      const route = c.req.routePath && c.req.routePath !== "*" && c.res.status !== 404
        ? c.req.routePath
        : "unmatched";
      const status = c.res.status;
      if (span) {
        span.updateName(`${method} ${route}`);
        span.setAttribute("http.route", route);
        span.setAttribute("http.response.status_code", status);
        const id = c.get("requestId");
        if (id) span.setAttribute("sluice.request_id", id);
        const client = c.get("clientIp");
        if (client) span.setAttribute("client.address", client);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      opts.metrics?.httpRequests.inc({ method, route, status });
      opts.metrics?.httpDuration.observe(
        { method, route },
        (performance.now() - t0) / 1000,
      );
    }
  };
}

/** `GET /metrics`: the registry in the Prometheus text exposition format. */
export function metricsHandler(metrics: SluiceMetrics): Handler<AppEnv> {
  return async (c) =>
    c.body(await metrics.registry.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
}

/** Counts a webhook delivery by its answer (unknown pipelines and hooks share one series). */
export function countWebhook(
  metrics: SluiceMetrics | undefined,
  pipeline: string,
  hook: string,
  status: number,
): void {
  const known = status !== 404;
  metrics?.webhooks.inc({
    pipeline: known ? pipeline : "(unknown)",
    hook: known ? hook : "(unknown)",
    result: status < 300 ? "accepted" : "rejected",
    status,
  });
}
