/**
 * `sluice runs log RUN`: the lines a finished run's stages logged, from the store, by stage and
 * least level, the last N, as text or JSON.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { runCli } from "./test_cli.ts";

Deno.test("sluice runs log shows what a run's stages logged, filtered by stage and level", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-runlog-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_LOG_LEVEL: "error",
  };
  const sluice = (args: string[]) => runCli(args, { env, cwd: dir });
  try {
    const installed = await sluice([
      "plugin",
      "install",
      join(ROOT, "core/engine/testdata/chatty"),
      "--yes",
    ]);
    assert.equal(installed.code, 0, installed.stderr);
    await Deno.writeTextFile(
      join(dir, "in.jsonl"),
      Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: `i${i}` })).join("\n") + "\n",
    );
    await Deno.writeTextFile(
      join(dir, "noisy.yaml"),
      `name: noisy
source: { plugin: jsonl-source, with: { key: id }, chunk: 2 }
stages:
  - { id: talk, plugin: chatty, with: { lines: 3 } }
  - { id: csv, plugin: csv-export, with: { leadsOnly: false, columns: [id] } }
`,
    );
    const run = await sluice(["run", "noisy.yaml", "--input", "in.jsonl", "--run-id", "L"]);
    assert.equal(run.code, 0, run.stderr);

    const all = await sluice(["runs", "log", "L"]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split("\n");
    const talk = lines.filter((l) => / warn +talk chunk \d: chatty line \d$/.test(l));
    assert.equal(talk.length, 6, all.stdout); // 3 lines in each of 2 chunks
    assert.match(all.stdout, /^\S+Z info +csv \(run\): csv-export: 4 row\(s\) written to /m);

    const warn = await sluice(["runs", "log", "L", "--level", "warn", "--stage", "talk"]);
    assert.equal(warn.code, 0, warn.stderr);
    assert.equal(warn.stdout.trimEnd().split("\n").length, 6, warn.stdout);
    assert.doesNotMatch(warn.stdout, /csv-export/);

    const last = await sluice(["runs", "log", "L", "--stage", "talk", "--limit", "2", "--json"]);
    assert.equal(last.code, 0, last.stderr);
    const objects = last.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    // The last two of the stage's lines (its two chunks may run at once: their lines interleave).
    const lastTwo = warn.stdout.trimEnd().split("\n").slice(-2);
    assert.deepEqual(
      objects.map((o) => `warn  talk chunk ${o.chunk}: ${o.msg}`),
      lastTwo.map((l) => l.replace(/^\S+ /, "")),
    );
    assert.ok(objects.every((o) => o.level === "warn" && /^chatty line \d$/.test(o.msg)));
    assert.match(objects[0].at, /^\d{4}-\d\d-\d\dT/);

    const bad = await sluice(["runs", "log", "L", "--stage", "tlak"]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /--stage tlak: run L has no such stage; its stages: source, talk, csv/,
    );
    for (const level of ["loud", "debug"]) {
      const badLevel = await sluice(["runs", "log", "L", "--level", level]);
      assert.equal(badLevel.code, 1);
      assert.match(badLevel.stderr, new RegExp(`--level ${level}: give one of info, warn, error`));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
