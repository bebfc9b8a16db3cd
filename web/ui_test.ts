import assert from "node:assert/strict";
import { createApp } from "../core/http/app.ts";
import { genPipeline, testServer } from "../core/http/test_support.ts";
import { withUi } from "./mod.ts";

async function uiServer() {
  const ts = await testServer();
  const { app } = createApp(
    await withUi(ts.deps, { config: () => "server:\n  adminToken: ********\n" }),
  );
  const jar: Record<string, string> = {};
  const req = async (path: string, init: RequestInit & { as?: string } = {}) => {
    const headers = new Headers(init.headers);
    const cookie = init.as ? jar[init.as] : undefined;
    if (cookie) headers.set("cookie", cookie);
    return await app.request(`http://localhost${path}`, { ...init, headers, redirect: "manual" });
  };
  const login = async (role: "viewer" | "operator" | "admin") => {
    const body = new URLSearchParams({ token: ts.token[role], next: "/runs" });
    const res = await req("/login", {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/runs");
    jar[role] = res.headers.get("set-cookie")!.split(";")[0];
  };
  return { ts, app, req, login };
}

Deno.test("pages need a session; a token logs in with its role", async () => {
  const { ts, req, login } = await uiServer();
  try {
    const anon = await req("/pipelines");
    assert.equal(anon.status, 303);
    assert.equal(anon.headers.get("location"), "/login?next=%2Fpipelines");
    const page = await (await req("/login")).text();
    assert.match(page, /name="token"/);
    const bad = await req("/login", {
      method: "POST",
      body: new URLSearchParams({ token: "slc_nope", next: "/" }),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(bad.status, 400);
    const badText = await bad.text();
    assert.match(badText, /unknown, expired or revoked/);
    // Says where tokens really come from (there is no `sluice token` command).
    assert.match(badText, /Settings → API tokens here, or `POST \/api\/v1\/tokens`/);
    assert.doesNotMatch(badText, /sluice token/);
    // An unknown API path is the API's JSON 404, not a redirect to this login page.
    const auth: Record<string, string>[] = [{}, { authorization: `Bearer ${ts.token.admin}` }];
    for (const headers of auth) {
      const api = await req("/api/v1/nonexistent", { headers });
      assert.equal(api.status, 404);
      assert.equal(api.headers.get("content-type"), "application/problem+json");
      assert.match((await api.json()).detail, /no route GET \/api\/v1\/nonexistent/);
    }
    const evil = await req("/login", {
      method: "POST",
      body: new URLSearchParams({ token: ts.token.admin }),
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example",
      },
    });
    assert.equal(evil.status, 400);
    assert.equal(evil.headers.get("set-cookie"), null);
    await login("viewer");
    const html = await (await req("/pipelines", { as: "viewer" })).text();
    assert.match(html, /No pipelines yet/);
    assert.doesNotMatch(html, /New pipeline/, "a viewer sees no edit buttons");
  } finally {
    await ts.dispose();
  }
});

Deno.test("every page renders with data, role-aware, without inline scripts", async () => {
  const { ts, req, login } = await uiServer();
  try {
    await ts.writePipeline("p1", genPipeline("p1", 30));
    const start = await ts.call("/api/v1/pipelines/p1/runs", {
      method: "POST",
      as: "operator",
      json: {},
    });
    const run = await start.json();
    await ts.engine.waitForRun(run.id);
    await login("operator");
    await login("viewer");
    await login("admin");
    const pages = {
      "/": /Runs per hour by state/,
      "/pipelines": /p1/,
      "/pipelines/p1": /id="yaml-text"/,
      "/pipelines/new": /my-pipeline/,
      "/runs": new RegExp(run.id),
      [`/runs/${run.id}`]: /data-stage="tag"/,
      [`/runs/${run.id}/items?band=A`]: /Download CSV/,
      "/plugins": /gen-source/,
      "/triggers": /Schedules/,
      "/settings": /API tokens/,
    };
    for (const [path, re] of Object.entries(pages)) {
      const res = await req(path, { as: "admin" });
      assert.equal(res.status, 200, path);
      const html = await res.text();
      assert.match(html, re, path);
      assert.match(res.headers.get("content-security-policy") ?? "", /script-src 'self'/);
      for (const m of html.matchAll(/<script([^>]*)>/g)) {
        assert.ok(/src=|type="application\/json"/.test(m[1]), `inline script on ${path}: ${m[0]}`);
      }
    }
    const op = await (await req("/pipelines/p1", { as: "operator" })).text();
    assert.match(op, /id="save"/);
    const vw = await (await req("/pipelines/p1", { as: "viewer" })).text();
    assert.doesNotMatch(vw, /id="save"/);
    assert.match(vw, /readonly/);
    const settings = await (await req("/settings", { as: "viewer" })).text();
    assert.doesNotMatch(settings, /adminToken/, "config is for admins only");
    const adminSettings = await (await req("/settings", { as: "admin" })).text();
    assert.match(adminSettings, /adminToken: \*\*\*\*\*\*\*\*/);

    // The leads table and its download use the API's selection.
    const leads = await (await req(`/runs/${run.id}/items?band=A&sort=-key`, { as: "viewer" }))
      .text();
    const rows = [...leads.matchAll(/<summary>([^<]+)<\/summary>/g)].map((m) => m[1]);
    assert.ok(rows.length > 0);
    const href = /id="download-csv" href="([^"]+)"/.exec(leads)![1].replaceAll("&amp;", "&");
    assert.match(href, /filter=band%3DA/);
    const csv = await (await ts.call(href, { as: "viewer" })).text();
    assert.equal(csv.trim().split("\n").length, 31, "header + 30 items");
    const none = await (await req(`/runs/${run.id}/items?band=Z`, { as: "viewer" })).text();
    assert.match(none, /No items match/);

    const missing = await req("/runs/nope", { as: "viewer" });
    assert.equal(missing.status, 404);
  } finally {
    await ts.dispose();
  }
});

Deno.test("static bundles are served with a versioned, immutable URL", async () => {
  const { ts, req } = await uiServer();
  try {
    const login = await (await req("/login")).text();
    const src = /<script type="module" src="([^"]+)"/.exec(login)![1];
    assert.match(src, /^\/static\/app\.js\?v=[0-9a-f]{12}$/);
    const res = await req(src);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /javascript/);
    assert.match(res.headers.get("cache-control")!, /immutable/);
    assert.ok((await res.text()).length > 1000);
  } finally {
    await ts.dispose();
  }
});

