import assert from "node:assert/strict";
import { parsePipeline } from "../pipeline/parse.ts";
import { openRegistry, PluginIntegrityError } from "../plugins/registry.ts";
import { serialize } from "node:v8";
import { join, ROOT } from "../paths.ts";
import { DEFAULT_STAGE, missingSourceFile, prepareRun, sourceInputFile } from "./prepare.ts";
import { fitsOneValue } from "../store/kv_run_snapshot.ts";

async function fixture() {
  const dir = await Deno.makeTempDir({ prefix: "sluice-prepare-" });
  const registry = await openRegistry({
    builtinDir: join(ROOT, "plugins"),
    installDir: join(dir, "plugins"),
    lockPath: join(dir, "plugins.lock"),
  });
  const dataDir = join(dir, "data");
  const folder = join(dataDir, "plugin-data", "csv-source");
  await Deno.mkdir(folder, { recursive: true });
  const pipeline = (path: string) => {
    const yaml = `name: p\nsource: { plugin: csv-source@^1, with: { path: ${
      JSON.stringify(path)
    } } }\n`;
    const r = parsePipeline(yaml, "p.yaml", { registry });
    assert.ok(r.pipeline, JSON.stringify(r.problems));
    return { pipeline: r.pipeline, yaml };
  };
  return { dir, registry, dataDir, folder, pipeline };
}

