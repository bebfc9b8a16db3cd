import assert from "node:assert/strict";
import { join } from "node:path";
import { openRegistry } from "./registry.ts";
import { installPlugin } from "./install.ts";
import { PluginImportError, unversionedNpm } from "./imports.ts";
import { folderEntries, listTree, makeTarGz, tempDir, writePlugin } from "./test_support.ts";

const HEADER = 'import { definePlugin } from "@sluice/sdk";\n';
const BODY = "export default definePlugin({ process: (items) => items });\n";

async function setup(root: string) {
  const opts = {
    builtinDir: join(root, "plugins"),
    installDir: join(root, "installed"),
    lockPath: join(root, "state", "plugins.lock"),
  };
  return { opts, registry: await openRegistry(opts) };
}

Deno.test("install refuses imports the sandbox cannot load, each with file:line:col, before asking", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  // A helper beside the plugin folder: the author's tests could find it, the sandbox never.
  await Deno.mkdir(join(tmp.path, "shared"));
  await Deno.writeTextFile(join(tmp.path, "shared", "helper.ts"), "export const h = 1;\n");
  const src = await writePlugin(join(tmp.path, "src"), { name: "acme", version: "1.0.0" });
  await Deno.writeTextFile(
    join(src, "mod.ts"),
    HEADER +
      'import { h } from "../shared/helper.ts";\n' +
      'import pad from "left-pad";\n' +
      'import * as path from "jsr:@std/path@1";\n' +
      'import "./lib/missing.ts";\n' +
      'import { ok } from "./lib/ok.ts";\n' +
      'import type { Item } from "@sluice/sdk";\n' +
      'import { isInside } from "@sluice/sdk/runtime/sandbox_args.ts";\n' +
      BODY,
  );
  await Deno.mkdir(join(src, "lib"));
  await Deno.writeTextFile(join(src, "lib", "ok.ts"), "export const ok = true;\n");
  let asked = false;
  const err = await installPlugin({
    source: src,
    registry,
    approve: () => {
      asked = true;
      return Promise.resolve(true);
    },
    denoCache: () => Promise.resolve(),
  }).then(() => undefined, (e) => e);
  assert.ok(err instanceof PluginImportError, `expected a PluginImportError, got ${err}`);
  assert.equal(asked, false, "the approval is not asked for a plugin that cannot load");
  assert.deepEqual(err.problems.map((p) => p.replace(/: imports .*?[,:] .*$/, "")), [
    `${src}/mod.ts:2:19`,
    `${src}/mod.ts:3:17`,
    `${src}/mod.ts:4:23`,
    `${src}/mod.ts:5:8`,
  ]);
  assert.match(
    err.problems[0],
    /"\.\.\/shared\/helper\.ts", outside the plugin folder: .*move or copy/,
  );
  assert.match(
    err.problems[1],
    /"left-pad", which is not in Sluice's import map.*"npm:left-pad@1"/,
  );
  assert.match(err.problems[2], /"jsr:@std\/path@1": the sandbox never downloads code/);
  assert.match(err.problems[3], /"\.\/lib\/missing\.ts", and there is no such file/);
  assert.match(err.message, /^plugin acme@1\.0\.0 cannot be installed: 4 import\(s\)/);
  assert.deepEqual(await listTree(opts.installDir).catch(() => []), []);
});

Deno.test("install names the archive's files in import problems of a .tgz", async () => {
  await using tmp = await tempDir();
  const { registry } = await setup(tmp.path);
  const src = await writePlugin(join(tmp.path, "src"), { name: "acme", version: "1.0.0" });
  await Deno.writeTextFile(join(src, "mod.ts"), HEADER + 'import "/etc/hostname.ts";\n' + BODY);
  const tgz = join(tmp.path, "acme-1.0.0.tgz");
  await Deno.writeFile(tgz, await makeTarGz(await folderEntries(src, "package/")));
  const err = await installPlugin({
    source: tgz,
    registry,
    approve: () => Promise.resolve(true),
    denoCache: () => Promise.resolve(),
  }).then(() => undefined, (e) => e);
  assert.ok(err instanceof PluginImportError, `expected a PluginImportError, got ${err}`);
  assert.equal(err.problems.length, 1);
  assert.match(
    err.problems[0],
    /acme-1\.0\.0\.tgz!\/package\/mod\.ts:2:8: imports "\/etc\/hostname\.ts", outside/,
  );
});

Deno.test("install refuses an npm: import without a version, naming the package", async () => {
  await using tmp = await tempDir();
  const { registry } = await setup(tmp.path);
  const src = await writePlugin(join(tmp.path, "src"), { name: "acme", version: "1.0.0" });
  await Deno.writeTextFile(
    join(src, "mod.ts"),
    HEADER +
      'import pad from "npm:left-pad";\n' +
      'import { z } from "npm:@scope/thing/sub";\n' +
      'import ok from "npm:left-pad@^1.3.0";\n' +
      BODY,
  );
  const err = await installPlugin({
    source: src,
    registry,
    approve: () => Promise.resolve(true),
    denoCache: () => Promise.resolve(),
  }).then(() => undefined, (e) => e);
  assert.ok(err instanceof PluginImportError, `expected a PluginImportError, got ${err}`);
  assert.equal(err.problems.length, 2, err.problems.join("\n"));
  assert.match(
    err.problems[0],
    /mod\.ts:2:17: imports "npm:left-pad" without a version: .*"npm:left-pad@1"/,
  );
  assert.match(err.problems[1], /mod\.ts:3:19: imports "npm:@scope\/thing\/sub" without a version/);
});

Deno.test("unversionedNpm: the package of an npm: specifier without a version", () => {
  assert.equal(unversionedNpm("npm:left-pad"), "left-pad");
  assert.equal(unversionedNpm("npm:left-pad/lib/x.js"), "left-pad");
  assert.equal(unversionedNpm("npm:@scope/pkg"), "@scope/pkg");
  assert.equal(unversionedNpm("npm:@scope/pkg@"), "@scope/pkg");
  assert.equal(unversionedNpm("npm:left-pad@1.3.0"), undefined);
  assert.equal(unversionedNpm("npm:@scope/pkg@^2/sub"), undefined);
  assert.equal(unversionedNpm("npm:/hono@4.13.19/"), undefined);
  assert.equal(unversionedNpm("./x.ts"), undefined);
  assert.equal(unversionedNpm("left-pad"), undefined);
});
