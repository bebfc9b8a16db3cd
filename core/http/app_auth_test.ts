import assert from "node:assert/strict";
import { Hono } from "hono";
import { API_BASE, PUBLIC_ROUTES } from "./app.ts";
import { SESSION_COOKIE, TOKEN_PROVIDER } from "./auth.ts";
import { type Role, ROLES } from "./roles.ts";
import { testServer } from "./test_support.ts";

Deno.test("every registered route is public by list or answers 401 without a token and 403 below its role", async () => {
  const s = await testServer();
  try {
    const doc = await (await s.call(`${API_BASE}/openapi.json`)).json();
    const declared = new Map<string, Role>();
    for (
      const [path, ops] of Object.entries(
        doc.paths as Record<string, Record<string, Record<string, unknown>>>,
      )
    ) {
      for (const [method, op] of Object.entries(ops)) {
        const hono = `${method.toUpperCase()} ${API_BASE}${path.replace(/\{(\w+)\}/g, ":$1")}`;
        declared.set(hono, op["x-sluice-role"] as Role);
      }
    }
    const routes = new Set(
      s.app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`),
    );
    assert.ok(routes.size > 25, `expected the whole API, found ${routes.size} routes`);
    let checked = 0;
    for (const route of routes) {
      if (PUBLIC_ROUTES.includes(route)) continue;
      const role = declared.get(route);
      assert.ok(role && ROLES.includes(role), `${route} declares no role and is not public`);
      const [method, path] = route.split(" ");
      const url = path.replace(/:(\w+)/g, "x$1");
      const init = (as?: Role) =>
        s.call(url, {
          method,
          as,
          headers: { "content-type": "application/json" },
          body: ["GET", "HEAD"].includes(method) ? undefined : "{}",
        });
      const anon = await init();
      assert.equal(anon.status, 401, `${route} without a token`);
      assert.equal(anon.headers.get("content-type"), "application/problem+json");
      await anon.body?.cancel();
      for (const weaker of ROLES.slice(0, ROLES.indexOf(role))) {
        const res = await init(weaker);
        assert.equal(res.status, 403, `${route} with a ${weaker} token (needs ${role})`);
        const body = await res.json();
        assert.match(body.detail, new RegExp(`needs the ${role} role`));
      }
      const ok = await init(role);
      assert.ok(![401, 403].includes(ok.status), `${route} with a ${role} token: ${ok.status}`);
      await ok.body?.cancel();
      checked++;
    }
    assert.ok(checked >= 25, `checked ${checked} routes`);
    for (const p of PUBLIC_ROUTES) assert.ok(routes.has(p), `public route ${p} exists`);
  } finally {
    await s.dispose();
  }
});

Deno.test("a bad, revoked or expired token is refused with 401", async () => {
  let now = Date.now();
  const s = await testServer({ deps: { now: () => now } });
  try {
    const bad = await s.app.request(`${API_BASE}/runs`, {
      headers: { authorization: "Bearer slc_nope" },
    });
    assert.equal(bad.status, 401);
    assert.match((await bad.json()).detail, /not hold a valid API token/);
    const { token, info } = await s.tokens.create({
      name: "short",
      role: "viewer",
      expiresAt: now + 1000,
    });
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await s.app.request(`${API_BASE}/runs`, { headers: auth })).status, 200);
    now += 2000;
    assert.equal((await s.app.request(`${API_BASE}/runs`, { headers: auth })).status, 401);
    const { token: t2, info: i2 } = await s.tokens.create({ name: "rev", role: "viewer" });
    assert.notEqual(i2.id, info.id);
    const del = await s.call(`${API_BASE}/tokens/${i2.id}`, { method: "DELETE", as: "admin" });
    assert.equal(del.status, 204);
    const after = await s.app.request(`${API_BASE}/runs`, {
      headers: { authorization: `Bearer ${t2}` },
    });
    assert.equal(after.status, 401);
  } finally {
    await s.dispose();
  }
});

Deno.test("a token's session lives only while the token does, across restarts (real HTTP on loopback)", async () => {
  const s1 = await testServer();
  let s2: Awaited<ReturnType<typeof testServer>> | undefined;
  const serve = (s: typeof s1) => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req, info) => s.app.fetch(req, info),
    );
    return { server, url: `http://127.0.0.1:${server.addr.port}` };
  };
  let live = serve(s1);
  try {
    const me = async (cookie: string) => {
      const res = await fetch(`${live.url}${API_BASE}/me`, { headers: { cookie } });
      return { status: res.status, body: await res.json() };
    };
    const sessionOf = async (tokenId: string | undefined) => {
      const { id } = await s1.sessions.create({
        subject: "token:laptop",
        role: "admin",
        provider: TOKEN_PROVIDER,
        tokenId,
      });
      return `${SESSION_COOKIE}=${id}`;
    };
    const { info } = await s1.tokens.create({ name: "laptop", role: "admin" });
    const { info: other } = await s1.tokens.create({ name: "desk", role: "admin" });
    const cookie = await sessionOf(info.id);
    const keep = await sessionOf(other.id);
    assert.equal((await me(cookie)).body.role, "admin");
    // A session from before sessions recorded their token cannot be tied to one: it ends.
    assert.equal((await me(await sessionOf(undefined))).status, 401);

    const del = await fetch(`${live.url}${API_BASE}/tokens/${info.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${s1.token.admin}` },
    });
    assert.equal(del.status, 204);
    const after = await me(cookie);
    assert.equal(after.status, 401, JSON.stringify(after.body));
    assert.equal((await me(keep)).body.role, "admin", "another token's session stays");

    // A restart on the same KV file changes nothing.
    await live.server.shutdown();
    await s1.stop();
    s2 = await testServer({ dir: s1.dir });
    live = serve(s2);
    assert.equal((await me(cookie)).status, 401);
    assert.equal((await me(keep)).body.role, "admin");
  } finally {
    await live.server.shutdown();
    if (s2) await s2.dispose();
    else await s1.dispose();
  }
});

