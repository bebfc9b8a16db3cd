import assert from "node:assert/strict";
import { createApp } from "../core/http/app.ts";
import { genPipeline, testServer } from "../core/http/test_support.ts";
import type { ScheduleInfo, ScheduleService } from "../core/http/deps.ts";
import { withUi } from "./mod.ts";
import { join } from "../core/paths.ts";

async function uiServer(ui: { leadsMaxScan?: number } = {}) {
  const ts = await testServer();
  const { app } = createApp(
    await withUi(ts.deps, { config: () => "server:\n  adminToken: ********\n", ...ui }),
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
    // ... with the API path as code, not between literal backticks.
    assert.match(
      badText,
      /Settings → API tokens here, or <code>POST \/api\/v1\/tokens<\/code> with an admin token/,
    );
    assert.doesNotMatch(badText, /`/, "no literal backticks on the login page");
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

Deno.test("behind a TLS reverse proxy: login and session writes need server.publicUrl, and say so", async () => {
  const ts = await testServer();
  try {
    // The proxy forwards Host; the browser sends the https origin it opened.
    const proxied = async (publicUrl?: string) => {
      const { app } = createApp(await withUi({ ...ts.deps, publicUrl }, { config: () => "" }));
      const req = (path: string, init: RequestInit) =>
        app.request(`http://sluice.example.com${path}`, { ...init, redirect: "manual" });
      const origin = "https://sluice.example.com";
      const login = await req("/login", {
        method: "POST",
        body: new URLSearchParams({ token: ts.token.operator, next: "/runs" }),
        headers: { "content-type": "application/x-www-form-urlencoded", origin },
      });
      const cookie = login.headers.get("set-cookie")?.split(";")[0];
      return { login, cookie, req, origin };
    };
    const bare = await proxied();
    assert.equal(bare.login.status, 400);
    const text = await bare.login.text();
    assert.match(text, /Origin https:\/\/sluice\.example\.com is not this server/);
    assert.match(text, /\(http:\/\/sluice\.example\.com\)/);
    assert.match(text, /set server\.publicUrl \(SLUICE_SERVER_PUBLIC_URL\)/);

    const set = await proxied("https://sluice.example.com");
    assert.equal(set.login.status, 303);
    assert.ok(set.cookie);
    const validate = (headers: Record<string, string>) =>
      set.req("/api/v1/pipelines/validate", {
        method: "POST",
        headers: { cookie: set.cookie!, "content-type": "application/json", ...headers },
        body: JSON.stringify({ yaml: "name: x" }),
      });
    assert.equal((await validate({ origin: set.origin })).status, 200);
    const evil = await validate({ origin: "https://evil.example" });
    assert.equal(evil.status, 403);
    const detail = (await evil.json()).detail;
    assert.match(detail, /Origin https:\/\/evil\.example is not this server/);
    assert.doesNotMatch(detail, /SLUICE_SERVER_PUBLIC_URL/, "publicUrl is set: no hint");
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
    // A secret written in the file: valid, and its page says where, as a warning.
    await ts.writePipeline(
      "lit",
      "name: lit\nsource: { plugin: gen-source }\nstages:\n  - id: hook\n" +
        "    plugin: webhook-export\n    with: { url: 'https://crm.example.com/', secret: s3cr3t }\n",
    );
    const lit = await (await req("/pipelines/lit", { as: "operator" })).text();
    assert.match(
      lit,
      /<li class="warn" data-line="6"[^>]*>line 6:\d+: warning: .*secret written in the pipeline file/,
    );
    assert.match(lit, /No problems\./);
    const litApi = await (await ts.call("/api/v1/pipelines/lit", { as: "viewer" })).json();
    assert.match(litApi.warnings[0].text, /lit\.yaml:6:\d+: .*secret written in the pipeline file/);
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
    assert.match(href, /band=A/);
    const csv = await (await req(href, { as: "viewer" })).text();
    assert.equal(csv.trim().split("\n").length, 31, "header + 30 items");
    const all = /id="download-all-csv" href="([^"]+)"/.exec(leads)![1].replaceAll("&amp;", "&");
    assert.match(all, /filter=band%3DA/);
    const every = await (await ts.call(all, { as: "viewer" })).text();
    assert.equal(every.trim().split("\n").length, 31, "every field: header + 30 items");
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

