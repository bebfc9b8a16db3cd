/**
 * Installing, upgrading and removing community plugins. These are engine functions (the server's
 * API and the CLI call them); they never print: the caller shows the {@linkcode ApprovalRequest}.
 *
 * Install: stage the source (no plugin code runs), read and validate `plugin.json`, hash the
 * files, ask `approve` with the permissions in plain words (and, when a version is already
 * installed, the difference versus the highest one), then only on approval: move the files to
 * `installDir/<name>/<version>/`, run `denoCache` on the entry, write `plugins.lock` atomically.
 * A refusal or any failure leaves nothing behind.
 * @module
 */
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import semver from "semver";
import type { Manifest, ManifestPermissions, ResolvedPlugin } from "./manifest.ts";
import { readManifest } from "./manifest_file.ts";
import { hashFolder } from "./integrity.ts";
import { updateLock } from "./lockfile.ts";
import { installedPluginDir, type Registry } from "./registry.ts";
import { sourceKind, stageSource } from "./sources.ts";
import { diffPermissions, type PermissionDiff } from "./describe.ts";
import { checkPluginImports } from "./imports.ts";

/** What the operator is asked to approve. */
export interface ApprovalRequest {
  name: string;
  version: string;
  kind: Manifest["kind"];
  description: string;
  /** Canonical source, as it will be written to the lock. */
  source: string;
  /** `sha256-<base64>` of the files. */
  integrity: string;
  /** The permissions asked for. */
  permissions: ManifestPermissions;
  /** Secret names the plugin may be given by a stage. */
  secrets: string[];
  /** First install of this name, a higher or lower version than installed, or the same again. */
  change: "install" | "upgrade" | "downgrade" | "reinstall";
  /** Version of a built-in plugin of the same name, if any (see the shadowing rule in registry.ts). */
  builtinVersion?: string;
  /**
   * The installed version compared with (the same version for a reinstall, else the highest
   * installed) and the difference versus its approved permissions.
   */
  previous?: { version: string; approved: ManifestPermissions; diff: PermissionDiff };
  /**
   * A reinstall whose files differ from the installed ones' (another integrity): pipelines and
   * unfinished runs that use this version run the new files from then on.
   */
  replacesFiles?: boolean;
}

/** Decides on an approval request (a prompt, `--yes`, or a UI dialog). */
export type Approver = (request: ApprovalRequest) => Promise<boolean>;

/** This checkout's `deno.json`: the import map the sandbox runs plugins with. */
const HOST_CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** Fills Deno's cache for a plugin's entry so the sandbox can run it with `--cached-only`. */
export type DenoCache = (entry: string, options: { signal?: AbortSignal }) => Promise<void>;

/**
 * The default {@linkcode DenoCache}: `deno cache --no-lock --config <host deno.json> <entry>`, so
 * the host's import map (`@sluice/sdk`, pinned npm packages) applies. `--no-lock` keeps an
 * install from rewriting the host's committed `deno.lock`. Output is captured, never printed.
 */
