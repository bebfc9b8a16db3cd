/**
 * Nothing is lost when the process that ended a run dies while sending its notice: a real
 * `sluice run` records the notice in the store before its first POST, is killed (SIGKILL) while
 * the webhook holds that POST unanswered, and a resender on the same data directory sends the
 * notice once the dead process's lease has passed, with the same body and `Idempotency-Key`.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import { noticeLeaseMs } from "../telemetry/engine_telemetry.ts";
import { resendDueNotices } from "../telemetry/notice_resend.ts";
import { verifySignature } from "../../sdk/api/signature.ts";
import { openContext } from "./context.ts";

const SECRET = "hook-secret-0123456789";

Deno.test("a sluice run killed while sending its notice leaves it in the store; a resender sends it after the lease", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-notice-kill-" });
  const got: { key: string | null; signature: string | null; body: string }[] = [];
  let arrived = () => {};
  // The first POST is held unanswered until the test ends (the process is killed meanwhile);
  // later ones are answered 200.
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({
      key: req.headers.get("idempotency-key"),
      signature: req.headers.get("x-sluice-signature"),
      body: await req.text(),
    });
    arrived();
    if (got.length === 1) {
      await held;
      return new Response("late", { status: 503 });
    }
    return new Response("ok");
  });
  const url = `http://127.0.0.1:${receiver.addr.port}/hook`;
  let child: Deno.ChildProcess | undefined;
  try {
    const env = {
      SLUICE_DATA_DIR: join(dir, "data"),
      SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
      SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
      SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
      SLUICE_CONFIG: join(dir, "none.yaml"),
      SLUICE_LOG_LEVEL: "error",
      SLUICE_SECRET_HOOK: SECRET,
    };
    await Deno.writeTextFile(env.SLUICE_CONFIG, "log:\n  level: error\n");
    const pipeline = join(dir, "p.yaml");
    await Deno.writeTextFile(
      pipeline,
      `name: p
source: { plugin: jsonl-source, with: { key: id } }
stages:
  - { id: mark, plugin: set-fields, with: { set: { lead: true } } }
onSuccess: { webhook: "${url}", secret: "\${{ secrets.HOOK }}" }
`,
    );
    const input = join(dir, "in.jsonl");
    await Deno.writeTextFile(input, '{"id":"a"}\n{"id":"b"}\n');
    const first = new Promise<void>((r) => (arrived = r));
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "core/cli.ts"), "run", pipeline, "--input", input, "--quiet"],
      cwd: dir,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const exited = child.status.then((s) => {
      throw new Error(`sluice run exited (${s.code}) before its notice was POSTed`);
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      first,
      exited,
      new Promise((_, reject) =>
        timer = setTimeout(() => reject(new Error("no notice within 60 s")), 60_000)
      ),
    ]);
    clearTimeout(timer);
    exited.catch(() => {});
    // The first attempt is in flight: the process dies now.
    child.kill("SIGKILL");
    await child.status;
    const killedAt = Date.now();

    const ctx = await openContext({ env });
    const backend = await openKvBackend(ctx.config.store.path);
    try {
      const { runs } = await backend.store.listRuns({});
      assert.equal(runs.length, 1);
      const run = runs[0];
      assert.equal(run.state, "succeeded");
      const [n] = await backend.store.notices!.ofRun(run.id);
      assert.ok(n, "the notice was recorded before the first POST");
      assert.deepEqual([n.state, n.rounds, n.lastError], ["pending", 0, ""]);
      assert.ok(n.claim, "claimed by the process that ended the run");
      assert.ok(n.nextAt > killedAt && n.nextAt <= killedAt + noticeLeaseMs(), String(n.nextAt));
      assert.equal(n.body, got[0].body);
      assert.equal(n.idempotencyKey, got[0].key);

      const pass = (at: number) =>
        resendDueNotices({
          store: backend.store,
          outbox: backend.store.notices!,
          secrets: (name) => (name === "HOOK" ? SECRET : undefined),
          now: () => at,
        });
      // The lease still holds (the process might be slow, not dead): not taken.
      assert.deepEqual(await pass(Date.now()), { sent: 0, failed: 0, givenUp: 0 });
      assert.equal(got.length, 1);
      // Past the lease, as a `sluice serve` / `sluice worker` would see it a minute later.
      const at = n.nextAt;
      assert.deepEqual(await pass(at), { sent: 1, failed: 0, givenUp: 0 });
      assert.equal(got.length, 2);
      assert.equal(got[1].key, `${run.id}:onSuccess:${run.finishedAt}`);
      assert.equal(got[1].key, got[0].key, "the same Idempotency-Key");
      assert.equal(got[1].body, got[0].body, "the same body");
      assert.equal(JSON.parse(got[1].body).event, "run.succeeded");
      assert.ok(await verifySignature(SECRET, got[1].signature, got[1].body, { now: at / 1000 }));
      assert.deepEqual(await backend.store.notices!.ofRun(run.id), [], "delivered: gone");
    } finally {
      backend.close();
    }
  } finally {
    try {
      child?.kill("SIGKILL");
    } catch { /* exited */ }
    await child?.status;
    release();
    await receiver.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
