/**
 * The JSON Schema check of a stage's `with:` against its plugin's `plugin.json` `config`: one
 * compiled validator (ajv, all errors, the string formats Sluice knows) and the words of each
 * problem. `sluice validate` (`core/pipeline/config_schema.ts`, which also lets `${{ … }}`
 * templates through) and the test harness (`sdk/testing.ts`) both use it, so a test's config
 * passes exactly when the pipeline's would.
 * @module
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";

/** One problem of a config, located by a path under `with`. */
export interface ConfigProblem {
  /** Path under `with` of the offending value or key (empty for `with` itself). */
  path: (string | number)[];
  /** Whether `path` ends at a key (unknown key) rather than a value. */
  key: boolean;
  /** What is wrong (empty for an unknown key: the caller words it, e.g. with a did-you-mean). */
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

/**
 * The validator of a `config` schema (draft 2020-12 unless its `$schema` names draft 04–07),
 * compiled once per schema object. Throws when the schema cannot be compiled.
 */
export function configValidator(schema: Record<string, unknown>): ValidateFunction {
  const hit = compiled.get(schema);
  if (hit) return hit;
  const legacy = typeof schema.$schema === "string" && /draft-0[4-7]/.test(schema.$schema);
  const opts = { allErrors: true, strict: false, logger: false as const, formats: FORMATS };
  const ajv = legacy ? (draft7 ??= new Ajv(opts)) : (draft2020 ??= new Ajv2020(opts));
  const fn = ajv.compile(schema);
  compiled.set(schema, fn);
  return fn;
}

/** The problem an ajv error describes, at `path` (from {@linkcode pointerToPath}). */
export function describeSchemaError(err: ErrorObject, path: (string | number)[]): ConfigProblem {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case "additionalProperties":
      return { path: [...path, String(p.additionalProperty)], key: true, message: "" };
    case "required":
      return { path, key: false, message: `missing required key "${p.missingProperty}"` };
    case "dependentRequired":
      return {
        path,
        key: false,
        message: `missing key "${p.missingProperty}" (needed with "${p.property}")`,
      };
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

/** A JSON pointer (`/rules/0/when`) as a path (`["rules", 0, "when"]`). */
export function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((s) => {
    const seg = s.replaceAll("~1", "/").replaceAll("~0", "~");
    return /^\d+$/.test(seg) ? Number(seg) : seg;
  });
}

/**
 * Every problem of `config` (no templates in it) against `schema`, in words with their place
 * (`apiUrl: must be a valid uri`, `unknown key "fieldd"`); empty when it passes.
 */
export function configProblems(
  schema: Record<string, unknown>,
  config: Record<string, unknown>,
): string[] {
  const validate = configValidator(schema);
  if (validate(config)) return [];
  const out = new Set<string>();
  for (const err of validate.errors ?? []) {
    const d = describeSchemaError(err, pointerToPath(err.instancePath));
    const at = d.path.map(String).join(".");
    out.add(d.key ? `unknown key "${at}"` : at ? `${at}: ${d.message}` : d.message);
  }
  return [...out];
}
