/**
 * Authentication and authorization middleware: Bearer API tokens or the session cookie,
 * per-principal rate limits, role checks declared by every route, and CSRF protection for
 * state-changing requests that ride on the session cookie (origin check, else a double-submit
 * token). A session is checked on every request against what it was made from: the API token
 * (revoked or expired ends it) or the login provider's allow-list.
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "./app_env.ts";
import type { LoginOptions } from "./deps.ts";
import { HttpProblem } from "./problem.ts";
import type { KeyedRateLimiter } from "./rate_limit.ts";
import { hasRole, lowerRole, type Principal, type Role, roleFor } from "./roles.ts";
import type { Session, SessionStore } from "./sessions.ts";
import type { TokenStore } from "./tokens.ts";

/** Name of the session cookie (`__Host-`: Secure, Path=/, no Domain). */
export const SESSION_COOKIE = "__Host-sluice_session";

/** `provider` of a session made by logging in with an API token (it records `tokenId`). */
export const TOKEN_PROVIDER = "token";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** What {@linkcode liveSession} checks a session against. */
export interface SessionCheck {
  /** Where sessions live. */
  sessions: SessionStore;
  /** The API tokens sessions from a token login are checked against. */
  tokens: TokenStore;
  /** Browser login settings (none: no provider's session is live). */
  login?: LoginOptions;
}

/**
 * The session of the cookie value `sid` if it is still good, with the role it holds now; else
 * undefined, and a session found dead is deleted. A session made from an API token lives while
 * the token does: not revoked, not expired (one KV read per request, so a revocation by any
 * process counts at once and across restarts). A session from a login provider lives while that
 * provider is configured and the allow-list still admits its user, with at most the role the list
 * grants now (a larger role needs a new login).
 */
export async function liveSession(
  sid: string | undefined,
  o: SessionCheck,
): Promise<Session | undefined> {
  const s = sid ? await o.sessions.get(sid) : undefined;
  if (!s) return undefined;
  const role = await currentRole(s, o);
  if (!role) {
    await o.sessions.delete(sid!);
    return undefined;
  }
  return role === s.role ? s : { ...s, role };
}

async function currentRole(s: Session, o: SessionCheck): Promise<Role | undefined> {
  if (s.provider === TOKEN_PROVIDER || s.tokenId !== undefined) {
    // A token session without its token id predates this check: it must log in again.
    const rec = s.tokenId ? await o.tokens.active(s.tokenId) : undefined;
    return rec && lowerRole(rec.role, s.role);
  }
  const login = o.login;
  if (!login?.providers.some((p) => p.id === s.provider)) return undefined;
  const granted = roleFor(login.allow, {
    subject: s.subject,
    emails: s.emails ?? (s.email ? [s.email] : []),
    orgs: s.orgs ?? [],
  });
  return granted && lowerRole(granted, s.role);
}

/**
 * How a caller without credentials may get some, for the detail of a 401: an API token always;
 * the UI's login page `/login` when a UI is mounted; `/auth/login` only when a login provider
 * (OIDC or GitHub) is configured, since it is a 404 otherwise.
 *
 * ```ts
 * loginHint({ ui: true, providers: 0 }); // "send `Authorization: Bearer slc_…` with an API token or log in at /login"
 * ```
 */
export function loginHint(o: { ui: boolean; providers: number }): string {
  const pages = [
    ...(o.ui ? ["/login"] : []),
    ...(o.providers > 0 ? ["/auth/login (single sign-on)"] : []),
  ];
  const token = "send `Authorization: Bearer slc_…` with an API token";
  return pages.length ? `${token} or log in at ${pages.join(" or ")}` : token;
}

/**
 * Sets `principal` from a Bearer token or the session cookie; a bad token is a 401. `ui` says
 * whether the web UI (and its `/login` page) is mounted, for {@link loginHint}.
 */
