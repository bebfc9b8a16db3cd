/**
 * Validates a stage's `with:` against its plugin's JSON Schema `config` (ajv, all errors),
 * treating template values as unknowable: a value that is wholly `${{ ... }}` is valid for any
 * type, and a string containing a template passes string checks (pattern, format, length, enum).
 * @module
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { hasTemplate, isWholeTemplate } from "./template.ts";

/** One config error, located by a path under `with`. */
export interface ConfigError {
  /** Path under `with` of the offending value or key (empty for `with` itself). */
  path: (string | number)[];
  /** Whether `path` ends at a key (unknown key) rather than a value. */
  key: boolean;
  /** What is wrong. */
  message: string;
}

const FORMATS: Record<string, (s: string) => boolean> = {
  uri: (s) => URL.canParse(s) && /^[a-z][a-z0-9+.-]*:/i.test(s),
  url: (s) => URL.canParse(s),
  "uri-reference": () => true,
  email: (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s),
  hostname: (s) =>
    /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\.?$/i
      .test(s),
  ipv4: (s) => /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/.test(s),
  ipv6: (s) => s.includes(":") && URL.canParse(`http://[${s}]/`),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  "date-time": (s) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}/.test(s) && !Number.isNaN(Date.parse(s)),
  uuid: (s) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s),
  regex: (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
};

let draft2020: Ajv2020 | undefined;
let draft7: Ajv | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  const hit = compiled.get(schema);
  if (hit) return hit;
  const legacy = typeof schema.$schema === "string" && /draft-0[4-7]/.test(schema.$schema);
  const opts = { allErrors: true, strict: false, logger: false as const, formats: FORMATS };
  const ajv = legacy ? (draft7 ??= new Ajv(opts)) : (draft2020 ??= new Ajv2020(opts));
  const fn = ajv.compile(schema);
  compiled.set(schema, fn);
  return fn;
}

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
  const validate = validatorFor(schema);
  if (validate(config)) return [];
  const out: ConfigError[] = [];
  for (const err of validate.errors ?? []) {
    const path = pointerToPath(err.instancePath);
    const value = valueAt(config, path);
    if (isWholeTemplate(value)) continue;
    if (hasTemplate(value) && STRING_KEYWORDS.has(err.keyword)) continue;
    out.push(describe(err, path));
  }
  return dedupe(out);
}

function describe(err: ErrorObject, path: (string | number)[]): ConfigError {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case "additionalProperties":
      return { path: [...path, String(p.additionalProperty)], key: true, message: "" };
    case "required":
      return { path, key: false, message: `missing required key "${p.missingProperty}"` };
    case "type":
      return { path, key: false, message: `must be ${typeWords(p.type)}` };
    case "enum":
      return {
        path,
        key: false,
        message: `must be one of ${
          (p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")
        }`,
      };
    case "format":
      return { path, key: false, message: `must be a valid ${p.format}` };
    default:
      return { path, key: false, message: (err.message ?? "is invalid").replace(/^must/, "must") };
  }
}

function typeWords(t: unknown): string {
  const words: Record<string, string> = {
    string: "text",
    number: "a number",
    integer: "a whole number",
    boolean: "true or false",
    array: "a list",
    object: "a mapping",
    null: "null",
  };
  const list = Array.isArray(t) ? t : [t];
  return list.map((x) => words[String(x)] ?? String(x)).join(" or ");
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

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((s) => {
    const seg = s.replaceAll("~1", "/").replaceAll("~0", "~");
    return /^\d+$/.test(seg) ? Number(seg) : seg;
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
