/**
 * Static checks over CEL (`@bufbuild/cel`) expressions, shared by the pipeline validator
 * (`when:`, `rateLimit.key`, plugin config strings marked `x-sluice-expression`) and plugins that
 * compile CEL themselves (score's rules): syntax errors with the offset where they are, and
 * unknown variables and functions (CEL itself only notices those when evaluating, so a misspelt
 * helper would make a rule silently never fire), with a did-you-mean. `inputs.NAME` reads are
 * collected so the validator can check them against declared inputs.
 * @module
 */
import { parse } from "@bufbuild/cel";
import { closest } from "./text/suggest.ts";

/** The parts of a cel-spec `Expr` (protobuf-es shape) the checker reads. */
export interface Expr {
  id: bigint;
  exprKind:
    | { case: "identExpr"; value: { name: string } }
    | { case: "selectExpr"; value: { operand?: Expr; field: string; testOnly: boolean } }
    | { case: "callExpr"; value: { target?: Expr; function: string; args: Expr[] } }
    | { case: "listExpr"; value: { elements: Expr[] } }
    | {
      case: "structExpr";
      value: {
        messageName: string;
        entries: { keyKind: { case?: string; value?: unknown }; value?: Expr }[];
      };
    }
    | {
      case: "comprehensionExpr";
      value: {
        iterVar: string;
        iterVar2?: string;
        iterRange?: Expr;
        accuVar: string;
        accuInit?: Expr;
        loopCondition?: Expr;
        loopStep?: Expr;
        result?: Expr;
      };
    }
    | { case: "constExpr" | undefined; value?: unknown };
}

/** What {@link checkAst} needs to know about the environment. */
export interface AstCheckOptions {
  /** Top-level variable names. */
  variables: readonly string[];
  /** Whether a function or method of that name exists. */
  hasFunction(name: string): boolean;
  /** Names offered as "did you mean" for an unknown function (see {@linkcode celFunctionNames}). */
  functionNames?: Iterable<string>;
}

/** Result of {@link checkAst}. */
export interface AstCheckResult {
  /** Names read as `inputs.NAME`, sorted, unique. */
  inputs: string[];
  /** The first problem, with the 0-based offset of the offending node. */
  error?: { message: string; offset?: number };
}

/** Operators the CEL planner implements itself (not in the function resolver). */
const PLANNER_OPERATORS = new Set([
  "_[_]",
  "_[?_]",
  "_?._",
  "_?_:_",
  "_&&_",
  "_||_",
  "@not_strictly_false",
  "__not_strictly_false__",
]);

/** Type names CEL allows as values (`type(x) == int`). */
const TYPE_IDENTS = new Set([
  "int",
  "uint",
  "double",
  "bool",
  "string",
  "bytes",
  "list",
  "map",
  "null_type",
  "type",
  "dyn",
]);

/** Checks a parsed expression (the result of `@bufbuild/cel`'s `parse`). */
export function checkAst(
  parsed: { expr?: unknown; sourceInfo?: { positions?: Record<string, number> } },
  opts: AstCheckOptions,
): AstCheckResult {
  const positions = parsed.sourceInfo?.positions ?? {};
  const inputs = new Set<string>();
  const vars = new Set(opts.variables);
  let error: AstCheckResult["error"];
  const fail = (e: Expr, message: string) => {
    error ??= { message, offset: positions[String(e.id)] };
  };

  const visit = (e: Expr | undefined, scope: ReadonlySet<string>): void => {
    if (!e || error) return;
    const k = e.exprKind;
    switch (k.case) {
      case "identExpr":
        if (!scope.has(k.value.name) && !vars.has(k.value.name) && !TYPE_IDENTS.has(k.value.name)) {
          fail(
            e,
            `unknown name "${k.value.name}": an expression can read ${
              listNames(opts.variables)
            } (e.g. ${opts.variables[0] ?? "item"}.${k.value.name})`,
          );
        }
        return;
      case "selectExpr": {
        const op = k.value.operand;
        if (op?.exprKind.case === "identExpr" && op.exprKind.value.name === "inputs") {
          if (!scope.has("inputs")) inputs.add(k.value.field);
        }
        visit(op, scope);
        return;
      }
      case "callExpr":
        if (!PLANNER_OPERATORS.has(k.value.function) && !opts.hasFunction(k.value.function)) {
          fail(e, unknownFunction(k.value.function, opts.functionNames));
          return;
        }
        visit(k.value.target, scope);
        for (const a of k.value.args) visit(a, scope);
        return;
      case "listExpr":
        for (const el of k.value.elements) visit(el, scope);
        return;
      case "structExpr":
        if (k.value.messageName !== "") {
          fail(e, `creating "${k.value.messageName}" objects is not supported; use a map {...}`);
          return;
        }
        for (const entry of k.value.entries) {
          if (entry.keyKind.case === "mapKey") visit(entry.keyKind.value as Expr, scope);
          visit(entry.value, scope);
        }
        return;
      case "comprehensionExpr": {
        const c = k.value;
        visit(c.iterRange, scope);
        visit(c.accuInit, scope);
        const inner = new Set(scope);
        inner.add(c.iterVar);
        if (c.iterVar2) inner.add(c.iterVar2);
        inner.add(c.accuVar);
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        const resultScope = new Set(scope);
        resultScope.add(c.accuVar);
        visit(c.result, resultScope);
        return;
      }
      default:
        return;
    }
  };
  visit(parsed.expr as Expr | undefined, new Set());
  return { inputs: [...inputs].sort(), error };
}

