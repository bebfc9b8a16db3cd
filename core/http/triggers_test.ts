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
    await refused.body?.cancel();
  } finally {
    await triggers?.close();
    await catalog.close();
    await s.dispose();
  }
});