Deno.test("a session made from a token ends when the token is revoked or expires (real HTTP on loopback)", async () => {
  let now = Date.now();
  const ts = await testServer({ deps: { now: () => now } });
  const { app } = createApp(await withUi(ts.deps));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (r, info) => app.fetch(r, info),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  const admin = { authorization: `Bearer ${ts.token.admin}` };
  const logIn = async (token: string) => {
    const res = await fetch(`${url}/login`, {
      method: "POST",
      body: new URLSearchParams({ token, next: "/settings" }),
      headers: { "content-type": "application/x-www-form-urlencoded", origin: url },
      redirect: "manual",
    });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    const cookie = res.headers.get("set-cookie")!.split(";")[0];
    return { cookie, sid: cookie.slice(cookie.indexOf("=") + 1) };
  };
  const me = async (cookie: string) => {
    const res = await fetch(`${url}/api/v1/me`, { headers: { cookie } });
    return { status: res.status, body: await res.json() };
  };
  const page = async (cookie: string) => {
    const res = await fetch(`${url}/settings`, { headers: { cookie }, redirect: "manual" });
    await res.body?.cancel();
    return [res.status, res.headers.get("location")];
  };
  try {
    // Revocation: an admin token made through the API, a login with it, then DELETE.
    const made = await (await fetch(`${url}/api/v1/tokens`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ name: "laptop", role: "admin" }),
    })).json();
    const a = await logIn(made.token);
    const before = (await me(a.cookie)).body;
    assert.deepEqual([before.kind, before.role], ["session", "admin"]);
    assert.deepEqual(await page(a.cookie), [200, null]);
    const del = await fetch(`${url}/api/v1/tokens/${made.info.id}`, {
      method: "DELETE",
      headers: admin,
    });
    assert.equal(del.status, 204);
    const after = await me(a.cookie);
    assert.equal(after.status, 401, `still logged in: ${JSON.stringify(after.body)}`);
    assert.deepEqual(await page(a.cookie), [303, "/login?next=%2Fsettings"]);
    assert.equal(await ts.sessions.get(a.sid), undefined, "the session is gone from the store");

    // Expiry: a token valid for one more second; its session dies with it, not 12 h later.
    const short = await ts.tokens.create({
      name: "short",
      role: "operator",
      expiresAt: now + 1000,
    });
    const b = await logIn(short.token);
    assert.equal((await me(b.cookie)).body.role, "operator");
    now += 2000;
    assert.equal((await me(b.cookie)).status, 401);
    assert.deepEqual(await page(b.cookie), [303, "/login?next=%2Fsettings"]);

    // Other tokens' sessions are untouched.
    const c = await logIn(ts.token.viewer);
    assert.equal((await me(c.cookie)).body.role, "viewer");
  } finally {
    await server.shutdown();
    await ts.dispose();
  }
});
