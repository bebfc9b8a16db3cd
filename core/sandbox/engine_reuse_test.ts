import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { Engine } from "../engine/engine.ts";
import { prepareRun } from "../engine/prepare.ts";
import { FAST, runOutput } from "../engine/test_helpers.ts";
import { join, ROOT } from "../paths.ts";
import { Pipeline } from "../pipeline/model.ts";
import { openRegistry } from "../plugins/registry.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import { SandboxExecutor } from "./executor.ts";

const YAML = `
name: hooked
source: { plugin: jsonl-source }
stages:
  - { id: mark, plugin: set-fields, with: { set: { via: "\${{ inputs.tag }}" } } }
`;

Deno.test("engine + sandbox: runs whose input the record holds reuse warm plugin processes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-reuse-" });
  const backend = await openKvBackend(join(dir, "sluice.kv"));
  const started: string[] = [];
  const executor = new SandboxExecutor({
    onInstance: (e) => e.event === "started" && started.push(e.plugin),
  });
  const engine = new Engine({ backend, executor, dataDir: dir });
  await engine.start();
  try {
    const registry = await openRegistry({
      builtinDir: join(ROOT, "plugins"),
      installDir: join(dir, "plugins"),
      lockPath: join(dir, "plugins.lock"),
    });
    const pipeline = Pipeline.parse(parseYaml(YAML));
    const runOf = (tag: string, lines: string[]) => {
      const run = prepareRun({
        pipeline,
        yaml: YAML,
        file: "hooked.yaml",
        registry,
        inputs: { tag },
        inputFile: join(dir, "webhooks", `${tag}.jsonl`),
        trigger: { kind: "webhook", id: "in" },
        defaults: FAST,
      });
      // As the webhook intake records a small body: in the record, no file written.
      run.inputText = lines.join("\n") + "\n";
      return run;
    };
    const runs = [
      runOf("one", ['{"key":"a"}', '{"key":"b"}']),
      runOf("two", ['{"key":"c"}']),
      runOf("three", ['{"key":"d"}', "not json"]),
    ];
    const outputs: string[][] = [];
    for (const run of runs) {
      await engine.createRun(run);
      const done = await engine.waitForRun(run.id);
      assert.equal(done.state, "succeeded", done.error);
      const out = await runOutput(backend, run);
      outputs.push(out.map((i) => `${i.key}:${i.via}`).sort());
      assert.ok(!(await Deno.stat(run.inputFile!).catch(() => undefined)), "never written");
    }
    assert.deepEqual(outputs, [["a:one", "b:one"], ["c:two"], ["d:three"]]);
    const c = await backend.store.counters(runs[2].id, 2);
    assert.equal(c[0].rejected, 1, "the bad line of run three is rejected");
    assert.deepEqual(
      started.sort(),
      ["jsonl-source", "set-fields"],
      `one process per plugin: ${started}`,
    );
  } finally {
    await engine.close();
    await executor.close();
    await backend.close();
    await Deno.remove(dir, { recursive: true });
  }
});
