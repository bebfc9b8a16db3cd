import assert from "node:assert/strict";
import { PluginError } from "../engine/executor.ts";
import { ensureCached } from "./ensure_cached.ts";
import { SandboxExecutor } from "./executor.ts";
import { startFakeRegistry } from "../../testing/npm_registry_fake.ts";
import { Manifest, type ResolvedPlugin } from "../plugins/manifest.ts";
import { makeSpec } from "./testdata/support.ts";

/**
 * Writes a plugin that depends on an npm package only the loopback registry has. It is made at
 * test time so that no checked-in module names a package the real registry lacks.
 */
async function writeNpmPlugin(dir: string): Promise<ResolvedPlugin> {
  await Deno.mkdir(dir, { recursive: true });
  const manifest = Manifest.parse({ name: "test-needs-npm", version: "1.0.0", kind: "transform" });
  await Deno.writeTextFile(`${dir}/plugin.json`, JSON.stringify(manifest));
  await Deno.writeTextFile(
    `${dir}/mod.ts`,
    `import { definePlugin } from "@sluice/sdk";
import { shout } from "npm:sluice-tiny-dep@1.0.0";
export default definePlugin({
  process: (items) => items.map((item) => ({ ...item, loud: shout(item.key) })),
});
`,
  );
  return { manifest, dir, origin: "test" };
}

const TINY_DEP = [
  {
    path: "package.json",
    text: JSON.stringify({ name: "sluice-tiny-dep", version: "1.0.0", main: "index.js" }),
  },
  { path: "index.js", text: "exports.shout = (s) => String(s).toUpperCase() + '!';\n" },
];

Deno.test("the host caches a plugin's npm dependencies when its process cannot load them", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_cache_" });
  const registry = await startFakeRegistry("sluice-tiny-dep", "1.0.0", TINY_DEP);
  const denoDir = `${tmp}/deno_dir`;
  const logs: string[] = [];
  const executor = new SandboxExecutor({
    denoDir,
    npmRegistry: registry.url,
    log: (e) => logs.push(e.msg),
  });
  try {
    const plugin = await writeNpmPlugin(`${tmp}/needs_npm`);
    const spec = makeSpec(plugin, `${tmp}/data`);
    const ctx = { chunk: 0, signal: new AbortController().signal };

    // Nothing is cached: the first process fails to load, the host runs `deno cache` (the
    // sandbox itself runs with --cached-only), and a second process loads the plugin.
    const first = await executor.open(spec);
    const out = await first.process([{ key: "a" }], ctx);
    assert.deepEqual(out.items, [{ key: "a", loud: "A!" }]);
    assert.ok(registry.requests() >= 2, "metadata and tarball were fetched");
    assert.ok(
      logs.some((m) => /caching the npm dependencies of plugin test-needs-npm@1\.0\.0/.test(m)),
    );
    await first.close();

    // Cached now: a new executor starts the plugin without the registry.
    const seen = registry.requests();
    const again = new SandboxExecutor({ denoDir, npmRegistry: registry.url });
    try {
      const stage = await again.open(spec);
      assert.deepEqual((await stage.process([{ key: "b" }], ctx)).items, [{
        key: "b",
        loud: "B!",
      }]);
    } finally {
      await again.close();
    }
    assert.equal(registry.requests(), seen);
  } finally {
    await executor.close();
    await registry.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("a dependency the host cannot cache fails the stage clearly, naming plugin and package", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_cache_" });
  const registry = await startFakeRegistry("some-other-package", "1.0.0", []);
  const executor = new SandboxExecutor({ denoDir: `${tmp}/deno_dir`, npmRegistry: registry.url });
  try {
    const plugin = await writeNpmPlugin(`${tmp}/needs_npm`);
    const stage = await executor.open(makeSpec(plugin, `${tmp}/data`));
    const ctx = { chunk: 0, signal: new AbortController().signal };
    const err = await stage.process([{ key: "a" }], ctx).catch((e) => e);
    assert.ok(err instanceof PluginError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /could not load .*needs_npm\/mod\.ts/);
    assert.match(err.message, /not in the Deno cache .*install the plugin again/);
    assert.match(
      err.message,
      /tried to cache them and could not: could not cache the dependencies of plugin test-needs-npm@1\.0\.0 .*sluice-tiny-dep/,
    );
  } finally {
    await executor.close();
    await registry.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("ensureCached reports a dependency it cannot get", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_cache_" });
  const registry = await startFakeRegistry("some-other-package", "1.0.0", []);
  try {
    const plugin = await writeNpmPlugin(`${tmp}/needs_npm`);
    await assert.rejects(
      ensureCached(plugin, { denoDir: `${tmp}/deno_dir`, npmRegistry: registry.url }),
      /could not cache the dependencies of plugin test-needs-npm@1\.0\.0 .*sluice-tiny-dep/,
    );
  } finally {
    await registry.close();
    await Deno.remove(tmp, { recursive: true });
  }
});
