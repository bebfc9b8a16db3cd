/**
 * Turns a stage's effective permissions into the `deno run` command line and environment of a
 * sandboxed plugin process. Only what is granted is passed: read of the plugin's own folder, the
 * run's input file and granted read paths; write of granted paths under the data folder; the
 * granted hosts and env names. Never run, ffi, sys, all or remote imports.
 * @module
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { isAbsolute, join, normalize, relative, resolve } from "node:path";

/** Permissions as granted to one stage (already intersected with what was approved). */
export interface SandboxPermissions {
  net?: string[];
  read?: string[];
  write?: string[];
  env?: string[];
}

/** What {@linkcode buildSandboxCommand} needs. */
export interface SandboxCommandOptions {
  /** Absolute folder of the plugin (readable, never writable). */
  pluginDir: string;
  /** The stage's effective permissions. */
  permissions: SandboxPermissions;
  /** Absolute data folder; relative read/write paths resolve against it. */
  dataDir: string;
  /** Absolute path of the run's input file (sources), made readable. */
  inputFile?: string;
  /** Absolute folder made readable: the inbox where the host puts the input files of runs. */
  inputDir?: string;
  /** V8 heap cap in MB. */
  memoryMb: number;
  /** Path of the host's deno.json: its import map gives `@sluice/sdk` and npm packages. */
  hostConfig: string;
  /** DENO_DIR of the child (the host's module and npm cache). */
  denoDir?: string;
  /** npm registry URL for Deno in the child (it keys the npm cache); default: the host's. */
  npmRegistry?: string;
  /** Reads the host's environment; defaults to `Deno.env.get`. */
  hostEnv?: (name: string) => string | undefined;
  /**
   * `network.allowPrivate`: when not true, an approved host *name* may not resolve to a private,
   * loopback or link-local address (see {@linkcode privateNetDenials}); default false.
   */
  allowPrivate?: boolean;
  /**
   * `host:port` of a V8 inspector the process opens, waiting for a debugger to attach before it
   * runs (`--inspect-wait`): for plugin authors' tests only (`sdk/testing.ts`), never the server.
   */
  inspect?: string;
}

/**
 * The resolver option (`RES_OPTIONS`) of a process whose private addresses are denied: glibc's
 * resolver (2.36 and later; what Deno's `fetch`, `Deno.connect` and `node:net` resolve names with)
 * then asks for no AAAA records, so an approved name resolves to IPv4 addresses only. Deno 2.9's
 * `--deny-net` takes no IPv6 ranges, and does not hold an IPv4-mapped address against the IPv4
 * ranges: a name whose AAAA record was `::ffff:127.0.0.1` reached a loopback server past
 * `--deny-net=127.0.0.0/8` (checked by hand with a resolver on port 53, 2026-11-30), as would
 * unique-local (`fd00::/8`) and link-local (`fe80::/10`) addresses. Names in `/etc/hosts` (the
 * operator's own) are not affected.
 */
export const IPV4_ONLY_RESOLVER = "no-aaaa";

/** The command line and environment of one sandboxed plugin process. */
export interface SandboxCommand {
  args: string[];
  env: Record<string, string>;
}

/** The child's main module. */
export const CHILD_MAIN: string = new URL("./child.ts", import.meta.url).href;

/**
 * The SDK folder. Plugins may import any SDK module (`@sluice/sdk/net/...`) at run time, so every
 * sandbox may read it: it is Sluice's own public code and holds nothing secret.
 */
export const SDK_DIR: string = fileURLToPath(new URL("../", import.meta.url));

/** Host environment variables Deno itself needs in the child (never secrets). */
const DENO_ENV = ["NPM_CONFIG_REGISTRY"];

function checkListItem(kind: string, value: string): string {
  if (value.length === 0 || value.includes(",") || /[\0\n]/.test(value)) {
    throw new RangeError(
      `sandbox: ${kind} permission entry ${JSON.stringify(value)} is not allowed: it must be ` +
        "non-empty and contain no comma or newline; fix the plugin manifest or the stage permissions",
    );
  }
  return value;
}

/** True when `path` is `dir` or inside it. */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