Deno.test("an unknown /api path answers a JSON 404, never the UI's login redirect", async () => {
  // Stands in for the web UI mounted at `/`: it sends everything it gets to its login page.
  const ui = new Hono().all("*", (c) => c.redirect("/login?next=x", 303));
  const s = await testServer({ deps: { ui } });
  try {
    assert.equal((await s.call("/somewhere")).status, 303, "the UI still gets its own paths");
    for (const as of ["admin", "viewer", undefined] as const) {
      for (
        const [method, path] of [
          ["GET", `${API_BASE}/nonexistent`],
          ["POST", `${API_BASE}/runs/x/y/z`],
          ["GET", "/api/v2/runs"],
        ]
      ) {
        const res = await s.call(path, { method, as });
        assert.equal(res.status, 404, `${method} ${path} as ${as ?? "nobody"}`);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const body = await res.json();
        assert.equal(body.status, 404);
        assert.match(body.detail, new RegExp(`no route ${method} ${path}; see ${API_BASE}/docs`));
      }
    }
    // A webhook URL opened in a browser or sent with GET: 405 and what to send instead.
    for (const method of ["GET", "PUT"]) {
      const res = await s.call("/hooks/leads/crm", { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get("allow"), "POST");
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      assert.match((await res.json()).detail, new RegExp(`webhooks take POST only, not ${method}`));
    }
    assert.equal((await s.call("/hooks/a/b/c")).status, 404, "not a webhook URL at all");
    // Known routes keep answering.
    assert.equal((await s.call(`${API_BASE}/runs`, { as: "viewer" })).status, 200);
  } finally {
    await s.dispose();
  }
});

Deno.test("a 401 names only the login pages this server has: /login with the UI, /auth/login with a provider", async () => {
  const detail = async (deps: Parameters<typeof testServer>[0]) => {
    const s = await testServer(deps);
    try {
      const res = await s.call(`${API_BASE}/runs`);
      assert.equal(res.status, 401);
      return (await res.json()).detail as string;
    } finally {
      await s.dispose();
    }
  };
  const apiOnly = await detail({});
  assert.match(apiOnly, /Authorization: Bearer slc_/);
  assert.doesNotMatch(apiOnly, /\/login/);
  const withUi = await detail({ deps: { ui: new Hono() } });
  assert.match(withUi, /log in at \/login\b/);
  assert.doesNotMatch(withUi, /\/auth\/login/);
  const withSso = await detail({
    deps: {
      ui: new Hono(),
      login: {
        providers: [{ kind: "oidc", id: "idp", issuer: "https://idp.example", clientId: "c" }],
        allow: [],
      },
    },
  });
  assert.match(withSso, /\/login or \/auth\/login/);
});
