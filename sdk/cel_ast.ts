/**
 * Static checks over CEL (`@bufbuild/cel`) expressions, shared by the pipeline validator
 * (`when:`, `rateLimit.key`, plugin config strings marked `x-sluice-expression`) and plugins that
 * compile CEL themselves (score's rules): syntax errors with the offset where they are, and
 * unknown variables and functions (CEL itself only notices those when evaluating, so a misspelt
 * helper would make a rule silently never fire), with a did-you-mean. `inputs.NAME` reads are
 * collected so the validator can check them against declared inputs.
 *
 * Given the environment's function signatures (`signatures`), calls are type-checked as far as
 * types are known without data: literals, list and map literals, `has(...)`, `&&`/`||` and the
 * results of calls whose every fitting overload gives one type. Variables (`item`, `inputs`,
 * `run`), their fields and indexing are `dyn`: anything fits them. A call none of whose
 * overloads can take the known types (`contains(a, b)`, which exists only as the method
 * `a.contains(b)`; `s.startsWith(1)`) can never succeed, so it is reported; the expression's
 * result type is given back (`type`) when known, so a `when:` that can never be true or false
 * (`1 + 1`) can be refused. (`@bufbuild/cel`'s own checker handles only constants and names.)
 * @module
 */
import { parse, unparse } from "@bufbuild/cel";
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

/**
 * The sub-expressions of `e` with the names in scope in each: a comprehension's loop condition
 * and step also see its iteration and accumulator variables, its result only the accumulator
 * (what shadows a variable such as `item` there). The one place both walkers over the AST (the
 * checks here and the item paths of `core/pipeline/item_paths.ts`) take scopes from.
 */
export function celChildren(
  e: Expr,
  scope: ReadonlySet<string>,
): [Expr | undefined, ReadonlySet<string>][] {
  const k = e.exprKind;
  switch (k.case) {
    case "selectExpr":
      return [[k.value.operand, scope]];
    case "callExpr":
      return [
        [k.value.target, scope],
        ...k.value.args.map((a): [Expr, ReadonlySet<string>] => [a, scope]),
      ];
    case "listExpr":
      return k.value.elements.map((el) => [el, scope]);
    case "structExpr":
      return k.value.entries.flatMap((entry): [Expr | undefined, ReadonlySet<string>][] => [
        ...(entry.keyKind.case === "mapKey"
          ? [[entry.keyKind.value as Expr, scope] as [Expr, ReadonlySet<string>]]
          : []),
        [entry.value, scope],
      ]);
    case "comprehensionExpr": {
      const c = k.value;
      const inner = new Set(scope).add(c.iterVar).add(c.accuVar);
      if (c.iterVar2) inner.add(c.iterVar2);
      return [
        [c.iterRange, scope],
        [c.accuInit, scope],
        [c.loopCondition, inner],
        [c.loopStep, inner],
        [c.result, new Set(scope).add(c.accuVar)],
      ];
    }
    default:
      return [];
  }
}

/** The value of a string literal expression (`"a.b"`), else undefined. */
export function stringConstant(e: Expr | undefined): string | undefined {
  const k = e?.exprKind;
  if (k?.case !== "constExpr") return undefined;
  const c = (k.value as { constantKind?: { case?: string; value?: unknown } }).constantKind;
  return c?.case === "stringValue" ? String(c.value) : undefined;
}

/** What {@link checkAst} needs to know about the environment. */
export interface AstCheckOptions {
  /** Top-level variable names. */
  variables: readonly string[];
  /** Whether a function or method of that name exists. */
  hasFunction(name: string): boolean;
  /** Names offered as "did you mean" for an unknown function (see {@linkcode celFunctionNames}). */
  functionNames?: Iterable<string>;
  /**
   * The environment's function signatures (a `CelEnv`'s `funcs`): when given, calls are checked
   * against them (see the module doc). A function `hasFunction` knows but that has no signature
   * here (a plugin's own helper named in its schema) is not checked and gives `dyn`.
   */
  signatures?: Iterable<CelSignature>;
}

/** A CEL type as the checks see it (a `@bufbuild/cel` `CelType` fits): its kind and name. */
export interface CelTypeRef {
  /** `scalar`, `list`, `map` or `object`. */
  readonly kind: string;
  /** `int`, `string`, `dyn`, …, `list`, `map`, or a message name (`google.protobuf.Timestamp`). */
  readonly name: string;
}

