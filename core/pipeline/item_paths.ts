/**
 * The item fields a CEL expression reads: every member path rooted at `item` (`item.a.b.c`,
 * `has(item.a.b)`, `item["a"].b`), found by walking the parsed expression (`@bufbuild/cel`'s
 * AST), with where each name stands in the source, for the field check of
 * `item_fields.ts`. A path ends where a key is no constant (`item.a[i]`, `item.list[0]`): what
 * comes after it is not known before a run. Comprehension variables that shadow `item`
 * (`list.exists(item, …)`) are not the item. Functions named as taking path lists (score's
 * `anyPresent(item, ["phone", "rdap.registrant.email"])`, its schema's `pathLists`) read the
 * dotted paths of their list's string literals under their first argument (`item`, or a path
 * rooted at it): those are paths too, each name at its place inside the string.
 * @module
 */
import { parse } from "@bufbuild/cel";
import { celChildren, type Expr, stringConstant } from "../../sdk/cel_ast.ts";

/** One name of a member path and its 0-based offset in the expression's source. */
export interface PathSegment {
  /** The field name. */
  name: string;
  /** Where the name starts in the source (0-based). */
  offset: number;
}

/** A member path rooted at the item: `item.rdap.registered` has segments `rdap`, `registered`. */
export interface MemberPath {
  /** The names after `item`, in order (at least one). */
  segments: PathSegment[];
  /** True inside `has(…)` or a path list: the last field is only tested for presence. */
  testOnly: boolean;
  /** The function whose path list (a string literal) spells it, e.g. `anyPresent`. */
  via?: string;
}

/**
 * The member paths rooted at `root` (default `item`) that `source` reads, longest first for each
 * chain (`item.a.b` is reported once, not also as `item.a`), in source order, with the dotted
 * string paths of the list argument of calls to the functions `pathLists` names
 * (`anyPresent(item, ["a.b"])`). An expression that
 * does not parse has none (its syntax error is reported elsewhere).
 */
export function itemPaths(
  source: string,
  root = "item",
  pathLists: readonly string[] = [],
): MemberPath[] {
  let parsed;
  try {
    parsed = parse(source);
  } catch {
    return [];
  }
  const positions = (parsed.sourceInfo?.positions ?? {}) as Record<string, number>;
  const out: MemberPath[] = [];
  const posOf = (e: Expr) => positions[String(e.id)] ?? 0;

  /** Segments of a select/index chain over the unshadowed root, else `undefined`. */
  const chain = (e: Expr | undefined, scope: ReadonlySet<string>): PathSegment[] | undefined => {
    if (!e) return undefined;
    const k = e.exprKind;
    if (k.case === "identExpr") {
      return k.value.name === root && !scope.has(root) ? [] : undefined;
    }
    let before: PathSegment[] | undefined;
    let name: string;
    if (k.case === "selectExpr") {
      before = chain(k.value.operand, scope);
      name = k.value.field;
    } else if (k.case === "callExpr" && k.value.function === "_[_]" && k.value.args.length === 2) {
      const key = stringConstant(k.value.args[1]);
      if (key === undefined) return undefined;
      before = chain(k.value.args[0], scope);
      name = key;
    } else return undefined;
    if (!before) return undefined;
    // The name's own place: after the previous name (or the root), where the source spells it.
    const last = before[before.length - 1];
    const from = last ? last.offset + last.name.length : rootOffset(e);
    const at = source.indexOf(name, from);
    return [...before, { name, offset: at >= 0 ? at : from }];
  };

  /** Where the root identifier of a chain starts. */
  const rootOffset = (e: Expr): number => {
    let cur: Expr | undefined = e;
    while (cur) {
      const k: Expr["exprKind"] = cur.exprKind;
      if (k.case === "identExpr") return posOf(cur) + root.length;
      cur = k.case === "selectExpr"
        ? k.value.operand
        : k.case === "callExpr"
        ? k.value.args[0]
        : undefined;
    }
    return 0;
  };

  /** `f(item, ["a.b", …])`: the string literals of the list, as paths under the first argument. */
  const listPaths = (call: { function: string; args: Expr[] }, scope: ReadonlySet<string>) => {
    const [base, list] = call.args;
    const prefix = chain(base, scope);
    if (!prefix || list?.exprKind.case !== "listExpr") return;
    for (const el of list.exprKind.value.elements) {
      const text = stringConstant(el);
      if (text === undefined) continue;
      const names = text.split(".");
      if (names.some((n) => n === "")) continue; // not a path (the plugin finds nothing there)
      // Where the string's characters start: after a raw prefix and its quote(s).
      let at = posOf(el);
      while (/[rR]/.test(source[at] ?? "")) at++;
      at += source.startsWith('"""', at) || source.startsWith("'''", at) ? 3 : 1;
      // Escapes in the literal: every name at the string's start.
      const exact = source.startsWith(text, at);
      let offset = at;
      const segments = names.map((name) => {
        const seg = { name, offset: exact ? offset : at };
        offset += name.length + 1;
        return seg;
      });
      out.push({ segments: [...prefix, ...segments], testOnly: true, via: call.function });
    }
  };

  const visit = (e: Expr | undefined, scope: ReadonlySet<string>): void => {
    if (!e) return;
    const k = e.exprKind;
    const segs = k.case === "selectExpr" || k.case === "callExpr" ? chain(e, scope) : undefined;
    if (segs && segs.length > 0) {
      out.push({ segments: segs, testOnly: k.case === "selectExpr" && k.value.testOnly });
      return;
    }
    if (k.case === "callExpr" && pathLists.includes(k.value.function) && !k.value.target) {
      listPaths(k.value, scope);
    }
    for (const [child, s] of celChildren(e, scope)) visit(child, s);
  };
  visit(parsed.expr as Expr | undefined, new Set());
  return out.sort((a, b) => a.segments[0].offset - b.segments[0].offset);
}