Deno.test("errors of pages are HTML pages in the layout; the API and JSON clients keep problem JSON", async () => {
  const ts = await testServer();
  // A catalog whose listing fails, to see a 500 page.
  const real = ts.deps.pipelines;
  const broken = new Proxy(real, {
    get: (t, k) => {
      if (k === "list") {
        return () => Promise.reject(new Error("kaboom in /srv/secret/catalog.ts:12"));
      }
      const v = Reflect.get(t, k);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
  const { app } = createApp(await withUi({ ...ts.deps, pipelines: broken }));
  const cookie = await loginCookie(app, ts.token.viewer);
  const get = (path: string, headers: Record<string, string> = {}, withCookie = true) =>
    app.request(`http://localhost${path}`, {
      headers: {
        accept: "text/html,application/xhtml+xml,*/*;q=0.8",
        ...headers,
        ...(withCookie ? { cookie } : {}),
      },
      redirect: "manual",
    });
  try {
    const pages: [string, RegExp][] = [
      ["/runs/doesnotexist", /no run doesnotexist/],
      ["/pipelines/doesnotexist", /no pipeline named doesnotexist/],
      ["/nope", /There is no page at \/nope\./],
      ["/runs/doesnotexist/items", /no run doesnotexist/],
    ];
    for (const [path, detail] of pages) {
      const res = await get(path);
      assert.equal(res.status, 404, path);
      assert.match(res.headers.get("content-type")!, /^text\/html/, path);
      assert.ok(res.headers.get("x-request-id"), path);
      const html = await res.text();
      assert.match(html, /<title>Not found · Sluice<\/title>/, path);
      assert.match(html, detail, path);
      assert.match(html, /<nav aria-label="Main">/, `${path}: the normal layout`);
      assert.match(html, /href="\/">Back to the dashboard<\/a>/, path);
      assert.match(html, /href="\/runs">Runs<\/a>/, path);
      assert.doesNotMatch(html, /api\/v1\/docs/, `${path}: no pointer to the API docs`);
      // A client asking for JSON still gets the problem document.
      const json = await get(path, { accept: "application/json" });
      assert.equal(json.status, 404);
      assert.equal(json.headers.get("content-type"), "application/problem+json");
      assert.equal((await json.json()).status, 404);
    }
    // A failure is a 500 page with the request id, never the error's text or stack.
    const boom = await get("/pipelines", { "x-request-id": "req-500" });
    assert.equal(boom.status, 500);
    const boomHtml = await boom.text();
    assert.match(boomHtml, /<title>Something went wrong · Sluice<\/title>/);
    assert.match(boomHtml, /quote request id req-500/);
    assert.doesNotMatch(boomHtml, /kaboom|secret|catalog\.ts|\n\s+at /);
    // The API and webhooks stay JSON, also for a browser.
    for (
      const [path, status] of [
        ["/api/v1/nonexistent", 404],
        ["/api/v1/runs/doesnotexist", 404],
        ["/hooks/p/h", 405], // a webhook URL opened in a browser: POST only
      ] as const
    ) {
      const res = await get(path);
      assert.equal(res.status, status, path);
      assert.equal(res.headers.get("content-type"), "application/problem+json", path);
      await res.body?.cancel();
    }
    // Without a session an error of /auth is a page with a way to log in.
    const auth = await get("/auth/login?provider=nope", {}, false);
    assert.equal(auth.status, 404);
    const authHtml = await auth.text();
    assert.match(authHtml, /browser login is not configured/);
    assert.match(authHtml, /href="\/login">Log in<\/a>/);
  } finally {
    await ts.dispose();
  }
});

Deno.test("the run page pages its rejected items, says how many there are, and downloads them all", async () => {
  const { ts, req, login } = await uiServer();
  try {
    // 500 items, every 2nd without a key: 250 rejected by the engine at the source.
    await ts.writePipeline(
      "rej",
      genPipeline("rej", 500).replace("count: 500", "count: 500\n    bad: 2"),
    );
    const started = await ts.call("/api/v1/pipelines/rej/runs", {
      method: "POST",
      as: "operator",
      json: {},
    });
    const run = await started.json();
    await ts.engine.waitForRun(run.id);
    await login("viewer");
    const html = await (await req(`/runs/${run.id}`, { as: "viewer" })).text();
    assert.match(html, /Showing the first 200 of 250 rejected items\./);
    const rows = (h: string) => /<table class="log" id="rejected">[\s\S]*?<\/table>/.exec(h)![0];
    assert.equal([...rows(html).matchAll(/<tr>/g)].length, 1 + 200, "header + 200 rows");
    const next = /id="rejected-next"|rel="next" id="rejected-next"/.test(html) &&
      /href="([^"]+)"[^>]*id="rejected-next"/.exec(html)![1].replaceAll("&amp;", "&");
    assert.equal(next, `/runs/${run.id}?rejected=200#rejected-h`);
    const second = await (await req(`/runs/${run.id}?rejected=200`, { as: "viewer" })).text();
    assert.match(second, /Showing rejected items 201–250 of 250\./);
    assert.equal([...rows(second).matchAll(/<tr>/g)].length, 1 + 50);
    assert.doesNotMatch(second, /id="rejected-next"/);
    assert.match(second, /id="rejected-prev"/);
    // A dead letter says it waits for a replay, even when its error speaks of a retry.
    await ts.backend.store.addDeadLetter({
      runId: run.id,
      stage: 1,
      stageId: "t",
      chunk: 0,
      attempts: 3,
      error: "webhook paused after 4 failures; retrying after 2026-11-30T05:17:20Z",
      at: Date.now(),
      items: 1,
    });
    const parked = await (await req(`/runs/${run.id}`, { as: "viewer" })).text();
    assert.match(parked, /id="dead-note">\s*Parked after their last attempt: nothing retries them/);
    assert.match(parked, new RegExp(`sluice runs retry ${run.id}`));
    // The download holds all 250, as CSV and as JSON lines.
    const csvHref = /id="rejected-csv"\s+href="([^"]+)"/.exec(html)![1].replaceAll("&amp;", "&");
    const csv = await req(csvHref, { as: "viewer" });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get("content-type")!, /^text\/csv/);
    assert.match(csv.headers.get("content-disposition")!, /attachment; filename="rejected-/);
    const lines = (await csv.text()).trim().split("\n");
    assert.equal(lines[0], "stage,chunk,key,reason,raw");
    assert.equal(lines.length, 1 + 250);
    const jsonl = await (await req(`/runs/${run.id}/rejected?format=jsonl`, { as: "viewer" }))
      .text();
    const recs = jsonl.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(recs.length, 250);
    assert.equal(recs[0].stage, "source");
    assert.equal((await req(`/runs/${run.id}/rejected`)).status, 303, "a session is needed");

    // An uploaded file's rejected rows show the file name; the full path is in the title.
    await ts.writePipeline(
      "csv",
      "name: csv\nsource:\n  plugin: csv-source\nstages:\n  - id: tag\n    plugin: tag\n" +
        "    with: { field: band, value: B }\n",
    );
    const up = await ts.call("/api/v1/pipelines/csv/runs", {
      method: "POST",
      as: "operator",
      headers: { "content-type": "text/csv" },
      body: "name,domain\nAcme,acme.example\nBeta,beta.example,extra\n",
    });
    const csvRun = await up.json();
    await ts.engine.waitForRun(csvRun.id);
    const page = await (await req(`/runs/${csvRun.id}`, { as: "viewer" })).text();
    assert.match(page, /All 1 rejected item\(s\)\./);
    const cell = /<span title="(\/[^"]+)">([^<]+)<\/span>/.exec(page);
    assert.ok(cell, "the reason carries its full text in a title");
    assert.match(cell[1], /^\/.+\/[^/]+:3: row has 3 fields but the header has 2/);
    assert.match(cell[2], /^[^/\s]+:3: row has 3 fields but the header has 2/);
    assert.ok(!cell[2].includes(ts.dir), "the cell shows no server path");
  } finally {
    await ts.dispose();
  }
});

