import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { signRequest } from "../triggers/webhook_signatures.ts";

const TOKEN = "slc_no_workers_test_token_0123456789abcdef";

function spawn(args: string[], env: Record<string, string>) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return {
    child,
    /** Reads stderr until `re` matches; the match. */
    async until(re: RegExp): Promise<RegExpMatchArray> {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`${args[0]} exited; output:\n${text}`);
        text += value;
      }
      return text.match(re)!;
    },
    /** Waits for the process to end by itself; its exit code. */
    async exited() {
      const status = await child.status;
      await reader.cancel();
      return status.code;
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      const status = await child.status;
      await reader.cancel();
      return status.code;
    },
  };
}

Deno.test("sluice serve --no-workers records webhook runs and runs none; a sluice worker started later runs them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-no-workers-" });
  await Deno.mkdir(join(dir, "pipelines"));
  await Deno.writeTextFile(
    join(dir, "pipelines", "hooked.yaml"),
    `name: hooked
triggers:
  - webhook: in
    secret: \${{ secrets.HOOK }}
source:
  plugin: jsonl-source
stages:
  - id: mark
    plugin: set-fields
    with: { set: { seen: true } }
`,
  );
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_SERVER_HOST: "127.0.0.1",
    SLUICE_SERVER_PORT: "0",
    SLUICE_ADMIN_TOKEN: TOKEN,
    SLUICE_SECRET_HOOK: "hook-secret-for-tests",
    SLUICE_LOG_FORMAT: "json",
    SLUICE_LOG_LEVEL: "warn",
  };
  const bad = spawn(["serve", "--bogus"], env);
  assert.match((await bad.until(/usage: sluice serve \[--no-workers\]/))[0], /usage/);
  // It ends by itself; a SIGTERM sent while it exits would make its code 143.
  assert.equal(await bad.exited(), 2);

  const server = spawn(["serve", "--no-workers"], env);
  let worker: ReturnType<typeof spawn> | undefined;
  try {
    const [, url] = await server.until(/sluice serving on (http:\/\/\S+) \(.*no workers/);
    // Embedded KV: the server warns that workers share its data folder (same machine only).
    await server.until(/serve --no-workers with the embedded KV store/);
    const body = JSON.stringify({ key: "k1", name: "Acme" });
    const [name, value] = await signRequest({
      auth: "hmac",
      secret: env.SLUICE_SECRET_HOOK,
      body,
    });
    const res = await fetch(`${url}/hooks/hooked/in`, {
      method: "POST",
      headers: { "content-type": "application/json", [name]: value },
      body,
    });
    assert.equal(res.status, 202);
    const { runId } = await res.json();
    const auth = { authorization: `Bearer ${TOKEN}` };
    const state = async () =>
      (await (await fetch(`${url}/api/v1/runs/${runId}`, { headers: auth })).json()).state;
    // A serving engine starts a run within ~100 ms; this one must leave it queued.
    for (let i = 0; i < 10; i++) {
      assert.equal(await state(), "queued", "no worker has taken the run");
      await new Promise((r) => setTimeout(r, 100));
    }

    // The worker's recovery pass at start picks up the queued run.
    worker = spawn(["worker"], env);
    await worker.until(/sluice worker \d+ running/);
    const events = await (await fetch(`${url}/api/v1/runs/${runId}/events`, { headers: auth }))
      .text();
    assert.match(events, /event: end\ndata: \{"state":"succeeded"\}/, events.slice(-500));
    assert.equal(await worker.stop(), 0);
    assert.equal(await server.stop(), 0);
  } finally {
    await worker?.stop();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
