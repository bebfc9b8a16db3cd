/**
 * Browser login with OAuth 2.0 / OpenID Connect (any OIDC issuer, by discovery) and GitHub
 * (OAuth 2.0 plus its user, e-mail and org API), built on `oauth4webapi`: PKCE (S256), `state`
 * bound to a `__Host-` cookie, `nonce`, one-use pending logins and sessions in Deno KV, an
 * allow-list of e-mails, domains and GitHub orgs mapped to roles, and same-origin redirects only.
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import * as oauth from "oauth4webapi";
import type { AppEnv } from "./app_env.ts";
import { expectedOrigin, notThisServer, SESSION_COOKIE } from "./auth.ts";
import type { AllowRule, LoginOptions, LoginProvider } from "./deps.ts";
import { HttpProblem } from "./problem.ts";
import { type Identity, type Role, roleFor, ROLES } from "./roles.ts";
import type { SessionStore } from "./sessions.ts";

/** Cookie that binds a login's `state` to the browser that started it. */
export const LOGIN_COOKIE = "__Host-sluice_login";

/** A same-origin path to return to: `/x?y` yes; `//evil`, `/\evil`, `https://…` no (-> `/`). */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if ([...next].some((ch) => ch < " " || ch === "\\")) return "/";
  try {
    const u = new URL(next, "http://x.invalid");
    return u.origin === "http://x.invalid" ? next : "/";
  } catch {
    return "/";
  }
}

// The allow-list rule lives in roles.ts: the API's session check applies it on every request.
export { type Identity, roleFor } from "./roles.ts";

/**
 * Allow rules from config entries `who[=role]` (`alice@x.com=admin`, `@x.com`, `org:acme=operator`);
 * the role defaults to `viewer`.
 */
export function parseAllowList(entries: readonly string[]): AllowRule[] {
  return entries.map((e) => {
    const eq = e.lastIndexOf("=");
    const role = eq > 0 ? e.slice(eq + 1).trim() : "viewer";
    if (!ROLES.includes(role as Role)) {
      throw new Error(
        `auth.oidc.allow: "${e}": role must be one of ${ROLES.join(", ")} (write who=role)`,
      );
    }
    return { match: (eq > 0 ? e.slice(0, eq) : e).trim(), role: role as Role };
  });
}

const cookieOpts = { path: "/", secure: true, httpOnly: true, sameSite: "Lax" } as const;