Deno.test("items page: long values wrap behind show more; a stopped text search says so and continues", async () => {
  const { ts, req, login } = await uiServer({ leadsMaxScan: 100 });
  try {
    const long = "x".repeat(2000);
    await ts.writePipeline(
      "p",
      "name: p\nsource:\n  plugin: csv-source\nstages:\n  - id: why\n    plugin: tag\n" +
        `    with:\n      field: lead_reason\n      value: ${long}\n`,
    );
    const rows = Array.from({ length: 300 }, (_, i) => `Biz ${i},d${i}.example`);
    const started = await ts.call("/api/v1/pipelines/p/runs", {
      method: "POST",
      as: "operator",
      headers: { "content-type": "text/csv" },
      body: `name,domain\n${rows.join("\n")}\n`,
    });
    const run = await started.json();
    assert.equal((await ts.engine.waitForRun(run.id)).state, "succeeded");
    await login("viewer");

    const first = await (await req(`/runs/${run.id}/items`, { as: "viewer" })).text();
    const detail = /<div class="item-detail">[\s\S]*?<\/details>/.exec(first)![0];
    assert.match(detail, /<details class="more">/);
    assert.match(detail, new RegExp(`<span class="preview">x{500}…</span>`));
    assert.match(detail, /show more \(1,500 more characters\)/);
    assert.match(detail, new RegExp(`<span class="full">x{2000}</span>`));
    assert.doesNotMatch(detail.replace(/<span class="full">x+<\/span>/, ""), /x{501}/);

    // "d29" matches d29 and d290…d299; each page checks 100 items.
    const text = (h: string) => h.replace(/<[^>]+>/g, "").replace(/\s+/g, " ");
    const keys = (h: string) =>
      [...h.matchAll(/<summary>(d\d+)\.example<\/summary>/g)].map((m) => m[1]);
    const page1 = await (await req(`/runs/${run.id}/items?q=d29`, { as: "viewer" })).text();
    assert.deepEqual(keys(page1), ["d29"]);
    assert.match(
      text(page1),
      /not finished: it searched 100 of 300 items and found 1 match so far/,
    );
    assert.doesNotMatch(page1, /Next page/, "no next-page link to an empty page");
    const cont = (h: string) =>
      /href="([^"]+)"\s+id="continue-search"/.exec(h)![1].replaceAll("&amp;", "&");
    const page2 = await (await req(cont(page1), { as: "viewer" })).text();
    assert.deepEqual(keys(page2), []);
    assert.match(text(page2), /No match among the items searched so far\./);
    assert.match(text(page2), /searched 200 of 300 items and found 0 matches on this page/);
    const page3 = await (await req(cont(page2), { as: "viewer" })).text();
    assert.deepEqual(keys(page3), Array.from({ length: 10 }, (_, i) => `d29${i}`));
    assert.doesNotMatch(page3, /continue-search|Next page/, "the search reached the end");
  } finally {
    await ts.dispose();
  }
});