/**
 * Resolves a granted read path: absolute as given (the approval showed it as a path outside the
 * data folder), relative against the data folder; refuses a relative one that escapes it.
 */
export function resolveReadPath(dataDir: string, path: string): string {
  checkListItem("read", path);
  if (isAbsolute(path)) return normalize(path);
  const full = resolve(dataDir, path);
  if (!isInside(dataDir, full)) {
    throw new RangeError(
      `sandbox: read permission ${JSON.stringify(path)} resolves to ${full}, outside the ` +
        `plugin's data folder ${dataDir}; a relative read path stays under the data folder`,
    );
  }
  return full;
}

/** Resolves a granted write path under the data folder; refuses one that escapes it. */
export function resolveWritePath(dataDir: string, path: string): string {
  checkListItem("write", path);
  const full = isAbsolute(path) ? normalize(path) : resolve(dataDir, path);
  if (!isInside(dataDir, full)) {
    throw new RangeError(
      `sandbox: write permission ${JSON.stringify(path)} resolves to ${full}, outside the ` +
        `plugin's data folder ${dataDir}; a plugin may only write under its data folder`,
    );
  }
  return full;
}

/**
 * Address ranges an approved host name may not lead to unless `network.allowPrivate` is set:
 * Deno's `--allow-net=api.example.com` lets the name resolve to any address, so a plugin's
 * author who controls that name's DNS could point it at the operator's loopback services (the
 * Sluice API), the LAN or a cloud metadata endpoint. `--deny-net` with these ranges is checked
 * by Deno against the resolved address too. (Deno 2.9 takes IPv4 ranges and single IPv6
 * addresses only: such a process resolves names to IPv4 only, see {@linkcode IPV4_ONLY_RESOLVER}.)
 */
export const PRIVATE_NET_RANGES: readonly string[] = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "[::]",
  "[::1]",
];