export function authenticate(
  o: SessionCheck & { limiter: KeyedRateLimiter; ui?: boolean },
): MiddlewareHandler<AppEnv> {
  const hint = loginHint({ ui: o.ui === true, providers: o.login?.providers.length ?? 0 });
  return async (c, next) => {
    c.set("loginHint", hint);
    const auth = c.req.header("authorization");
    let principal: Principal | undefined;
    if (auth) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      const rec = m ? await o.tokens.verify(m[1]) : undefined;
      if (!rec) {
        throw new HttpProblem(
          401,
          "the Authorization header does not hold a valid API token (unknown, expired or " +
            "revoked); send `Authorization: Bearer slc_…` with a token from `POST /api/v1/tokens`",
          { headers: { "www-authenticate": 'Bearer error="invalid_token"' } },
        );
      }
      principal = { kind: "token", id: rec.id, name: rec.name, role: rec.role };
    } else {
      const s = await liveSession(getCookie(c, SESSION_COOKIE), o);
      if (s) {
        principal = { kind: "session", id: s.subject, name: s.subject, role: s.role, csrf: s.csrf };
      }
    }
    if (principal) {
      const wait = o.limiter.take(`${principal.kind}:${principal.id}`);
      if (wait) {
        throw new HttpProblem(
          429,
          `too many requests for ${principal.kind} ${principal.name}; retry in ${wait} s`,
          { headers: { "retry-after": String(wait) } },
        );
      }
      c.set("principal", principal);
      c.set("log", c.get("log").child({ principal: principal.id }));
    }
    await next();
  };
}

/** Requires a principal holding `role` (401 without credentials, 403 with too small a role). */
export function requireRole(role: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = c.get("principal");
    if (!p) {
      throw new HttpProblem(
        401,
        `this endpoint needs the ${role} role: ${
          c.get("loginHint") ?? loginHint({ ui: false, providers: 0 })
        }`,
        { headers: { "www-authenticate": 'Bearer realm="sluice"' } },
      );
    }
    if (!hasRole(p.role, role)) {
      throw new HttpProblem(
        403,
        `this endpoint needs the ${role} role; ${p.kind} ${p.name} has the ${p.role} role. ` +
          `Ask an admin for a token with a larger role`,
        { extra: { needed: role, held: p.role } },
      );
    }
    await next();
  };
}

/** The origin the server is reached at. */
export function expectedOrigin(c: Context, publicUrl?: string): string {
  return publicUrl ? new URL(publicUrl).origin : new URL(c.req.url).origin;
}

/**
 * Why a request from `origin` was taken for a cross-site one, with the origin expected instead.
 * Without `server.publicUrl` that is the origin of the request as this process sees it, which
 * behind a reverse proxy (TLS ended there) is not the one users open: say what to set.
 */
export function notThisServer(c: Context, origin: string, publicUrl?: string): string {
  const expected = expectedOrigin(c, publicUrl);
  return `Origin ${origin} is not this server (${expected})` + (publicUrl ? "" : (
    "; behind a reverse proxy set server.publicUrl (SLUICE_SERVER_PUBLIC_URL) to the URL " +
    "users open"
  ));
}

/**
 * For unsafe methods authenticated by the session cookie: the `Origin` header must be ours; a
 * request without `Origin` must carry the session's CSRF token in `X-CSRF-Token` (or a `csrf`
 * form field, checked by the form handler).
 */
export function csrfGuard(publicUrl?: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = c.get("principal");
    if (p?.kind === "session" && UNSAFE.has(c.req.method)) {
      const origin = c.req.header("origin");
      const ok = origin
        ? origin === expectedOrigin(c, publicUrl)
        : c.req.header("x-csrf-token") === p.csrf;
      if (!ok) {
        throw new HttpProblem(
          403,
          origin
            ? `cross-site request refused: ${notThisServer(c, origin, publicUrl)}`
            : "cross-site request refused: send the X-CSRF-Token header (from GET /api/v1/me)",
        );
      }
    }
    await next();
  };
}