Deno.test("the dashboard says when its only schedules are paused or disabled, with a link", async () => {
  let list: ScheduleInfo[] = [];
  const schedules: ScheduleService = {
    list: () => Promise.resolve(list),
    pause: () => Promise.resolve(true),
    resume: () => Promise.resolve(true),
  };
  const ts = await testServer({ deps: { schedules } });
  const { app } = createApp(await withUi(ts.deps));
  const cookie = await loginCookie(app, ts.token.viewer);
  const dashboard = async () => {
    const html = await (await app.request("http://localhost/", { headers: { cookie } })).text();
    const section = /<section aria-labelledby="next-h">[\s\S]*?<\/section>/.exec(html)![0];
    return section.replace(/<[^>]+>/g, " ").replaceAll("&amp;", "&").replace(/\s+/g, " ")
      .trim();
  };
  const cron = (id: string, more: Partial<ScheduleInfo>): ScheduleInfo => ({
    id,
    pipeline: id.split("/")[0],
    cron: "0 6 * * *",
    paused: false,
    next: ["2030-01-01T06:00:00.000Z"],
    ...more,
  });
  try {
    assert.match(await dashboard(), /No active cron triggers\. Add triggers: - cron: … to a/);
    list = [cron("leads/cron-0", { paused: true })];
    const paused = await dashboard();
    assert.match(
      paused,
      /No active cron triggers: 1 schedule paused — see Schedules & webhooks \./,
    );
    assert.doesNotMatch(paused, /Add triggers/);
    const html = await (await app.request("http://localhost/", { headers: { cookie } })).text();
    assert.match(html, /<a href="\/triggers">see Schedules &amp; webhooks<\/a>/);
    list = [
      cron("leads/cron-0", { paused: true }),
      cron("leads/cron-1", { paused: true }),
      cron("other/cron-0", { enabled: false, next: [] }),
      cron("daily/cron-0", {}),
    ];
    const mixed = await dashboard();
    assert.match(mixed, /daily 0 6 \* \* \* 2030-01-01 06:00:00Z/);
    assert.match(mixed, /2 schedules paused · 1 schedule disabled \(enabled: false\)/);
  } finally {
    await ts.dispose();
  }
});

Deno.test("the run page offers the files its export stages finished, downloadable with the session", async () => {
  const { ts, req, login } = await uiServer();
  try {
    await ts.writePipeline(
      "sheet",
      genPipeline(
        "sheet",
        12,
        "  - id: export\n    plugin: csv-export\n    with: { leadsOnly: false }\n",
      ),
    );
    const started = await ts.call("/api/v1/pipelines/sheet/runs", {
      method: "POST",
      as: "operator",
      json: {},
    });
    const run = await started.json();
    await ts.engine.waitForRun(run.id);
    await login("viewer");
    const html = await (await req(`/runs/${run.id}`, { as: "viewer" })).text();
    const files = /<section aria-labelledby="files-h" id="run-files">[\s\S]*?<\/section>/.exec(
      html,
    );
    assert.ok(files, "a Files section");
    const href = /<a href="([^"]+)" download="leads.csv">leads.csv<\/a>/.exec(files[0])?.[1];
    assert.equal(href, `/api/v1/runs/${run.id}/artifacts/export/leads.csv`);
    assert.match(files[0], /\d+ bytes · written by export/);
    const res = await req(href!, { as: "viewer" });
    assert.equal(res.status, 200, "the session cookie is enough to download");
    const text = await res.text();
    assert.equal(text.trim().split("\r\n").length, 13, "header and 12 rows");
    assert.equal(
      text,
      await Deno.readTextFile(`${ts.dir}/plugin-data/csv-export/runs/${run.id}/leads.csv`),
    );
  } finally {
    await ts.dispose();
  }
});

