/**
 * A plugin that writes without end to stdout must cost only its own instance: the host stops
 * reading at the line limit, kills the process and fails the call (retryable), and keeps serving.
 */
import assert from "node:assert/strict";
import { PluginError } from "../engine/executor.ts";
import { SandboxExecutor } from "./executor.ts";
import { isGone, loadTestPlugin, makeSpec } from "./testdata/support.ts";

function ctx() {
  return { chunk: 1, signal: new AbortController().signal };
}

Deno.test("sandbox: a plugin flooding stdout without a newline is killed at the line limit, the host keeps serving", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_flood_" });
  // A low limit keeps the test small; the default is 64 MiB.
  const executor = new SandboxExecutor({ maxLineBytes: 2 * 1024 * 1024 });
  try {
    const stage = await executor.open(makeSpec(await loadTestPlugin("hostile"), `${tmp}/data`));
    await stage.process([{ key: "warm" }], ctx());
    const pid = stage.pids()[0];
    const err = await stage.process([{ key: "f", attack: "floodStdout", arg: "16" }], ctx())
      .then(() => undefined, (e) => e);
    assert.ok(err instanceof PluginError, `expected PluginError, got ${err}`);
    assert.match(err.message, /stage "stage-a" \(plugin test-hostile@6\.6\.6\)/);
    assert.match(err.message, /protocol error: the plugin wrote more than 2 MiB to stdout/);
    assert.match(err.message, /the instance was killed/);
    assert.equal(err.retryable, true, "retryable, like any other instance death");
    for (let i = 0; i < 100 && !(await isGone(pid)); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(await isGone(pid), "the flooding process is gone");
    const out = await stage.process([{ key: "after" }], ctx());
    assert.deepEqual(out.items, [{ key: "after", ok: true }], "a fresh instance serves");
    assert.notEqual(stage.pids()[0], pid);
  } finally {
    await executor.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