export function denoCacheWith(
  options: { configPath?: string; denoPath?: string } = {},
): DenoCache {
  const config = options.configPath ?? HOST_CONFIG;
  return async (entry, { signal }) => {
    const out = await new Deno.Command(options.denoPath ?? Deno.execPath(), {
      args: ["cache", "--quiet", "--no-lock", "--config", config, entry],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim();
      throw new Error(`deno cache ${entry} failed (exit ${out.code}): ${err}`);
    }
  };
}

/** Options of {@linkcode installPlugin}. */
export interface InstallOptions {
  /** A folder, a `.tgz` path, an `https://` URL to a `.tgz`, or `npm:name[@version]`. */
  source: string;
  registry: Registry;
  /** Asked once per install, upgrade or reinstall; nothing is written unless it says yes. */
  approve: Approver;
  /** Default {@linkcode denoCacheWith}`()`. */
  denoCache?: DenoCache;
  /** npm registry base URL (default `https://registry.npmjs.org`). */
  npmRegistry?: string;
  /** `fetch` for URLs and npm (inject a client with a test CA here). */
  fetch?: typeof fetch;
  /** Clock for `installedAt`. */
  now?: () => Date;
  /** Sluice's `deno.json`, whose import map the plugin's imports resolve through. */
  hostConfig?: string;
  signal?: AbortSignal;
}

/** What {@linkcode installPlugin} did. */
export interface InstallResult {
  /** False when the approval was refused (nothing was written). */
  installed: boolean;
  /** The request that was shown. */
  request: ApprovalRequest;
  /** The installed plugin, verified against the new lock. */
  plugin?: ResolvedPlugin;
}

function buildRequest(
  m: Manifest,
  registry: Registry,
  source: string,
  integrity: string,
): ApprovalRequest {
  const versions = registry.lock().plugins[m.name] ?? {};
  const highest = semver.rsort(Object.keys(versions))[0];
  const request: ApprovalRequest = {
    name: m.name,
    version: m.version,
    kind: m.kind,
    description: m.description,
    source,
    integrity,
    permissions: m.permissions,
    secrets: m.secrets,
    change: "install",
    builtinVersion: registry.builtin(m.name)?.manifest.version,
  };
  // The same version again is a reinstall over it (not a downgrade from a higher one).
  const same = versions[m.version];
  const base = same ? m.version : highest;
  if (base) {
    const approved = versions[base].approved;
    const cmp = semver.compare(m.version, base);
    request.change = cmp > 0 ? "upgrade" : cmp < 0 ? "downgrade" : "reinstall";
    request.previous = {
      version: base,
      approved,
      diff: diffPermissions(approved, m.permissions),
    };
    if (same && same.integrity !== integrity) request.replacesFiles = true;
  }
  return request;
}

/** Removes the now-empty name folder (and `@scope` folder) above a version folder. */
async function removeEmptyParents(installDir: string, versionDir: string) {
  let d = dirname(versionDir);
  while (d.startsWith(installDir + sep)) {
    if (!(await Deno.remove(d).then(() => true, () => false))) break;
    d = dirname(d);
  }
}

async function exists(path: string): Promise<boolean> {
  return (await Deno.lstat(path).catch(() => null)) !== null;
}

/**
 * Installs (or upgrades, or reinstalls) a plugin. See the module doc for the steps.
 * @throws {import("./manifest_file.ts").ManifestError} for a bad `plugin.json`,
 *   {@linkcode import("./imports.ts").PluginImportError} for imports the sandbox cannot load,
 *   `PluginSourceError` / `ArchiveError` for a bad source, or the `denoCache` error.
 */
export async function installPlugin(options: InstallOptions): Promise<InstallResult> {
  const { registry, signal } = options;
  const staging = join(registry.installDir, ".staging", crypto.randomUUID());
  await Deno.mkdir(staging, { recursive: true });
  try {
    const stagedDir = join(staging, "new");
    const staged = await stageSource(options.source, {
      stagingDir: stagedDir,
      fetch: options.fetch,
      npmRegistry: options.npmRegistry,
      signal,
    });
    const inner = relative(stagedDir, staged.root);
    const manifest = await readManifest(staged.root, {
      displayPath: sourceKind(options.source) === "folder"
        ? join(staged.source, "plugin.json")
        : `${staged.source}!/${inner ? `${inner}/` : ""}plugin.json`,
    });
    // Refused before the approval: such a plugin would install and then fail in every run.
    await checkPluginImports({
      dir: staged.root,
      entry: manifest.entry,
      hostConfig: options.hostConfig ?? HOST_CONFIG,
      displayDir: sourceKind(options.source) === "folder"
        ? staged.source
        : `${staged.source}!${inner ? `/${inner}` : ""}`,
      plugin: `${manifest.name}@${manifest.version}`,
      signal,
    });
    const integrity = await hashFolder(staged.root);
    const request = buildRequest(manifest, registry, staged.source, integrity);
    if (!(await options.approve(request))) return { installed: false, request };
    signal?.throwIfAborted();

    const target = installedPluginDir(registry.installDir, manifest.name, manifest.version);
    const old = join(staging, "old");
    const hadOld = await exists(target);
    await Deno.mkdir(dirname(target), { recursive: true });
    if (hadOld) await Deno.rename(target, old);
    await Deno.rename(staged.root, target);
    try {
      if ((await hashFolder(target)) !== integrity) {
        throw new Error(`${target}: files changed while being installed; try again`);
      }
      await (options.denoCache ?? denoCacheWith())(join(target, manifest.entry), { signal });
      await updateLock(registry.lockPath, (lock) => {
        (lock.plugins[manifest.name] ??= {})[manifest.version] = {
          version: manifest.version,
          source: staged.source,
          integrity,
          approved: manifest.permissions,
          installedAt: (options.now?.() ?? new Date()).toISOString(),
        };
      });
    } catch (e) {
      await Deno.remove(target, { recursive: true }).catch(() => {});
      if (hadOld) await Deno.rename(old, target);
      else await removeEmptyParents(registry.installDir, target);
      throw e;
    }
    await registry.reload();
    return {
      installed: true,
      request,
      plugin: registry.verify(manifest.name, manifest.version),
    };
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    await Deno.remove(dirname(staging)).catch(() => {}); // only when empty
  }
}

/** Options of {@linkcode removePlugin}. */
export interface RemoveOptions {
  /**
   * Ids of the unfinished runs that use any of `versions` of `name` (`runsUsing` over the store);
   * when any does, nothing is removed.
   */
  inUse?: (name: string, versions: string[]) => Promise<string[]>;
}

/** Thrown by {@linkcode removePlugin} when unfinished runs use the version. */
export class PluginInUseError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "PluginInUseError";
  }
}

/**
 * Removes one installed version of `name`, or every version when `version` is absent: first from
 * the lock (atomically), then its files. Returns the versions removed.
 * @throws {Error} when nothing matches (a builtin cannot be removed); {@linkcode PluginInUseError}
 * when `opts.inUse` names unfinished runs that use it.
 */
