/**
 * The housekeeping of a long-lived process (`sluice serve`, `sluice worker`: an engine that adopts
 * runs) resends the run notices kept in the store at start; a short command (`sluice run`) leaves
 * them to those.
 */
import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import { openContext, startEngine } from "./context.ts";
import { runCli } from "./test_cli.ts";

Deno.test("sluice worker's housekeeping resends a kept notice at start; sluice run does not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-notice-hk-" });
  const got: { key: string | null; body: string }[] = [];
  let arrived = () => {};
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({ key: req.headers.get("idempotency-key"), body: await req.text() });
    arrived();
    return new Response("ok");
  });
  try {
    const env = {
      SLUICE_DATA_DIR: join(dir, "data"),
      SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
      SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
      SLUICE_CONFIG: join(dir, "none.yaml"),
      SLUICE_LOG_LEVEL: "error",
      SLUICE_SECRET_HOOK: "hook-secret-0123456789",
    };
    await Deno.writeTextFile(env.SLUICE_CONFIG, "log:\n  level: error\n");
    const ctx = await openContext({ env });
    const url = `http://127.0.0.1:${receiver.addr.port}/hook`;
    const now = Date.now();
    const b = await openKvBackend(ctx.config.store.path);
    await b.store.createRun({
      id: "r-kept",
      pipeline: "p",
      pipelineYaml: `name: p\nonSuccess: { webhook: "${url}", secret: "\${{ secrets.HOOK }}" }\n`,
      pipelineFile: "p.yaml",
      stages: [],
      inputs: {},
      trigger: { kind: "cli" },
      state: "succeeded",
      createdAt: now - 120_000,
      finishedAt: now - 60_000,
    }, []);
    await b.store.notices!.add({
      runId: "r-kept",
      notice: "onSuccess",
      body: '{"event":"run.succeeded"}',
      idempotencyKey: "r-kept:onSuccess",
      finishedAt: now - 60_000,
      rounds: 1,
      lastError: "the webhook answered 503",
      nextAt: now - 1000,
    });
    b.close();

    // `sluice runs show` says so.
    const show = await runCli(["runs", "show", "r-kept"], { env, cwd: dir });
    assert.equal(show.code, 0, show.stderr);
    assert.match(
      show.stdout,
      /^onSuccess notice not delivered \(1 round\(s\) failed: the webhook answered 503\); next attempt \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m,
    );
    const json = await runCli(["runs", "show", "r-kept", "--json"], { env, cwd: dir });
    assert.deepEqual(JSON.parse(json.stdout).notices.map((n: { state: string }) => n.state), [
      "pending",
    ]);

    // A short command keeps house but does not resend.
    const run = await startEngine(ctx, { adopt: false });
    await new Promise((r) => setTimeout(r, 300));
    await run.close();
    assert.equal(got.length, 0);

    const delivered = new Promise<void>((r) => (arrived = r));
    const worker = await startEngine(ctx, { adopt: true });
    try {
      await Promise.race([
        delivered,
        new Promise((_, reject) => setTimeout(() => reject(new Error("not resent")), 10_000)),
      ]);
      // The pass settles the record right after the answer.
      for (
        let i = 0;
        i < 100 && (await worker.backend.store.notices!.ofRun("r-kept")).length;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(await worker.backend.store.notices!.ofRun("r-kept"), []);
    } finally {
      await worker.close();
    }
    assert.deepEqual(got, [{ key: "r-kept:onSuccess", body: '{"event":"run.succeeded"}' }]);
  } finally {
    await receiver.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
