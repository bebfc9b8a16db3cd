/**
 * CEL expressions for `when:` and `rateLimit.key` (via `@bufbuild/cel`; nothing is ever
 * `eval`ed). Items are plain JSON, so every JSON number is a CEL `double`; mixed `int`/`double`
 * arithmetic is added so `item.score + 1` and `item.count % 2 == 0` work as a person expects
 * (comparisons across `int` and `double` are already standard CEL). The CEL string extension
 * (`lowerAscii`, `trim`, `split`, `replace`, ...) is available too. `has(item.x)` is false when
 * `x` is absent or `null`.
 * @module
 */
import {
  type CelEnv,
  celEnv,
  celMap,
  CelScalar,
  isCelError,
  isCelList,
  isCelMap,
  isCelUint,
  plan,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { celFunctionNames, parseChecked } from "../../sdk/cel_ast.ts";
import { MIXED_NUMBER_FUNCS } from "../../sdk/cel_numbers.ts";

/** Variables an expression can see. */
export interface ExpressionVars {
  /** The item being processed (a plain JSON object). */
  item: unknown;
  /** Run inputs after defaults. */
  inputs?: unknown;
  /** Run facts (`run.id`, ...). */
  run?: unknown;
}

/** A CEL expression that failed to compile or to evaluate. */
export class ExpressionError extends Error {
  /** The expression's source. */
  readonly expression: string;
  /** 0-based character offset in the expression, when known. */
  readonly col?: number;
  /** Builds the error; `message` should say what is wrong and what to do. */
  constructor(message: string, options: { expression: string; col?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = "ExpressionError";
    this.expression = options.expression;
    this.col = options.col;
  }
}

/** A compiled, reusable expression. */
export interface CompiledExpression {
  /** The source text. */
  readonly source: string;
  /** Input names the expression reads as `inputs.NAME`. */
  readonly inputs: readonly string[];
  /**
   * The result's type when it is known without data (`bool`, `int`, `string`, `list`, …);
   * `undefined` when it depends on the item (see `sdk/cel_ast.ts`).
   */
  readonly resultType?: string;
  /** Evaluates to a plain JS value (CEL ints become numbers, lists arrays, maps objects). */
  evaluate(vars: ExpressionVars): unknown;
  /** Evaluates and requires a boolean result. */
  evaluateBool(vars: ExpressionVars): boolean;
}

/** Names visible to every expression. */
export const EXPRESSION_VARIABLES = ["item", "inputs", "run"] as const;

let sharedEnv: CelEnv | undefined;
function env(): CelEnv {
  sharedEnv ??= celEnv({
    variables: { item: CelScalar.DYN, inputs: CelScalar.DYN, run: CelScalar.DYN },
    funcs: [...strings, ...MIXED_NUMBER_FUNCS],
  });
  return sharedEnv;
}

let sharedNames: string[] | undefined;
function functionNames(e: CelEnv): string[] {
  sharedNames ??= celFunctionNames(e.funcs);
  return sharedNames;
}

const CACHE_LIMIT = 2000;
const cache = new Map<string, CompiledExpression>();
const EMPTY = Object.freeze({});

/**
 * Compiles a CEL expression (cached by source). Throws {@link ExpressionError} for syntax
 * errors, unknown variables (only `item`, `inputs`, `run`), unknown functions and calls that can
 * never work whatever the item holds (`contains(a, b)` for `a.contains(b)`, `s.startsWith(1)`).
 */
export function compileExpression(src: string): CompiledExpression {
  const hit = cache.get(src);
  if (hit) return hit;
  if (src.trim() === "") {
    throw new ExpressionError("the expression is empty; write e.g. item.score >= 50", {
      expression: src,
      col: 0,
    });
  }
  const e = env();
  const checked = parseChecked(src, {
    variables: EXPRESSION_VARIABLES,
    hasFunction: (name) => e.funcs.find(name) !== undefined,
    functionNames: functionNames(e),
    signatures: e.funcs,
  });
  if (checked.error) {
    throw new ExpressionError(checked.error.message, {
      expression: src,
      col: checked.error.offset,
    });
  }
  const parsed = checked.parsed;
  const program = plan(e, parsed);
  const evaluate = (vars: ExpressionVars): unknown => {
    const result = program({
      item: asMap(vars.item) as never,
      inputs: asMap(vars.inputs ?? EMPTY) as never,
      run: asMap(vars.run ?? EMPTY) as never,
    });
    if (isCelError(result)) throw evalError(src, result.message, result);
    return toPlain(result);
  };
  const compiled: CompiledExpression = {
    source: src,
    inputs: checked.inputs,
    resultType: checked.type,
    evaluate,
    evaluateBool(vars) {
      const v = evaluate(vars);
      if (typeof v !== "boolean") {
        throw new ExpressionError(
          `expression "${src}" must give true or false, but gave ${kindOf(v)}; ` +
            `compare it, e.g. ${src} == "..." or has(...)`,
          { expression: src },
        );
      }
      return v;
    },
  };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(src, compiled);
  return compiled;
}

/** Compiles (cached) and evaluates `expr`, requiring a boolean result. */
export function evaluateBool(expr: string | CompiledExpression, vars: ExpressionVars): boolean {
  return (typeof expr === "string" ? compileExpression(expr) : expr).evaluateBool(vars);
}

function evalError(src: string, message: string, cause: unknown): ExpressionError {
  const missing = /^field not found: (.+)$/.exec(message) ?? /^no such key: (.+)$/.exec(message);
  const hint = missing
    ? `; the field "${missing[1]}" is absent: guard it with has(...), e.g. has(item.${
      missing[1]
    }) && ...`
    : "";
  return new ExpressionError(`expression "${src}" failed: ${message}${hint}`, {
    expression: src,
    cause,
  });
}

/** Wraps a plain object once per evaluation, so CEL does not convert it on every access. */
function asMap(v: unknown): unknown {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return v;
  return celMap(new Map(Object.entries(v)));
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a map";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Converts a CEL result back to plain JSON-like JS. */
function toPlain(v: unknown): unknown {
  switch (typeof v) {
    case "bigint":
      return Number(v);
    case "object": {
      if (v === null || v instanceof Uint8Array) return v;
      if (isCelUint(v)) return Number(v.value);
      if (isCelList(v)) return Array.from(v, toPlain);
      if (isCelMap(v)) {
        const out: Record<string, unknown> = {};
        for (const [k, val] of v) out[String(isCelUint(k) ? k.value : k)] = toPlain(val);
        return out;
      }
      return String(v);
    }
    default:
      return v;
  }
}
