/**
 * Turns zod issues from the pipeline model into {@link Problem}s that say what is allowed, point
 * at the offending node (or key) and suggest the likely intended key or value.
 * @module
 */
import type { z } from "zod";
import { describeValue, pathString, type Problem, suggestion } from "./problem.ts";
import type { SourcePositions } from "./yaml_positions.ts";

type Path = (string | number)[];
// deno-lint-ignore no-explicit-any
type AnySchema = any;

/** Issue shape shared by zod 4 issues (only the fields we read). */
interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  keys?: string[];
  values?: unknown[];
  format?: string;
  errors?: Issue[][];
}

/**
 * Maps zod issues (from `safeParse(schema, data, { reportInput: true })`) to problems.
 * `schema` is the root schema, used to describe what a field allows.
 */
export function zodProblems(
  issues: readonly z.core.$ZodIssue[],
  root: z.ZodType,
  file: string,
  pos: SourcePositions,
): Problem[] {
  const out: Problem[] = [];
  for (const issue of issues as unknown as Issue[]) mapIssue(issue, [], root, file, pos, out);
  out.sort((a, b) => a.line - b.line || a.col - b.col);
  return out;
}

/** `base` is the schema at `prefix` (a union's chosen branch when recursing into one). */
function mapIssue(
  issue: Issue,
  prefix: Path,
  base: AnySchema,
  file: string,
  pos: SourcePositions,
  out: Problem[],
): void {
  const rel: Path = issue.path.map((s) => (typeof s === "number" ? s : String(s)));
  const path: Path = [...prefix, ...rel];
  const where = pathString(path);
  const push = (message: string, p: Path = path, key = false) => {
    const { line, col } = pos.locate(p, { key });
    out.push({ file, line, col, message, path: p });
  };
  const schema = schemaAt(base, rel, prefix, pos);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = objectKeys(schema);
      for (const key of issue.keys ?? []) {
        const hint = suggestion(key, allowed);
        const list = hint === "" && allowed.length > 0
          ? `; allowed keys: ${allowed.join(", ")}`
          : "";
        push(`unknown key "${key}" in ${where}${hint}${list}`, [...path, key], true);
      }
      return;
    }
    case "invalid_type": {
      if (issue.input === undefined && path.length > 0 && pos.nodeAt(path) === undefined) {
        const key = path[path.length - 1];
        const parent = path.slice(0, -1);
        push(
          `missing required key "${String(key)}" in ${pathString(parent)}: ` +
            `it must be ${describeSchema(schema)}`,
          parent,
        );
        return;
      }
      push(`${where} must be ${describeSchema(schema)}, not ${describeValue(issue.input)}`);
      return;
    }
    case "too_small":
    case "too_big":
      push(`${where} must be ${describeSchema(schema)}, not ${describeValue(issue.input)}`);
      return;
    case "invalid_value": {
      const values = (issue.values ?? []).map((v) => JSON.stringify(v));
      const hint = typeof issue.input === "string"
        ? suggestion(issue.input, (issue.values ?? []).map(String))
        : "";
      push(
        `${where} must be one of ${values.join(", ")}, not ${describeValue(issue.input)}${hint}`,
      );
      return;
    }
    case "invalid_format": {
      const what = issue.format === "url"
        ? "a URL such as https://example.com/hook"
        : issue.message;
      push(`${where} must be ${what}, not ${describeValue(issue.input)}`);
      return;
    }
    case "invalid_union": {
      const branches = issue.errors ?? [];
      const typeOnly = branches.every((b) =>
        b.length === 1 && b[0].code === "invalid_type" && b[0].path.length === 0
      );
      if (branches.length === 0 || typeOnly) {
        push(`${where} must be ${describeSchema(schema)}, not ${describeValue(issue.input)}`);
        return;
      }
      // The branch with the fewest issues is the one the author most likely meant.
      let best = 0;
      branches.forEach((b, i) => {
        if (b.length < branches[best].length) best = i;
      });
      const options: AnySchema[] = unwrap(schemaAt(base, rel, prefix, pos, false))?._zod?.def
        ?.options ?? [];
      for (const sub of branches[best]) mapIssue(sub, path, options[best], file, pos, out);
      return;
    }
    default:
      push(`${where}: ${issue.message}`);
  }
}

