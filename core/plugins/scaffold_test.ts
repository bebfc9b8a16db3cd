import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Manifest } from "./manifest.ts";
import { type ScaffoldKind, scaffoldPlugin } from "./scaffold.ts";
import { outputsProblems, undeclaredFields } from "./outputs.ts";
import { openPlugin, readAll, runPlugin } from "../../sdk/testing.ts";

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
      // It declares what it adds, and what it emits fits the declaration.
      assert.ok(manifest.outputs, "the manifest declares its outputs");
      assert.deepEqual(outputsProblems(manifest.outputs, manifest.adds), []);
      const input = [{ key: "a.example" }, { key: "b.example" }];
      const emitted = kind === "source"
        ? await readAll({ dir })
        : kind === "transform"
        ? (await runPlugin({ dir, items: input })).items
        : await (async () => {
          await using p = await openPlugin({ dir });
          return (await p.process(input, 0)).items;
        })();
      assert.ok(emitted.length > 0);
      const declared = manifest.outputs.properties ?? {};
      for (const item of emitted) {
        for (const [field, value] of Object.entries(item)) {
          const given = kind !== "source" && field in input[0];
          if (given) continue; // passed through, not added
          assert.ok(manifest.adds.includes(field), `adds lists "${field}"`);
          assert.ok(declared[field], `outputs declares "${field}"`);
          assert.deepEqual(undeclaredFields(declared[field], value, field), []);
        }
      }
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

Deno.test("scaffoldPlugin's README gives test commands that pass as written", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_scaffold_readme_" });
  try {
    const dir = `${tmp}/my-plugin`;
    await scaffoldPlugin({ dir, name: "my-plugin", kind: "transform" });
    const text = await Deno.readTextFile(`${dir}/README.md`);
    const commands = [...text.matchAll(/^deno test .*$/gm)].map((m) => m[0]);
    assert.equal(commands.length, 2, text);
    // The first from the Sluice folder, the second from the plugin's own folder.
    for (const [command, cwd] of [[commands[0], dirname(hostConfig)], [commands[1], dir]]) {
      const out = await new Deno.Command("sh", {
        args: ["-c", command],
        cwd,
        env: { NO_COLOR: "1", PATH: `${dirname(Deno.execPath())}:${Deno.env.get("PATH")}` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, `\`${command}\` in ${cwd} failed:\n${log}`);
      assert.match(log, /1 passed \| 0 failed/);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the scaffolded sink writes a chunk delivered twice once (at-least-once delivery), and each call of a split chunk", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_scaffold_sink_" });
  try {
    const dir = `${tmp}/my-sink`;
    await scaffoldPlugin({ dir, name: "my-sink", kind: "sink" });
    await using plugin = await openPlugin({ dir });
    await plugin.process([{ key: "a.example" }, { key: "b.example" }], 0);
    await plugin.process([{ key: "a.example" }, { key: "b.example" }], 0); // the retry
    await plugin.process([{ key: "c.example" }], 1);
    await plugin.process([{ key: "d.example" }], 1, 1); // chunk 1's second call (its part 1)
    await plugin.finish();
    const done = await plugin.finish(); // again, after a restart
    // finish names the file it finished, so a run offers it for download (its artifacts)
    assert.equal(done?.files?.length, 1, JSON.stringify(done));
    assert.ok(done.files[0].startsWith(`${plugin.dataDir}/`), done.files[0]);
    assert.match(await Deno.readTextFile(done.files[0]), /"key":"c\.example"/);
    const keys: string[] = [];
    const walk = async (folder: string) => {
      for await (const e of Deno.readDir(folder)) {
        const path = `${folder}/${e.name}`;
        if (e.isDirectory) await walk(path);
        else if (e.name.endsWith(".jsonl")) {
          const text = await Deno.readTextFile(path);
          keys.push(...text.trim().split("\n").map((l) => JSON.parse(l).key));
        }
      }
    };
    await walk(plugin.dataDir);
    assert.deepEqual(keys, ["a.example", "b.example", "c.example", "d.example"]);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