/** A function or method signature (a `@bufbuild/cel` `CelFunc` fits). */
export interface CelSignature {
  /** The function's name (`contains`, `_+_`). */
  readonly name: string;
  /** The receiver's type for a method (`x.f()`), `undefined` for a global function. */
  readonly target: CelTypeRef | undefined;
  /** The arguments' types. */
  readonly arguments: readonly CelTypeRef[];
  /** The result's type. */
  readonly result: CelTypeRef;
}

/** Result of {@link checkAst}. */
export interface AstCheckResult {
  /** Names read as `inputs.NAME`, sorted, unique. */
  inputs: string[];
  /** The first problem, with the 0-based offset of the offending node. */
  error?: { message: string; offset?: number };
  /**
   * The expression's result type when it is known without data (`bool`, `int`, `string`,
   * `list`, `timestamp`, …; see {@linkcode typeName}); `undefined` when it depends on the data.
   * Only computed when `signatures` are given.
   */
  type?: string;
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

  const sigs = opts.signatures ? signatureIndex(opts.signatures) : undefined;

  /** Visits `e`; gives its type when known (only with `signatures`), else `undefined` (dyn). */
  const visit = (e: Expr | undefined, scope: ReadonlySet<string>): CelTypeRef | undefined => {
    if (!e || error) return undefined;
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
        return undefined;
      case "selectExpr": {
        const op = k.value.operand;
        if (op?.exprKind.case === "identExpr" && op.exprKind.value.name === "inputs") {
          if (!scope.has("inputs")) inputs.add(k.value.field);
        }
        visit(op, scope);
        return k.value.testOnly ? BOOL : undefined;
      }
      case "callExpr": {
        const fn = k.value.function;
        if (!PLANNER_OPERATORS.has(fn) && !opts.hasFunction(fn)) {
          fail(e, unknownFunction(fn, opts.functionNames));
          return undefined;
        }
        const target = visit(k.value.target, scope);
        const args = k.value.args.map((a) => visit(a, scope));
        if (error || !sigs) return undefined;
        if (BOOL_OPERATORS.has(fn)) return BOOL;
        if (fn === "_?_:_") {
          return args[1] && args[2] && sameType(args[1], args[2]) ? args[1] : undefined;
        }
        const known = sigs.get(fn);
        if (PLANNER_OPERATORS.has(fn) || !known) return undefined;
        const call = k.value;
        const member = call.target !== undefined;
        const fits = known.filter((s) =>
          (s.target !== undefined) === member && s.arguments.length === args.length &&
          (!member || fitsType(target, s.target!)) &&
          s.arguments.every((p, i) => fitsType(args[i], p))
        );
        if (fits.length === 0) {
          fail(e, noOverload(fn, call, target, args, known));
          return undefined;
        }
        const r = fits[0].result;
        return !isDyn(r) && fits.every((s) => sameType(s.result, r)) ? r : undefined;
      }
      case "listExpr":
        for (const [child, s] of celChildren(e, scope)) visit(child, s);
        return LIST;
      case "structExpr":
        if (k.value.messageName !== "") {
          fail(e, `creating "${k.value.messageName}" objects is not supported; use a map {...}`);
          return undefined;
        }
        for (const [child, s] of celChildren(e, scope)) visit(child, s);
        return MAP;
      case "comprehensionExpr":
        for (const [child, s] of celChildren(e, scope)) visit(child, s);
        return undefined;
      case "constExpr":
        return constType(k.value);
      default:
        return undefined;
    }
  };
  const type = visit(parsed.expr as Expr | undefined, new Set());
  return { inputs: [...inputs].sort(), error, type: type && !error ? typeName(type) : undefined };
}

const scalar = (name: string): CelTypeRef => ({ kind: "scalar", name });
const BOOL = scalar("bool");
const LIST: CelTypeRef = { kind: "list", name: "list" };
const MAP: CelTypeRef = { kind: "map", name: "map" };

/** Operators that give true or false (or fail): the planner's own logic operators. */
const BOOL_OPERATORS = new Set(["_&&_", "_||_", "@not_strictly_false", "__not_strictly_false__"]);

const CONST_TYPES: Record<string, string> = {
  boolValue: "bool",
  bytesValue: "bytes",
  doubleValue: "double",
  int64Value: "int",
  uint64Value: "uint",
  stringValue: "string",
  nullValue: "null_type",
};

