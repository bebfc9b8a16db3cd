import assert from "node:assert/strict";
import { API_BASE } from "./app.ts";
import { SESSION_COOKIE, TOKEN_PROVIDER } from "./auth.ts";
import { testServer } from "./test_support.ts";

Deno.test("security headers, correlation ids in answers and logs, problem+json 404", async () => {
  const s = await testServer();
  try {
    const res = await s.call("/nope", { headers: { "x-request-id": "abc-123" } });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    assert.equal(res.headers.get("x-request-id"), "abc-123");
    const body = await res.json();
    assert.equal(body.requestId, "abc-123");
    assert.match(body.detail, /no route GET \/nope/);
    assert.match(res.headers.get("content-security-policy")!, /frame-ancestors 'none'/);
    assert.doesNotMatch(
      res.headers.get("content-security-policy")!,
      /script-src[^;]*unsafe-inline/,
    );
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.ok(s.logs.some((l) => {
      const o = JSON.parse(l);
      return o.msg === "request" && o.requestId === "abc-123" && o.status === 404;
    }));
    const evil = await s.call("/healthz", { headers: { "x-request-id": "bad id\u0001" } });
    assert.match(evil.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
  } finally {
    await s.dispose();
  }
});

Deno.test("OpenAPI 3.1 document and a self-contained reference page", async () => {
  const s = await testServer();
  try {
    const doc = await (await s.call(`${API_BASE}/openapi.json`)).json();
    assert.equal(doc.openapi, "3.1.0");
    assert.equal(doc.paths["/runs/{id}/items"].get["x-sluice-role"], "viewer");
    assert.equal(doc.paths["/tokens"].post["x-sluice-role"], "admin");
    assert.ok(doc.components.securitySchemes.bearerAuth);
    const page = await s.call(`${API_BASE}/docs`);
    const html = await page.text();
    assert.match(html, /<script src="\/api\/v1\/docs\.js"><\/script>/);
    assert.doesNotMatch(html, /https?:\/\//, "no CDN or other outside URL");
    const js = await s.call(`${API_BASE}/docs.js`);
    assert.match(js.headers.get("content-type")!, /javascript/);
    assert.match(await js.text(), /openapi\.json/);
  } finally {
    await s.dispose();
  }
});

Deno.test("bodies above the limit get 413; rate limits answer 429 with Retry-After", async () => {
  let now = 1_000_000;
  const s = await testServer({
    deps: {
      now: () => now,
      limits: {
        jsonBytes: 200,
        perIp: { rate: 50, perMs: 1000 },
        perPrincipal: { rate: 3, perMs: 3000 },
      },
    },
  });
  try {
    const big = await s.call(`${API_BASE}/pipelines/validate`, {
      method: "POST",
      as: "viewer",
      json: { yaml: "x".repeat(500) },
    });
    assert.equal(big.status, 413);
    assert.match((await big.json()).detail, /larger than 200 bytes/);
    const chunked = await s.call(`${API_BASE}/pipelines/validate`, {
      method: "POST",
      as: "operator",
      headers: { "content-type": "application/json" },
      body: new Blob([JSON.stringify({ yaml: "y".repeat(500) })]).stream(),
    });
    assert.equal(chunked.status, 413);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await s.call(`${API_BASE}/runs`, { as: "admin" })).status);
    }
    assert.deepEqual(statuses, [200, 200, 200]);
    const limited = await s.call(`${API_BASE}/runs`, { as: "admin" });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "1");
    now += 1000;
    assert.equal((await s.call(`${API_BASE}/runs`, { as: "admin" })).status, 200);
    let ipLimited: Response | undefined;
    for (let i = 0; i < 60 && !ipLimited; i++) {
      const r = await s.call("/auth/providers");
      if (r.status === 429) ipLimited = r;
      else await r.body?.cancel();
    }
    assert.ok(ipLimited, "per-address limit reached");
    assert.ok(Number(ipLimited.headers.get("retry-after")) >= 1);
    assert.equal((await s.call("/healthz")).status, 200, "health is never limited");
  } finally {
    await s.dispose();
  }
});

Deno.test("session requests that change state need our Origin or the CSRF token", async () => {
  const s = await testServer();
  try {
    const { info } = await s.tokens.create({ name: "ops", role: "operator" });
    const { id, session } = await s.sessions.create({
      subject: "ops@example.com",
      role: "operator",
      provider: TOKEN_PROVIDER,
      tokenId: info.id,
    });
    const cookie = `${SESSION_COOKIE}=${id}`;
    const me = await (await s.call(`${API_BASE}/me`, { headers: { cookie } })).json();
    assert.deepEqual(me, {
      kind: "session",
      name: "ops@example.com",
      role: "operator",
      csrf: session.csrf,
    });
    const post = (headers: Record<string, string>) =>
      s.call(`${API_BASE}/pipelines/validate`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", ...headers },
        body: JSON.stringify({ yaml: "name: x" }),
      });
    const cross = await post({ origin: "https://evil.example" });
    assert.equal(cross.status, 403);
    assert.match((await cross.json()).detail, /Origin https:\/\/evil\.example is not this server/);
    assert.equal((await post({})).status, 403);
    assert.equal((await post({ origin: "http://localhost" })).status, 200);
    assert.equal((await post({ "x-csrf-token": session.csrf })).status, 200);
    assert.equal((await post({ "x-csrf-token": "wrong" })).status, 403);
  } finally {
    await s.dispose();
  }
});
