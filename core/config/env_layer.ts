/**
 * The `SLUICE_*` environment layer: reads exactly the variables listed in `CONFIG_KEYS`, parses
 * their text by the key's parser, and warns about unknown `SLUICE_*` names.
 * @module
 */
import type { ConfigProblem, ConfigSource } from "./errors.ts";
import { CONFIG_KEYS, envNameFor, type EnvParser, EXTRA_ENV_VARS, type MaskKind } from "./keys.ts";
import { closest } from "../../sdk/text/suggest.ts";

/** What the environment contributes. */
export interface EnvLayer {
  /** Parsed values by key. */
  readonly values: Map<string, unknown>;
  /** The variable each value came from, by key. */
  readonly positions: Map<string, ConfigSource>;
  /** Variables whose text could not be parsed. */
  readonly problems: ConfigProblem[];
  /** Unknown `SLUICE_*` variables, with a suggestion when one is close. */
  readonly warnings: string[];
}

const TRUE = new Set(["1", "true", "yes"]);
const FALSE = new Set(["0", "false", "no"]);

/** Parses a variable's text; returns `{ error }` with what was wrong when it cannot. */
export function parseEnvValue(parser: EnvParser, text: string): { value: unknown } | {
  error: string;
} {
  const trimmed = text.trim();
  switch (parser) {
    case "string":
      return { value: trimmed };
    case "int":
      return /^[+-]?\d+$/.test(trimmed)
        ? { value: Number(trimmed) }
        : { error: "not a whole number" };
    case "bool": {
      const lower = trimmed.toLowerCase();
      if (TRUE.has(lower)) return { value: true };
      if (FALSE.has(lower)) return { value: false };
      return { error: "not a boolean (use 1/0/true/false/yes/no)" };
    }
    case "list":
      return { value: trimmed.split(",").map((s) => s.trim()).filter((s) => s !== "") };
    case "duration":
      return { value: /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed };
  }
}

/** Shows a value in a message, hiding secrets. */
export function showValue(value: unknown, mask?: MaskKind): string {
  if (mask === "secret") return "********";
  if (mask === "url-password" && typeof value === "string") {
    return JSON.stringify(maskUrlPassword(value));
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * Replaces the password of a URL's user info, and the values of query parameters such as
 * `password=` or `token=`, with `********`; other text is kept. When unsure, it masks more.
 */
export function maskUrlPassword(text: string): string {
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):.*@/i, "$1:********@")
    .replace(
      /([?&;](?:password|passwd|pass|pwd|secret|token|api_?key|key)=)[^&;#]*/gi,
      "$1********",
    );
}

/**
 * Variables read outside the config keys: {@linkcode EXTRA_ENV_VARS} (`SLUICE_CONFIG`,
 * `SLUICE_DEBUG`; `SLUICE_SECRET_*` are let through below) and `SLUICE_TEST_DATABASE_URL` (the
 * tests' PostgreSQL server, `testing/postgres.ts`). Known, so setting one is not warned about.
 */
const KNOWN = new Set<string>([
  ...Object.keys(EXTRA_ENV_VARS).filter((name) => !name.includes("<")),
  "SLUICE_TEST_DATABASE_URL",
  ...CONFIG_KEYS.map((info) => info.env),
]);
const GENERIC = new Map<string, string>(
  CONFIG_KEYS.filter((info) => envNameFor(info.key) !== info.env)
    .map((info) => [envNameFor(info.key), info.env]),
);

/** Reads the configuration variables out of `env`. Empty variables count as unset. */
export function readEnvLayer(env: Readonly<Record<string, string>>): EnvLayer {
  const values = new Map<string, unknown>();
  const positions = new Map<string, ConfigSource>();
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  for (const info of CONFIG_KEYS) {
    const text = env[info.env];
    if (text === undefined || text.trim() === "") continue;
    const source = { kind: "env", name: info.env } as const;
    const parsed = parseEnvValue(info.parse, text);
    if ("error" in parsed) {
      const mask = "mask" in info ? info.mask : undefined;
      problems.push({
        key: info.key,
        source,
        message: `got ${showValue(text, mask)}: ${parsed.error}`,
        allowed: info.allowed,
      });
      continue;
    }
    values.set(info.key, parsed.value);
    positions.set(info.key, source);
  }
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith("SLUICE_") || KNOWN.has(name) || name.startsWith("SLUICE_SECRET_")) {
      continue;
    }
    const hint = GENERIC.get(name) ?? closest(name, KNOWN);
    warnings.push(
      `Unknown environment variable ${name} is ignored` + (hint ? `; did you mean ${hint}?` : "."),
    );
  }
  return { values, positions, problems, warnings };
}