function constType(c: unknown): CelTypeRef | undefined {
  const name = CONST_TYPES[(c as { constantKind?: { case?: string } })?.constantKind?.case ?? ""];
  return name ? scalar(name) : undefined;
}

function isDyn(t: CelTypeRef): boolean {
  return t.kind === "scalar" && t.name === "dyn";
}

function sameType(a: CelTypeRef, b: CelTypeRef): boolean {
  return a.kind === b.kind && a.name === b.name;
}

/** Whether a value of type `t` (`undefined`: not known) can be passed where `p` is declared, as
 * `@bufbuild/cel` decides when it calls (a `dyn` parameter takes anything, else kind and name
 * must be equal). */
function fitsType(t: CelTypeRef | undefined, p: CelTypeRef): boolean {
  return t === undefined || isDyn(p) || sameType(t, p);
}

const indexes = new WeakMap<object, Map<string, CelSignature[]>>();
function signatureIndex(sigs: Iterable<CelSignature>): Map<string, CelSignature[]> {
  let index = indexes.get(sigs);
  if (!index) {
    index = new Map();
    for (const s of sigs) {
      const list = index.get(s.name) ?? [];
      list.push(s);
      index.set(s.name, list);
    }
    indexes.set(sigs, index);
  }
  return index;
}

/**
 * A type as a person reads it: `int`, `string`, `list`, `map`, `null`, `timestamp`, `duration`
 * (`dyn` is "any").
 */
export function typeName(t: CelTypeRef): string {
  switch (t.name) {
    case "google.protobuf.Timestamp":
      return "timestamp";
    case "google.protobuf.Duration":
      return "duration";
    case "null_type":
      return "null";
    case "dyn":
      return "any";
    default:
      return t.name;
  }
}

/** `_+_` → `+`, `!_` → `!`, `@in` → `in`; a named function stays as it is. */
function operatorName(fn: string): string {
  if (fn === "@in") return "in";
  const m = /^_(.+)_$/.exec(fn) ?? /^(.+)_$/.exec(fn);
  return m && !/^\w+$/.test(m[1]) ? m[1] : fn;
}

function signatureText(s: CelSignature): string {
  const args = s.arguments.map(typeName);
  if (s.target) return `${typeName(s.target)}.${s.name}(${args.join(", ")})`;
  const op = operatorName(s.name);
  if (op === s.name) return `${s.name}(${args.join(", ")})`;
  return args.length === 2 ? `${args[0]} ${op} ${args[1]}` : `${op}${args.join(", ")}`;
}

function source(e: Expr | undefined): string {
  try {
    return e ? unparse(e as never) : "";
  } catch {
    return "…";
  }
}

/** Why no overload of `fn` fits, and what to write instead. */
function noOverload(
  fn: string,
  call: { target?: Expr; args: Expr[] },
  target: CelTypeRef | undefined,
  args: (CelTypeRef | undefined)[],
  known: CelSignature[],
): string {
  const member = call.target !== undefined;
  const name = operatorName(fn);
  const methods = known.filter((s) => s.target !== undefined);
  const functions = known.filter((s) => s.target === undefined);
  if (!member && functions.length === 0 && call.args.length > 0) {
    const [first, ...rest] = call.args;
    return `there is no function "${fn}"; it is a method: write ` +
      `${source(first)}.${fn}(${rest.map(source).join(", ")})`;
  }
  if (member && methods.length === 0) {
    return `"${fn}" is a function, not a method: write ` +
      `${fn}(${[call.target, ...call.args].map(source).join(", ")})`;
  }
  const given = args.map((a) => (a ? typeName(a) : "any")).join(", ");
  const forms = [...new Set((member ? methods : functions).map(signatureText))];
  const shown = forms.slice(0, 8).join(", ") + (forms.length > 8 ? ", …" : "");
  const what = member
    ? `${target ? typeName(target) : source(call.target)}.${fn}(${given})`
    : fn === name
    ? `${fn}(${given})`
    : `"${name}" with (${given})`;
  return `found no matching overload: ${what} can never work; ${
    member ? `"${fn}"` : `"${name}"`
  } takes ${shown}`;
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
  | {
    parsed: ReturnType<typeof parse>;
    inputs: string[];
    /** The result type when known (see {@linkcode AstCheckResult.type}). */
    type?: string;
    error?: undefined;
  }
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
  return { parsed, inputs: checked.inputs, type: checked.type };
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
