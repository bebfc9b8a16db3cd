import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { artifactFile, artifactType, pluginDataDir, stageArtifacts } from "./run_artifacts.ts";
import type { StageExecutor, StageSpec } from "./executor.ts";
import { InProcessExecutor } from "./in_process_executor.ts";
import { testEngine } from "./test_helpers.ts";

const stage = { id: "export", resolved: { manifest: { name: "csv-export" } } };

Deno.test("stageArtifacts: files inside the plugin's folder are listed; others are left out with the reason", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const folder = pluginDataDir(dataDir, "csv-export");
    await Deno.mkdir(join(folder, "runs", "r1"), { recursive: true });
    await Deno.writeTextFile(join(folder, "runs", "r1", "leads.csv"), "a,b\r\n");
    await Deno.writeTextFile(join(dataDir, "secret.txt"), "not yours");
    await Deno.symlink(join(dataDir, "secret.txt"), join(folder, "link.txt"));
    const warnings: string[] = [];
    const got = await stageArtifacts(dataDir, stage, {
      files: [
        join(folder, "runs", "r1", "leads.csv"),
        join(dataDir, "secret.txt"),
        join(folder, "link.txt"),
        join(folder, "missing.csv"),
        join(folder, "runs"),
      ],
    }, (m) => warnings.push(m));
    assert.deepEqual(got, [{
      stage: "export",
      name: "leads.csv",
      path: "plugin-data/csv-export/runs/r1/leads.csv",
      bytes: 5,
    }]);
    assert.equal(warnings.length, 4, warnings.join("\n"));
    assert.match(warnings[0], /secret\.txt, which is outside the plugin's data folder/);
    assert.match(warnings[1], /link\.txt, which is outside the plugin's data folder/);
    assert.match(warnings[2], /missing\.csv, which does not exist/);
    assert.match(warnings[3], /runs, which is not a file/);
    assert.deepEqual(await stageArtifacts(dataDir, stage, undefined, () => {}), []);

    assert.equal(await artifactFile(dataDir, got[0]), join(folder, "runs", "r1", "leads.csv"));
    const tampered = { ...got[0], path: "secret.txt" };
    assert.equal(await artifactFile(dataDir, tampered), undefined, "outside plugin-data: refused");
    const escaping = { ...got[0], path: "plugin-data/csv-export/link.txt" };
    assert.equal(await artifactFile(dataDir, escaping), undefined, "a link out is not followed");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("artifactType: CSV and JSON Lines by their extension, else bytes", () => {
  assert.equal(artifactType("leads.CSV"), "text/csv; charset=utf-8");
  assert.equal(artifactType("leads.jsonl"), "application/x-ndjson; charset=utf-8");
  assert.equal(artifactType("report"), "application/octet-stream");
});

Deno.test("a stage naming many files, or values that are not paths, cannot keep its run from ending", async () => {
  // What a plugin's process may send as finish()'s result (the child's own check is the
  // plugin's code, not a boundary): 400 long-named files in its folder, and junk.
  const inner = new InProcessExecutor();
  const executor: StageExecutor = {
    close: () => inner.close(),
    async open(spec: StageSpec) {
      const inst = await inner.open(spec);
      return {
        ...inst,
        read: inst.read.bind(inst),
        process: inst.process.bind(inst),
        close: inst.close.bind(inst),
        async finish() {
          if (spec.stageId !== "tag") return undefined;
          const files: unknown[] = [42, null, { path: "x" }, "relative.csv"];
          const dir = join(spec.dataDir, "runs", spec.runId);
          await Deno.mkdir(dir, { recursive: true });
          for (let i = 0; i < 400; i++) {
            const f = join(dir, `${"x".repeat(200)}-${i}.csv`);
            await Deno.writeTextFile(f, "a\n");
            files.push(f);
          }
          return { files } as never;
        },
      };
    },
  };
  const t = await testEngine({ executor });
  try {
    const run = await t.start(`name: many
source: { plugin: gen-source, with: { count: 3 } }
stages:
  - { id: tag, plugin: tag, with: { field: seen } }
`);
    const done = await Promise.race([
      t.engine.waitForRun(run.id),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("the run never ended")), 15_000)
      ),
    ]);
    assert.equal(done.state, "succeeded", done.error);
    const listed = done.artifacts ?? [];
    assert.ok(listed.length > 0 && listed.length <= 100, `${listed.length} artifacts listed`);
    assert.ok(listed.every((a) => a.name.endsWith(".csv")));
  } finally {
    await t.dispose();
  }
});