Deno.test("the run page and the API's run detail give the notes a run's stages tallied (score rules that did not evaluate)", async () => {
  const { ts, req, login } = await uiServer();
  try {
    await ts.writePipeline(
      "noted",
      genPipeline(
        "noted",
        12,
        "  - id: score\n    plugin: score\n    with:\n      rules:\n" +
          '        - { id: big, when: "item.key > 3", points: 20, reason: a larger business }\n',
      ),
    );
    const started = await ts.call("/api/v1/pipelines/noted/runs", {
      method: "POST",
      as: "operator",
      json: {},
    });
    const run = await started.json();
    await ts.engine.waitForRun(run.id);
    const text = 'score: rule "a larger business" (id big) did not evaluate for 12 item(s): ';
    const detail = await (await ts.call(`/api/v1/runs/${run.id}`, { as: "viewer" })).json();
    assert.equal(detail.state, "succeeded");
    assert.deepEqual(
      detail.notes.map((n: { stage: string; key: string; count: number }) => [
        n.stage,
        n.key,
        n.count,
      ]),
      [["score", "rule:big", 12]],
    );
    assert.ok(`score: ${detail.notes[0].text}`.startsWith(text), detail.notes[0].text);
    await login("viewer");
    const html = await (await req(`/runs/${run.id}`, { as: "viewer" })).text();
    const notes = /<section aria-labelledby="notes-h" id="run-notes">[\s\S]*?<\/section>/.exec(
      html,
    );
    assert.ok(notes, "a Notes section");
    assert.ok(notes[0].includes(text.replaceAll('"', "&quot;")), notes[0]);
  } finally {
    await ts.dispose();
  }
});

Deno.test("the schedules table shows fire times in the schedule's zone and what the last occurrence did", async () => {
  const list: ScheduleInfo[] = [{
    id: "leads/morning",
    pipeline: "leads",
    cron: "0 6 * * *",
    timezone: "Europe/Berlin",
    paused: false,
    next: ["2026-11-30T05:00:00.000Z"],
    nextLocal: ["2026-11-30T06:00:00+01:00"],
    lastFire: {
      scheduledAt: "2026-11-29T05:00:00.000Z",
      firedAt: "2026-11-29T05:00:01.000Z",
      outcome: "started",
      runId: "r123",
    },
  }, {
    id: "leads/noon",
    pipeline: "leads",
    cron: "0 12 * * *",
    paused: false,
    next: ["2026-11-30T12:00:00.000Z"],
    nextLocal: ["2026-11-30T12:00:00Z"],
    lastFire: {
      scheduledAt: "2026-11-29T12:00:00.000Z",
      firedAt: "2026-11-29T12:00:00.500Z",
      outcome: "skipped",
      reason: "the previous run r122 is still running (overlap: skip)",
    },
  }];
  const schedules: ScheduleService = {
    list: () => Promise.resolve(list),
    pause: () => Promise.resolve(true),
    resume: () => Promise.resolve(true),
  };
  const ts = await testServer({ deps: { schedules } });
  try {
    const { app } = createApp(await withUi(ts.deps));
    const html = await (await app.request("http://localhost/triggers", {
      headers: { cookie: await loginCookie(app, ts.token.viewer) },
    })).text();
    const row = (id: string) =>
      new RegExp(`<tr data-schedule="${id}">([\\s\\S]*?)</tr>`).exec(html)![1];
    const morning = row("leads/morning");
    assert.match(morning, /<div title="2026-11-30 05:00:00Z">2026-11-30 06:00 \+01:00<\/div>/);
    assert.match(morning, /started <a href="\/runs\/r123">r123<\/a>/);
    const noon = row("leads/noon");
    assert.match(noon, /<div>2026-11-30 12:00:00Z<\/div>/, "no zone: UTC as before");
    assert.match(noon, /skipped[\s\S]*the previous run r122 is still running \(overlap: skip\)/);
  } finally {
    await ts.dispose();
  }
});

async function loginCookie(
  app: { request: (url: string, init: RequestInit) => Response | Promise<Response> },
  token: string,
): Promise<string> {
  const res = await app.request("http://localhost/login", {
    method: "POST",
    body: new URLSearchParams({ token, next: "/" }),
    headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" },
    redirect: "manual",
  });
  return res.headers.get("set-cookie")!.split(";")[0];
}

