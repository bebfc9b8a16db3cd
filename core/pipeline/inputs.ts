/**
 * Run inputs: applies declared defaults, coerces `--set key=value` strings to the declared type
 * and rejects unknown or missing inputs, reporting every problem at once.
 * @module
 */
import type { InputDecl } from "./model.ts";
import { suggestion, suggestionOr } from "./problem.ts";

/** Inputs that could not be resolved; `problems` lists each one. */
export class InputError extends Error {
  /** One sentence per problem. */
  readonly problems: string[];
  /** Builds the error from its problems. */
  constructor(problems: string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `${problems.length} problems with the run inputs:\n- ${problems.join("\n- ")}`,
    );
    this.name = "InputError";
    this.problems = problems;
  }
}

const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);

/**
 * Coerces one value to a declared input type. Returns `{ value }` or `{ error }` (the error
 * completes the sentence `input "x" ...`).
 */
export function coerceInput(
  decl: Pick<InputDecl, "type" | "enum">,
  raw: unknown,
): { value: unknown; error?: undefined } | { value?: undefined; error: string } {
  const type = decl.type ?? "string";
  let value: unknown = raw;
  switch (type) {
    case "string":
    case "file":
      if (typeof raw === "number" || typeof raw === "boolean") value = String(raw);
      if (typeof value !== "string") return { error: `must be text, got ${typeName(raw)}` };
      if (type === "file" && value.trim() === "") return { error: "must be a file path, got ''" };
      break;
    case "number":
    case "integer": {
      if (typeof raw === "string") {
        const t = raw.trim();
        value = t === "" ? NaN : Number(t);
      }
      if (typeof value !== "number" || !Number.isFinite(value)) {
        return {
          error: `must be a ${type === "integer" ? "whole number" : "number"}, got ${show(raw)}`,
        };
      }
      if (type === "integer" && !Number.isInteger(value)) {
        return { error: `must be a whole number, got ${show(raw)}` };
      }
      break;
    }
    case "boolean":
      if (typeof raw === "string") {
        const t = raw.trim().toLowerCase();
        value = TRUE.has(t) ? true : FALSE.has(t) ? false : raw;
      }
      if (typeof value !== "boolean") {
        return { error: `must be true or false, got ${show(raw)}` };
      }
      break;
    case "list":
      if (typeof raw === "string") {
        value = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
      } else if (!Array.isArray(raw)) {
        return { error: `must be a list (a comma-separated text or an array), got ${show(raw)}` };
      }
      break;
  }
  if (decl.enum && decl.enum.length > 0) {
    const allowed = decl.enum as unknown[];
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (!allowed.includes(v)) {
        const hint = typeof v === "string" ? suggestion(v, allowed.map(String)) : "";
        return {
          error: `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${
            show(v)
          }${hint}`,
        };
      }
    }
  }
  return { value };
}

/**
 * Resolves run inputs against their declarations: applies defaults, coerces strings (from
 * `--set key=value`) to the declared type (`list` = comma-separated, `file` = a path), and
 * throws {@link InputError} listing every unknown, missing or invalid input.
 */
export function resolveInputs(
  decls: Record<string, InputDecl> | undefined,
  given: Record<string, string | unknown>,
): Record<string, unknown> {
  const declared = decls ?? {};
  const names = Object.keys(declared);
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(declared, name)) {
      const known = names.length > 0
        ? `declared inputs: ${names.join(", ")}`
        : "the pipeline declares no inputs";
      problems.push(`unknown input "${name}"${suggestionOr(name, names, known)}`);
    }
  }
  for (const [name, decl] of Object.entries(declared)) {
    const has = Object.hasOwn(given, name) && given[name] !== undefined;
    const raw = has ? given[name] : decl.default;
    if (raw === undefined) {
      if (decl.required) {
        problems.push(
          `missing required input "${name}"${decl.description ? ` (${decl.description})` : ""}: ` +
            `give it with --set ${name}=...`,
        );
      }
      continue;
    }
    const r = coerceInput(decl, raw);
    if (r.error !== undefined) {
      problems.push(`input "${name}" ${r.error}${has ? "" : " (its declared default)"}`);
    } else {
      out[name] = r.value;
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  return out;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "a mapping" : typeof v;
}

function show(v: unknown): string {
  return typeof v === "string"
    ? JSON.stringify(v)
    : typeof v === "object" && v !== null
    ? typeName(v)
    : String(v);
}
