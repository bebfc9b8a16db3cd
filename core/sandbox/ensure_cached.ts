/**
 * Host-side caching of a plugin's dependencies. Plugin processes run with `--cached-only` and
 * never download, so the installer calls {@linkcode ensureCached} once per installed version,
 * and the sandbox executor calls it when a process could not load an uncached dependency.
 * @module
 */
import { join } from "node:path";
import type { ResolvedPlugin } from "../plugins/manifest.ts";
import { cacheEntryDependencies } from "../../sdk/runtime/dependency_cache.ts";
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
export function ensureCached(
  plugin: Pick<ResolvedPlugin, "dir" | "manifest">,
  opts: EnsureCachedOptions = {},
): Promise<void> {
  return cacheEntryDependencies({
    entryPath: join(plugin.dir, plugin.manifest.entry),
    pluginDir: plugin.dir,
    label: `${plugin.manifest.name}@${plugin.manifest.version}`,
    hostConfig: opts.hostConfig ?? DEFAULT_HOST_CONFIG,
    denoPath: opts.denoPath,
    denoDir: opts.denoDir,
    npmRegistry: opts.npmRegistry,
    signal: opts.signal,
  });
}
