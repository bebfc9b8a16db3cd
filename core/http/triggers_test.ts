import assert from "node:assert/strict";
import { join } from "../paths.ts";
import {
  ManualClock,
  PipelineCatalog,
  startTriggers,
  type Triggers,
  type WebhookIntake,
} from "../triggers/mod.ts";
import { API_BASE } from "./app.ts";
import { genPipeline, testServer } from "./test_support.ts";
import { catalogAdapter, scheduleAdapter } from "./triggers_adapter.ts";

Deno.test("schedules, pipeline versions and webhooks through the triggers of core/triggers", async () => {
  let intake: WebhookIntake | undefined;
  const s = await testServer({
    deps: { hooks: { handle: (req, p, h) => intake!.handle(req, p, h) } },
  });
  const clock = new ManualClock("2026-03-02T10:00:30Z");
  const catalog = await PipelineCatalog.open({
    dir: join(s.dir, "pipelines"),
    registry: s.registry,
    clock,
  });
  let triggers: Triggers | undefined;
  try {
    triggers = await startTriggers({
      engine: s.engine,
      backend: s.backend,
      kv: s.kv,
      catalog,
      registry: s.registry,
      secrets: (n) => (n === "HOOK" ? "hook-secret-123" : undefined),
      dataDir: s.dir,
      clock,
    });
    intake = triggers.webhooks;
    s.deps.schedules = scheduleAdapter(triggers.scheduler);
    s.deps.pipelines = catalogAdapter(catalog);

    const yaml = genPipeline("nightly", 3) + `triggers:
  - id: hourly
    cron: "0 * * * *"
  - webhook: push
    auth: bearer
    secret: \${{ secrets.HOOK }}
`;
    const put = await s.call(`${API_BASE}/pipelines/nightly`, {
      method: "PUT",
      as: "operator",
      json: { yaml },
    });
    assert.equal(put.status, 200, await put.clone().text());
    const list = await (await s.call(`${API_BASE}/schedules`, { as: "viewer" })).json();
    assert.equal(list.schedules.length, 1);
    const sched = list.schedules[0];
    assert.equal(sched.id, "nightly/hourly");
    assert.equal(sched.paused, false);
    assert.deepEqual(sched.next.slice(0, 2), [
      "2026-03-02T11:00:00.000Z",
      "2026-03-02T12:00:00.000Z",
    ]);
    // The id `nightly/hourly` as it reads (two path segments) ...
    const paused = await s.call(`${API_BASE}/schedules/nightly/hourly/pause`, {
      method: "POST",
      as: "operator",
    });
    assert.equal(paused.status, 200);
    assert.deepEqual(await paused.json(), { id: "nightly/hourly", paused: true });
    assert.equal(
      (await (await s.call(`${API_BASE}/schedules`, { as: "viewer" })).json()).schedules[0].paused,
      true,
    );
    // ... or with the slash encoded (one segment).
    const resumed = await s.call(`${API_BASE}/schedules/nightly%2Fhourly/resume`, {
      method: "POST",
      as: "operator",
    });
    assert.deepEqual(await resumed.json(), { id: "nightly/hourly", paused: false });
    assert.equal(
      (await (await s.call(`${API_BASE}/schedules`, { as: "viewer" })).json()).schedules[0].paused,
      false,
    );
    for (const form of ["nightly/hourly", "nightly%2Fhourly"]) {
      const again = await s.call(`${API_BASE}/schedules/${form}/pause`, {
        method: "POST",
        as: "operator",
      });
      assert.equal(again.status, 200, form);
      await again.body?.cancel();
      const back = await s.call(`${API_BASE}/schedules/${form}/resume`, {
        method: "POST",
        as: "operator",
      });
      assert.deepEqual(await back.json(), { id: "nightly/hourly", paused: false }, form);
    }
    for (const form of ["nope/x", "nope%2Fx", "nightly/nope"]) {
      const missing = await s.call(`${API_BASE}/schedules/${form}/pause`, {
        method: "POST",
        as: "operator",
      });
      assert.equal(missing.status, 404, form);
      assert.match((await missing.json()).detail, /no schedule .*; list them with GET/);
    }
    const anon = await s.call(`${API_BASE}/schedules/nightly/hourly/pause`, { method: "POST" });
    assert.equal(anon.status, 401, "the slash form needs a token like the encoded one");
    await anon.body?.cancel();

    const changed = yaml.replace("count: 3", "count: 4");
    await s.call(`${API_BASE}/pipelines/nightly`, {
      method: "PUT",
      as: "operator",
      json: { yaml: changed },
    });
    const versions =
      await (await s.call(`${API_BASE}/pipelines/nightly/versions`, { as: "viewer" })).json();
    assert.equal(versions.versions.length, 1);
    const old =
      await (await s.call(`${API_BASE}/pipelines/nightly/versions/${versions.versions[0].id}`, {
        as: "viewer",
      })).json();
    assert.equal(old.yaml, yaml);

    const hook = await s.call("/hooks/nightly/push", {
      method: "POST",
      headers: { authorization: "Bearer hook-secret-123", "content-type": "application/json" },
      body: JSON.stringify([{ key: "k1" }]),
    });
    assert.ok(hook.status < 300, `${hook.status} ${await hook.clone().text()}`);
    await hook.body?.cancel();
    const runs = await (await s.call(`${API_BASE}/runs?trigger=webhook`, { as: "viewer" })).json();
    assert.equal(runs.runs.length, 1);
    assert.equal(runs.runs[0].pipeline, "nightly");
    const refused = await s.call("/hooks/nightly/push", {
      method: "POST",
      headers: { authorization: "Bearer wrong" },
      body: "[]",
    });
    assert.equal(refused.status, 401);
    // As every API error: problem+json, its request id; `error` kept for senders reading it.
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    const problem = await refused.json();
    assert.equal(problem.status, 401);
    assert.equal(problem.title, "Unauthorized");
    assert.equal(problem.instance, "/hooks/nightly/push");
    assert.equal(problem.requestId, refused.headers.get("x-request-id"));
    assert.match(problem.detail, /bearer/i);
    assert.equal(problem.error, problem.detail);
  } finally {
    await triggers?.close();
    await catalog.close();
    await s.dispose();
  }
});

