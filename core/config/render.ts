/**
 * Shows configuration to people: the effective config with each value's source and secrets
 * masked (`sluice config`), and the reference table of keys and variables for the README.
 * @module
 */
import { stringify } from "yaml";
import { type ConfigSource, formatSource } from "./errors.ts";
import { maskUrlPassword } from "./env_layer.ts";
import { CONFIG_KEYS, type ConfigKey, type ConfigKeyInfo, EXTRA_ENV_VARS } from "./keys.ts";
import { type Config, formatDuration } from "./schema.ts";

/** What secrets are replaced with. */
export const MASK = "********";

function scalar(value: unknown): string {
  if (typeof value !== "string") return String(value);
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

function shown(info: ConfigKeyInfo, value: unknown): string {
  if (value === undefined || value === null) return "~";
  if (info.mask === "secret") return MASK;
  if (info.mask === "url-password" && typeof value === "string") {
    return scalar(maskUrlPassword(value));
  }
  if (info.parse === "duration" && typeof value === "number") return formatDuration(value);
  if (Array.isArray(value)) return `[${value.map(scalar).join(", ")}]`;
  return scalar(value);
}

function valueAt(config: Config, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/**
 * The effective configuration as YAML with each value's source as a trailing comment; secrets
 * are shown as `********` and URL passwords are masked.
 */
export function renderConfig(
  config: Config,
  sources: ReadonlyMap<ConfigKey, ConfigSource>,
): string {
  const lines = ["# Effective configuration; each value's source follows #."];
  let open: string[] = [];
  for (const info of CONFIG_KEYS as readonly ConfigKeyInfo[]) {
    const parts = info.key.split(".");
    const parents = parts.slice(0, -1);
    let common = 0;
    while (common < open.length && common < parents.length && open[common] === parents[common]) {
      common++;
    }
    for (let depth = common; depth < parents.length; depth++) {
      lines.push(`${"  ".repeat(depth)}${parents[depth]}:`);
    }
    open = parents;
    const source = sources.get(info.key as ConfigKey);
    const comment = source ? formatSource(source) : "unset";
    const value = shown(info, valueAt(config, info.key));
    lines.push(`${"  ".repeat(parents.length)}${parts.at(-1)}: ${value}  # ${comment}`);
  }
  return lines.join("\n") + "\n";
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/**
 * The reference of every key as a Markdown table (key, variable, default, allowed values,
 * description), followed by the other variables Sluice reads. The README is generated from it.
 */
export function renderConfigReference(): string {
  const rows = [
    "| Key | Environment variable | Default | Allowed | Description |",
    "|---|---|---|---|---|",
  ];
  for (const info of CONFIG_KEYS as readonly ConfigKeyInfo[]) {
    const dflt = info.derived ??
      (info.default === undefined ? "unset" : JSON.stringify(info.default));
    const secret = info.mask === "secret" ? " (secret)" : "";
    rows.push(
      `| \`${info.key}\` | \`${info.env}\` | ${cell(dflt)} | ${cell(info.allowed)} | ${
        cell(info.description + secret)
      } |`,
    );
  }
  rows.push("", "| Other variable | Meaning |", "|---|---|");
  for (const [name, meaning] of Object.entries(EXTRA_ENV_VARS)) {
    rows.push(`| \`${name}\` | ${cell(meaning)} |`);
  }
  return rows.join("\n") + "\n";
}
