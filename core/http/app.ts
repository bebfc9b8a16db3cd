/**
 * The Sluice HTTP app: `/api/v1` (OpenAPI 3.1 at `/api/v1/openapi.json`, a reference page at
 * `/api/v1/docs`), `/auth/*` browser login, `/hooks/*` webhook intake, `/healthz`, `/readyz`,
 * and the web UI. Middleware: correlation ids and access logs, security headers, per-address
 * and per-principal rate limits, body limits, authentication, CSRF checks; errors are
 * `application/problem+json`, except those of the UI's pages, which the UI renders as HTML
 * ({@link UiErrorPages}).
 *
 * ```ts
 * const app = createApp({ engine, store, kv, registry, executor, pipelines, dataDir });
 * Deno.serve({ port: 8080 }, app.fetch);
 * ```
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { silentLogger } from "../telemetry/log.ts";
import type { AppEnv } from "./app_env.ts";
import { authenticate, csrfGuard } from "./auth.ts";
import type { AppDeps } from "./deps.ts";
import { clientAddressResolver } from "./client_address.ts";
import {
  clientAddressOf,
  ipRateLimit,
  jsonBodyLimit,
  requestLog,
  securityHeaders,
} from "./middleware.ts";
import { loginRoutes } from "./oidc.ts";
import { DOCS_HTML, DOCS_JS } from "./openapi_page.ts";
import { HttpProblem, problemResponse } from "./problem.ts";
import { KeyedRateLimiter } from "./rate_limit.ts";
import { adminRoutes } from "./routes_admin.ts";
import { pipelineRoutes } from "./routes_pipelines.ts";
import { sourceFileRoutes } from "./routes_source_file.ts";
import { pluginRoutes } from "./routes_plugins.ts";
import { runRoutes } from "./routes_runs.ts";
import { SessionStore } from "./sessions.ts";
import { TokenStore } from "./tokens.ts";
import { SluiceMetrics } from "../telemetry/sluice_metrics.ts";
import { PluginApprovalError, PluginIntegrityError } from "../plugins/registry.ts";
import { countWebhook, httpTelemetry, metricsHandler } from "./telemetry_middleware.ts";

/** Base path of the REST API. */
export const API_BASE = "/api/v1";

/**
 * Routes anyone may call (method and Hono path); every other route declares a role. The route
 * enumeration test checks this list against the app.
 */
export const PUBLIC_ROUTES: readonly string[] = [
  "GET /healthz",
  "GET /readyz",
  "GET /metrics",
  `GET ${API_BASE}/openapi.json`,
  `GET ${API_BASE}/docs`,
  `GET ${API_BASE}/docs.js`,
  "GET /auth/providers",
  "GET /auth/login",
  "GET /auth/callback",
  "POST /auth/logout",
  "POST /hooks/:pipeline/:hook",
];

/**
 * Error pages of a web UI mounted at `/` (`AppDeps.ui`; `web/` provides them): errors and unknown
 * paths of pages are answered as HTML in the UI's layout, see {@link wantsHtmlError}. Without
 * them every error is `application/problem+json`.
 */
export interface UiErrorPages {
  /**
   * The page of an error with `status`; `detail` is written for a person (never a stack trace),
   * `headers` are kept (e.g. `Retry-After`).
   */
  errorPage(
    c: Context<AppEnv>,
    e: { status: number; detail: string; headers?: Record<string, string> },
  ): Response | Promise<Response>;
}

/** True when `ui` renders error pages ({@link UiErrorPages}). */
export function hasErrorPages(ui: unknown): ui is UiErrorPages {
  return typeof (ui as Partial<UiErrorPages> | undefined)?.errorPage === "function";
}

/** Whether `err` is a write that failed for want of disk space (SQLite, PostgreSQL or a file). */
export function isDiskFull(err: unknown): boolean {
  const e = err as { message?: unknown; code?: unknown } | null;
  const msg = typeof e?.message === "string" ? e.message : "";
  return /database or disk is full|no space left on device|ENOSPC/i.test(msg) ||
    e?.code === "53100" || e?.code === "ENOSPC";
}

/** Paths whose errors are always problem JSON: the API, webhooks, health and metrics. */
const MACHINE_PATH = /^\/(?:api(?:\/|$)|hooks\/|healthz$|readyz$|metrics$)/;

/**
 * True when an error of `req` should be an HTML page: a path of the UI (not {@link API_BASE},
 * `/hooks/`, `/healthz`, `/readyz` or `/metrics`) requested without asking for JSON (an `Accept`
 * naming a JSON type before `text/html`, as the UI's own fetches do, gets problem JSON).
 */
