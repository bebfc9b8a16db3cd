import assert from "node:assert/strict";
import { join } from "node:path";
import {
  openRegistry,
  PluginApprovalError,
  PluginIntegrityError,
  type Registry,
} from "./registry.ts";
import { type DenoCache, installPlugin } from "./install.ts";
import { readLock, writeLock } from "./lockfile.ts";
import { type FixturePlugin, tempDir, writePlugin } from "./test_support.ts";

const noCache: DenoCache = () => Promise.resolve();

async function setup(root: string) {
  const opts = {
    builtinDir: join(root, "plugins"),
    installDir: join(root, "installed"),
    lockPath: join(root, "plugins.lock"),
  };
  await Deno.mkdir(opts.builtinDir, { recursive: true });
  return opts;
}

async function install(registry: Registry, root: string, p: FixturePlugin) {
  const src = await writePlugin(join(root, "src", `${p.name}-${p.version}`), p);
  const res = await installPlugin({
    source: src,
    registry,
    approve: () => Promise.resolve(true),
    denoCache: noCache,
  });
  assert.ok(res.installed);
  return src;
}

Deno.test("builtins resolve with their manifest permissions; broken ones are reported", async () => {
  await using tmp = await tempDir();
  const opts = await setup(tmp.path);
  await writePlugin(join(opts.builtinDir, "csv"), {
    name: "csv-source",
    version: "1.0.0",
    kind: "source",
    permissions: { read: ["input/"] },
  });
  await Deno.mkdir(join(opts.builtinDir, "shared-helpers"));
  await Deno.mkdir(join(opts.builtinDir, "broken"));
  await Deno.writeTextFile(join(opts.builtinDir, "broken", "plugin.json"), '{ "name": "x" ');
  const registry = await openRegistry(opts);
  const p = registry.resolve("csv-source")!;
  assert.equal(p.origin, "builtin");
  assert.equal(p.dir, join(opts.builtinDir, "csv"));
  assert.deepEqual(p.approved, { net: [], read: ["input/"], write: [], env: [] });
  assert.equal(registry.resolve("csv-source", "^2"), undefined);
  assert.equal(registry.resolve("nope"), undefined);
  assert.equal(registry.list().length, 1);
  const problems = registry.problems();
  assert.equal(problems.length, 1);
  assert.match(problems[0].message, /broken\/plugin\.json:1:\d+: not valid JSON/);
  assert.throws(() => registry.resolve("csv-source", "not a range!"), /is not a version range/);
});

Deno.test("resolve picks the highest matching version; builtins win ties", async () => {
  await using tmp = await tempDir();
  const opts = await setup(tmp.path);
  await writePlugin(join(opts.builtinDir, "dns"), { name: "dns", version: "1.1.0" });
  const registry = await openRegistry(opts);
  for (const version of ["1.0.0", "1.1.0", "1.2.0", "2.0.0-beta.1"]) {
    await install(registry, tmp.path, { name: "dns", version });
  }
  const pick = (range?: string) => {
    const p = registry.resolve("dns", range)!;
    return `${p.manifest.version}:${p.origin === "builtin" ? "builtin" : "installed"}`;
  };
  assert.equal(pick(), "2.0.0-beta.1:installed");
  assert.equal(pick("^1"), "1.2.0:installed");
  assert.equal(pick("~1.1"), "1.1.0:builtin"); // tie: the builtin wins
  assert.equal(pick("1.1.0"), "1.1.0:builtin");
  assert.equal(pick("1.0.x"), "1.0.0:installed"); // the range excludes the builtin
  assert.equal(registry.resolve("dns", "^3"), undefined);
  const installed = registry.resolve("dns", "^1")!;
  assert.equal(installed.dir, join(opts.installDir, "dns", "1.2.0"));
  assert.match(installed.integrity!, /^sha256-/);
  assert.equal(registry.list().length, 5);
});

Deno.test("resolve refuses an installed plugin whose files changed", async () => {
  await using tmp = await tempDir();
  const opts = await setup(tmp.path);
  const registry = await openRegistry(opts);
  const src = await install(registry, tmp.path, { name: "acme", version: "1.0.0" });
  const dir = registry.resolve("acme")!.dir;
  const expected = (await readLock(opts.lockPath)).plugins.acme["1.0.0"].integrity;

  await Deno.writeTextFile(join(dir, "mod.ts"), "globalThis.evil = true;\n", { append: true });
  let err: unknown;
  try {
    registry.resolve("acme");
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof PluginIntegrityError);
  assert.equal(err.expected, expected);
  assert.notEqual(err.actual, expected);
  assert.match(err.message, /^plugin acme@1\.0\.0 in .* does not match plugins\.lock/);
  assert.ok(err.message.includes(`expected ${expected}, found ${err.actual}`));
  assert.ok(err.message.includes(`sluice plugin install ${src}`));

  // an added file counts too; reinstalling from the source repairs it
  await install(registry, tmp.path, { name: "acme", version: "1.0.0" });
  assert.equal(registry.resolve("acme")!.integrity, expected);
  await Deno.writeTextFile(join(dir, "extra.ts"), "");
  assert.throws(() => registry.resolve("acme"), PluginIntegrityError);
  await Deno.remove(dir, { recursive: true });
  assert.throws(() => registry.resolve("acme"), /found missing/);
});

Deno.test("a manifest asking more than the lock approved is refused", async () => {
  await using tmp = await tempDir();
  const opts = await setup(tmp.path);
  const registry = await openRegistry(opts);
  await install(registry, tmp.path, {
    name: "acme",
    version: "1.0.0",
    permissions: { net: ["rdap.org:443"], env: ["TOKEN"] },
  });
  const lock = await readLock(opts.lockPath);
  lock.plugins.acme["1.0.0"].approved = { net: ["rdap.org:443"], read: [], write: [], env: [] };
  await writeLock(opts.lockPath, lock);
  assert.throws(
    () => registry.resolve("acme"),
    (e: Error) =>
      e instanceof PluginApprovalError &&
      /never approved: may read environment variable TOKEN\. It will not be run/.test(e.message),
  );
});

Deno.test("the registry re-reads plugins.lock after another process changed it", async () => {
  await using tmp = await tempDir();
  const opts = await setup(tmp.path);
  const server = await openRegistry(opts);
  const cli = await openRegistry(opts);
  assert.equal(server.resolve("acme"), undefined);
  await install(cli, tmp.path, { name: "acme", version: "1.0.0" });
  assert.equal(server.resolve("acme")?.manifest.version, "1.0.0");
});