export async function removePlugin(
  registry: Registry,
  name: string,
  version?: string,
  opts: RemoveOptions = {},
): Promise<string[]> {
  const installed = Object.keys(registry.lock().plugins[name] ?? {});
  if (installed.length === 0) {
    throw new Error(
      registry.builtin(name)
        ? `${name} is a built-in plugin: it ships with the server and cannot be removed`
        : `no installed plugin named ${name}; see \`sluice plugin list\``,
    );
  }
  if (version && !installed.includes(version)) {
    throw new Error(
      `${name}@${version} is not installed (installed: ${semver.rsort(installed).join(", ")})`,
    );
  }
  const removed = version ? [version] : installed;
  const using = await opts.inUse?.(name, removed) ?? [];
  if (using.length) {
    const shown = using.slice(0, 5).join(", ") +
      (using.length > 5 ? ` and ${using.length - 5} more` : "");
    throw new PluginInUseError(
      `${name}@${removed.join(", ")} is used by unfinished run(s) ${shown}: they could not ` +
        `finish without it; let them end, or cancel them (sluice runs cancel RUN), then remove it`,
    );
  }
  await updateLock(registry.lockPath, (lock) => {
    for (const v of removed) delete lock.plugins[name]?.[v];
    if (Object.keys(lock.plugins[name] ?? {}).length === 0) delete lock.plugins[name];
  });
  for (const v of removed) {
    await Deno.remove(installedPluginDir(registry.installDir, name, v), { recursive: true })
      .catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
  }
  await removeEmptyParents(registry.installDir, installedPluginDir(registry.installDir, name, "_"));
  await registry.reload();
  return removed;
}

/** One row of {@linkcode listPlugins}. */
export interface PluginSummary {
  name: string;
  version: string;
  kind?: Manifest["kind"];
  description: string;
  /** `builtin`, or the install source. */
  origin: string;
  /** True for the version `resolve(name)` picks without a range. */
  active: boolean;
  /** Why an installed version will not run (its files changed since install, …), if so. */
  problem?: string;
}

/** Every builtin and installed plugin version, sorted by name then version (highest first). */
export function listPlugins(registry: Registry): PluginSummary[] {
  const rows: PluginSummary[] = registry.list().map((p) => ({
    name: p.manifest.name,
    version: p.manifest.version,
    kind: p.manifest.kind,
    description: p.manifest.description,
    origin: p.origin,
    active: false,
  }));
  for (const [name, versions] of Object.entries(registry.lock().plugins)) {
    for (const [version, e] of Object.entries(versions)) {
      if (!rows.some((r) => r.name === name && r.version === version && r.origin !== "builtin")) {
        rows.push({
          name,
          version,
          description: "(plugin.json unreadable)",
          origin: e.source,
          active: false,
        });
      }
    }
  }
  for (const r of rows) {
    if (r.origin !== "builtin") {
      try {
        registry.verify(r.name, r.version);
      } catch (err) {
        r.problem = (err as Error).message;
      }
    }
    const b = registry.builtin(r.name)?.manifest.version;
    const inst = semver.rsort(Object.keys(registry.lock().plugins[r.name] ?? {}))[0];
    const useInstalled = inst !== undefined && (b === undefined || semver.gt(inst, b));
    r.active = useInstalled ? r.origin !== "builtin" && r.version === inst : r.origin === "builtin";
  }
  return rows.sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : semver.rcompare(a.version, b.version)
  );
}

/** Everything known about one plugin name. */
export interface PluginInspection {
  name: string;
  /** The first-party plugin of that name, if any. */
  builtin?: ResolvedPlugin;
  /** Installed versions, highest first, each verified against the lock. */
  versions: {
    version: string;
    source: string;
    integrity: string;
    approved: ManifestPermissions;
    installedAt: string;
    dir: string;
    /** The manifest, when the files still match the lock. */
    manifest?: Manifest;
    /** Why this version cannot be used (integrity or approval problem). */
    problem?: string;
  }[];
}

/**
 * Details of `name`: builtin, installed versions, approved permissions, source and integrity,
 * with each installed version verified.
 * @throws {Error} when there is no plugin of that name.
 */
export function inspectPlugin(registry: Registry, name: string): PluginInspection {
  const entries = registry.lock().plugins[name] ?? {};
  const builtin = registry.builtin(name);
  if (!builtin && Object.keys(entries).length === 0) {
    throw new Error(`no plugin named ${name}; see \`sluice plugin list\``);
  }
  const versions = semver.rsort(Object.keys(entries)).map((v: string) => {
    const e = entries[v];
    const row: PluginInspection["versions"][number] = {
      ...e,
      dir: installedPluginDir(registry.installDir, name, v),
    };
    try {
      row.manifest = registry.verify(name, v).manifest;
    } catch (err) {
      row.problem = (err as Error).message;
    }
    return row;
  });
  return { name, builtin, versions };
}
