import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Manifest } from "./manifest.ts";
import { type ScaffoldKind, scaffoldPlugin } from "./scaffold.ts";

const hostConfig = fileURLToPath(new URL("../../deno.json", import.meta.url));

for (const kind of ["transform", "source", "sink"] as ScaffoldKind[]) {
  Deno.test(`scaffoldPlugin writes a ${kind} whose generated sandbox test passes`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "sluice_scaffold_" });
    try {
      const dir = `${tmp}/my-${kind}`;
      const written = await scaffoldPlugin({ dir, name: `my-${kind}`, kind });
      assert.deepEqual(written.map((p) => p.slice(dir.length + 1)), [
        "plugin.json",
        "mod.ts",
        "mod_test.ts",
        "README.md",
      ]);
      const manifest = Manifest.parse(JSON.parse(await Deno.readTextFile(`${dir}/plugin.json`)));
      assert.equal(manifest.kind, kind);
      assert.equal(manifest.name, `my-${kind}`);
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["test", "-A", `--config=${hostConfig}`, "mod_test.ts"],
        cwd: dir,
        env: { NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, text);
      assert.match(text, /1 passed \| 0 failed/);
      await assert.rejects(
        scaffoldPlugin({ dir, name: `my-${kind}`, kind }),
        Deno.errors.AlreadyExists,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("scaffoldPlugin refuses a name that is not npm-style", async () => {
  await assert.rejects(
    scaffoldPlugin({ dir: "/nonexistent/x", name: "My Plugin", kind: "transform" }),
    /not valid: use an npm-style name/,
  );
});