export function wantsHtmlError(req: Request): boolean {
  if (MACHINE_PATH.test(new URL(req.url).pathname)) return false;
  const accept = (req.headers.get("accept") ?? "").toLowerCase();
  const json = accept.search(/[/+]json\b/);
  if (json < 0) return true;
  const html = accept.indexOf("text/html");
  return html >= 0 && html < json;
}

/** The app and the stores it made. */
export interface SluiceApp {
  app: OpenAPIHono<AppEnv>;
  tokens: TokenStore;
  sessions: SessionStore;
}

/** Builds the app over `deps`. */
export function createApp(deps: AppDeps): SluiceApp {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? Date.now;
  const tokens = new TokenStore(deps.kv, { now });
  const sessions = new SessionStore(deps.kv, { now, ttlMs: deps.login?.sessionTtlMs });
  const limits = deps.limits ?? {};
  const ipLimiter = new KeyedRateLimiter(limits.perIp ?? { rate: 600, perMs: 60_000 }, { now });
  const principalLimiter = new KeyedRateLimiter(
    limits.perPrincipal ?? { rate: 1200, perMs: 60_000 },
    { now },
  );

  const app = new OpenAPIHono<AppEnv>();
  const metrics = deps.metrics ?? new SluiceMetrics(); // telemetry
  const clientIp = deps.clientIp ??
    clientAddressResolver({ trustedProxies: deps.trustedProxies ?? [] });
  app.use("*", httpTelemetry({ tracer: deps.tracer, metrics })); // telemetry: spans, metrics
  app.use("*", clientAddressOf(clientIp)); // behind trusted proxies, the forwarded address
  app.use("*", requestLog(log));
  app.use("*", securityHeaders());
  const limitIp = ipRateLimit(ipLimiter);
  app.use("*", async (c, next) => {
    const path = c.req.path;
    if (path === "/healthz" || path === "/readyz" || path === "/metrics") return await next();
    return await limitIp(c, next);
  });
  app.use("/api/*", jsonBodyLimit(limits.jsonBytes ?? 1024 * 1024));
  app.use("/auth/*", jsonBodyLimit(64 * 1024));
  app.use(
    "/api/*",
    authenticate({
      tokens,
      sessions,
      login: deps.login,
      limiter: principalLimiter,
      ui: deps.ui !== undefined,
    }),
  );
  app.use("/api/*", csrfGuard(deps.publicUrl));

  // Pages of a mounted UI answer their errors as HTML in its layout; the API stays JSON.
  const pages = hasErrorPages(deps.ui) ? deps.ui : undefined;
  const asPage = async (
    c: Context<AppEnv>,
    e: { status: number; detail: string; headers?: Record<string, string> },
  ): Promise<Response | undefined> => {
    if (!pages || !wantsHtmlError(c.req.raw)) return undefined;
    try {
      return await pages.errorPage(c, e);
    } catch (err) {
      c.get("log")?.error("error page failed", { error: (err as Error).stack ?? String(err) });
      return undefined;
    }
  };
  app.onError(async (err, c) => {
    let status: number, detail: string;
    let opts: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {};
    if (err instanceof HttpProblem) {
      [status, detail, opts] = [err.status, err.message, {
        extra: err.extra,
        headers: err.headers,
      }];
    } else if (err instanceof HTTPException) {
      [status, detail] = [err.status, err.message || "the request was refused"];
      if (status === 415) {
        detail =
          `the body's content-type (${
            c.req.header("content-type") ?? "none"
          }) is not one this endpoint takes; see ${API_BASE}/docs for each endpoint's media types ` +
          "(most take application/json)";
      }
    } else if (err instanceof PluginIntegrityError || err instanceof PluginApprovalError) {
      // An installed plugin changed since install, or asks for more than was approved: the
      // operator's to fix (the message says how), not an internal error.
      c.get("log")?.warn("request refused: a plugin needs the operator", { error: err.message });
      [status, detail] = [422, err.message];
    } else if (isDiskFull(err)) {
      // Not the caller's fault and not a bug: say what the operator must do.
      c.get("log")?.error("request failed: the disk is full", { error: String(err) });
      status = 507;
      detail = "the server's disk is full (its store or data folder could not be written); " +
        "nothing was changed: the operator must free space on the data folder's disk";
    } else {
      c.get("log")?.error("request failed", { error: (err as Error).stack ?? String(err) });
      status = 500;
      detail = `internal error; quote request id ${
        c.get("requestId")
      } when reporting it (it is in the server log)`;
    }
    return (await asPage(c, { status, detail, headers: opts.headers })) ??
      problemResponse(c, status, detail, opts);
  });
  const noRoute = (c: Context<AppEnv>) =>
    problemResponse(
      c,
      404,
      `no route ${c.req.method} ${new URL(c.req.url).pathname}; see ${API_BASE}/docs`,
    );
  app.notFound(async (c) =>
    (await asPage(c, {
      status: 404,
      detail: `There is no page at ${new URL(c.req.url).pathname}.`,
    })) ?? noRoute(c)
  );

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/metrics", metricsHandler(metrics)); // Prometheus text format
  app.get("/readyz", async (c) => {
    // A store that hangs (database down) answers 503 within 1.5 s instead of holding the probe.
    // A store that reads but cannot write (a full disk, a read-only KV file) is not ready either:
    // every run, chunk and webhook would fail.
    let ok: boolean | "timeout" = false;
    let failed: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      ok = await Promise.race([
        (async () => {
          try {
            await deps.store.listRuns({ limit: 1 });
            await deps.store.checkWritable?.();
          } catch (e) {
            failed = e instanceof Error ? e.message : String(e);
            throw e;
          }
          return (await deps.ready?.()) ?? true;
        })(),
        new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), 1500)),
      ]);
    } catch {
      ok = false;
    } finally {
      clearTimeout(timer);
    }
    if (ok === true) return c.json({ status: "ready" });
    if (ok === "timeout") {
      return c.json(
        { status: "unavailable", reason: "the store did not answer within 1.5 s" },
        503,
      );
    }
    return failed === undefined
      ? c.json({ status: "starting" }, 503)
      : c.json({ status: "unavailable", reason: `the store failed: ${failed}` }, 503);
  });

  const api = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const where = result.target;
        const issues = result.error.issues.map((i) =>
          `${[where, ...i.path.map(String)].join(".")}: ${i.message}`
        );
        throw new HttpProblem(400, `invalid request: ${issues.join("; ")}`, {
          extra: { issues: result.error.issues },
        });
      }
    },
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    description: "An API token (`slc_…`) from POST /api/v1/tokens",
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "sessionCookie", {
    type: "apiKey",
    in: "cookie",
    name: "__Host-sluice_session",
  });
  pipelineRoutes(api, deps);
  sourceFileRoutes(api, deps);
  runRoutes(api, deps);
  pluginRoutes(api, deps);
  adminRoutes(api, deps, tokens);
  api.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Sluice API",
      version: "1",
      description: "Pipelines, runs, plugins, schedules and tokens of a Sluice server. " +
        "Errors are application/problem+json with a requestId.",
    },
  });
  api.get("/docs", (c) => c.html(DOCS_HTML));
  api.get(
    "/docs.js",
    (c) => c.body(DOCS_JS, 200, { "content-type": "text/javascript; charset=utf-8" }),
  );
  app.route(API_BASE, api);

  app.route(
    "/auth",
    loginRoutes({ login: deps.login, sessions, publicUrl: deps.publicUrl, fetch: deps.fetch }),
  );
  app.post("/hooks/:pipeline/:hook", async (c) => {
    if (!deps.hooks) {
      throw new HttpProblem(
        503,
        "webhook intake is not running in this process (sluice serve runs it)",
      );
    }
    const [pipeline, hook] = [c.req.param("pipeline"), c.req.param("hook")];
    const res = await deps.hooks.handle(c.req.raw, pipeline, hook);
    countWebhook(metrics, pipeline, hook, res.status); // telemetry: accepts/rejects
    return await webhookProblem(c, res);
  });
  // An unknown API or webhook path is a JSON 404, never the UI's login redirect or error page
  // (the UI is mounted at `/`).
  app.all("/api/*", noRoute);
  app.all("/hooks/:pipeline/:hook", (c) =>
    problemResponse(
      c,
      405,
      `webhooks take POST only, not ${c.req.method}: send the body with POST (curl -X POST)`,
      { headers: { allow: "POST" } },
    ));
  app.all("/hooks/*", noRoute);
  if (deps.ui) app.route("/", deps.ui);
  return { app, tokens, sessions };
}

/**
 * A webhook's refusal as the API answers errors: `application/problem+json` with `detail`, the
 * request path and id, keeping the intake's `error` member (the same text) for senders written
 * against it; its headers (`Allow`, `Retry-After`) are kept. Other answers pass unchanged.
 */
async function webhookProblem(c: Context, res: Response): Promise<Response> {
  if (res.status < 400 || !res.headers.get("content-type")?.startsWith("application/json")) {
    return res;
  }
  const body = await res.clone().json().catch(() => undefined) as { error?: unknown } | undefined;
  if (typeof body?.error !== "string") return res;
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== "content-type" && k !== "content-length") headers[k] = v;
  });
  await res.body?.cancel();
  return problemResponse(c, res.status, body.error, { extra: { error: body.error }, headers });
}
