import assert from "node:assert/strict";
import { celEnv, CelScalar, parse } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import {
  celChildren,
  celFunctionNames,
  type Expr,
  parseChecked,
  stringConstant,
} from "./cel_ast.ts";

const env = celEnv({ variables: { item: CelScalar.DYN }, funcs: [...strings] });
const opts = {
  variables: ["item"],
  hasFunction: (n: string) => n === "daysSince" || env.funcs.find(n) !== undefined,
  functionNames: [...celFunctionNames(env.funcs), "daysSince"],
};

Deno.test("parseChecked: an unknown function is named with the close helper, at its offset", () => {
  const r = parseChecked("item.lead == true && daySince(item.rdap.registered) > 365.0", opts);
  assert.deepEqual(r.error, {
    message: 'unknown function "daySince"; did you mean "daysSince"?',
    offset: 21,
  });
  assert.equal(parseChecked("item.name.lowerAscii() == 'x'", opts).error, undefined);
  assert.equal(parseChecked("shout(item.a)", opts).error?.message, 'unknown function "shout"');
});

Deno.test("parseChecked: the common syntax slips are said plainly, at their offset", () => {
  const at = (src: string) => parseChecked(src, opts).error;
  assert.deepEqual(at('item.website.status = "for_sale"'), {
    message: 'invalid expression: "=" is not an operator here; compare with == ' +
      '(e.g. item.status == "parked")',
    offset: 20,
  });
  assert.deepEqual(at("'true"), {
    message: "invalid expression: the string starting here is never closed: add the closing '",
    offset: 0,
  });
  assert.deepEqual(at("daysSince(item.rdap.registered) > 365.0 &&"), {
    message: 'invalid expression: the expression ends with "&&": add what comes after it, ' +
      "or remove it",
    offset: 40,
  });
  assert.match(at("item.a == (1")!.message, /^invalid expression: /);
});

Deno.test("parseChecked: unknown names list the variables the expression can read", () => {
  assert.equal(
    parseChecked("lead == true", opts).error?.message,
    'unknown name "lead": an expression can read item (e.g. item.lead)',
  );
});

Deno.test("celFunctionNames leaves operators out", () => {
  const names = celFunctionNames(env.funcs);
  assert.ok(names.includes("lowerAscii") && names.includes("size"));
  assert.ok(!names.some((n) => /^[_@!-]/.test(n) || n.includes("_")));
});

Deno.test("celChildren: a comprehension's condition and step see its variables, its result only the accumulator", () => {
  const parsed = parse("item.xs.exists(x, x > 1)");
  const root = parsed.expr as unknown as Expr;
  assert.equal(root.exprKind.case, "comprehensionExpr");
  const children = celChildren(root, new Set(["outer"]));
  assert.equal(children.length, 5);
  const [range, init, cond, step, result] = children.map(([, s]) => [...s].sort());
  assert.deepEqual(range, ["outer"]);
  assert.deepEqual(init, ["outer"]);
  const accu = (root.exprKind.value as { accuVar: string }).accuVar;
  assert.deepEqual(cond, ["outer", "x", accu].sort());
  assert.deepEqual(step, ["outer", "x", accu].sort());
  assert.deepEqual(result, ["outer", accu].sort());
  assert.deepEqual(
    celChildren({ id: 0n, exprKind: { case: "identExpr", value: { name: "a" } } }, new Set()),
    [],
  );
});

Deno.test("stringConstant: the value of a string literal only", () => {
  const list = (parse('["a.b", 1, x]').expr as unknown as Expr).exprKind;
  assert.equal(list.case, "listExpr");
  const els = (list.value as { elements: Expr[] }).elements;
  assert.deepEqual(els.map(stringConstant), ["a.b", undefined, undefined]);
});