/**
 * The schema at `rel` below `base` (which sits at document path `prefix`); unions on the way
 * are resolved by the keys the document has there (and at the end too, unless `pickLast` is
 * false).
 */
function schemaAt(
  base: AnySchema,
  rel: Path,
  prefix: Path,
  pos: SourcePositions,
  pickLast = true,
): AnySchema {
  let s = base;
  for (let i = 0; i < rel.length && s; i++) {
    s = unwrap(s);
    const def = s?._zod?.def;
    const seg = rel[i];
    if (def?.type === "union") s = pickBranch(s, pos, [...prefix, ...rel.slice(0, i)]);
    if (unwrap(s)?._zod?.def?.type === "object") s = unwrap(s).shape[seg];
    else if (unwrap(s)?._zod?.def?.type === "array") s = unwrap(s)._zod.def.element;
    else if (unwrap(s)?._zod?.def?.type === "record") s = unwrap(s)._zod.def.valueType;
    else return undefined;
  }
  if (pickLast && s && unwrap(s)?._zod?.def?.type === "union") {
    s = pickBranch(unwrap(s), pos, [...prefix, ...rel]);
  }
  return s;
}

function pickBranch(union: AnySchema, pos: SourcePositions, path: Path): AnySchema {
  const options: AnySchema[] = union._zod.def.options;
  const node = pos.nodeAt(path) as { items?: { key?: { value?: unknown } }[] } | undefined;
  const keys = new Set((node?.items ?? []).map((p) => String(p?.key?.value)));
  if (keys.size === 0) return union;
  let best = union;
  let bestScore = 0;
  for (const opt of options) {
    const shapeKeys = objectKeys(opt);
    const score = shapeKeys.filter((k) => keys.has(k)).length;
    if (score > bestScore) [best, bestScore] = [opt, score];
  }
  return best;
}

function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (let i = 0; i < 10 && cur; i++) {
    const t = cur._zod?.def?.type;
    if (t === "optional" || t === "default" || t === "nullable" || t === "prefault") {
      cur = cur._zod.def.innerType;
    } else if (t === "pipe") {
      cur = cur._zod.def.in;
    } else return cur;
  }
  return cur;
}

function objectKeys(s: AnySchema): string[] {
  const u = unwrap(s);
  return u?._zod?.def?.type === "object" ? Object.keys(u.shape) : [];
}

/** Says in words what a schema allows: `a whole number from 1 to 1024`, `one of "a", "b"`. */
export function describeSchema(s: AnySchema): string {
  const u = unwrap(s);
  const def = u?._zod?.def;
  switch (def?.type) {
    case "string":
      return "text";
    case "boolean":
      return "true or false";
    case "number": {
      const noun = u.isInt ? "a whole number" : "a number";
      const min = Number.isFinite(u.minValue) ? u.minValue : undefined;
      const max = Number.isFinite(u.maxValue) && u.maxValue < Number.MAX_SAFE_INTEGER
        ? u.maxValue
        : undefined;
      if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
      if (min !== undefined) return `${noun} of at least ${min}`;
      if (max !== undefined) return `${noun} of at most ${max}`;
      return noun;
    }
    case "enum":
      return `one of ${u.options.map((o: unknown) => JSON.stringify(o)).join(", ")}`;
    case "array":
      return plural(describeSchema(def.element));
    case "object": {
      const optional = new Set(["optional", "default", "prefault"]);
      const required = Object.keys(u.shape).filter((k) =>
        !optional.has(u.shape[k]._zod?.def?.type)
      );
      return required.length > 0
        ? `a mapping with ${required.map((k) => `${k}:`).join(", ")}`
        : "a mapping";
    }
    case "record":
      return "a mapping (key: value)";
    case "union": {
      if (u.description) return `${describeDescription(u.description)}`;
      const parts = [...new Set<string>(def.options.map(describeSchema))];
      return parts.join(" or ");
    }
    case "unknown":
    case "any":
      return "any value";
    default:
      return def?.type ?? "valid";
  }
}

function describeDescription(d: string): string {
  return d.charAt(0).toLowerCase() + d.slice(1);
}

function plural(element: string): string {
  return element === "text" ? "a list of texts" : `a list (each item ${element})`;
}
