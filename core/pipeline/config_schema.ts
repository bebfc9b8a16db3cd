/**
 * Validates a stage's `with:` against its plugin's JSON Schema `config` (ajv, all errors),
 * treating template values as unknowable: a value that is wholly `${{ ... }}` is valid for any
 * type, and a string containing a template passes string checks (pattern, format, length, enum).
 * @module
 */
import {
  type ConfigProblem,
  configValidator,
  describeSchemaError,
  pointerToPath,
} from "../../sdk/runtime/config_schema.ts";
import { hasTemplate, isWholeTemplate } from "./template.ts";

/** One config error, located by a path under `with`. */
export type ConfigError = ConfigProblem;

/** Keywords a template string can neither satisfy nor violate in a knowable way. */
const STRING_KEYWORDS = new Set(["pattern", "format", "minLength", "maxLength", "enum", "const"]);

/**
 * Validates `config` (a stage's `with:`, `{}` when absent) against `schema`. Throws when the
 * schema itself cannot be compiled.
 */
export function validateConfig(
  schema: Record<string, unknown>,
  config: Record<string, unknown>,
): ConfigError[] {
  const validate = configValidator(schema);
  if (validate(config)) return [];
  const out: ConfigError[] = [];
  for (const err of validate.errors ?? []) {
    const path = pointerToPath(err.instancePath);
    const value = valueAt(config, path);
    if (isWholeTemplate(value)) continue;
    if (hasTemplate(value) && STRING_KEYWORDS.has(err.keyword)) continue;
    out.push(describeSchemaError(err, path));
  }
  return dedupe(out);
}

function dedupe(errors: ConfigError[]): ConfigError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.path.join("/")}|${e.key}|${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

/** Property names a schema declares at `path` (for did-you-mean on unknown keys). */
export function schemaPropertiesAt(
  schema: Record<string, unknown>,
  path: (string | number)[],
): string[] {
  let s: unknown = schema;
  for (const seg of path) {
    const node = s as Record<string, unknown> | undefined;
    if (!node || typeof node !== "object") return [];
    s = typeof seg === "number"
      ? node.items
      : (node.properties as Record<string, unknown> | undefined)?.[seg];
  }
  const props = (s as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props) : [];
}