Deno.test("a run that found leads says how many and links them best first; its list downloads as a sales sheet in the table's order", async () => {
  const { ts, req, login } = await uiServer();
  try {
    await ts.writePipeline(
      "leads",
      genPipeline(
        "leads",
        12,
        "  - id: lead\n    plugin: tag\n    with: { field: lead }\n" +
          // Every item the same business (name and city): the sheet names the others of each.
          "  - id: name\n    plugin: tag\n    with: { field: name, value: Shop }\n" +
          "  - id: city\n    plugin: tag\n    with: { field: city, value: Ulm }\n" +
          "  - id: export\n    plugin: csv-export\n    with: { leadsOnly: false }\n",
      ),
    );
    await ts.writePipeline("plain", genPipeline("plain", 5));
    const start = async (name: string) => {
      const res = await ts.call(`/api/v1/pipelines/${name}/runs`, {
        method: "POST",
        as: "operator",
        json: {},
      });
      const run = await res.json();
      assert.equal((await ts.engine.waitForRun(run.id)).state, "succeeded");
      return run.id as string;
    };
    const plain = await start("plain");
    const id = await start("leads"); // the latest: the dashboard's lead card shows it
    await login("viewer");

    // The run page: the number of leads, a link to them best first.
    const html = await (await req(`/runs/${id}`, { as: "viewer" })).text();
    const leads = /<p id="run-leads"[^>]*>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? "";
    assert.match(leads, /<strong>12 leads<\/strong>/);
    assert.match(leads, new RegExp(`href="/runs/${id}/items\\?lead=true&amp;sort=-score"`));
    const none = await (await req(`/runs/${plain}`, { as: "viewer" })).text();
    assert.doesNotMatch(none, /id="run-leads"/, "no lead field: no lead count");
    // The dashboard's latest leads link to them best first too; a run without a score lists them.
    const home = await (await req("/", { as: "viewer" })).text();
    assert.match(home, new RegExp(`href="/runs/${id}/items\\?lead=true&amp;sort=-score"`));
    const unscored = await req(`/runs/${id}/items?lead=true&sort=-score`, { as: "viewer" });
    assert.equal(unscored.status, 200);
    assert.match(await unscored.text(), /Shop/);

    // The Score column sorts highest first on the first click, then lowest first.
    const sortHref = (page: string) =>
      /<a href="([^"]+)">Score/.exec(page)![1].replaceAll("&amp;", "&");
    const page1 = await (await req(`/runs/${id}/items`, { as: "viewer" })).text();
    assert.match(sortHref(page1), /sort=-score$/);
    const page2 = await (await req(`/runs/${id}/items?sort=-score`, { as: "viewer" })).text();
    assert.match(sortHref(page2), /sort=score$/);

    // Download CSV: the sales columns, the rows of the table in the table's order.
    const table = await (await req(`/runs/${id}/items?band=A&sort=-key`, { as: "viewer" }))
      .text();
    const shown = [...table.matchAll(/<summary>([^<]+)<\/summary>/g)].map((m) => m[1])
      .filter((s) => s !== "All fields");
    assert.equal(shown.length, 12);
    const href = /id="download-csv" href="([^"]+)"/.exec(table)![1].replaceAll("&amp;", "&");
    const res = await req(href, { as: "viewer" });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-disposition") ?? "", /attachment; filename="leads-/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.deepEqual([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], "a BOM, so Excel reads UTF-8");
    const rows = new TextDecoder().decode(bytes).trim().split("\n").map((l) => l.split(","));
    assert.deepEqual(rows[0], [
      "domain",
      "domain_unicode",
      "name",
      "city",
      "country",
      "same_business_as",
      "website_elsewhere",
      "also_listed_as",
      "phone",
      "phone_e164",
      "email",
      "email_guesses_unverified",
      "website_status",
      "lead",
      "lead_reason",
      "evidence_url",
      "checked_at",
      "score",
      "band",
      "score_reasons",
      "mail_provider",
      "domain_registered",
      "domain_expires",
      "registrar",
      "registrant_org",
      "registrant_phone",
      "registrant_email",
      "n", // the items' own other field, as "*" shows it
    ]);
    assert.deepEqual(rows.slice(1).map((r) => r[0]), shown, "same rows, same order");
    const col = (h: string) => rows[0].indexOf(h);
    assert.ok(rows.slice(1).every((r) => r[col("lead")] === "yes" && r[col("band")] === "A"));
    // Each row's same_business_as: the 11 other keys of the same business, "; "-joined.
    for (const r of rows.slice(1)) {
      const others = r[5].split("; ");
      assert.equal(others.length, 11, r[5]);
      assert.deepEqual(new Set([...others, r[0]]), new Set(shown));
    }
  } finally {
    await ts.dispose();
  }
});

