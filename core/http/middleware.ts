/**
 * Cross-cutting middleware: correlation ids and access logs, security headers, per-address
 * rate limits and body size limits.
 * @module
 */
import { trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "../telemetry/log.ts";
import type { AppEnv } from "./app_env.ts";
import { HttpProblem } from "./problem.ts";
import type { KeyedRateLimiter } from "./rate_limit.ts";
import { UNKNOWN_CLIENT } from "./client_address.ts";

const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Assigns `X-Request-Id` (kept from the client when well-formed) and logs every request, with
 * the client's address (`clientIp`, set by {@link clientAddressOf} before it).
 */
export function requestLog(log: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header("x-request-id");
    const id = given && ID_RE.test(given) ? given : crypto.randomUUID();
    c.set("requestId", id);
    const sc = trace.getActiveSpan()?.spanContext(); // set by httpTelemetry
    const traceId = sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
    c.set("log", log.child(traceId ? { requestId: id, traceId } : { requestId: id }));
    const t0 = performance.now();
    await next();
    c.res.headers.set("x-request-id", id);
    const path = c.req.path;
    if (path === "/healthz" || path === "/readyz" || path === "/metrics") return;
    c.get("log").info("request", {
      method: c.req.method,
      path,
      client: c.get("clientIp"),
      status: c.res.status,
      ms: Math.round((performance.now() - t0) * 10) / 10,
    });
  };
}

/** The Content-Security-Policy every answer carries (pages are self-contained). */
export const CSP = "default-src 'self'; script-src 'self'; " +
  "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * CSP, frame-ancestors/X-Frame-Options, Referrer-Policy, nosniff and friends; and
 * `Cache-Control: no-store` on every answer that does not set its own caching (static assets
 * do), so no page or API answer of a logged-in user stays in the browser's cache, where Back
 * would show it again after logging out.
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set("content-security-policy", CSP);
    h.set("x-frame-options", "DENY");
    h.set("referrer-policy", "no-referrer");
    h.set("x-content-type-options", "nosniff");
    h.set("cross-origin-opener-policy", "same-origin");
    h.set("permissions-policy", "camera=(), microphone=(), geolocation=()");
    if (!h.has("cache-control")) h.set("cache-control", "no-store");
    if (c.req.url.startsWith("https:")) {
      h.set("strict-transport-security", "max-age=31536000");
    }
  };
}

/**
 * Finds the client's address once per request (`ipOf`, e.g. `clientAddressResolver` over
 * `server.trustedProxies`) and sets it as the `clientIp` context variable, which the rate limit
 * and the access log use. Mount it before them.
 */
export function clientAddressOf(
  ipOf: (req: Request, env: unknown) => string,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("clientIp", ipOf(c.req.raw, c.env));
    await next();
  };
}

/** 429 with Retry-After when a client address (the `clientIp` variable) exceeds its rate. */
export function ipRateLimit(limiter: KeyedRateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const ip = c.get("clientIp") ?? UNKNOWN_CLIENT;
    const wait = limiter.take(ip);
    if (wait) {
      throw new HttpProblem(429, `too many requests from ${ip}; retry in ${wait} s`, {
        headers: { "retry-after": String(wait) },
      });
    }
    await next();
  };
}

/** True for bodies that upload run input (CSV or JSON lines), which have their own limit. */
export function isUpload(contentType: string | undefined): boolean {
  const t = (contentType ?? "").split(";")[0].trim().toLowerCase();
  return t === "text/csv" || t === "application/x-ndjson" || t === "application/jsonl" ||
    t === "application/octet-stream";
}

/**
 * True for a multipart form that uploads a file: one posted to start a run
 * (`POST /api/v1/pipelines/{name}/runs`) or one that replaces a pipeline's source file
 * (`PUT /api/v1/pipelines/{name}/source-file`).
 */
function isMultipartFileUpload(method: string, path: string, type: string | undefined): boolean {
  const upload = (method === "POST" && /^\/api\/v1\/pipelines\/[^/]+\/runs$/.test(path)) ||
    (method === "PUT" && /^\/api\/v1\/pipelines\/[^/]+\/source-file$/.test(path));
  return upload && (type ?? "").split(";")[0].trim().toLowerCase() === "multipart/form-data";
}

/** 413 for bodies above `maxBytes` (uploads are checked by their writer instead). */
export function jsonBodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new HttpProblem(
        413,
        `the request body is larger than ${maxBytes} bytes; send less (upload run input as ` +
          `text/csv or application/x-ndjson, which may be larger)`,
      );
    },
  });
  return async (c, next) => {
    const type = c.req.header("content-type");
    // A multipart upload is bounded by the upload limit where it is read (run_upload.ts).
    if (isUpload(type) || isMultipartFileUpload(c.req.method, c.req.path, type)) {
      return await next();
    }
    return await limit(c, next);
  };
}
