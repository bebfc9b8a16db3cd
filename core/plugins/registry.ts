/**
 * The plugin registry: first-party plugins from `plugins/` plus community plugins installed under
 * `installDir/<name>/<version>/` and pinned in `plugins.lock`.
 *
 * Which plugin `resolve(name, range)` returns: among the builtin and every installed version of
 * `name` whose version satisfies `range` (any version when absent, prereleases included), the
 * highest version wins; on a tie the builtin wins. So an installed plugin shadows a builtin of the
 * same name only when it is a higher version that the range accepts, or when the range excludes
 * the builtin's version.
 *
 * Resolving an installed plugin re-hashes its files and compares with the lock; a mismatch throws
 * {@linkcode PluginIntegrityError}. A manifest asking for more than the lock's approved
 * permissions throws {@linkcode PluginApprovalError}. The lock is re-read whenever the file was
 * replaced (another command installed or removed a plugin).
 * @module
 */
import { join } from "node:path";
import semver from "semver";
import type { Manifest, PluginRegistry, ResolvedPlugin } from "./manifest.ts";
import { ManifestError, parseManifest, readManifest } from "./manifest_file.ts";
import { hashFolderSync } from "./integrity.ts";
import { emptyLock, LockFile } from "./lockfile.ts";
import { describePermissions, diffPermissions, isWithin } from "./describe.ts";

/** An installed plugin's files no longer match `plugins.lock`. */
export class PluginIntegrityError extends Error {
  /** Plugin name. */
  plugin: string;
  /** Installed version. */
  version: string;
  /** Hash pinned in the lock. */
  expected: string;
  /** Hash of the files now, or `missing` when the folder is gone. */
  actual: string;
  constructor(
    o: {
      plugin: string;
      version: string;
      dir: string;
      expected: string;
      actual: string;
      source: string;
    },
  ) {
    super(
      `plugin ${o.plugin}@${o.version} in ${o.dir} does not match plugins.lock: expected ` +
        `${o.expected}, found ${o.actual}. Its files were changed or removed after installation ` +
        `and will not be run. Reinstall it with \`sluice plugin install ${o.source}\` (or remove ` +
        `it with \`sluice plugin remove ${o.plugin}@${o.version}\`).`,
    );
    this.name = "PluginIntegrityError";
    this.plugin = o.plugin;
    this.version = o.version;
    this.expected = o.expected;
    this.actual = o.actual;
  }
}

/** An installed plugin's manifest asks for permissions the operator never approved. */
export class PluginApprovalError extends Error {
  constructor(plugin: string, version: string, unapproved: string[], source: string) {
    super(
      `plugin ${plugin}@${version} asks for permissions that were never approved: ` +
        `${unapproved.join("; ")}. It will not be run. Reinstall it with ` +
        `\`sluice plugin install ${source}\` to review and approve them.`,
    );
    this.name = "PluginApprovalError";
  }
}

/** Where an installed version lives: `installDir/<name>/<version>` (`@scope/name` nests). */
export function installedPluginDir(installDir: string, name: string, version: string): string {
  return join(installDir, ...name.split("/"), version);
}

/** A problem found while loading the builtins (the plugin is left out). */
export interface RegistryProblem {
  /** The folder concerned. */
  dir: string;
  /** What is wrong, with file:line:col when it is in a manifest. */
  message: string;
}

/** Options of {@linkcode openRegistry}. */
export interface RegistryOptions {
  /** Folder of first-party plugins, one sub-folder each (`./plugins`). */
  builtinDir: string;
  /** Folder of installed plugins. */
  installDir: string;
  /** Path of `plugins.lock`. */
  lockPath: string;
}

/** The registry: {@linkcode PluginRegistry} plus what install/remove/inspect need. */
export interface Registry extends PluginRegistry {
  readonly builtinDir: string;
  readonly installDir: string;
  readonly lockPath: string;
  /** The lock as last read (re-read when the file changed). Do not mutate. */
  lock(): LockFile;
  /** The first-party plugin called `name`. */
  builtin(name: string): ResolvedPlugin | undefined;
  /** Broken builtin folders, left out of `list` and `resolve`. */
  problems(): RegistryProblem[];
  /**
   * Verifies one installed version against the lock and returns it.
   * @throws {PluginIntegrityError} | {PluginApprovalError} | {ManifestError}
   */
  verify(name: string, version: string): ResolvedPlugin;
  /** Re-reads builtins and the lock. */
  reload(): Promise<void>;
}

async function loadBuiltins(dir: string) {
  const byName = new Map<string, ResolvedPlugin>();
  const problems: RegistryProblem[] = [];
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isDirectory) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const n of names.sort()) {
    const pdir = join(dir, n);
    if (!(await Deno.stat(join(pdir, "plugin.json")).catch(() => null))) continue; // helpers
    try {
      const m = await readManifest(pdir);
      if (byName.has(m.name)) {
        problems.push({
          dir: pdir,
          message: `${join(pdir, "plugin.json")}: name "${m.name}" is used by another builtin`,
        });
        continue;
      }
      byName.set(m.name, { manifest: m, dir: pdir, origin: "builtin", approved: m.permissions });
    } catch (e) {
      problems.push({ dir: pdir, message: (e as Error).message });
    }
  }
  return { byName, problems };
}

