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

const Schedule = z.object({
  id: z.string(),
  pipeline: z.string(),
  cron: z.string(),
  timezone: z.string().optional(),
  paused: z.boolean(),
  next: z.array(z.string()),
  lastFiredAt: z.string().optional(),
}).openapi("Schedule");

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
