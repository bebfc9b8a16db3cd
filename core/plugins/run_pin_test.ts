import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { StagePool } from "../engine/stage_pool.ts";
import { PluginError, type StageExecutor } from "../engine/executor.ts";
import type { RunRecord } from "../store/store.ts";
import type { Manifest, ResolvedPlugin } from "./manifest.ts";
import { pluginChangedSince, runsUsing } from "./run_pin.ts";
import { KvStore } from "../store/kv_backend.ts";

async function pluginDir(version: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-pin-" });
  await Deno.writeTextFile(
    join(dir, "plugin.json"),
    JSON.stringify({ name: "csv-export", version, kind: "sink", entry: "mod.ts" }),
  );
  return dir;
}

const resolved = (dir: string, version: string): ResolvedPlugin => ({
  manifest: { name: "csv-export", version, kind: "sink", entry: "mod.ts" } as Manifest,
  dir,
  origin: "builtin",
});

Deno.test("pluginChangedSince: the same version passes; another version or a removed folder says what to do", async () => {
  const dir = await pluginDir("1.0.0");
  try {
    assert.equal(await pluginChangedSince(resolved(dir, "1.0.0")), undefined);
    assert.match(
      (await pluginChangedSince(resolved(dir, "0.9.0")))!,
      /the run began with csv-export@0\.9\.0, and .* now holds csv-export@1\.0\.0; .*Start a new run, or put csv-export@0\.9\.0 back and retry this one \(sluice runs retry RUN\)/,
    );
    await Deno.writeTextFile(join(dir, "plugin.json"), "{ not json");
    assert.match((await pluginChangedSince(resolved(dir, "1.0.0")))!, /does not parse/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.match(
    (await pluginChangedSince(resolved(dir, "1.0.0")))!,
    /csv-export@1\.0\.0, which this run started with, is no longer at .* install csv-export@1\.0\.0 again and retry the run \(sluice runs retry RUN\)/,
  );
});

Deno.test("a resumed run's stage does not start with another plugin version than the run began with", async () => {
  const dir = await pluginDir("1.1.0");
  const dataDir = await Deno.makeTempDir({ prefix: "sluice-pin-data-" });
  let opened = 0;
  const executor = {
    open: () => {
      opened++;
      return Promise.reject(new Error("opened"));
    },
  } as unknown as StageExecutor;
  const pool = new StagePool({ executor, dataDir, signal: new AbortController().signal });
  const run = {
    id: "r1",
    pipeline: "p",
    startedAt: 0,
    inputs: {},
    trigger: { kind: "cli" },
    stages: [{ id: "csv", with: {}, resolved: resolved(dir, "1.0.0") }],
  } as unknown as RunRecord;
  try {
    await assert.rejects(pool.instance(run, 0), (e: PluginError) => {
      assert.ok(e instanceof PluginError);
      assert.equal(e.config, true, "the run fails at once: no retry can bring 1.0.0 back");
      assert.equal(e.retryable, false);
      assert.match(e.message, /^stage csv: plugin csv-export changed since this run started/);
      assert.match(e.message, /sluice runs retry r1\)$/);
      return true;
    });
    assert.equal(opened, 0, "the plugin was not started");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("runsUsing names the unfinished runs that started with an installed plugin's version", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-pin-runs-" });
  const kv = await Deno.openKv(join(dir, "s.kv"));
  try {
    const store = new KvStore(kv);
    const installed = (version: string): ResolvedPlugin => ({
      manifest: { name: "my-plugin", version, kind: "transform", entry: "mod.ts" } as Manifest,
      dir: `/plugins/my-plugin/${version}`,
      origin: "npm:my-plugin",
    });
    const run = (id: string, state: RunRecord["state"], plugin: ResolvedPlugin): RunRecord =>
      ({
        id,
        pipeline: "p",
        pipelineYaml: "",
        pipelineFile: "p.yaml",
        stages: [{ id: "s", with: {}, resolved: plugin }],
        inputs: {},
        trigger: { kind: "api" },
        state,
        createdAt: 1,
      }) as unknown as RunRecord;
    await store.createRun(run("running-1", "running", installed("0.1.0")), []);
    await store.createRun(run("failed-1", "failed", installed("0.1.0")), []);
    await store.createRun(run("done-1", "succeeded", installed("0.1.0")), []);
    await store.createRun(run("other-version", "running", installed("0.2.0")), []);
    await store.createRun(
      run("builtin", "running", { ...installed("0.1.0"), origin: "builtin" }),
      [],
    );
    assert.deepEqual(
      (await runsUsing(store, "my-plugin", ["0.1.0"])).sort(),
      ["failed-1", "running-1"],
    );
    assert.deepEqual(await runsUsing(store, "my-plugin", ["0.3.0"]), []);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
