/**
 * `sluice runs list|show|rejected|cancel` only read (or cancel): they must not take up the
 * unfinished work of a run that another process may be running.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";

Deno.test("runs list/show leave a running run's work alone; runs resume finishes it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-readonly-" });
  try {
    const input = join(dir, "in.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < 100_000; i++) lines.push(JSON.stringify({ id: `item-${i}`, n: i }));
    await Deno.writeTextFile(input, lines.join("\n") + "\n");
    const pipeline = join(dir, "ro.yaml");
    await Deno.writeTextFile(
      pipeline,
      `name: ro
source: { plugin: jsonl-source, with: { key: id }, chunk: 500 }
stages:
  - { id: a, plugin: set-fields, with: { set: { a: 1 } } }
`,
    );
    const env = {
      SLUICE_DATA_DIR: join(dir, "data"),
      SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
      SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
      SLUICE_LOG_FORMAT: "json",
      SLUICE_LOG_LEVEL: "info",
    };
    const sluice = (args: string[], stderr: "piped" | "null" = "piped") =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
        env,
        cwd: dir,
        stdout: "piped",
        stderr,
      });
    // A run killed mid-way stays "running" with unfinished chunks in the store.
    const child = sluice(["run", pipeline, "--input", input, "--run-id", "ro-1", "--quiet"])
      .spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!/run ro-1 started/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel();
    await reader.cancel();

    for (const args of [["runs", "list", "--json"], ["runs", "show", "ro-1"]]) {
      const r = await sluice(args).output();
      const err = new TextDecoder().decode(r.stderr);
      assert.equal(r.code, 0, err);
      assert.doesNotMatch(err, /run recovered/, `${args.join(" ")} took up the run's work`);
    }
    const listed = JSON.parse(
      new TextDecoder().decode((await sluice(["runs", "list", "--json"]).output()).stdout),
    );
    assert.equal(listed[0].state, "running", "the killed run is still running");

    const resumed = await sluice(["runs", "resume", "ro-1"]).output();
    const err = new TextDecoder().decode(resumed.stderr);
    assert.equal(resumed.code, 0, err);
    assert.match(err, /run recovered/, "resume is the command that takes the work up");
    assert.match(err, /run ro-1 succeeded/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
