/**
 * The webhook examples people copy work as written: the README's pipeline, server command and
 * curl + openssl script, and the signing example the UI's Schedules & webhooks page shows, run
 * with bash against a real `sluice serve` on loopback.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { signingExample } from "../../web/pages/triggers.tsx";
import { readUntil } from "./test_support.ts";

/** The fenced blocks of one `## ` section of the README, in order. */
function readmeBlocks(readme: string, heading: string): { lang: string; text: string }[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1],
    text: m[2],
  }));
}

async function bash(
  script: string,
  cwd: string,
): Promise<{ code: number; out: string; err: string }> {
  const r = await new Deno.Command("bash", {
    args: ["-euo", "pipefail", "-c", script],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout), err: dec.decode(r.stderr) };
}

Deno.test("the README's webhook example and the UI's signing example start runs as pasted", async () => {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const pipeline = readmeBlocks(readme, "Writing a pipeline").find((b) => b.lang === "yaml");
  assert.ok(pipeline, "the README's example pipeline");
  const [server, client] = readmeBlocks(readme, "Webhooks").filter((b) => b.lang === "sh");
  const secret = /^SLUICE_SECRET_CRM_HOOK=(\S+) deno task start$/m.exec(server.text)?.[1];
  assert.ok(secret, `the server command sets the hook's secret: ${server.text}`);
  assert.match(client.text, /http:\/\/127\.0\.0\.1:8080\/hooks\/my-leads\/crm/);

  const dir = await Deno.makeTempDir({ prefix: "sluice-hook-example-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_SERVER_PORT: "0",
    SLUICE_CONFIG: join(dir, "none.yaml"),
    SLUICE_SECRET_CRM_HOOK: secret,
  };
  await Deno.writeTextFile(env.SLUICE_CONFIG, "log:\n  level: warn\n");
  await Deno.mkdir(env.SLUICE_PIPELINES_DIR);
  await Deno.writeTextFile(join(env.SLUICE_PIPELINES_DIR, "my-leads.yaml"), pipeline.text);
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
    const [, token] = await readUntil(reader, /^\s+(slc_\S+)$/m, seen);
    const auth = { authorization: `Bearer ${token}` };
    const ended = async (runId: string) => {
      const events = await (await fetch(`${url}/api/v1/runs/${runId}/events`, { headers: auth }))
        .text();
      assert.match(events, /event: end\ndata: \{"state":"succeeded"\}/, events.slice(-400));
      const items = await (await fetch(`${url}/api/v1/runs/${runId}/items`, { headers: auth }))
        .json();
      return items.items as { name?: string; website?: string; checked?: boolean }[];
    };

    // The README's script, as pasted (the server on this test's port instead of 8080).
    const script = client.text.replaceAll("http://127.0.0.1:8080", url);
    const first = await bash(script, dir);
    assert.equal(first.code, 0, first.err);
    const runId = JSON.parse(first.out).runId;
    assert.ok(runId, first.out);
    const items = await ended(runId);
    assert.deepEqual(
      items.map((i) => [i.name, i.website, i.checked]),
      [["Acme Plumbing", "acmeplumbing.com", true]],
      "the CSV body became the run's items and went through the pipeline",
    );
    // The answer names the URL to poll (what a Zapier/n8n step follows): the run, its state
    // and, once it succeeded, its artifacts.
    const runUrl = JSON.parse(first.out).url;
    assert.equal(runUrl, `/api/v1/runs/${runId}`, first.out);
    const polled = await (await fetch(`${url}${runUrl}`, { headers: auth })).json();
    assert.deepEqual([polled.id, polled.state], [runId, "succeeded"]);
    // Sent again: the same Idempotency-Key starts nothing, as the README says.
    const again = await bash(script, dir);
    assert.deepEqual(JSON.parse(again.out), { runId, url: runUrl, duplicate: true }, again.out);

    // The UI's example for this hook (csv-source reads CSV), with the secret filled in.
    const example = signingExample({
      url: `${url}/hooks/my-leads/crm`,
      auth: "hmac",
      body: "items",
      accepts: ["text/csv"],
    }).replace("SECRET='…the hook secret…'", `SECRET='${secret}'`);
    assert.match(example, /content-type: text\/csv/);
    const ui = await bash(example, dir);
    assert.equal(ui.code, 0, ui.err);
    const uiRun = JSON.parse(ui.out).runId;
    assert.ok(uiRun && uiRun !== runId, ui.out);
    assert.deepEqual(
      (await ended(uiRun)).map((i) => [i.name, i.website]),
      [["Example Co", "example.com"]],
    );
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* exited */ }
    await child.status;
    await reader.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
