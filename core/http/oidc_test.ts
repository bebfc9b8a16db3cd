import assert from "node:assert/strict";
import { API_BASE } from "./app.ts";
import { SESSION_COOKIE } from "./auth.ts";
import { LOGIN_COOKIE, parseAllowList, safeNext } from "./oidc.ts";
import { startFakeIdp } from "./testdata/fake_idp.ts";
import { testServer } from "./test_support.ts";

const ORIGIN = "http://localhost";

function cookie(res: Response, name: string): { value: string; attrs: string } | undefined {
  for (const c of res.headers.getSetCookie()) {
    if (c.startsWith(`${name}=`)) {
      const [pair, ...attrs] = c.split(";");
      return { value: pair.slice(name.length + 1), attrs: attrs.join(";") };
    }
  }
  return undefined;
}

async function setup() {
  const idp = await startFakeIdp({ redirectUris: [`${ORIGIN}/auth/callback`] });
  const s = await testServer({
    deps: {
      publicUrl: ORIGIN,
      login: {
        allowInsecureIssuer: true,
        providers: [
          {
            kind: "oidc",
            id: "idp",
            issuer: idp.issuer,
            clientId: idp.clientId,
            clientSecret: idp.clientSecret,
          },
          {
            kind: "github",
            id: "github",
            issuer: idp.url,
            apiBase: `${idp.url}/api`,
            clientId: idp.clientId,
            clientSecret: idp.clientSecret,
          },
        ],
        allow: parseAllowList(["alice@example.com=admin", "@example.org", "org:acme=operator"]),
      },
    },
  });
  /** Runs the browser's part: login -> IdP -> callback; returns the callback's answer. */
  const login = async (provider: string, next = "/") => {
    const start = await s.call(`/auth/login?provider=${provider}&next=${encodeURIComponent(next)}`);
    assert.equal(start.status, 302);
    const loginCookie = cookie(start, LOGIN_COOKIE)!;
    const atIdp = await fetch(start.headers.get("location")!, { redirect: "manual" });
    await atIdp.body?.cancel();
    assert.equal(atIdp.status, 302, "the IdP sends the browser back");
    const back = new URL(atIdp.headers.get("location")!);
    assert.equal(back.origin + back.pathname, `${ORIGIN}/auth/callback`);
    const path = back.pathname + back.search;
    const res = await s.call(path, { headers: { cookie: `${LOGIN_COOKIE}=${loginCookie.value}` } });
    return { start, loginCookie, res, path };
  };
  return { idp, s, login };
}

