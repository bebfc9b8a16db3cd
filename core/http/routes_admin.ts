/**
 * `/api/v1/schedules` (list with next fire times, pause, resume), `/api/v1/tokens` (create,
 * list, revoke) and `/api/v1/me`.
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "./app_env.ts";
import type { AppDeps, ScheduleService } from "./deps.ts";
import { HttpProblem } from "./problem.ts";
import { ROLES } from "./roles.ts";
import { type ApiApp, apiRoute, json, valid } from "./route.ts";
import type { TokenInfo, TokenStore } from "./tokens.ts";

const ScheduleFire = z.object({
  scheduledAt: z.string().openapi({ description: "The occurrence (ISO 8601, UTC)" }),
  scheduledAtLocal: z.string().optional().openapi({
    description: "The occurrence in the schedule's time zone, with its offset",
  }),
  firedAt: z.string(),
  outcome: z.enum(["started", "queued", "skipped", "missed", "failed"]),
  runId: z.string().optional(),
  reason: z.string().optional(),
  catchUp: z.boolean().optional(),
}).openapi("ScheduleFire");

const Schedule = z.object({
  id: z.string(),
  pipeline: z.string(),
  cron: z.string(),
  timezone: z.string().optional(),
  paused: z.boolean(),
  enabled: z.boolean().optional(),
  overlap: z.string().optional(),
  catchUp: z.string().optional(),
  next: z.array(z.string()).openapi({ description: "Next fire times (ISO 8601, UTC)" }),
  nextLocal: z.array(z.string()).optional().openapi({
    description: "Next fire times in the schedule's time zone, with its offset",
  }),
  lastFiredAt: z.string().optional(),
  lastFire: ScheduleFire.optional(),
}).openapi("Schedule");

const HookDelivery = z.object({
  at: z.string(),
  status: z.number(),
  runId: z.string().optional(),
  reason: z.string().optional(),
  deliveryId: z.string().optional(),
  items: z.number().optional(),
  duplicate: z.boolean().optional(),
}).openapi("HookDelivery");

const LimitQuery = z.object({
  limit: z.string().optional().openapi({
    param: { name: "limit", in: "query" },
    description: "How many, newest first (1 to 100, default 20)",
  }),
});
const HookParams = z.object({
  pipeline: z.string().openapi({ param: { name: "pipeline", in: "path" } }),
  hook: z.string().openapi({ param: { name: "hook", in: "path" } }),
});

function limitOf(c: Context<AppEnv>): number {
  const raw = c.req.query("limit");
  if (raw === undefined) return 20;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) {
    throw new HttpProblem(400, `limit must be a whole number from 1 to 100, not ${raw}`);
  }
  return n;
}

const Token = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(["viewer", "operator", "admin"]),
  createdAt: z.string(),
  expiresAt: z.string().optional(),
  revokedAt: z.string().optional(),
  createdBy: z.string().optional(),
}).openapi("Token");

const CreateToken = z.object({
  name: z.string().min(1).max(100),
  role: z.enum(["viewer", "operator", "admin"]),
  expiresInDays: z.number().positive().max(3650).optional(),
}).openapi("CreateToken");

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const ScheduleParams = z.object({
  pipeline: z.string().openapi({ param: { name: "pipeline", in: "path" } }),
  trigger: z.string().openapi({ param: { name: "trigger", in: "path" } }),
});

function tokenView(t: TokenInfo) {
  const iso = (n?: number) => (n === undefined ? undefined : new Date(n).toISOString());
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    createdAt: iso(t.createdAt)!,
    expiresAt: iso(t.expiresAt),
    revokedAt: iso(t.revokedAt),
    createdBy: t.createdBy,
  };
}

function scheduler(deps: AppDeps): ScheduleService {
  if (!deps.schedules) {
    throw new HttpProblem(
      503,
      "the scheduler is not running in this process (sluice serve runs it)",
    );
  }
  return deps.schedules;
}

/** Registers schedules, tokens and `/me`. */
export function adminRoutes(app: ApiApp, deps: AppDeps, tokens: TokenStore): void {
  apiRoute(app, "viewer", {
    method: "get",
    path: "/me",
    summary: "Who am I: principal, role and (for sessions) the CSRF token",
    tags: ["auth"],
    responses: {
      200: json(
        "The caller",
        z.object({
          kind: z.string(),
          name: z.string(),
          role: z.string(),
          csrf: z.string().optional(),
        }),
      ),
    },
  }, (c) => {
    const p = c.get("principal")!;
    return c.json({ kind: p.kind, name: p.name, role: p.role, csrf: p.csrf });
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/schedules",
    summary: "Cron schedules with their next fire times",
    tags: ["schedules"],
    responses: { 200: json("Schedules", z.object({ schedules: z.array(Schedule) })) },
  }, async (c) => c.json({ schedules: await scheduler(deps).list() }));

  // A schedule's id is `<pipeline>/<trigger id>`: POST /schedules/my-leads/weekday-morning/pause,
  // or with the slash encoded as one segment, /schedules/my-leads%2Fweekday-morning/pause.
  for (const action of ["pause", "resume"] as const) {
    const summary = `${action === "pause" ? "Pause" : "Resume"} a schedule`;
    const handler = async (c: Context<AppEnv>, id: string) => {
      const s = scheduler(deps);
      if (!(await s[action](id))) {
        throw new HttpProblem(404, `no schedule ${id}; list them with GET /api/v1/schedules`);
      }
      c.get("log").info(`schedule ${action}d`, { schedule: id });
      return c.json({ id, paused: action === "pause" });
    };
    const responses = {
      200: json("Done", z.object({ id: z.string(), paused: z.boolean() })),
    };
    apiRoute(app, "operator", {
      method: "post",
      path: `/schedules/{pipeline}/{trigger}/${action}`,
      summary: `${summary} (its id is \`<pipeline>/<trigger id>\`)`,
      tags: ["schedules"],
      request: { params: ScheduleParams },
      responses,
    }, (c) => handler(c, `${c.req.param("pipeline")}/${c.req.param("trigger")}`));
    apiRoute(app, "operator", {
      method: "post",
      path: `/schedules/{id}/${action}`,
      summary: `${summary} by its id with the slash encoded (\`my-leads%2Fweekday-morning\`)`,
      tags: ["schedules"],
      request: { params: IdParam },
      responses,
    }, (c) => handler(c, decodeURIComponent(c.req.param("id")!)));
  }

  // What each occurrence did: the run it started, or why it was skipped, missed or failed.
  const firesHandler = async (c: Context<AppEnv>, id: string) => {
    const s = scheduler(deps);
    const fires = s.fires ? await s.fires(id, limitOf(c)) : [];
    if (!fires) {
      throw new HttpProblem(404, `no schedule ${id}; list them with GET /api/v1/schedules`);
    }
    return c.json({ id, fires });
  };
  const firesResponses = {
    200: json(
      "Newest first",
      z.object({ id: z.string(), fires: z.array(ScheduleFire) }),
    ),
  };
  apiRoute(app, "viewer", {
    method: "get",
    path: "/schedules/{pipeline}/{trigger}/fires",
    summary: "A schedule's recent occurrences: started (with the run), queued, skipped, missed, " +
      "failed, and why",
    tags: ["schedules"],
    request: { params: ScheduleParams, query: LimitQuery },
    responses: firesResponses,
  }, (c) => firesHandler(c, `${c.req.param("pipeline")}/${c.req.param("trigger")}`));
  apiRoute(app, "viewer", {
    method: "get",
    path: "/schedules/{id}/fires",
    summary: "A schedule's recent occurrences, by its id with the slash encoded",
    tags: ["schedules"],
    request: { params: IdParam, query: LimitQuery },
    responses: firesResponses,
  }, (c) => firesHandler(c, decodeURIComponent(c.req.param("id")!)));

  apiRoute(app, "viewer", {
    method: "get",
    path: "/hooks/{pipeline}/{hook}/deliveries",
    summary: "A webhook's recent deliveries: status answered, the run started, or why it was " +
      "refused",
    description: "Each request to `POST /hooks/{pipeline}/{hook}` with the status it was " +
      "answered: 202 (a run started), 200 (a repeated Idempotency-Key), or a refusal with its " +
      "`reason`: 401 (signature, replay), 413 (too large), 415 (a Content-Type the source does " +
      "not read), 400 (a body that does not parse), 422 (the pipeline's source read the " +
      "beginning of the body and cannot read it at all, e.g. a CSV without a website column; " +
      "the reason is the source's message and no run was started).",
    tags: ["schedules"],
    request: { params: HookParams, query: LimitQuery },
    responses: {
      200: json(
        "Newest first",
        z.object({ pipeline: z.string(), hook: z.string(), deliveries: z.array(HookDelivery) }),
      ),
    },
  }, async (c) => {
    const pipeline = c.req.param("pipeline")!;
    const hook = c.req.param("hook")!;
    const limit = limitOf(c);
    const entry = await deps.pipelines.get(pipeline);
    if (!entry) throw new HttpProblem(404, `no pipeline ${pipeline}`);
    const hooks = (entry.pipeline?.triggers ?? []).flatMap((t) =>
      "webhook" in t ? [t.webhook] : []
    );
    if (entry.pipeline && !hooks.includes(hook)) {
      throw new HttpProblem(
        404,
        `pipeline ${pipeline} has no webhook ${hook}` +
          (hooks.length ? `; its webhooks: ${hooks.join(", ")}` : ""),
      );
    }
    if (!deps.hooks?.deliveries) {
      throw new HttpProblem(
        503,
        "webhook intake is not running in this process (sluice serve runs it)",
      );
    }
    const deliveries = await deps.hooks.deliveries(pipeline, hook, limit);
    return c.json({
      pipeline,
      hook,
      deliveries: deliveries.map((d) => ({ ...d, at: new Date(d.at).toISOString() })),
    });
  });

  apiRoute(app, "admin", {
    method: "get",
    path: "/tokens",
    summary: "List API tokens (never their values)",
    tags: ["tokens"],
    responses: { 200: json("Tokens", z.object({ tokens: z.array(Token) })) },
  }, async (c) => c.json({ tokens: (await tokens.list()).map(tokenView) }));

  apiRoute(app, "admin", {
    method: "post",
    path: "/tokens",
    summary: "Create an API token; its value is shown only in this answer",
    tags: ["tokens"],
    request: { body: { content: { "application/json": { schema: CreateToken } }, required: true } },
    responses: { 201: json("Created", z.object({ token: z.string(), info: Token })) },
  }, async (c) => {
    const body = valid<z.infer<typeof CreateToken>>(c, "json");
    if (!ROLES.includes(body.role)) {
      throw new HttpProblem(400, `role must be one of ${ROLES.join(", ")}`);
    }
    const now = deps.now?.() ?? Date.now();
    const { token, info } = await tokens.create({
      name: body.name,
      role: body.role,
      expiresAt: body.expiresInDays ? now + body.expiresInDays * 86_400_000 : undefined,
      createdBy: c.get("principal")!.name,
    });
    c.get("log").info("token created", { token: info.id, role: info.role });
    return c.json({ token, info: tokenView(info) }, 201);
  });

  apiRoute(app, "admin", {
    method: "delete",
    path: "/tokens/{id}",
    summary: "Revoke a token",
    tags: ["tokens"],
    request: { params: IdParam },
    responses: { 204: { description: "Revoked" } },
  }, async (c) => {
    const id = c.req.param("id")!;
    if (!(await tokens.revoke(id))) throw new HttpProblem(404, `no token ${id}`);
    c.get("log").info("token revoked", { token: id });
    return c.body(null, 204);
  });
}
