/**
 * RFC 9457 problem details: every error the API answers is `application/problem+json` with a
 * title, a detail saying what to do, and the request's correlation id (also in the logs).
 * @module
 */
import type { Context } from "hono";

/** Body of an `application/problem+json` answer. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The request path. */
  instance?: string;
  /** Correlation id, same as the `X-Request-Id` header and the log lines. */
  requestId?: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

/** An error that becomes a problem answer with `status`. Throw it from handlers. */
export class HttpProblem extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Extra members of the problem body (e.g. `problems` with line:col). */
  readonly extra: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`). */
  readonly headers: Record<string, string>;
  /** `detail` says what was wrong, where, and what to do. */
  constructor(
    status: number,
    detail: string,
    opts: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = "HttpProblem";
    this.status = status;
    this.extra = opts.extra ?? {};
    this.headers = opts.headers ?? {};
  }
}

/** Builds the problem response for `status` with `detail`. */
export function problemResponse(
  c: Context,
  status: number,
  detail: string,
  opts: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Response {
  const requestId = c.get("requestId") as string | undefined;
  const body: ProblemBody = {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    detail,
    instance: new URL(c.req.url).pathname,
    requestId,
    ...opts.extra,
  };
  const headers = new Headers(opts.headers);
  headers.set("content-type", "application/problem+json");
  if (requestId) headers.set("x-request-id", requestId);
  return new Response(JSON.stringify(body), { status, headers });
}

/** The problem response of an {@link HttpProblem}. */
export function problemOf(c: Context, p: HttpProblem): Response {
  return problemResponse(c, p.status, p.message, { extra: p.extra, headers: p.headers });
}
