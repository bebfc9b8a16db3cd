/**
 * Browser sessions for the pages: reads the `__Host-sluice_session` cookie (the same sessions the
 * API accepts, checked the same way on every request), sends people without one to `/login`, and
 * turns an API token typed into the login form into a session with the token's role that lasts
 * only while the token is valid (local use without an identity provider).
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../core/http/app_env.ts";
import {
  expectedOrigin,
  liveSession,
  notThisServer,
  SESSION_COOKIE,
  type SessionCheck,
  TOKEN_PROVIDER,
} from "../core/http/auth.ts";
import { hasRole, type Principal, type Role } from "../core/http/roles.ts";
import type { SessionStore } from "../core/http/sessions.ts";
import type { TokenStore } from "../core/http/tokens.ts";

/** Paths the pages serve without a session. */
export function isPublicPath(path: string): boolean {
  return path === "/login" || path.startsWith("/static/") || path === "/favicon.ico";
}

/**
 * Sets `principal` from the session cookie while the session is live (see `liveSession`: its
 * token not revoked or expired, its user still on the allow-list); without one, redirects pages
 * to `/login`.
 */
export function pageSession(o: SessionCheck): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const s = await liveSession(getCookie(c, SESSION_COOKIE), o);
    if (s) {
      const p: Principal = {
        kind: "session",
        id: s.subject,
        name: s.subject,
        role: s.role,
        csrf: s.csrf,
      };
      c.set("principal", p);
    }
    if (!s && !isPublicPath(path)) {
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    await next();
  };
}

/** The principal of a page request (set by {@link pageSession}). */
export function viewer(c: Context<AppEnv>): Principal {
  return c.get("principal")!;
}

/** True when the page's user holds `role`. */
export function can(c: Context<AppEnv>, role: Role): boolean {
  const p = c.get("principal");
  return !!p && hasRole(p.role, role);
}

/** Result of a token login. */
export type TokenLogin = { ok: true; next: string } | { ok: false; error: string };

/**
 * Handles the token form of `/login`: the origin must be ours, the token valid; then a session
 * with the token's role and id is created and its cookie set.
 */
export async function tokenLogin(
  c: Context<AppEnv>,
  o: { tokens: TokenStore; sessions: SessionStore; publicUrl?: string; next: string },
): Promise<TokenLogin> {
  const origin = c.req.header("origin");
  if (origin && origin !== expectedOrigin(c, o.publicUrl)) {
    return {
      ok: false,
      error: `cross-site login refused: ${notThisServer(c, origin, o.publicUrl)}`,
    };
  }
  const form = await c.req.parseBody();
  const token = String(form.token ?? "").trim();
  if (!token) return { ok: false, error: "Enter an API token (slc_…)." };
  const rec = await o.tokens.verify(token);
  if (!rec) {
    return {
      ok: false,
      error: "That token is unknown, expired or revoked. Ask an admin for a new one " +
        "(Settings → API tokens here, or `POST /api/v1/tokens` with an admin token).",
    };
  }
  const { id } = await o.sessions.create({
    subject: `token:${rec.name}`,
    role: rec.role,
    provider: TOKEN_PROVIDER,
    // The session ends when this token is revoked or expires (checked on every request).
    tokenId: rec.id,
  });
  setCookie(c, SESSION_COOKIE, id, { path: "/", secure: true, httpOnly: true, sameSite: "Lax" });
  c.get("log")?.info("login", { provider: "token", subject: rec.name, role: rec.role });
  return { ok: true, next: o.next };
}