Deno.test("OIDC login: PKCE + state + nonce, __Host- session cookie, allow-list roles, logout", async () => {
  const { idp, s, login } = await setup();
  try {
    const { start, loginCookie, res, path } = await login("idp", "/runs?state=failed");
    const authz = idp.authorizeRequests[0];
    assert.equal(authz.get("code_challenge_method"), "S256");
    assert.ok(authz.get("nonce") && authz.get("state"));
    assert.equal(authz.get("scope"), "openid email profile");
    assert.match(start.headers.get("location")!, new RegExp(`^${idp.issuer}/authorize\\?`));
    assert.match(loginCookie.attrs, /Path=\//);
    assert.match(loginCookie.attrs, /Secure/);
    assert.match(loginCookie.attrs, /HttpOnly/);
    assert.match(loginCookie.attrs, /SameSite=Lax/);
    assert.equal(res.status, 302, await res.clone().text());
    assert.equal(res.headers.get("location"), "/runs?state=failed");
    assert.equal(idp.pkceVerified, 1);
    const session = cookie(res, SESSION_COOKIE)!;
    assert.match(session.attrs, /Secure/);
    assert.match(session.attrs, /HttpOnly/);
    assert.match(session.attrs, /SameSite=Lax/);
    assert.doesNotMatch(session.attrs, /Domain=/);
    const me = await (await s.call(`${API_BASE}/me`, {
      headers: { cookie: `${SESSION_COOKIE}=${session.value}` },
    })).json();
    assert.equal(me.name, "alice@example.com");
    assert.equal(me.role, "admin");

    const replay = await s.call(path, {
      headers: { cookie: `${LOGIN_COOKIE}=${loginCookie.value}` },
    });
    assert.equal(replay.status, 400, "a state is usable once");
    assert.match((await replay.json()).detail, /expired or was already used/);

    const logoutCross = await s.call("/auth/logout", {
      method: "POST",
      headers: { cookie: `${SESSION_COOKIE}=${session.value}`, origin: "https://evil.example" },
    });
    assert.equal(logoutCross.status, 403);
    const form = new URLSearchParams({ csrf: me.csrf });
    const logout = await s.call("/auth/logout", {
      method: "POST",
      headers: {
        cookie: `${SESSION_COOKIE}=${session.value}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: form.toString(),
    });
    assert.equal(logout.status, 303);
    const after = await s.call(`${API_BASE}/me`, {
      headers: { cookie: `${SESSION_COOKIE}=${session.value}` },
    });
    assert.equal(after.status, 401);
  } finally {
    await s.dispose();
    await idp.close();
  }
});

Deno.test("OIDC login refuses strangers, unverified e-mails, foreign state and off-site redirects", async () => {
  const { idp, s, login } = await setup();
  try {
    idp.user = { sub: "u2", email: "bob@elsewhere.com", emailVerified: true };
    const stranger = (await login("idp")).res;
    assert.equal(stranger.status, 403);
    assert.match((await stranger.json()).detail, /bob@elsewhere\.com may not use this server/);
    assert.equal(cookie(stranger, SESSION_COOKIE), undefined);

    idp.user = { sub: "u3", email: "alice@example.com", emailVerified: false };
    assert.equal((await login("idp")).res.status, 403, "an unverified e-mail matches nothing");

    idp.user = { sub: "u4", email: "carol@example.org", emailVerified: true };
    const evil = await login("idp", "//evil.example/x");
    assert.equal(evil.res.status, 302);
    assert.equal(evil.res.headers.get("location"), "/");
    const sid = cookie(evil.res, SESSION_COOKIE)!.value;
    const me =
      await (await s.call(`${API_BASE}/me`, { headers: { cookie: `${SESSION_COOKIE}=${sid}` } }))
        .json();
    assert.equal(me.role, "viewer");

    const start = await s.call("/auth/login?provider=idp");
    const atIdp = await fetch(start.headers.get("location")!, { redirect: "manual" });
    await atIdp.body?.cancel();
    const back = new URL(atIdp.headers.get("location")!);
    const noCookie = await s.call(back.pathname + back.search);
    assert.equal(noCookie.status, 400);
    assert.match((await noCookie.json()).detail, /not started in this browser/);
    assert.equal((await s.call("/auth/login?provider=nope")).status, 404);
  } finally {
    await s.dispose();
    await idp.close();
  }
});

Deno.test("GitHub login maps org membership to a role", async () => {
  const { idp, s, login } = await setup();
  try {
    idp.user = {
      sub: "9",
      login: "dave",
      email: "dave@users.example",
      emailVerified: true,
      orgs: ["Acme"],
    };
    const { res } = await login("github", "/pipelines");
    assert.equal(res.status, 302, await res.clone().text());
    assert.equal(res.headers.get("location"), "/pipelines");
    assert.equal(idp.authorizeRequests[0].get("scope"), "read:user user:email read:org");
    const sid = cookie(res, SESSION_COOKIE)!.value;
    const me =
      await (await s.call(`${API_BASE}/me`, { headers: { cookie: `${SESSION_COOKIE}=${sid}` } }))
        .json();
    assert.equal(me.role, "operator");
    assert.equal(me.name, "dave@users.example");
  } finally {
    await s.dispose();
    await idp.close();
  }
});

Deno.test("a login session ends when its user leaves the allow-list, and shrinks with a smaller role", async () => {
  const { idp, s, login } = await setup();
  let s2: Awaited<ReturnType<typeof testServer>> | undefined;
  try {
    const sessionOf = async (provider: string, user: typeof idp.user) => {
      idp.user = user;
      const { res } = await login(provider);
      assert.equal(res.status, 302, await res.clone().text());
      return `${SESSION_COOKIE}=${cookie(res, SESSION_COOKIE)!.value}`;
    };
    const alice = await sessionOf("idp", {
      sub: "u1",
      email: "alice@example.com",
      emailVerified: true,
    });
    const carol = await sessionOf("idp", {
      sub: "u4",
      email: "carol@example.org",
      emailVerified: true,
    });
    const dave = await sessionOf("github", {
      sub: "9",
      login: "dave",
      email: "dave@users.example",
      emailVerified: true,
      orgs: ["Acme"],
    });
    const me = async (srv: typeof s, cookie: string) => {
      const res = await srv.call(`${API_BASE}/me`, { headers: { cookie } });
      return res.status === 200 ? (await res.json()).role : res.status;
    };
    assert.deepEqual([await me(s, alice), await me(s, carol), await me(s, dave)], [
      "admin",
      "viewer",
      "operator",
    ]);

    // The operator edits auth.oidc.allow (alice removed, acme down to viewer) and restarts.
    await s.stop();
    s2 = await testServer({
      dir: s.dir,
      deps: {
        publicUrl: ORIGIN,
        login: { ...s.deps.login!, allow: parseAllowList(["@example.org", "org:acme=viewer"]) },
      },
    });
    assert.equal(await me(s2, alice), 401, "alice is no longer on the allow-list");
    assert.equal(await me(s2, carol), "viewer");
    assert.equal(await me(s2, dave), "viewer", "at most the role the list grants now");
  } finally {
    if (s2) await s2.dispose();
    else await s.dispose();
    await idp.close();
  }
});

Deno.test("safeNext keeps same-origin paths only; allow entries parse roles", () => {
  assert.equal(safeNext("/runs?x=1#y"), "/runs?x=1#y");
  for (
    const bad of [
      "//evil.com",
      "/\\evil.com",
      "https://evil.com",
      "javascript:alert(1)",
      "/a\nb",
      "",
    ]
  ) {
    assert.equal(safeNext(bad), "/", bad);
  }
  assert.deepEqual(parseAllowList(["a@b.c", "@d.e=operator", "org:x=admin"]), [
    { match: "a@b.c", role: "viewer" },
    { match: "@d.e", role: "operator" },
    { match: "org:x", role: "admin" },
  ]);
  assert.throws(
    () => parseAllowList(["a@b.c=root"]),
    /role must be one of viewer, operator, admin/,
  );
});