/** Builds `/auth/*`: providers, login, callback, logout. */
export function loginRoutes(
  o: {
    login?: LoginOptions;
    sessions: SessionStore;
    publicUrl?: string;
    fetch?: typeof fetch;
  },
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const providers = o.login?.providers ?? [];
  const servers = new Map<string, Promise<oauth.AuthorizationServer>>();
  const opts = (p: LoginProvider) => ({
    [oauth.allowInsecureRequests]: o.login?.allowInsecureIssuer === true &&
      new URL(p.issuer).protocol === "http:",
    ...(o.fetch ? { [oauth.customFetch]: o.fetch } : {}),
  });

  const server = (p: LoginProvider): Promise<oauth.AuthorizationServer> => {
    let s = servers.get(p.id);
    if (!s) {
      const issuer = new URL(p.issuer);
      s = p.kind === "github"
        ? Promise.resolve({
          issuer: issuer.href,
          authorization_endpoint: new URL("/login/oauth/authorize", issuer).href,
          token_endpoint: new URL("/login/oauth/access_token", issuer).href,
        })
        : oauth.discoveryRequest(issuer, { algorithm: "oidc", ...opts(p) })
          .then((res) => oauth.processDiscoveryResponse(issuer, res));
      servers.set(p.id, s);
      s.catch(() => servers.delete(p.id));
    }
    return s;
  };

  const provider = (id: string | undefined): LoginProvider => {
    const p = id ? providers.find((x) => x.id === id) : providers[0];
    if (!p) {
      throw new HttpProblem(
        404,
        providers.length
          ? `no login provider "${id}"; known: ${providers.map((x) => x.id).join(", ")}`
          : "browser login is not configured (set auth.oidc.issuer and auth.oidc.clientId)",
      );
    }
    return p;
  };
  const redirectUri = (c: Context) => `${expectedOrigin(c, o.publicUrl)}/auth/callback`;

  app.get(
    "/providers",
    (c) => c.json({ providers: providers.map((p) => ({ id: p.id, kind: p.kind })) }),
  );

  app.get("/login", async (c) => {
    const p = provider(c.req.query("provider"));
    const as = await server(p);
    const state = oauth.generateRandomState();
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    await o.sessions.putLogin(state, {
      provider: p.id,
      verifier,
      nonce,
      next: safeNext(c.req.query("next")),
    });
    const url = new URL(as.authorization_endpoint!);
    const scopes = p.kind === "github"
      ? ["read:user", "user:email", "read:org"]
      : ["openid", "email", "profile"];
    url.searchParams.set("client_id", p.clientId);
    url.searchParams.set("redirect_uri", redirectUri(c));
    url.searchParams.set("response_type", "code");
    url.searchParams.set("scope", [...scopes, ...(p.scopes ?? [])].join(" "));
    url.searchParams.set("state", state);
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(verifier));
    url.searchParams.set("code_challenge_method", "S256");
    if (p.kind === "oidc") url.searchParams.set("nonce", nonce);
    setCookie(c, LOGIN_COOKIE, state, { ...cookieOpts, maxAge: 600 });
    return c.redirect(url.href, 302);
  });

  app.get("/callback", async (c) => {
    const url = new URL(c.req.url);
    const state = url.searchParams.get("state") ?? "";
    if (!state || getCookie(c, LOGIN_COOKIE) !== state) {
      throw new HttpProblem(
        400,
        "this login was not started in this browser (state does not match its cookie); start again at /auth/login",
      );
    }
    deleteCookie(c, LOGIN_COOKIE, cookieOpts);
    const pending = await o.sessions.takeLogin(state);
    if (!pending) {
      throw new HttpProblem(
        400,
        "this login expired or was already used; start again at /auth/login",
      );
    }
    const p = provider(pending.provider);
    const as = await server(p);
    const client: oauth.Client = { client_id: p.clientId };
    const auth = p.clientSecret ? oauth.ClientSecretPost(p.clientSecret) : oauth.None();
    let who: Identity;
    try {
      const params = oauth.validateAuthResponse(as, client, url.searchParams, state);
      const res = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        auth,
        params,
        redirectUri(c),
        pending.verifier,
        opts(p),
      );
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, res, {
        expectedNonce: p.kind === "oidc" ? pending.nonce : oauth.expectNoNonce,
        requireIdToken: p.kind === "oidc",
      });
      who = p.kind === "github"
        ? await githubIdentity(p, tokens.access_token, o.fetch)
        : oidcIdentity(tokens);
    } catch (e) {
      c.get("log").warn("login failed", { provider: p.id, error: (e as Error).message });
      throw new HttpProblem(400, `login with ${p.id} failed: ${(e as Error).message}`);
    }
    const role = roleFor(o.login?.allow ?? [], who);
    if (!role) {
      c.get("log").warn("login refused: not on the allow-list", {
        provider: p.id,
        subject: who.subject,
      });
      throw new HttpProblem(
        403,
        `${
          who.emails[0] ?? who.subject
        } may not use this server: ask an admin to add your e-mail, ` +
          "domain or org to auth.oidc.allow",
      );
    }
    const { id } = await o.sessions.create({
      subject: who.emails[0] ?? who.subject,
      email: who.emails[0],
      // What the allow-list matched on, so each request can check it again.
      emails: who.emails,
      orgs: who.orgs,
      role,
      provider: p.id,
    });
    setCookie(c, SESSION_COOKIE, id, cookieOpts);
    c.get("log").info("login", { provider: p.id, subject: who.emails[0] ?? who.subject, role });
    return c.redirect(pending.next, 302);
  });

  app.post("/logout", async (c) => {
    const sid = getCookie(c, SESSION_COOKIE);
    const session = sid ? await o.sessions.get(sid) : undefined;
    if (session) {
      const origin = c.req.header("origin");
      let ok = origin ? origin === expectedOrigin(c, o.publicUrl) : false;
      if (!origin) {
        const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
        ok = form.csrf === session.csrf || c.req.header("x-csrf-token") === session.csrf;
      }
      if (!ok) {
        throw new HttpProblem(
          403,
          "cross-site logout refused" +
            (origin ? `: ${notThisServer(c, origin, o.publicUrl)}` : ""),
        );
      }
      await o.sessions.delete(sid!);
    }
    deleteCookie(c, SESSION_COOKIE, cookieOpts);
    return c.redirect("/", 303);
  });
  return app;
}

function oidcIdentity(tokens: oauth.TokenEndpointResponse): Identity {
  const claims = oauth.getValidatedIdTokenClaims(tokens)!;
  const email = typeof claims.email === "string" ? claims.email.toLowerCase() : undefined;
  const verified = claims.email_verified === true;
  return { subject: claims.sub, emails: email && verified ? [email] : [], orgs: [] };
}

async function githubIdentity(p: LoginProvider, token: string, f = fetch): Promise<Identity> {
  const api = p.apiBase ?? "https://api.github.com";
  const get = async <T>(path: string): Promise<T> => {
    const res = await f(`${api}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json" },
    });
    if (!res.ok) throw new Error(`GitHub ${path} answered ${res.status}`);
    return await res.json() as T;
  };
  const user = await get<{ login: string }>("/user");
  const emails = await get<{ email: string; verified: boolean }[]>("/user/emails");
  const orgs = await get<{ login: string }[]>("/user/orgs");
  return {
    subject: user.login,
    emails: emails.filter((e) => e.verified).map((e) => e.email.toLowerCase()),
    orgs: orgs.map((o) => o.login.toLowerCase()),
  };
}
