/**
 * Checks a plugin's imports before it is installed, without running its code (`deno info`
 * offline): the sandbox reads only the plugin's own folder and the SDK, never downloads, and
 * resolves names through Sluice's `deno.json`. So a plugin may import files inside its folder,
 * `@sluice/sdk` (and `@sluice/sdk/…`), the packages Sluice's import map names, and `npm:`
 * packages; anything else would install and then fail to load in every run. Each problem is
 * reported as `FILE:LINE:COL: what, and what to do`, all of them at once.
 * @module
 */
import { relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isInside, SDK_DIR } from "../../sdk/runtime/sandbox_args.ts";

/** A plugin whose imports the sandbox cannot load; the message lists every one. */
export class PluginImportError extends Error {
  /** One `FILE:LINE:COL: message` per problem. */
  readonly problems: string[];

  constructor(plugin: string, problems: string[]) {
    super(
      `plugin ${plugin} cannot be installed: ${problems.length} import(s) the sandbox cannot ` +
        `load:\n${problems.map((p) => `  ${p}`).join("\n")}`,
    );
    this.name = "PluginImportError";
    this.problems = problems;
  }
}

/** Options of {@linkcode checkPluginImports}. */
export interface CheckImportsOptions {
  /** The plugin's folder (as staged). */
  dir: string;
  /** Entry module, relative to `dir`. */
  entry: string;
  /** Sluice's `deno.json` (its import map gives `@sluice/sdk` and npm packages). */
  hostConfig: string;
  /** How files are named in messages: the folder as the user gave it; default `dir`. */
  displayDir?: string;
  /** `name@version`, for the message. */
  plugin: string;
  /** The deno binary; default `Deno.execPath()`. */
  denoPath?: string;
  signal?: AbortSignal;
}

interface InfoDependency {
  specifier: string;
  code?: {
    specifier?: string;
    error?: string;
    span?: { start: { line: number; character: number } };
  };
}

interface InfoModule {
  specifier: string;
  error?: string;
  dependencies?: InfoDependency[];
}

const REMOTE = /^(https?|jsr):/;

/**
 * The package name of an `npm:` specifier written without a version (`npm:left-pad`,
 * `npm:@scope/pkg/sub`), else undefined: such an import would take whatever version is newest
 * when the dependency cache is filled, so install refuses it.
 */
export function unversionedNpm(specifier: string): string | undefined {
  const m = /^npm:\/?((?:@[^/@]+\/)?[^/@]+)(@[^/]*)?(?:\/.*)?$/.exec(specifier);
  return m && (m[2] === undefined || m[2] === "@") ? m[1] : undefined;
}

/**
 * The problems of the plugin's imports, as `FILE:LINE:COL: message` lines (empty when it may be
 * installed). Only the plugin's own modules are looked at; the SDK's and npm packages' are
 * Sluice's business.
 */
export async function pluginImportProblems(opts: CheckImportsOptions): Promise<string[]> {
  const dir = resolve(opts.dir);
  const out = await new Deno.Command(opts.denoPath ?? Deno.execPath(), {
    args: [
      "info",
      "--json",
      "--no-lock",
      "--no-remote",
      "--no-npm",
      `--config=${opts.hostConfig}`,
      pathToFileURL(resolve(dir, opts.entry)).href,
    ],
    cwd: dir,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: opts.signal,
  }).output();
  let graph: { modules?: InfoModule[] };
  try {
    graph = JSON.parse(new TextDecoder().decode(out.stdout));
  } catch {
    // No graph (deno itself failed): the install's `deno cache` step reports what is wrong.
    return [];
  }
  const display = opts.displayDir ?? dir;
  const name = (path: string) => {
    const rel = relative(dir, path);
    return isInside(dir, path) ? `${display}/${rel}` : path;
  };
  const problems: string[] = [];
  const missing = new Set(
    (graph.modules ?? []).filter((m) => m.error && /not found/i.test(m.error)).map((m) =>
      m.specifier
    ),
  );
  for (const mod of graph.modules ?? []) {
    if (!mod.specifier.startsWith("file:")) continue;
    const file = fileURLToPath(mod.specifier);
    if (!isInside(dir, file)) continue;
    for (const dep of mod.dependencies ?? []) {
      const code = dep.code;
      if (!code) continue; // a type-only import: erased, never loaded
      const at = code.span
        ? `${name(file)}:${code.span.start.line + 1}:${code.span.start.character + 1}`
        : name(file);
      const what = JSON.stringify(dep.specifier);
      const target = code.specifier ?? "";
      const unversioned = unversionedNpm(dep.specifier);
      if (unversioned) {
        problems.push(
          `${at}: imports ${what} without a version: an npm: import must pin one (a range is ` +
            `fine), e.g. "npm:${unversioned}@1"; see the package's versions with ` +
            `\`npm view ${unversioned} versions\``,
        );
      } else if (code.error && /not a dependency|not in import map/i.test(code.error)) {
        problems.push(
          `${at}: imports ${what}, which is not in Sluice's import map (a plugin has no ` +
            `deno.json of its own): import an npm package with an npm: specifier and a ` +
            `version, e.g. "npm:${dep.specifier}@1"`,
        );
      } else if (REMOTE.test(target) || REMOTE.test(dep.specifier)) {
        problems.push(
          `${at}: imports ${what}: the sandbox never downloads code (remote and jsr: imports ` +
            "are refused); use an npm: package, or copy the module into the plugin folder",
        );
      } else if (target.startsWith("file:")) {
        const path = fileURLToPath(target);
        if (!isInside(dir, path) && !isInside(resolve(SDK_DIR), path)) {
          problems.push(
            `${at}: imports ${what}, outside the plugin folder: a plugin is installed and run ` +
              "as its folder alone; move or copy the file into the plugin folder",
          );
        } else if (missing.has(target)) {
          problems.push(`${at}: imports ${what}, and there is no such file`);
        }
      }
    }
  }
  return problems;
}

/** Throws a {@linkcode PluginImportError} listing every import the sandbox cannot load. */
export async function checkPluginImports(opts: CheckImportsOptions): Promise<void> {
  const problems = await pluginImportProblems(opts);
  if (problems.length > 0) throw new PluginImportError(opts.plugin, problems);
}
