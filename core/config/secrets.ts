/**
 * Operator secrets (`${{ secrets.NAME }}` in pipelines): `SLUICE_SECRET_<NAME>` variables first,
 * then the optional `secrets.file` (YAML or JSON mapping names to values).
 * @module
 */
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { ConfigError, type ConfigProblem } from "./errors.ts";
import type { Config } from "./schema.ts";

/**
 * Looks a secret up by name; `undefined` when no layer defines it. An empty value counts as not
 * set (`SLUICE_SECRET_X=` in a compose file left blank): a stage would otherwise run with an empty
 * key or signing secret (webhook-export would send unsigned requests) instead of being refused.
 */
export type SecretResolver = (name: string) => string | undefined;

/** The env variable name of a secret: `smtp-password` -> `SLUICE_SECRET_SMTP_PASSWORD`. */
export function secretEnvName(name: string): string {
  return "SLUICE_SECRET_" + name.replace(/[^A-Za-z0-9]/g, "_").toUpperCase();
}

/**
 * Parses a secrets file's text into a name -> value map. Scalar values become strings.
 * @throws {ConfigError} naming `label:LINE:COL` when the text is not a mapping of scalars.
 */
export function parseSecretsFile(text: string, label: string): Map<string, string> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const problems: ConfigProblem[] = [];
  const at = (offset = 0) =>
    ({ kind: "file", file: label, ...lineCounter.linePos(offset) }) as const;
  for (const error of doc.errors) {
    const pos = error.linePos?.[0];
    problems.push({
      key: "secrets.file",
      source: { kind: "file", file: label, line: pos?.line ?? 1, col: pos?.col ?? 1 },
      message: `YAML syntax error: ${error.message.split("\n")[0]}`,
    });
  }
  const secrets = new Map<string, string>();
  const contents = doc.contents;
  if (problems.length === 0 && contents !== null && !isMap(contents)) {
    problems.push({
      key: "secrets.file",
      source: at(contents.range?.[0]),
      message: "expected a mapping of secret names to values",
    });
  }
  if (problems.length === 0 && isMap(contents)) {
    for (const pair of contents.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const value = pair.value;
      if (key === undefined || !isScalar(value) || value.value === null) {
        const node = key === undefined ? pair.key : pair.value;
        problems.push({
          key: "secrets.file",
          source: at((node as { range?: number[] } | null)?.range?.[0]),
          message: `secret ${key ?? "?"}: expected a name with a text value`,
        });
        continue;
      }
      secrets.set(key, String(value.value));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secrets;
}

/**
 * Creates the secret resolver: `SLUICE_SECRET_<NAME>` in `env` (the exact name first, then the
 * upper-cased one), then `config.secrets.file`; an empty value counts as not set (the next layer
 * is asked). The file is read once, now.
 * @param env Environment variables; `Deno.env` is read only when absent.
 * @throws {ConfigError} when the secrets file cannot be read or parsed.
 */
export function secretResolver(
  config: Config,
  env: Readonly<Record<string, string>> = Deno.env.toObject(),
): SecretResolver {
  let fromFile = new Map<string, string>();
  const file = config.secrets.file;
  if (file !== undefined) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound ? "not found" : (error as Error).message;
      throw new ConfigError([{
        key: "secrets.file",
        source: { kind: "file", file },
        message: `cannot read the secrets file (${why}); fix secrets.file or SLUICE_SECRETS_FILE`,
      }], { cause: error });
    }
    fromFile = parseSecretsFile(text, file);
  }
  const set = (value: string | undefined) => value === "" ? undefined : value;
  return (name) =>
    set(env[`SLUICE_SECRET_${name}`]) ?? set(env[secretEnvName(name)]) ??
      set(fromFile.get(name));
}
