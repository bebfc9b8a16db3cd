import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { CLI_V8_FLAGS, cliDenoArgs } from "./launch.ts";

/** Every `deno run`/`deno compile` of core/cli.ts in `text`, as the words up to core/cli.ts. */
function launches(text: string): string[][] {
  const out: string[][] = [];
  for (const m of text.matchAll(/deno (?:run|compile)\b[^\n"']*?core\/cli\.ts/g)) {
    out.push(m[0].split(/\s+/));
  }
  return out;
}

Deno.test("every launch of the sluice command users run passes the CLI's V8 flags", async () => {
  const deno = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const places: [string, string][] = [
    ["deno.json task start", deno.tasks.start],
    ["deno.json task sluice", deno.tasks.sluice],
    ["deno.json task compile", deno.tasks.compile],
    ...await Promise.all(
      [
        "Dockerfile",
        "deploy/systemd/sluice.service",
        "deploy/systemd/sluice-worker@.service",
        "deploy/systemd/sluice",
      ].map(async (f): Promise<[string, string]> => [f, await Deno.readTextFile(join(ROOT, f))]),
    ),
  ];
  let seen = 0;
  for (const [where, text] of places) {
    const found = launches(text);
    assert.ok(found.length > 0, `${where}: no launch of core/cli.ts found`);
    for (const words of found) {
      seen++;
      assert.ok(words.includes(CLI_V8_FLAGS), `${where}: ${words.join(" ")} lacks ${CLI_V8_FLAGS}`);
    }
  }
  // start, sluice, compile; the image's wrapper; two units; the wrapper's two lines.
  assert.equal(seen, 8);
});

Deno.test("the benchmarks launch the sluice command as users do", async () => {
  for (
    const f of [
      "bench/verify_bench.ts",
      "bench/recovery_bench.ts",
      "bench/webhook_server.ts",
      "testing/flagship_world.ts",
    ]
  ) {
    const text = await Deno.readTextFile(join(ROOT, f));
    assert.match(text, /cliDenoArgs\(/, `${f} builds its sluice command line with cliDenoArgs`);
    assert.doesNotMatch(text, /"run", "-A", [^\n]*core\/cli\.ts/, `${f}: a bare "run -A" launch`);
  }
  assert.deepEqual(cliDenoArgs("core/cli.ts", ["--inspect=127.0.0.1:9229"]), [
    "run",
    "--allow-all",
    CLI_V8_FLAGS,
    "--inspect=127.0.0.1:9229",
    "core/cli.ts",
  ]);
});

Deno.test("the CLI's V8 flags are ones this Deno takes: the command starts with them", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...cliDenoArgs(join(ROOT, "core/cli.ts")), "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /sluice/);
  assert.doesNotMatch(text, /unknown flag|Error: /i);
});
