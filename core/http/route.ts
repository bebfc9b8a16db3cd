/**
 * Declaring API routes: every route names the role it needs ({@link apiRoute}), recorded in the
 * OpenAPI document as `x-sluice-role` and enforced by a middleware that runs before any
 * validation, so an anonymous caller gets 401 and a weak one 403 before learning anything.
 * @module
 */
import { createRoute, type OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "./app_env.ts";
import { requireRole } from "./auth.ts";
import type { Role } from "./roles.ts";

/** The OpenAPI app type of Sluice. */
export type ApiApp = OpenAPIHono<AppEnv>;

/** A handler; validated input is read with `c.req.valid(...)`. */
export type ApiHandler = (c: Context<AppEnv>) => Response | Promise<Response>;

/** Problem details schema (RFC 9457). */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
}).passthrough().openapi("Problem");

/** A problem (`application/problem+json`) response description. */
export const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

/** Error answers every secured route may give. */
export const COMMON_ERRORS = {
  400: problem("Invalid request"),
  401: problem("No or invalid credentials"),
  403: problem("Role too small, or cross-site request"),
  404: problem("No such resource"),
  429: problem("Rate limited; see Retry-After"),
};

/** A route config without middleware (added by {@link apiRoute}). */
export type ApiRouteConfig = Omit<RouteConfig, "middleware" | "responses"> & {
  responses: RouteConfig["responses"];
};

/** Registers `config` on `app` as a route that needs `role`. */
export function apiRoute(
  app: ApiApp,
  role: Role,
  config: ApiRouteConfig,
  handler: ApiHandler,
): void {
  const route = createRoute({
    ...config,
    responses: { ...COMMON_ERRORS, ...config.responses },
    security: [{ bearerAuth: [] }, { sessionCookie: [] }],
    middleware: [requireRole(role)],
    "x-sluice-role": role,
  } as RouteConfig);
  app.openapi(route, handler as never);
}

/** A JSON response description. */
export function json(description: string, schema: z.ZodType) {
  return { description, content: { "application/json": { schema } } };
}

/** Reads validated input of `target` (typed by the caller's schema). */
export function valid<T>(c: Context<AppEnv>, target: "json" | "query" | "param"): T {
  return (c.req as unknown as { valid(t: string): T }).valid(target);
}