function readLockSync(path: string): { lock: LockFile; stamp: string } {
  let text: string, stamp: string;
  try {
    const st = Deno.statSync(path);
    stamp = `${st.ino}:${st.mtime?.getTime()}:${st.size}`;
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { lock: emptyLock(), stamp: "none" };
    throw e;
  }
  const parsed = LockFile.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(
      `${path}: ${i.path.join(".")}: ${i.message}; restore the lock file or reinstall`,
    );
  }
  return { lock: parsed.data, stamp };
}

function lockStamp(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.ino}:${st.mtime?.getTime()}:${st.size}`;
  } catch {
    return "none";
  }
}

const ANY = { includePrerelease: true };

/** Opens the registry over `builtinDir`, `installDir` and `lockPath`. */
export async function openRegistry(opts: RegistryOptions): Promise<Registry> {
  let builtins = await loadBuiltins(opts.builtinDir);
  let state = readLockSync(opts.lockPath);
  const fresh = () => {
    if (lockStamp(opts.lockPath) !== state.stamp) state = readLockSync(opts.lockPath);
    return state.lock;
  };

  const verify = (name: string, version: string): ResolvedPlugin => {
    const entry = fresh().plugins[name]?.[version];
    if (!entry) throw new Error(`plugin ${name}@${version} is not installed`);
    const dir = installedPluginDir(opts.installDir, name, version);
    const fail = (actual: string) =>
      new PluginIntegrityError({
        plugin: name,
        version,
        dir,
        expected: entry.integrity,
        actual,
        source: entry.source,
      });
    let hashed;
    try {
      hashed = hashFolderSync(dir, ["plugin.json"]);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) throw fail("missing");
      throw e;
    }
    if (hashed.integrity !== entry.integrity) throw fail(hashed.integrity);
    const file = join(dir, "plugin.json");
    const bytes = hashed.kept.get("plugin.json");
    if (!bytes) throw fail(`${hashed.integrity} without plugin.json`);
    const parsed = parseManifest(new TextDecoder().decode(bytes), file);
    const m: Manifest = parsed.manifest;
    if (m.name !== name || m.version !== version) {
      throw fail(`${hashed.integrity} (plugin.json says ${m.name}@${m.version})`);
    }
    const entryPath = m.entry.split("/").filter((p) => p && p !== ".").join("/");
    if (!hashed.entries.some((e) => e.path === entryPath && e.type === "file")) {
      throw new ManifestError(file, [{
        ...parsed.locate(["entry"]),
        message: `entry "${m.entry}" is not a file of the installed plugin`,
      }]);
    }
    if (!isWithin(m.permissions, entry.approved)) {
      const extra = describePermissions(diffPermissions(entry.approved, m.permissions).added)
        .filter((l) => l.startsWith("may"));
      throw new PluginApprovalError(name, version, extra, entry.source);
    }
    return {
      manifest: m,
      dir,
      origin: entry.source,
      approved: entry.approved,
      integrity: entry.integrity,
    };
  };

  const registry: Registry = {
    builtinDir: opts.builtinDir,
    installDir: opts.installDir,
    lockPath: opts.lockPath,
    lock: fresh,
    builtin: (name) => builtins.byName.get(name),
    problems: () => [...builtins.problems],
    verify,
    resolve(name, range) {
      const r = !range || range === "latest" ? "*" : range;
      if (!semver.validRange(r, ANY)) {
        throw new Error(`"${range}" is not a version range (use e.g. 1.2.3, ^1.2 or *)`);
      }
      const installed = Object.keys(fresh().plugins[name] ?? {});
      const best = semver.maxSatisfying(installed, r, ANY);
      const b = builtins.byName.get(name);
      const bOk = b && semver.satisfies(b.manifest.version, r, ANY);
      if (best && (!bOk || semver.gt(best, b!.manifest.version))) return verify(name, best);
      return bOk ? b : undefined;
    },
    list() {
      const out = [...builtins.byName.values()];
      for (const [name, versions] of Object.entries(fresh().plugins)) {
        for (const [version, entry] of Object.entries(versions)) {
          const dir = installedPluginDir(opts.installDir, name, version);
          try {
            const file = join(dir, "plugin.json");
            const m = parseManifest(Deno.readTextFileSync(file), file).manifest;
            out.push({
              manifest: m,
              dir,
              origin: entry.source,
              approved: entry.approved,
              integrity: entry.integrity,
            });
          } catch {
            // unreadable: `resolve`/`verify` report it with the reason
          }
        }
      }
      return out;
    },
    async reload() {
      builtins = await loadBuiltins(opts.builtinDir);
      state = readLockSync(opts.lockPath);
    },
  };
  return registry;
}
