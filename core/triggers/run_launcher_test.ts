import assert from "node:assert/strict";
import { runOutput } from "../engine/test_helpers.ts";
import { join, ROOT } from "../paths.ts";
import { startTriggers } from "./mod.ts";
import { triggerEnv } from "./test_support.ts";

Deno.test("cron runs read the source's relative with.path in the plugin's data folder, as it was when the run was created", async () => {
  // As the README's pipeline: `with: { path: crm-export.csv }` is "the file scheduled runs
  // read, in the plugin's data folder (data/plugin-data/csv-source/)", not in the server's
  // working directory.
  const env = await triggerEnv({
    builtinDir: join(ROOT, "plugins"),
    startEngine: true,
    pipelines: {
      "p.yaml": `name: p
source: { plugin: csv-source@^1, with: { path: crm-export.csv } }
stages:
  - { id: tag, plugin: set-fields@^1, with: { set: { checked: true } } }
triggers:
  - { id: minutely, cron: "* * * * *" }
`,
    },
  });
  const dataDir = join(env.dir, "data");
  const folder = join(dataDir, "plugin-data", "csv-source");
  await Deno.mkdir(folder, { recursive: true });
  await Deno.writeTextFile(
    join(folder, "crm-export.csv"),
    "name,city,website\nAcme Plumbing,Springfield,acmeplumbing.com\n",
  );
  const kv = await Deno.openKv(env.kvPath);
  const t = await startTriggers({
    engine: env.engine,
    backend: env.backend,
    kv,
    catalog: env.catalog,
    registry: env.registry,
    secrets: () => undefined,
    dataDir,
    clock: env.clock,
  });
  try {
    await env.clock.advance(60_000);
    const [run] = await env.runs("p");
    assert.equal(run?.trigger.kind, "cron");
    // It reads its snapshot of the file, taken when it was created, named as the file is.
    assert.equal(run.sourceFile, join("plugin-data", "csv-source", "crm-export.csv"));
    assert.equal(run.inputFile, join("runs", run.id, "input", "crm-export.csv"));
    assert.equal(run.inputName, "crm-export.csv");
    await Deno.writeTextFile(join(folder, "crm-export.csv"), "name,website\nLater,later.example\n");
    const done = await env.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    const out = await runOutput(env.backend, done);
    assert.deepEqual(out.map((i) => [i.name, i.checked]), [["Acme Plumbing", true]]);
  } finally {
    await t.close();
    kv.close();
    await env.dispose();
  }
});
