/**
 * Host-side caching of a plugin's dependencies. Plugin processes run with `--cached-only` and
 * never download, so the installer calls {@linkcode ensureCached} once per installed version.
 * @module
 */
import { join } from "node:path";
import type { ResolvedPlugin } from "../plugins/manifest.ts";
import { DEFAULT_HOST_CONFIG } from "./executor.ts";

/** Options of {@linkcode ensureCached}. */
export interface EnsureCachedOptions {
  /** The deno binary; defaults to `Deno.execPath()`. */
  denoPath?: string;
  /** The DENO_DIR the sandbox will use; defaults to the host's. */
  denoDir?: string;
  /** deno.json with the import map plugins use; defaults to the repo's. */
  hostConfig?: string;
  /** npm registry URL (NPM_CONFIG_REGISTRY); defaults to the host's setting. */
  npmRegistry?: string;
  /** Cancels the download. */
  signal?: AbortSignal;
}

/**
 * Downloads what the plugin's entry imports (npm packages) into the Deno cache with
 * `deno cache`, without running plugin code. Remote `https:` imports are refused, as in the
 * sandbox. Throws an Error naming the plugin and Deno's complaint when caching fails.
 */
export async function ensureCached(
  plugin: Pick<ResolvedPlugin, "dir" | "manifest">,
  opts: EnsureCachedOptions = {},
): Promise<void> {
  const entry = join(plugin.dir, plugin.manifest.entry);
  const env: Record<string, string> = {};
  if (opts.denoDir) env.DENO_DIR = opts.denoDir;
  if (opts.npmRegistry) env.NPM_CONFIG_REGISTRY = opts.npmRegistry;
  const out = await new Deno.Command(opts.denoPath ?? Deno.execPath(), {
    args: [
      "cache",
      "--no-lock",
      "--deny-import",
      `--config=${opts.hostConfig ?? DEFAULT_HOST_CONFIG}`,
      entry,
    ],
    env: { ...env, NO_COLOR: "1" },
    cwd: plugin.dir,
    stdout: "piped",
    stderr: "piped",
    signal: opts.signal,
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-6).join(" | ");
    throw new Error(
      `could not cache the dependencies of plugin ${plugin.manifest.name}@` +
        `${plugin.manifest.version} (${entry}): ${text || `deno cache exited ${out.code}`}. ` +
        "Check that its imports are npm: packages or files in its folder and that the npm " +
        "registry is reachable",
    );
  }
}