function ipv4Number(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

/** `[first, last]` of an IPv4 address or `a.b.c.d/len`, else undefined. */
function ipv4Span(text: string): [number, number] | undefined {
  const [addr, len] = text.split("/");
  const n = ipv4Number(addr);
  if (n === undefined) return undefined;
  const bits = len === undefined ? 32 : Number(len);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const first = Math.floor(n / size) * size;
  return [first, first + size - 1];
}

/** The host of a `--allow-net` entry (`host`, `host:port`, `[v6]:port`, `a.b.c.d/len`). */
function netEntryHost(entry: string): string {
  if (entry.startsWith("[")) return entry.slice(0, entry.indexOf("]") + 1);
  const colon = entry.lastIndexOf(":");
  return colon >= 0 && entry.indexOf(":") === colon ? entry.slice(0, colon) : entry;
}

/**
 * The `--deny-net` entries for a plugin granted the hosts `net` (none for `*`, the network
 * probers, which check every address themselves): every range of {@linkcode PRIVATE_NET_RANGES}
 * except those the grant names itself (an address or range inside it, or `localhost` for the
 * loopback ones): approving `127.0.0.1:5432` or `10.0.0.5` is approving that network.
 */
export function privateNetDenials(net: readonly string[]): string[] {
  if (net.length === 0 || net.includes("*")) return [];
  const hosts = net.map(netEntryHost).map((h) => h.toLowerCase());
  const spans = hosts.map(ipv4Span).filter((s) => s !== undefined);
  const localhost = hosts.some((h) => h === "localhost" || h.endsWith(".localhost"));
  return PRIVATE_NET_RANGES.filter((range) => {
    if (range.startsWith("[")) {
      return !hosts.includes(range) && !(localhost && range === "[::1]");
    }
    const [first, last] = ipv4Span(range)!;
    if (localhost && range === "127.0.0.0/8") return false;
    return !spans.some(([a, b]) => a <= last && b >= first);
  });
}

/**
 * The origin a plugin's processes run at (`--location`), one per plugin folder. Deno keys the
 * storages it keeps outside any permission (the Cache API, `localStorage`, `Deno.openKv()`
 * without a path) by origin; the child closes them, and should code get past that (a Worker's
 * globals are not guarded), what it stores is still not shared with other plugins.
 */
export function pluginOrigin(pluginDir: string): string {
  const id = createHash("sha256").update(resolve(pluginDir)).digest("hex").slice(0, 32);
  return `http://p${id}.plugin.sluice.invalid/`;
}

/**
 * The young generation's semi-space cap (MB) of plugins that may use the network. V8 lets it grow
 * to ~32 MB by default; a network plugin keeps many chunks' objects alive across its waits on
 * sockets, and capped at 16 the flagship's plugin processes took ~6 % less CPU per business and
 * ~15 % less summed peak RSS (13 alternating runs, bench/RESULTS.md, 2026-12-03). Pure CPU stages
 * are left alone: csv-source and normalize streaming 1,000,000 rows ran ~10 % slower capped.
 */
export const NETWORK_SEMI_SPACE_MB = 16;

/** Builds the `deno run` arguments and the environment for a sandboxed plugin process. */
export function buildSandboxCommand(opts: SandboxCommandOptions): SandboxCommand {
  const hostEnv = opts.hostEnv ?? ((name: string) => Deno.env.get(name));
  const p = opts.permissions;
  const dataDir = resolve(opts.dataDir);
  const read = [checkListItem("read", resolve(opts.pluginDir)), resolve(SDK_DIR)];
  if (opts.inputFile) read.push(checkListItem("read", resolve(opts.inputFile)));
  if (opts.inputDir) read.push(checkListItem("read", resolve(opts.inputDir)));
  for (const r of p.read ?? []) read.push(resolveReadPath(dataDir, r));
  const write = (p.write ?? []).map((w) => resolveWritePath(dataDir, w));
  const net = (p.net ?? []).map((n) => checkListItem("net", n));
  const envNames = (p.env ?? []).map((n) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n)) {
      throw new RangeError(`sandbox: env permission ${JSON.stringify(n)} is not a variable name`);
    }
    return n;
  });
  const args = [
    "run",
    "--no-prompt",
    "--cached-only",
    "--no-lock",
    "--deny-import",
    "--no-check",
    `--config=${resolve(opts.hostConfig)}`,
    `--location=${pluginOrigin(opts.pluginDir)}`,
    `--v8-flags=--max-old-space-size=${Math.max(16, Math.floor(opts.memoryMb))}${
      net.length > 0 ? `,--max-semi-space-size=${NETWORK_SEMI_SPACE_MB}` : ""
    }`,
    `--allow-read=${[...new Set(read)].join(",")}`,
  ];
  if (write.length > 0) args.push(`--allow-write=${[...new Set(write)].join(",")}`);
  // "*" is the manifest's way to ask for any host (network probers); it was shown at approval.
  if (net.includes("*")) args.push("--allow-net");
  else if (net.length > 0) args.push(`--allow-net=${[...new Set(net)].join(",")}`);
  const denied = opts.allowPrivate === true ? [] : privateNetDenials(net);
  if (denied.length > 0) args.push(`--deny-net=${denied.join(",")}`);
  if (envNames.length > 0) args.push(`--allow-env=${[...new Set(envNames)].join(",")}`);
  if (opts.inspect) args.push(`--inspect-wait=${checkListItem("inspect", opts.inspect)}`);
  args.push(CHILD_MAIN);

  const env: Record<string, string> = { NO_COLOR: "1" };
  const denoDir = opts.denoDir ?? hostEnv("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  else {
    const home = hostEnv("HOME");
    if (home) env.DENO_DIR = join(home, ".cache", "deno");
  }
  for (const name of DENO_ENV) {
    const v = hostEnv(name);
    if (v !== undefined) env[name] = v;
  }
  if (opts.npmRegistry) env.NPM_CONFIG_REGISTRY = opts.npmRegistry;
  for (const name of envNames) {
    const v = hostEnv(name);
    if (v !== undefined) env[name] = v;
  }
  if (denied.length > 0) {
    // Names resolve to IPv4 addresses only (see IPV4_ONLY_RESOLVER), whatever else is asked.
    env.RES_OPTIONS = [env.RES_OPTIONS, IPV4_ONLY_RESOLVER].filter((o) => o).join(" ");
  }
  return { args, env };
}
