/**
 * The V8 heap cap does not count ArrayBuffers: a plugin holding them must still be killed at its
 * resident-memory limit (the memory watchdog), and the host keeps serving.
 */
import assert from "node:assert/strict";
import { PluginError } from "../engine/executor.ts";
import { SandboxExecutor } from "./executor.ts";
import { isGone, loadTestPlugin, makeSpec } from "./testdata/support.ts";

function ctx() {
  return { chunk: 1, signal: new AbortController().signal };
}

Deno.test({
  name:
    "sandbox: a plugin holding ArrayBuffers past its memory limit is killed, the host keeps serving",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "sluice_rss_" });
    // A low limit keeps the test small; the default is the heap cap + 512 MB.
    const executor = new SandboxExecutor({ maxRssMb: 160 });
    try {
      const stage = await executor.open(
        makeSpec(await loadTestPlugin("hostile"), `${tmp}/data`, { timeoutMs: 60_000 }),
      );
      await stage.process([{ key: "warm" }], ctx());
      const pid = stage.pids()[0];
      // 400 MiB of buffers under a 64 MB heap cap: without the watchdog the call succeeds.
      const err = await stage.process([{ key: "b", attack: "bufferMemory", arg: "400" }], ctx())
        .then((r) => r, (e) => e);
      assert.ok(err instanceof PluginError, `expected PluginError, got ${JSON.stringify(err)}`);
      assert.match(err.message, /stage "stage-a" \(plugin test-hostile@6\.6\.6\)/);
      assert.match(err.message, /out of memory: the process used \d+ MB of resident memory/);
      assert.match(err.message, /more than its limit of 160 MB \(heap cap 64 MB/);
      assert.equal(err.retryable, true);
      for (let i = 0; i < 100 && !(await isGone(pid)); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(await isGone(pid), "the process is gone");
      const out = await stage.process([{ key: "after" }], ctx());
      assert.deepEqual(out.items, [{ key: "after", ok: true }], "a fresh instance serves");
    } finally {
      await executor.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
