/**
 * The loop another tool (Zapier, n8n, Make) runs against a real `sluice serve` on loopback: a
 * signed webhook starts a run, the answer names the run's URL, and when the run ends the
 * pipeline's `onSuccess` (or `onFailure`) POSTs a signed notice naming the run and, on success,
 * its artifacts' download URLs, which a viewer token downloads.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { signBody, verifySignature } from "../../sdk/api/signature.ts";
import { readUntil } from "../http/test_support.ts";
import { alertBody, noticeOf } from "./failure_alert.ts";

const HOOK_SECRET = "hook-secret-0123456789";
const NOTICE_SECRET = "notice-secret-0123456789";

Deno.test("onSuccess and onFailure are read from the run's pipeline snapshot", () => {
  const yaml = "name: x\nonSuccess: { webhook: https://a.example/ok }\n";
  assert.equal(noticeOf(yaml, "onSuccess")?.webhook, "https://a.example/ok");
  assert.equal(noticeOf(yaml, "onFailure"), undefined);
  const run = {
    id: "r1",
    pipeline: "x",
    pipelineYaml: yaml,
    state: "succeeded",
    trigger: { kind: "webhook", id: "crm" },
    createdAt: 0,
    artifacts: [{ stage: "export", name: "leads.csv", bytes: 3 }],
  };
  const body = alertBody(run, { publicUrl: "https://sluice.example/" });
  assert.equal(body.event, "run.succeeded");
  assert.equal(body.run.url, "https://sluice.example/api/v1/runs/r1");
  assert.equal(body.run.triggerId, "crm");
  assert.deepEqual(body.run.artifacts, [{
    stage: "export",
    name: "leads.csv",
    bytes: 3,
    url: "https://sluice.example/api/v1/runs/r1/artifacts/export/leads.csv",
  }]);
  // Without server.publicUrl: paths on this server.
  assert.equal(alertBody(run, {}).run.url, "/api/v1/runs/r1");
  const failed = alertBody({ ...run, state: "failed", error: "boom" }, {});
  assert.equal(failed.event, "run.failed");
  assert.equal(failed.run.artifacts, undefined);
});

Deno.test("a webhook-started run tells the caller when it ends: a signed onSuccess notice with its file", async () => {
  const notices: { headers: Headers; body: string }[] = [];
  let arrived: () => void = () => {};
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    notices.push({ headers: req.headers, body: await req.text() });
    arrived();
    return new Response("ok");
  });
  const noticeUrl = `http://127.0.0.1:${receiver.addr.port}/notice`;
  const pipeline = `name: leads
source: { plugin: csv-source, with: { path: missing.csv } }
stages:
  - id: mark
    plugin: set-fields
    with: { set: { lead: true } }
  - id: export
    plugin: csv-export
    with: { columns: [name, city] }
triggers:
  - { webhook: crm, auth: hmac, secret: "\${{ secrets.CRM_HOOK }}" }
  - { webhook: nofile, auth: bearer, secret: "\${{ secrets.CRM_HOOK }}", body: inputs }
onSuccess: { webhook: "${noticeUrl}", secret: "\${{ secrets.NOTICE }}" }
onFailure: { webhook: "${noticeUrl}", secret: "\${{ secrets.NOTICE }}" }
`;
  const dir = await Deno.makeTempDir({ prefix: "sluice-notice-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_SERVER_PORT: "0",
    SLUICE_CONFIG: join(dir, "none.yaml"),
    SLUICE_SECRET_CRM_HOOK: HOOK_SECRET,
    SLUICE_SECRET_NOTICE: NOTICE_SECRET,
    SLUICE_ALLOW_PRIVATE: "true",
  };
  await Deno.writeTextFile(env.SLUICE_CONFIG, "log:\n  level: warn\n");
  await Deno.mkdir(env.SLUICE_PIPELINES_DIR);
  await Deno.writeTextFile(join(env.SLUICE_PIPELINES_DIR, "leads.yaml"), pipeline);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "core/cli.ts"), "serve"],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const seen: string[] = [];
    const [, url] = await readUntil(reader, /sluice serving on (http:\/\/\S+)/, seen);
    const [, admin] = await readUntil(reader, /^\s+(slc_\S+)$/m, seen);
    const viewer = (await (await fetch(`${url}/api/v1/tokens`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "zap", role: "viewer" }),
    })).json()).token;

    const send = async (body: string) => {
      const res = await fetch(`${url}/hooks/leads/crm`, {
        method: "POST",
        headers: {
          "content-type": "text/csv",
          "x-sluice-signature": await signBody(HOOK_SECRET, body, Date.now() / 1000),
        },
        body,
      });
      assert.equal(res.status, 202);
      return await res.json() as { runId: string; url: string };
    };
    const next = () => new Promise<void>((r) => (arrived = r));

    // A run that succeeds: the notice names it and its file, and the file downloads.
    let got = next();
    const ok = await send("name,city,website\nAcme Plumbing,Springfield,acme.example\n");
    await got;
    const notice = notices[0];
    const signature = notice.headers.get("x-sluice-signature");
    assert.ok(await verifySignature(NOTICE_SECRET, signature, notice.body), "signed");
    const body = JSON.parse(notice.body);
    assert.equal(body.event, "run.succeeded", notice.body);
    assert.equal(body.pipeline, "leads");
    assert.deepEqual([body.run.id, body.run.url], [ok.runId, ok.url]);
    assert.deepEqual([body.run.trigger, body.run.triggerId], ["webhook", "crm"]);
    assert.equal(body.run.artifacts.length, 1, notice.body);
    const file = body.run.artifacts[0];
    assert.deepEqual([file.stage, file.name], ["export", "leads.csv"]);
    const csv = await fetch(`${url}${file.url}`, {
      headers: { authorization: `Bearer ${viewer}` },
    });
    assert.equal(csv.status, 200);
    assert.equal(await csv.text(), "name,city\r\nAcme Plumbing,Springfield\r\n");

    // A run that fails (its source's with.path is not there): the notice says why and names
    // the run to look at; no artifact.
    got = next();
    const res = await fetch(`${url}/hooks/leads/nofile`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${HOOK_SECRET}` },
      body: "{}",
    });
    assert.equal(res.status, 202);
    const failedRun = await res.json();
    await got;
    const last = JSON.parse(notices[1].body);
    assert.equal(last.event, "run.failed");
    assert.deepEqual([last.run.id, last.run.url], [failedRun.runId, failedRun.url]);
    assert.match(last.run.error, /missing\.csv: no such file/);
    assert.equal(last.run.artifacts, undefined);
    assert.equal(notices.length, 2);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await reader.cancel().catch(() => {});
    await receiver.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