/** `a`, `a and b`, `a, b and c`. */
function listNames(names: readonly string[]): string {
  return names.length <= 1
    ? names.join("")
    : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function unknownFunction(name: string, known: Iterable<string> | undefined): string {
  const close = known ? closest(name, [...known].filter((n) => n !== name)) : undefined;
  return `unknown function "${name}"` + (close ? `; did you mean "${close}"?` : "");
}

/**
 * The names a person calls among `funcs` (a CEL environment's `funcs`, or a list of `celFunc`s),
 * unique and sorted: operators (`_+_`, `@in`) and namespaced internals are left out.
 */
export function celFunctionNames(funcs: Iterable<{ name: string }>): string[] {
  const names = new Set<string>();
  for (const f of funcs) {
    if (/^[A-Za-z_]\w*$/.test(f.name) && !f.name.startsWith("_")) names.add(f.name);
  }
  return [...names].sort();
}

/** What {@linkcode parseChecked} gives: the parsed expression, or the first problem. */
export type ParseCheckedResult =
  | { parsed: ReturnType<typeof parse>; inputs: string[]; error?: undefined }
  | { parsed?: undefined; inputs?: undefined; error: { message: string; offset?: number } };

/**
 * Parses `source` and runs {@linkcode checkAst} over it: a syntax error comes back as
 * `invalid expression: …` (with a plainer hint for the common slips: `=` for `==`, a string
 * left open, a dangling `&&`), an unknown name or function as {@linkcode checkAst} words it;
 * `offset` is the 0-based character of `source` where the problem is, when known.
 */
export function parseChecked(source: string, opts: AstCheckOptions): ParseCheckedResult {
  let parsed;
  try {
    parsed = parse(source);
  } catch (e) {
    const offset = (e as { location?: { start?: { offset?: number } } }).location?.start?.offset;
    const raw = (e as { rawMessage?: string }).rawMessage ?? (e as Error).message;
    return {
      error: { message: `invalid expression: ${syntaxHint(source, offset) ?? raw}`, offset },
    };
  }
  const checked = checkAst(parsed, opts);
  if (checked.error) return { error: checked.error };
  return { parsed, inputs: checked.inputs };
}

/** A plainer explanation of a syntax error at `offset` for the slips people make most. */
function syntaxHint(source: string, offset: number | undefined): string | undefined {
  if (offset === undefined) return undefined;
  const at = source[offset];
  const rest = source.slice(offset);
  if (at === "=" && source[offset + 1] !== "=") {
    return `"=" is not an operator here; compare with == (e.g. item.status == "parked")`;
  }
  if ((at === "'" || at === '"') && !rest.slice(1).includes(at)) {
    return `the string starting here is never closed: add the closing ${at}`;
  }
  const dangling = /^(&&|\|\||[-+*/%<>!]=?|==)\s*$/.exec(rest);
  if (dangling) {
    return `the expression ends with "${dangling[1]}": add what comes after it, or remove it`;
  }
  if (rest.trim() === "") return "the expression ends too early: something is missing at the end";
  return undefined;
}
