/**
 * `scaffoldPlugin`: writes a new plugin folder (manifest, module, passing sandbox test, README)
 * that a plugin author can start from.
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readme, type ScaffoldKind, TEMPLATES } from "./scaffold_templates.ts";

export type { ScaffoldKind } from "./scaffold_templates.ts";

/** Options of {@linkcode scaffoldPlugin}. */
export interface ScaffoldOptions {
  /** Folder to create (it may exist but must not hold the files written here). */
  dir: string;
  /** npm-style plugin name, e.g. `my-enricher` or `@acme/my-enricher`. */
  name: string;
  /** What the plugin is. */
  kind: ScaffoldKind;
  /** Overwrite files that already exist; default false. */
  force?: boolean;
  /** Sluice's `deno.json`, named in the README's test commands; default: this checkout's. */
  hostConfig?: string;
}

const HOST_CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

const NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/** Writes `plugin.json`, `mod.ts`, `mod_test.ts` and `README.md`; returns the paths written. */
export async function scaffoldPlugin(opts: ScaffoldOptions): Promise<string[]> {
  if (!NAME.test(opts.name)) {
    throw new TypeError(
      `plugin name ${JSON.stringify(opts.name)} is not valid: use an npm-style name (lower ` +
        "case letters, digits, '.', '-', '_', optionally @scope/), e.g. my-enricher",
    );
  }
  const t = TEMPLATES[opts.kind];
  if (!t) {
    throw new TypeError(
      `plugin kind ${JSON.stringify(opts.kind)} is not source, transform or sink`,
    );
  }
  const manifest = {
    name: opts.name,
    version: "0.1.0",
    description: t.description,
    kind: opts.kind,
    entry: "mod.ts",
    config: t.config,
    adds: t.adds,
    outputs: t.outputs,
    permissions: t.permissions,
  };
  const files: [string, string][] = [
    ["plugin.json", JSON.stringify(manifest, null, 2) + "\n"],
    ["mod.ts", t.mod],
    ["mod_test.ts", t.test(opts.name)],
    [
      "README.md",
      readme(opts.name, opts.kind, t.description, {
        dir: resolve(opts.dir),
        hostConfig: resolve(opts.hostConfig ?? HOST_CONFIG),
      }),
    ],
  ];
  await Deno.mkdir(opts.dir, { recursive: true });
  const paths = files.map(([file]) => join(opts.dir, file));
  if (!opts.force) {
    for (const path of paths) {
      const exists = await Deno.lstat(path).then(() => true, () => false);
      if (exists) {
        throw new Deno.errors.AlreadyExists(
          `${path} already exists; choose an empty folder (--dir) or overwrite it with --force`,
        );
      }
    }
  }
  for (const [i, [, text]] of files.entries()) await Deno.writeTextFile(paths[i], text);
  return paths;
}
