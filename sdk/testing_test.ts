import assert from "node:assert/strict";
import { openPlugin, readAll, runPlugin, SandboxError } from "./testing.ts";
import { startFakeRegistry } from "../testing/npm_registry_fake.ts";

const plugin = (name: string) => new URL(`../core/sandbox/testdata/${name}/`, import.meta.url);

Deno.test("runPlugin runs a transform in the sandbox, chunk by chunk", async () => {
  const result = await runPlugin({
    dir: plugin("echo"),
    config: { tag: "t" },
    items: [{ key: "a" }, { key: "b", op: "console" }, { key: "c" }],
    chunkSize: 2,
  });
  assert.deepEqual(result.items.map((i) => [i.key, i.seen, i.tag]), [
    ["a", true, "t"],
    ["b", true, "t"],
    ["c", true, "t"],
  ]);
  assert.equal(result.calls, 2);
  assert.deepEqual(result.metrics, { echoed: 3 });
  assert.deepEqual(result.logs.map((l) => [l.level, l.msg, l.source]), [
    ["info", "console line { chunk: 0 }", "plugin"],
    ["info", "sdk line", "plugin"],
    ["error", "console error line", "plugin"],
    ["info", "finished", "plugin"],
  ]);
});

Deno.test("readAll reads a source to the end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/in.txt`, "x.com\ny.com\nz.com\n");
    const items = await readAll({ dir: plugin("lines"), inputFile: `${dir}/in.txt`, chunkSize: 2 });
    assert.deepEqual(items, [{ key: "x.com" }, { key: "y.com" }, { key: "z.com" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPlugin enforces the permissions: a refused read is a permission error", async () => {
  const err = await runPlugin({
    dir: plugin("hostile"),
    permissions: {},
    items: [{ key: "k", attack: "readFile", arg: "/etc/passwd" }],
  }).catch((e) => e);
  assert.ok(err instanceof SandboxError);
  assert.equal(err.kind, "permission");
  assert.match(err.message, /Requires read access to "\/etc\/passwd"/);
});

Deno.test("openPlugin gives a temp data folder and removes it on close", async () => {
  let dataDir: string;
  {
    await using p = await openPlugin({ dir: plugin("echo") });
    dataDir = p.dataDir;
    assert.ok((await Deno.stat(dataDir)).isDirectory);
    const out = await p.process([{ key: "p", op: "pid" }]);
    assert.equal(out.items[0].calls, 1);
  }
  await assert.rejects(Deno.stat(dataDir), Deno.errors.NotFound);
});

Deno.test("runPlugin: a refused permission says to ask for it in plugin.json, not Deno's flag", async () => {
  const err = await runPlugin({
    dir: new URL("./runtime/testdata/mistakes/", import.meta.url),
    items: [{ key: "k", op: "net" }],
  }).catch((e) => e);
  assert.ok(err instanceof SandboxError);
  assert.equal(err.kind, "permission");
  assert.match(err.message, /Requires net access to "127\.0\.0\.1:18999" \(at mod\.ts:\d+:\d+\)/);
  assert.match(err.message, /plugin\.json does not ask for this: .*add it to "permissions"/);
  assert.doesNotMatch(err.message, /run again with/);
});

Deno.test("runPlugin caches a plugin's npm dependencies on the host when DENO_DIR lacks them", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_sdk_cache_" });
  const registry = await startFakeRegistry("sluice-tiny-dep", "1.0.0", [
    {
      path: "package.json",
      text: JSON.stringify({ name: "sluice-tiny-dep", version: "1.0.0", main: "index.js" }),
    },
    { path: "index.js", text: "exports.shout = (s) => String(s).toUpperCase() + '!';\n" },
  ]);
  try {
    const dir = `${tmp}/needs-npm`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(
      `${dir}/plugin.json`,
      JSON.stringify({ name: "needs-npm", version: "1.0.0", kind: "transform" }),
    );
    await Deno.writeTextFile(
      `${dir}/mod.ts`,
      `import { definePlugin } from "@sluice/sdk";
import { shout } from "npm:sluice-tiny-dep@1.0.0";
export default definePlugin({ process: (items) => items.map((i) => ({ ...i, loud: shout(i.key) })) });
`,
    );
    const { items } = await runPlugin({
      dir,
      items: [{ key: "a" }],
      denoDir: `${tmp}/deno_dir`,
      npmRegistry: registry.url,
    });
    assert.deepEqual(items, [{ key: "a", loud: "A!" }]);
    assert.ok(registry.requests() >= 2, "the record and the tarball were fetched");
  } finally {
    await registry.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
