/**
 * Static checks over a parsed CEL AST: unknown variables and functions are reported at compile
 * time (CEL itself only notices them when evaluating), and `inputs.NAME` reads are collected so
 * the validator can check them against declared inputs.
 * @module
 */

/** The parts of a cel-spec `Expr` (protobuf-es shape) the checker reads. */
interface Expr {
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
            `unknown name "${k.value.name}": an expression can read item, inputs and run ` +
              `(e.g. item.${k.value.name})`,
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
          fail(e, `unknown function "${k.value.function}"`);
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