Deno.test("what a sales user needs on the pages: a required input file, the evidence link, the editor's way out, lists still filling", async () => {
  const { ts, req, login } = await uiServer();
  try {
    await ts.writePipeline(
      "csvp",
      "name: csvp\nsource: { plugin: csv-source }\nstages:\n" +
        "  - { id: mark, plugin: tag, with: { field: seen } }\n",
    );
    await ts.writePipeline(
      "ev",
      genPipeline(
        "ev",
        2,
        "  - id: lead\n    plugin: tag\n    with: { field: lead }\n" +
          "  - id: site\n    plugin: tag\n    with:\n      field: website\n" +
          "      value: { status: parked, url: 'https://parked.example/landing' }\n",
      ),
    );
    await ts.writePipeline(
      "evjs",
      genPipeline(
        "evjs",
        1,
        "  - id: site\n    plugin: tag\n    with:\n      field: website\n" +
          "      value: { status: parked, url: 'javascript:alert(1)' }\n",
      ),
    );
    await ts.writePipeline(
      "slowp",
      genPipeline("slowp", 2, "  - { id: wait, plugin: slow, with: { ms: 1500 } }\n"),
    );
    await login("operator");
    await login("viewer");

    // The run form: a pipeline whose source reads the run's file asks for it; others do not.
    const csvp = await (await req("/pipelines/csvp", { as: "operator" })).text();
    assert.match(csvp, /<label for="run-file">\s*Input file \(CSV or JSON lines\), required/);
    assert.match(csvp, /<input id="run-file"[^>]* required/);
    const gen = await (await req("/pipelines/ev", { as: "operator" })).text();
    assert.match(gen, /<label for="run-file">\s*Input file \(CSV or JSON lines\), optional/);
    assert.doesNotMatch(gen, /<input id="run-file"[^>]* required/);

    // The editor says how to leave it with the keyboard (Tab indents there); read-only: no need.
    assert.match(gen, /id="yaml-keys"[^>]*>\s*In the editor, Tab indents: .*press Esc, then Tab/);
    const vw = await (await req("/pipelines/ev", { as: "viewer" })).text();
    assert.doesNotMatch(vw, /id="yaml-keys"/);

    const start = async (name: string) => {
      const res = await ts.call(`/api/v1/pipelines/${name}/runs`, {
        method: "POST",
        as: "operator",
        json: {},
      });
      return (await res.json()).id as string;
    };

    // A running run's empty lists say "so far"; once it ended, they say none.
    const slow = await start("slowp");
    const running = await (await req(`/runs/${slow}`, { as: "viewer" })).text();
    assert.match(running, /id="dead-empty">No dead letters so far\.</);
    assert.match(running, /id="rejected-empty">Nothing rejected so far\.</);
    assert.equal((await ts.engine.waitForRun(slow)).state, "succeeded");
    const ended = await (await req(`/runs/${slow}`, { as: "viewer" })).text();
    assert.match(ended, /id="dead-empty">No dead letters\.</);
    assert.match(ended, /id="rejected-empty">Nothing rejected\.</);

    // A lead's details link the page its verdict was judged on (the sheet's evidence_url).
    const ev = await start("ev");
    assert.equal((await ts.engine.waitForRun(ev)).state, "succeeded");
    const leads = await (await req(`/runs/${ev}/items?lead=true`, { as: "viewer" })).text();
    assert.match(
      leads,
      /<strong>Evidence:<\/strong> <a href="https:\/\/parked\.example\/landing" target="_blank" rel="noopener noreferrer nofollow">https:\/\/parked\.example\/landing<\/a>/,
    );
    // Only web addresses become links.
    const js = await start("evjs");
    assert.equal((await ts.engine.waitForRun(js)).state, "succeeded");
    const jsPage = await (await req(`/runs/${js}/items`, { as: "viewer" })).text();
    assert.doesNotMatch(jsPage, /href="javascript:/);
    assert.doesNotMatch(jsPage, /<strong>Evidence:/);
  } finally {
    await ts.dispose();
  }
});

Deno.test("a pipeline's page shows the source file scheduled runs read; an operator replaces it through the API with the session", async () => {
  const { ts, req, login } = await uiServer();
  try {
    const csvPipeline = (name: string, path?: string) =>
      `name: ${name}\nsource:\n  plugin: csv-source\n` +
      (path ? `  with: { path: ${JSON.stringify(path)} }\n` : "") +
      "stages:\n  - id: tag\n    plugin: tag\n    with: { field: band, value: B }\n";
    await ts.writePipeline("weekly", csvPipeline("weekly", "crm.csv"));
    await ts.writePipeline("adhoc", csvPipeline("adhoc"));
    await ts.writePipeline("outside", csvPipeline("outside", "../elsewhere.csv"));
    await login("viewer");
    await login("operator");
    const section = async (name: string, as: string) =>
      /<section[^>]*id="source-file"[\s\S]*?<\/section>/.exec(
        await (await req(`/pipelines/${name}`, { as })).text(),
      )?.[0];

    // A viewer sees the section, that there is no file yet, and no upload form.
    let html = await section("weekly", "viewer");
    assert.ok(html, "a Source file section");
    assert.match(html, /<h2 id="source-file-h">Source file<\/h2>/);
    assert.match(html, /Scheduled runs, and runs started without a file, read this file/);
    assert.match(html, /no file yet: scheduled runs fail until one is uploaded/);
    assert.match(html, /<a id="source-file-download" href="[^"]+" download="crm.csv" hidden/);
    assert.doesNotMatch(html, /source-file-form/);
    // A pipeline without with.path has no section; one outside the data folder says why.
    assert.equal(await section("adhoc", "operator"), undefined);
    assert.match(
      (await section("outside", "operator"))!,
      /leads outside the plugin&#39;s data folder/,
    );

    // The operator's page has the form; the browser sends the file to the API with the session.
    html = await section("weekly", "operator");
    assert.match(html!, /<form id="source-file-form">/);
    assert.match(
      html!,
      /<input id="source-file-input" name="file" type="file" accept=".csv,text\/csv" required/,
    );
    assert.match(html!, /data-url="\/api\/v1\/pipelines\/weekly\/source-file"/);
    const csv = "name,domain\nAcme,acme.example\nBeta,beta.example\n";
    const put = (as: string, headers: Record<string, string>) =>
      req("/api/v1/pipelines/weekly/source-file", {
        method: "PUT",
        as,
        headers: { "content-type": "text/csv", ...headers },
        body: csv,
      });
    let res = await put("operator", {});
    assert.equal(res.status, 403, "a session's write needs its Origin or CSRF token");
    await res.body?.cancel();
    res = await put("viewer", { origin: "http://localhost" });
    assert.equal(res.status, 403, "a viewer may not replace it");
    await res.body?.cancel();
    res = await put("operator", { origin: "http://localhost" });
    assert.equal(res.status, 200, await res.clone().text());
    await res.body?.cancel();

    // The page now shows the file: its size, time, rows and header, and the download works.
    html = await section("weekly", "viewer");
    assert.match(html!, /<dd id="source-file-size">48 bytes<\/dd>/);
    assert.match(html!, /<dd id="source-file-updated">\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ<\/dd>/);
    assert.match(html!, /<dd id="source-file-rows">2 after the header<\/dd>/);
    assert.match(html!, /<code id="source-file-header">name,domain<\/code>/);
    const href = /<a id="source-file-download" href="([^"]+)" download="crm.csv"\s*>/.exec(html!)
      ?.[1];
    assert.equal(href, "/api/v1/pipelines/weekly/source-file/content");
    res = await req(href!, { as: "viewer" });
    assert.equal(res.status, 200, "the session cookie is enough to download");
    assert.equal(await res.text(), csv);
  } finally {
    await ts.dispose();
  }
});

Deno.test("a pipeline's page whose source file cannot be read renders, its Source file section says why", async () => {
  const { ts, req, login } = await uiServer();
  try {
    await ts.writePipeline(
      "weekly",
      "name: weekly\nsource:\n  plugin: csv-source\n  with: { path: lists/crm.csv }\n" +
        "stages:\n  - id: tag\n    plugin: tag\n    with: { field: band, value: B }\n",
    );
    // A file where the folder of with.path should be: reading fails with ENOTDIR (even as root,
    // where a permission error cannot be made), not NotFound.
    const folder = join(ts.dir, "plugin-data", "csv-source");
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(join(folder, "lists"), "not a folder\n");
    await login("viewer");
    const res = await req("/pipelines/weekly", { as: "viewer" });
    assert.equal(res.status, 200);
    const html = /<section[^>]*id="source-file"[\s\S]*?<\/section>/.exec(await res.text())?.[0];
    assert.ok(html, "a Source file section");
    assert.match(
      html,
      /<p class="err">the source file of pipeline weekly \(plugin-data\/csv-source\/lists\/crm.csv\) could not be read: [^<]*[Nn]ot a directory/,
    );
  } finally {
    await ts.dispose();
  }
});
