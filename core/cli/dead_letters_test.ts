/**
 * Dead letters as the CLI shows them: `runs show` counts them and lists the first few, each
 * saying it waits for `sluice runs retry`; `runs dead-letters` lists them all; `runs resume` of
 * the failed run names `runs retry`.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { runCli } from "./test_cli.ts";

Deno.test("runs show caps the dead letters, runs dead-letters lists them all, resume names retry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-dead-" });
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
      join(ROOT, "core/engine/testdata/flaky"),
      "--yes",
    ]);
    assert.equal(installed.code, 0, installed.stderr);
    await Deno.writeTextFile(
      join(dir, "in.jsonl"),
      Array.from({ length: 7 }, (_, i) => JSON.stringify({ id: `i${i}` })).join("\n") + "\n",
    );
    await Deno.writeTextFile(
      join(dir, "dead.yaml"),
      `name: dead
source: { plugin: jsonl-source, with: { key: id }, chunk: 1 }
stages:
  - id: fails
    plugin: flaky
    with: { failTimes: 99, tag: t }
    retry: { attempts: 1 }
    onError: deadLetter
`,
    );
    const run = await sluice(["run", "dead.yaml", "--input", "in.jsonl", "--run-id", "D"]);
    assert.equal(run.code, 1, run.stderr);

    const show = await sluice(["runs", "show", "D"]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(
      show.stdout,
      /^dead letters: 7 chunk\(s\), 7 item\(s\), the first 5; parked after their last attempt, they wait for: sluice runs retry D; all of them: sluice runs dead-letters D$/m,
    );
    const lines = show.stdout.split("\n").filter((l) => l.includes("dead letter ("));
    assert.equal(lines.length, 5, show.stdout);
    for (const l of lines) {
      assert.match(
        l,
        /^ {2}dead letter \(waits for runs retry\): stage fails chunk \d after 1 attempt/,
      );
    }

    const all = await sluice(["runs", "dead-letters", "D"]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout.split("\n").filter((l) => l.includes("dead letter (")).length, 7);
    assert.match(all.stdout, /flaky failure 1 of chunk 6/);

    const resume = await sluice(["runs", "resume", "D"]);
    assert.equal(resume.code, 1);
    assert.match(
      resume.stderr,
      /run D failed with 7 dead-lettered chunk\(s\); resume does not replay them: .*sluice runs retry D/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
