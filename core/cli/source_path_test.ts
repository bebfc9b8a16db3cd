/**
 * A pipeline's `with.path` cannot make a source's sandbox read a file outside the plugin's data
 * folder: `sluice run` with the real sandbox, a host file beside the data folder.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";

async function sluice(args: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
    env: { SLUICE_PLUGINS_DIR: join(ROOT, "plugins"), SLUICE_LOG_LEVEL: "warn", ...env },
    cwd,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("with.path outside the source plugin's data folder is not readable in the sandbox", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-srcpath-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
  };
  try {
    // A host file (think /proc/1/environ, the secrets file or the store) beside the data folder.
    await Deno.writeTextFile(join(dir, "host-secret.jsonl"), '{"id":"SECRET-VALUE"}\n');
    for (const [name, path] of [["rel", "../../../host-secret.jsonl"], ["abs", "ABS"]]) {
      const p = path === "ABS" ? join(dir, "host-secret.jsonl") : path;
      await Deno.writeTextFile(
        join(dir, `${name}.yaml`),
        `name: ${name}\nsource: { plugin: jsonl-source, with: { path: ${
          JSON.stringify(p)
        }, key: id }, retry: { attempts: 1 } }\n`,
      );
      // Refused up front, saying why (and not whether the file exists).
      const refused = await sluice(["run", `${name}.yaml`], env, dir);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /outside the plugin's data folder.*nothing was run/s);
      // A resumed id skips that check: the sandbox still must not read the file.
      const run = await sluice(
        ["run", `${name}.yaml`, "--run-id", `${name}-1`, "--out", `${name}.jsonl`],
        env,
        dir,
      );
      const out = await Deno.readTextFile(join(dir, `${name}.jsonl`)).catch(() => "");
      assert.ok(!out.includes("SECRET-VALUE"), `${name}: the host file was read: ${out}`);
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /failed/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
