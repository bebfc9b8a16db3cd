/**
 * Layered configuration: built-in defaults < `sluice.yaml` < `SLUICE_*` environment variables,
 * validated with zod. Every problem is reported at once in a {@link ConfigError} that names the
 * key, where the bad value came from (`sluice.yaml:LINE:COL`, the variable, or `default`) and
 * what is allowed.
 *
 * ```ts
 * const config = await loadConfig({ file: flags.config });
 * console.log(renderConfig(config, configSources(config)));
 * ```
 * @module
 */
import { isAbsolute, join, relative, resolve } from "node:path";
import type { z } from "zod";
import { ConfigError, type ConfigProblem, type ConfigSource } from "./errors.ts";
import { readEnvLayer, showValue } from "./env_layer.ts";
import { readConfigFile } from "./file_layer.ts";
import { CONFIG_KEYS, type ConfigKey, keyInfo } from "./keys.ts";
import { type Config, ConfigSchema } from "./schema.ts";

export { type Config, formatDuration, parseDuration } from "./schema.ts";
export { ConfigError, type ConfigProblem, type ConfigSource, formatSource } from "./errors.ts";
export { CONFIG_KEYS, type ConfigKey, type ConfigKeyInfo, EXTRA_ENV_VARS } from "./keys.ts";
export { renderConfig, renderConfigReference } from "./render.ts";
export { secretResolver } from "./secrets.ts";
export { parseResolvConf, systemDnsServers } from "./dns.ts";

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Environment variables; `Deno.env` is read only when absent. */
  env?: Readonly<Record<string, string>>;
  /**
   * Configuration file (from `--config`). Defaults to `SLUICE_CONFIG`, then `./sluice.yaml`;
   * an explicitly named file must exist, the default one may be missing.
   */
  file?: string;
  /** Directory relative paths resolve against; defaults to `Deno.cwd()`. */
  cwd?: string;
}

/** Where each key's effective value came from. */
export type ConfigSources = ReadonlyMap<ConfigKey, ConfigSource>;

interface Loaded {
  sources: ConfigSources;
  warnings: readonly string[];
}

const loaded = new WeakMap<Config, Loaded>();

/**
 * Loads, layers and validates the configuration.
 * @throws {ConfigError} listing every problem found, when anything is invalid.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? Deno.env.toObject();
  const cwd = resolve(options.cwd ?? Deno.cwd());
  const named = options.file ?? (env.SLUICE_CONFIG?.trim() || undefined);
  const filePath = resolve(cwd, named ?? "sluice.yaml");
  const rel = relative(cwd, filePath);
  const label = rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : filePath;

  const file = await readConfigFile({ path: filePath, label, required: named !== undefined });
  const envLayer = readEnvLayer(env);
  const problems: ConfigProblem[] = [...file.problems, ...envLayer.problems];

  const sources = new Map<ConfigKey, ConfigSource>();
  const fileOnly = new Map<string, unknown>();
  const merged = new Map<string, unknown>();
  for (const info of CONFIG_KEYS) {
    const dflt = "default" in info ? info.default : undefined;
    const fromFile = file.values.has(info.key);
    const fileValue = fromFile ? file.values.get(info.key) : dflt;
    if (fileValue !== undefined) fileOnly.set(info.key, fileValue);
    if (envLayer.values.has(info.key)) {
      merged.set(info.key, envLayer.values.get(info.key));
      sources.set(info.key, envLayer.positions.get(info.key)!);
    } else if (fileValue !== undefined) {
      merged.set(info.key, fileValue);
      sources.set(info.key, fromFile ? file.positions.get(info.key)! : { kind: "default" });
    }
  }

  // The file is checked on its own too, so a bad value hidden by an env override still fails.
  const fromFile = ConfigSchema.safeParse(nest(fileOnly));
  if (!fromFile.success) {
    problems.push(
      ...issueProblems(fromFile.error.issues, fileOnly, (key) => file.positions.get(key))
        .filter((p) => p.source.kind === "file"),
    );
  }
  const result = ConfigSchema.safeParse(nest(merged));
  if (!result.success) {
    const all = issueProblems(result.error.issues, merged, (key) => {
      const leaf = key.replace(/\[\d+\]$/, "");
      return sources.get(leaf as ConfigKey)?.kind === "file"
        ? file.positions.get(key)
        : sources.get(leaf as ConfigKey);
    });
    problems.push(...all.filter((p) => p.source.kind !== "file"));
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(sortProblems(problems));

  const config = result.data as Config;
  for (const info of CONFIG_KEYS) {
    if (!("path" in info && info.path)) continue;
    const value = getConfigValue(config, info.key);
    if (typeof value === "string") setPath(config, info.key, resolve(cwd, value));
  }
  if (config.store.path === undefined) {
    config.store.path = join(config.dataDir, "sluice.kv");
    sources.set("store.path", { kind: "default", note: "<dataDir>/sluice.kv" });
  }
  if (config.plugins.installDir === undefined) {
    config.plugins.installDir = join(config.dataDir, "plugins");
    sources.set("plugins.installDir", { kind: "default", note: "<dataDir>/plugins" });
  }
  deepFreeze(config);
  loaded.set(config, { sources, warnings: envLayer.warnings });
  return config;
}

/** Where each value of a config returned by {@link loadConfig} came from. */
export function configSources(config: Config): ConfigSources {
  return loadedOf(config).sources;
}

/** Warnings found while loading, e.g. unknown `SLUICE_*` variables (with did-you-mean). */
export function configWarnings(config: Config): readonly string[] {
  return loadedOf(config).warnings;
}

/** Reads one value by its dotted key, e.g. `getConfigValue(config, "server.port")`. */
export function getConfigValue(config: Config, key: ConfigKey): unknown {
  let node: unknown = config;
  for (const part of key.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

function loadedOf(config: Config): Loaded {
  const found = loaded.get(config);
  if (!found) throw new TypeError("configSources: pass a config returned by loadConfig()");
  return found;
}

function issueProblems(
  issues: readonly z.core.$ZodIssue[],
  values: Map<string, unknown>,
  sourceOf: (key: string) => ConfigSource | undefined,
): ConfigProblem[] {
  return issues.map((issue) => {
    const parts = issue.path.map(String);
    let depth = parts.length;
    while (depth > 0 && !keyInfo(parts.slice(0, depth).join("."))) depth--;
    const leaf = depth > 0 ? parts.slice(0, depth).join(".") : parts.join(".");
    const index = parts.slice(depth).map((p) => `[${p}]`).join("");
    const info = keyInfo(leaf);
    let value = values.get(leaf);
    if (index && Array.isArray(value)) value = value[Number(parts[depth])];
    const source = sourceOf(leaf + index) ?? sourceOf(leaf) ?? { kind: "default" };
    return {
      key: leaf + index,
      source,
      message: `got ${showValue(value, info?.mask)}: ${issue.message}`,
      allowed: info?.allowed,
    } satisfies ConfigProblem;
  });
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem) =>
    p.source.kind === "file" ? [0, p.source.line ?? 0, p.source.col ?? 0] : [1, 0, 0];
  return problems.map((p, i) => ({ p, i, r: rank(p) })).sort((a, b) =>
    a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.r[2] - b.r[2] || a.i - b.i
  ).map(({ p }) => p);
}

function nest(values: Map<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const info of CONFIG_KEYS) {
    const parts = info.key.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
  }
  for (const [key, value] of values) setPath(root, key, value);
  return root;
}

function setPath(root: object, key: string, value: unknown): void {
  const parts = key.split(".");
  let node = root as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}
