/**
 * Host-side caching of a plugin's npm dependencies. Plugin processes run with `--cached-only`
 * and never download; the host fills Deno's cache for them with `deno cache`, which reads the
 * entry's import graph without running any plugin code.
 * @module
 */

/** Options of {@linkcode cacheEntryDependencies}. */
export interface CacheEntryOptions {
  /** Absolute path of the plugin's entry module. */
  entryPath: string;
  /** The plugin folder (the working directory of `deno cache`). */
  pluginDir: string;
  /** How errors name the plugin, e.g. `acme@1.0.0`. */
  label: string;
  /** deno.json with the import map plugins use (`@sluice/sdk`, pinned npm packages). */
  hostConfig: string;
  /** The deno binary; defaults to `Deno.execPath()`. */
  denoPath?: string;
  /** The DENO_DIR the sandbox will use; defaults to the host's. */
  denoDir?: string;
  /** npm registry URL (NPM_CONFIG_REGISTRY); defaults to the host's setting. */
  npmRegistry?: string;
  /** Cancels the download. */
  signal?: AbortSignal;
}

/**
 * Downloads what the entry imports (npm packages) into the Deno cache with
 * `deno cache --no-lock` (the sandbox resolves without the lockfile, so it needs the
 * registry records as well as the packages). Remote `https:` imports are refused, as in the
 * sandbox. Throws an Error naming the plugin and Deno's complaint when caching fails.
 */
export async function cacheEntryDependencies(opts: CacheEntryOptions): Promise<void> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  if (opts.denoDir) env.DENO_DIR = opts.denoDir;
  if (opts.npmRegistry) env.NPM_CONFIG_REGISTRY = opts.npmRegistry;
  const out = await new Deno.Command(opts.denoPath ?? Deno.execPath(), {
    args: ["cache", "--no-lock", "--deny-import", `--config=${opts.hostConfig}`, opts.entryPath],
    env,
    cwd: opts.pluginDir,
    stdout: "piped",
    stderr: "piped",
    signal: opts.signal,
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-6).join(" | ");
    throw new Error(
      `could not cache the dependencies of plugin ${opts.label} (${opts.entryPath}): ` +
        `${text || `deno cache exited ${out.code}`}. Check that its imports are npm: packages ` +
        "or files in its folder and that the npm registry is reachable",
    );
  }
}
