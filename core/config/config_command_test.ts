import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { configArgsError } from "./config_command.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("sluice config: no arguments is fine; --config after the command names the right form", () => {
  assert.equal(configArgsError([]), undefined);
  for (const args of [["--config", "/tmp/x.yaml"], ["--config=/tmp/x.yaml"]]) {
    const msg = configArgsError(args)!;
    assert.match(msg, /--config goes before the command/);
    assert.match(msg, /^ {2}sluice --config \/tmp\/x\.yaml config$/m);
  }
  assert.match(configArgsError(["--config"])!, /sluice --config FILE config/);
  const other = configArgsError(["--json"])!;
  assert.match(other, /unexpected argument "--json"/);
  assert.match(other, /usage: sluice \[--config FILE\] config/);
});

async function sluice(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "core/cli.ts", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", SLUICE_CONFIG: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("sluice config --config FILE exits 2 instead of printing the defaults", async () => {
  const dir = await Deno.makeTempDir();
  const missing = `${dir}/nonexistent.yaml`;
  try {
    const wrong = await sluice("config", "--config", missing);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.equal(wrong.stdout, "", "nothing printed as if it were the file's config");
    assert.match(wrong.stderr, new RegExp(`sluice --config ${missing} config`));
    // The right form reads the file (here: says it is missing).
    const right = await sluice("--config", missing, "config");
    assert.equal(right.code, 1);
    assert.match(right.stderr, /cannot read the configuration file \(not found\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