Deno.test("the API shows what each schedule occurrence and each webhook delivery did", async () => {
  let intake: WebhookIntake | undefined;
  const s = await testServer({
    deps: {
      hooks: {
        handle: (req, p, h) => intake!.handle(req, p, h),
        deliveries: (p, h, n) => intake!.deliveries(p, h, n),
      },
    },
  });
  const clock = new ManualClock("2026-03-02T10:59:30Z");
  const catalog = await PipelineCatalog.open({
    dir: join(s.dir, "pipelines"),
    registry: s.registry,
    clock,
  });
  let triggers: Triggers | undefined;
  const get = async (path: string) => {
    const res = await s.call(`${API_BASE}${path}`, { as: "viewer" });
    return { status: res.status, body: await res.json() };
  };
  try {
    triggers = await startTriggers({
      engine: s.engine,
      backend: s.backend,
      kv: s.kv,
      catalog,
      registry: s.registry,
      secrets: (n) => (n === "HOOK" ? "hook-secret-123" : undefined),
      dataDir: s.dir,
      clock,
    });
    intake = triggers.webhooks;
    s.deps.schedules = scheduleAdapter(triggers.scheduler);
    s.deps.pipelines = catalogAdapter(catalog);
    await catalog.write(
      "berlin",
      genPipeline("berlin", 1) + `triggers:
  - id: hourly
    cron: "0 * * * *"
    timezone: Europe/Berlin
    overlap: allow
    catchUp: last
  - id: daily
    cron: "0 6 * * *"
    timezone: Europe/Berlin
  - webhook: push
    auth: bearer
    secret: \${{ secrets.HOOK }}
`,
    );
    await clock.advanceTo("2026-03-02T11:00:05Z"); // 12:00 in Berlin fires

    const list = (await get("/schedules")).body.schedules;
    const hourly = list.find((x: { id: string }) => x.id === "berlin/hourly");
    assert.equal(hourly.catchUp, "last");
    // Next fire times as a Berlin user reads them, as well as in UTC.
    assert.deepEqual(hourly.next.slice(0, 1), ["2026-03-02T12:00:00.000Z"]);
    assert.deepEqual(hourly.nextLocal.slice(0, 1), ["2026-03-02T13:00:00+01:00"]);
    const daily = list.find((x: { id: string }) => x.id === "berlin/daily");
    assert.equal(daily.nextLocal[0], "2026-03-03T06:00:00+01:00");
    assert.equal(daily.lastFire, undefined);
    // The latest occurrence and the run it started.
    const [run] = (await get("/runs?trigger=cron")).body.runs;
    assert.equal(hourly.lastFire.outcome, "started");
    assert.equal(hourly.lastFire.runId, run.id);
    assert.equal(hourly.lastFire.scheduledAtLocal, "2026-03-02T12:00:00+01:00");

    for (const form of ["berlin/hourly", "berlin%2Fhourly"]) {
      const fires = await get(`/schedules/${form}/fires?limit=5`);
      assert.equal(fires.status, 200, form);
      assert.deepEqual(
        fires.body.fires.map((f: { outcome: string; runId?: string }) => [f.outcome, f.runId]),
        [["started", run.id]],
      );
    }
    assert.equal((await get("/schedules/berlin/nope/fires")).status, 404);
    assert.equal((await get("/schedules/berlin/hourly/fires?limit=0")).status, 400);

    // Pausing the whole pipeline, then resuming one schedule (as the UI's button does): that
    // schedule runs again, the other stays paused.
    const post = (path: string) =>
      s.call(`${API_BASE}${path}`, { method: "POST", as: "operator" }).then((r) => r.json());
    assert.deepEqual(await post("/schedules/berlin/pause"), { id: "berlin", paused: true });
    assert.deepEqual(await post("/schedules/berlin%2Fhourly/resume"), {
      id: "berlin/hourly",
      paused: false,
    });
    const states = (await get("/schedules")).body.schedules
      .map((x: { id: string; paused: boolean }) => `${x.id}:${x.paused}`);
    assert.deepEqual(states, ["berlin/daily:true", "berlin/hourly:false"]);

    // Webhook deliveries: accepted with its run, refused with the reason.
    const send = (auth: string) =>
      s.call("/hooks/berlin/push", {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify([{ key: "k1" }]),
      }).then(async (r) => ({ status: r.status, body: await r.json() }));
    const ok = await send("Bearer hook-secret-123");
    assert.equal(ok.status, 202);
    assert.equal((await send("Bearer wrong")).status, 401);
    const d = await get("/hooks/berlin/push/deliveries?limit=10");
    assert.equal(d.status, 200);
    assert.deepEqual(
      d.body.deliveries.map((x: { status: number; runId?: string; reason?: string }) => [
        x.status,
        x.runId,
        x.reason,
      ]),
      [[401, undefined, "wrong bearer secret"], [202, ok.body.runId, undefined]],
    );
    assert.match(d.body.deliveries[0].at, /^2026-03-02T11:00:05/);
    const missing = await get("/hooks/berlin/nope/deliveries");
    assert.equal(missing.status, 404);
    assert.match(missing.body.detail, /no webhook nope; its webhooks: push/);
    assert.equal((await get("/hooks/nope/push/deliveries")).status, 404);
  } finally {
    await triggers?.close();
    await catalog.close();
    await s.dispose();
  }
});

