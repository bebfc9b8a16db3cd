/**
 * A fake identity provider on loopback for login tests: OpenID Connect (discovery, authorize,
 * token with PKCE S256 and client-secret checks, RS256-signed ID tokens, JWKS) and the GitHub
 * OAuth flavour (`/login/oauth/*` plus `/api/user`, `/api/user/emails`, `/api/user/orgs`).
 * The "logged-in" user is whatever `idp.user` holds when `/authorize` is called.
 * Test-only.
 * @module
 */

/** The user the IdP signs in. */
export interface FakeUser {
  sub: string;
  email: string;
  emailVerified: boolean;
  /** GitHub login and orgs. */
  login?: string;
  orgs?: string[];
}

/** A running fake IdP. */
export interface FakeIdp {
  /** Origin, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** OIDC issuer (`<url>/oidc`). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The next user to log in. */
  user: FakeUser;
  /** Token requests whose PKCE verifier matched the challenge. */
  pkceVerified: number;
  /** Every authorize request's query. */
  authorizeRequests: URLSearchParams[];
  close(): Promise<void>;
}

const b64url = (b: Uint8Array | string) => {
  const bytes = typeof b === "string" ? new TextEncoder().encode(b) : b;
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
};

/** Starts the fake IdP; `redirectUris` are the allowed callback URLs. */
export async function startFakeIdp(o: { redirectUris: string[] }): Promise<FakeIdp> {
  const keys = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  ) as CryptoKeyPair;
  const jwk = {
    ...(await crypto.subtle.exportKey("jwk", keys.publicKey)),
    kid: "k1",
    alg: "RS256",
    use: "sig",
  };
  const codes = new Map<
    string,
    { challenge: string; nonce?: string; redirectUri: string; user: FakeUser }
  >();
  const accessTokens = new Map<string, FakeUser>();
  const ac = new AbortController();
  let origin = "";
  const idp: FakeIdp = {
    url: "",
    issuer: "",
    clientId: "sluice-test",
    clientSecret: "s3cret-s3cret",
    user: { sub: "u1", email: "alice@example.com", emailVerified: true },
    pkceVerified: 0,
    authorizeRequests: [],
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
  const sign = async (claims: Record<string, unknown>) => {
    const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "k1" }));
    const body = b64url(JSON.stringify(claims));
    const sig = await crypto.subtle.sign(
      "RSASSA-PKCS1-v1_5",
      keys.privateKey,
      new TextEncoder().encode(`${head}.${body}`),
    );
    return `${head}.${body}.${b64url(new Uint8Array(sig))}`;
  };
  const json = (v: unknown, status = 200) =>
    new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });

  const authorize = (url: URL) => {
    const q = url.searchParams;
    idp.authorizeRequests.push(q);
    const redirectUri = q.get("redirect_uri") ?? "";
    if (q.get("client_id") !== idp.clientId || !o.redirectUris.includes(redirectUri)) {
      return json({ error: "invalid_request" }, 400);
    }
    if (q.get("code_challenge_method") !== "S256" || !q.get("code_challenge")) {
      return json({ error: "invalid_request", error_description: "PKCE S256 required" }, 400);
    }
    const code = crypto.randomUUID();
    codes.set(code, {
      challenge: q.get("code_challenge")!,
      nonce: q.get("nonce") ?? undefined,
      redirectUri,
      user: idp.user,
    });
    const back = new URL(redirectUri);
    back.searchParams.set("code", code);
    back.searchParams.set("state", q.get("state") ?? "");
    return new Response(null, { status: 302, headers: { location: back.href } });
  };

  const token = async (req: Request, oidc: boolean) => {
    const form = new URLSearchParams(await req.text());
    if (form.get("client_id") !== idp.clientId || form.get("client_secret") !== idp.clientSecret) {
      return json({ error: "invalid_client" }, 401);
    }
    const grant = codes.get(form.get("code") ?? "");
    codes.delete(form.get("code") ?? "");
    if (!grant || grant.redirectUri !== form.get("redirect_uri")) {
      return json({ error: "invalid_grant" }, 400);
    }
    const digest = new Uint8Array(
      await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode(form.get("code_verifier") ?? ""),
      ),
    );
    if (b64url(digest) !== grant.challenge) {
      return json({ error: "invalid_grant", error_description: "PKCE verification failed" }, 400);
    }
    idp.pkceVerified++;
    const access = crypto.randomUUID();
    accessTokens.set(access, grant.user);
    const out: Record<string, unknown> = {
      access_token: access,
      token_type: "Bearer",
      expires_in: 300,
    };
    if (oidc) {
      const now = Math.floor(Date.now() / 1000);
      out.id_token = await sign({
        iss: idp.issuer,
        aud: idp.clientId,
        sub: grant.user.sub,
        email: grant.user.email,
        email_verified: grant.user.emailVerified,
        nonce: grant.nonce,
        iat: now,
        exp: now + 300,
      });
    }
    return json(out);
  };

  const github = (req: Request, path: string) => {
    const user = accessTokens.get((req.headers.get("authorization") ?? "").replace(/^Bearer /, ""));
    if (!user) return json({ message: "Bad credentials" }, 401);
    if (path === "/api/user") return json({ login: user.login ?? user.sub });
    if (path === "/api/user/emails") {
      return json([{ email: user.email, verified: user.emailVerified, primary: true }]);
    }
    if (path === "/api/user/orgs") return json((user.orgs ?? []).map((login) => ({ login })));
    return json({ message: "Not Found" }, 404);
  };

  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/oidc/.well-known/openid-configuration":
        return json({
          issuer: idp.issuer,
          authorization_endpoint: `${origin}/oidc/authorize`,
          token_endpoint: `${origin}/oidc/token`,
          jwks_uri: `${origin}/oidc/jwks`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
          code_challenge_methods_supported: ["S256"],
        });
      case "/oidc/jwks":
        return json({ keys: [jwk] });
      case "/oidc/authorize":
      case "/login/oauth/authorize":
        return authorize(url);
      case "/oidc/token":
        return await token(req, true);
      case "/login/oauth/access_token":
        return await token(req, false);
      default:
        return url.pathname.startsWith("/api/") ? github(req, url.pathname) : json({}, 404);
    }
  });
  origin = `http://127.0.0.1:${server.addr.port}`;
  idp.url = origin;
  idp.issuer = `${origin}/oidc`;
  return idp;
}
