/**
 * `EngineHandle.stopEngine` stops the plugin processes, not only the engine: `sluice run --out`
 * writes its file after it, and the idle processes would otherwise stay alive beside the CLI
 * while it writes (for the engine's idle time, 30 s by default).
 */
import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { loadPipelineFile } from "../pipeline/parse.ts";
import { prepareRun } from "../engine/prepare.ts";
import { openContext, startEngine } from "./context.ts";

/** Pids of this process's children that run a plugin in the sandbox. */
function pluginChildren(): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      if (ppid === Deno.pid && cmd.includes("/plugins/")) pids.push(Number(e.name));
    } catch { /* gone meanwhile */ }
  }
  return pids;
}

Deno.test({
  name: "stopEngine ends the run's plugin processes (before `--out` is written)",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "sluice-stop-engine-" });
    const env = {
      SLUICE_DATA_DIR: join(dir, "data"),
      SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
      SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
      SLUICE_CONFIG: join(dir, "none.yaml"),
      SLUICE_LOG_LEVEL: "error",
      // Idle processes would be kept far longer than this test waits.
      SLUICE_ENGINE_SANDBOX_IDLE: "10m",
    };
    try {
      await Deno.writeTextFile(env.SLUICE_CONFIG, "log:\n  level: error\n");
      const input = join(dir, "businesses.csv");
      await Deno.writeTextFile(input, "name,website\nAcme,https://www.acme-bakery.com/\n");
      const file = join(dir, "p.yaml");
      const yaml = "name: p\nsource:\n  plugin: csv-source@^1\nstages:\n" +
        "  - id: normalize\n    plugin: normalize@^1\n";
      await Deno.writeTextFile(file, yaml);
      const ctx = await openContext({ env });
      const parsed = await loadPipelineFile(file, { registry: ctx.registry });
      assert.ok(parsed.pipeline, JSON.stringify(parsed.problems));
      const h = await startEngine(ctx);
      try {
        const run = await h.engine.createRun(prepareRun({
          pipeline: parsed.pipeline,
          yaml,
          file,
          registry: ctx.registry,
          inputs: {},
          inputFile: input,
          dataDir: h.dataDir,
          trigger: { kind: "cli" },
          defaults: ctx.defaults,
        }));
        const done = await h.engine.waitForRun(run.id);
        assert.equal(done.state, "succeeded", done.error);
        const idle = pluginChildren();
        assert.ok(idle.length > 0, "the run's plugin processes wait for more work");
        await h.stopEngine();
        assert.deepEqual(pluginChildren(), [], "no plugin process is left after stopEngine");
        // The store stays open until close: the run's items can still be read (and written).
        const items = await h.backend.store.readChunk(run.id, 1, 0);
        assert.equal(items?.[0]?.domain, "acme-bakery.com");
      } finally {
        await h.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