Deno.test("a broken pipeline file: webhooks run its last good version, a run started by hand is refused, GET says which version triggers serve", async () => {
  let intake: WebhookIntake | undefined;
  const s = await testServer({
    deps: { hooks: { handle: (req, p, h) => intake!.handle(req, p, h) } },
  });
  const clock = new ManualClock("2026-03-02T10:00:30Z");
  const catalog = await PipelineCatalog.open({
    dir: join(s.dir, "pipelines"),
    registry: s.registry,
    clock,
  });
  let triggers: Triggers | undefined;
  try {
    triggers = await startTriggers({
      engine: s.engine,
      backend: s.backend,
      kv: s.kv,
      catalog,
      registry: s.registry,
      secrets: (n) => (n === "HOOK" ? "hook-secret-123" : undefined),
      dataDir: s.dir,
      clock,
    });
    intake = triggers.webhooks;
    s.deps.pipelines = catalogAdapter(catalog);
    const good = genPipeline("tick", 3) + `triggers:
  - id: hourly
    cron: "0 * * * *"
  - webhook: push
    auth: bearer
    secret: \${{ secrets.HOOK }}
`;
    const put = await s.call(`${API_BASE}/pipelines/tick`, {
      method: "PUT",
      as: "operator",
      json: { yaml: good },
    });
    assert.equal(put.status, 200, await put.clone().text());
    const fine = await (await s.call(`${API_BASE}/pipelines/tick`, { as: "viewer" })).json();
    assert.equal(fine.lastGood, null, "a good file has no separate last good version");

    // Edited on disk into something invalid.
    await Deno.writeTextFile(
      join(s.dir, "pipelines", "tick.yaml"),
      good.replace("  plugin: gen-source", "  plugin: gen-source\n  concurency: 2"),
    );
    await catalog.reload();

    const got = await (await s.call(`${API_BASE}/pipelines/tick`, { as: "viewer" })).json();
    assert.equal(got.pipeline, null);
    assert.ok(got.problems.length > 0);
    assert.match(got.yaml, /concurency/, "the text on disk, with its problems");
    assert.ok(got.lastGood, "the last good version is named");
    assert.equal(got.lastGood.yaml, good);
    assert.deepEqual(got.lastGood.triggers, ["tick/hourly", "/hooks/tick/push"]);

    const byHand = await s.call(`${API_BASE}/pipelines/tick/runs`, {
      method: "POST",
      as: "operator",
      json: {},
    });
    assert.equal(byHand.status, 422);
    const problem = await byHand.json();
    assert.match(problem.detail, /a run started by hand waits until it is fixed/);
    assert.match(problem.detail, /schedules and webhooks keep running the last good version/);

    const hook = await s.call("/hooks/tick/push", {
      method: "POST",
      headers: { authorization: "Bearer hook-secret-123", "content-type": "application/json" },
      body: JSON.stringify([{ key: "k1" }]),
    });
    assert.ok(hook.status < 300, `${hook.status} ${await hook.clone().text()}`);
    await hook.body?.cancel();
    const runs = await (await s.call(`${API_BASE}/runs?trigger=webhook`, { as: "viewer" })).json();
    assert.equal(runs.runs.length, 1, "the webhook ran the last good version");
  } finally {
    await triggers?.close();
    await catalog.close();
    await s.dispose();
  }
});