Deno.test("with.path: a file in the plugin's data folder is the run's input file; one outside is never granted", async () => {
  const f = await fixture();
  try {
    await Deno.writeTextFile(join(f.folder, "crm.csv"), "name,website\nA,a.example\n");
    // Host files a pipeline author must not get a sandbox to read.
    const secret = join(f.dir, "secrets.csv");
    await Deno.writeTextFile(secret, "name,website\nTOKEN,hunter2.example\n");

    const inside = f.pipeline("crm.csv");
    assert.equal(
      sourceInputFile(inside.pipeline, f.registry, f.dataDir),
      join(f.folder, "crm.csv"),
    );
    assert.equal(await missingSourceFile(inside.pipeline, f.registry, f.dataDir), undefined);
    // A run reads its own snapshot of the file (taken by Engine.createRun), named as the file is;
    // a dry run (no snapshot) reads the file itself.
    const prepared = (snapshot?: boolean) =>
      prepareRun({
        ...inside,
        file: "p.yaml",
        registry: f.registry,
        inputs: {},
        trigger: { kind: "cron", id: "c" },
        dataDir: f.dataDir,
        id: "r/1",
        snapshot,
      });
    const run = prepared();
    // Kept relative to the data folder (a folder restored elsewhere finds them).
    assert.equal(run.sourceFile, join("plugin-data", "csv-source", "crm.csv"));
    assert.equal(run.inputFile, join("runs", "r_1", "input", "crm.csv"));
    assert.equal(run.inputName, "crm.csv");
    const dry = prepared(false);
    assert.deepEqual([dry.inputFile, dry.sourceFile, dry.inputName], [
      join("plugin-data", "csv-source", "crm.csv"),
      undefined,
      undefined,
    ]);
    const absInside = f.pipeline(join(f.folder, "crm.csv"));
    assert.equal(
      sourceInputFile(absInside.pipeline, f.registry, f.dataDir),
      join(f.folder, "crm.csv"),
    );

    for (const path of ["../../../secrets.csv", secret, "/etc/passwd", ".."]) {
      const { pipeline, yaml } = f.pipeline(path);
      assert.equal(
        sourceInputFile(pipeline, f.registry, f.dataDir),
        undefined,
        `${path}: not granted as the input file`,
      );
      const run = prepareRun({
        pipeline,
        yaml,
        file: "p.yaml",
        registry: f.registry,
        inputs: {},
        trigger: { kind: "cron", id: "c" },
        dataDir: f.dataDir,
      });
      assert.equal(run.inputFile, undefined, `${path}: the sandbox gets no read of it`);
      const why = await missingSourceFile(pipeline, f.registry, f.dataDir);
      assert.match(why ?? "", /outside the plugin's data folder/, path);
      assert.ok(!why?.includes("no file is there"), "existence is not told");
    }
    // The same answer whether the host file exists or not: no probing of the host's files.
    const exists = await missingSourceFile(f.pipeline(secret).pipeline, f.registry, f.dataDir);
    const absent = await missingSourceFile(
      f.pipeline(secret + ".nope").pipeline,
      f.registry,
      f.dataDir,
    );
    assert.equal(exists?.replace(secret, "X"), absent?.replace(secret + ".nope", "X"));
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("a plugin changed since install stops the run with the registry's advice (no internal error)", async () => {
  const f = await fixture();
  try {
    const { pipeline, yaml } = f.pipeline("crm.csv");
    const tampered = {
      ...f.registry,
      list: () => f.registry.list(),
      resolve: () => {
        throw new PluginIntegrityError({
          plugin: "csv-source",
          version: "1.0.0",
          dir: "/plugins/csv-source@1.0.0",
          expected: "sha256-aaa",
          actual: "sha256-bbb",
          source: "./csv-source",
        });
      },
    };
    assert.throws(
      () =>
        prepareRun({
          pipeline,
          yaml,
          file: "p.yaml",
          registry: tampered,
          inputs: {},
          trigger: { kind: "api", id: "t" },
          dataDir: f.dataDir,
        }),
      (e: Error) => {
        assert.equal(e.name, "EngineError");
        assert.match(e.message, /^p\.yaml: stage source: .*csv-source.*plugins\.lock/s);
        return true;
      },
    );
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("a run's stage snapshots leave out the manifests' outputs and config descriptions: the flagship's snapshot fits one KV value", async () => {
  const f = await fixture();
  try {
    const yaml = await Deno.readTextFile(join(ROOT, "pipelines/no-website-leads.yaml"));
    const r = parsePipeline(yaml, "leads.yaml", { registry: f.registry });
    assert.ok(r.pipeline, JSON.stringify(r.problems));
    const run = prepareRun({
      pipeline: r.pipeline,
      yaml,
      file: "leads.yaml",
      registry: f.registry,
      inputs: {},
      trigger: { kind: "api", id: "t" },
      dataDir: f.dataDir,
    });
    assert.ok(f.registry.resolve("rdap")?.manifest.outputs, "the registry's manifest has them");
    for (const s of run.stages) {
      assert.equal(s.resolved.manifest.outputs, undefined, s.id);
      assert.doesNotMatch(JSON.stringify(s.resolved.manifest.config), /"description"/, s.id);
    }
    // What kv_run_snapshot.ts stores once per pipeline version, in one value when it fits (Deno
    // KV caps a value at 64 KiB; a character beyond Latin-1 anywhere doubles the size).
    const snapshot = {
      pipelineYaml: run.pipelineYaml,
      pipelineFile: run.pipelineFile,
      stages: run.stages,
    };
    const size = serialize(snapshot).byteLength;
    assert.ok(fitsOneValue(JSON.stringify(snapshot)), `${size} bytes`);
    assert.ok(size < 65_536, `${size} bytes`);
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test("a stage without its own chunk: takes the source's chunks whole, unless the pipeline's chunk: says otherwise", async () => {
  const f = await fixture();
  try {
    const chunks = (head: string, stageChunk = "") => {
      const yaml = `name: p\n${head}source: { plugin: csv-source@^1, chunk: 400 }\n` +
        `stages:\n  - { id: n, plugin: normalize@^1${stageChunk} }\n`;
      const r = parsePipeline(yaml, "p.yaml", { registry: f.registry });
      assert.ok(r.pipeline, JSON.stringify(r.problems));
      const run = prepareRun({
        pipeline: r.pipeline,
        yaml,
        file: "p.yaml",
        registry: f.registry,
        inputs: {},
        trigger: { kind: "api", id: "t" },
        dataDir: f.dataDir,
        defaults: { ...DEFAULT_STAGE, chunk: 200 },
      });
      return run.stages.map((s) => s.chunk);
    };
    assert.deepEqual(chunks(""), [400, 400]);
    assert.deepEqual(chunks("chunk: 100\n"), [400, 100]);
    assert.deepEqual(chunks("", ", chunk: 50"), [400, 50]);
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});
