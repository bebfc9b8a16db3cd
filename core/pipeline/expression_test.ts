import assert from "node:assert/strict";
import { compileExpression, evaluateBool, ExpressionError } from "./expression.ts";

const item = {
  key: "example.com",
  domain: "example.com",
  score: 72.5,
  count: 72,
  zero: 0,
  tags: ["parked", "cheap"],
  empty: [],
  mx: null,
  website: { status: "parked", title: "Buy this domain" },
  name: "Acme Widgets",
};

const bool = (src: string, vars: Record<string, unknown> = {}) =>
  compileExpression(src).evaluateBool({ item, ...vars });

Deno.test("field access, has() and string functions over plain JSON items", () => {
  assert.equal(bool('item.website.status == "parked"'), true);
  assert.equal(bool('item.website.status == "live"'), false);
  assert.equal(bool("has(item.domain)"), true);
  assert.equal(
    bool("has(item.mx)"),
    false,
    "has() is false for a null field, as for an absent one",
  );
  assert.equal(bool("has(item.rdap)"), false);
  assert.equal(bool("has(item.website.status)"), true);
  assert.equal(bool("size(item.tags) > 0"), true);
  assert.equal(bool("size(item.empty) > 0"), false);
  assert.equal(bool('item.website.title.contains("Buy")'), true);
  assert.equal(bool('item.domain.startsWith("exa")'), true);
  assert.equal(bool('item.domain.endsWith(".com")'), true);
  assert.equal(bool('item.name.matches("^Acme\\\\s+W")'), true);
  assert.equal(bool('item.name.matches("^acme")'), false);
  assert.equal(bool('"parked" in item.tags'), true);
  assert.equal(bool('item.tags.exists(t, t == "cheap")'), true);
  assert.equal(bool("item.tags.all(t, size(t) > 3)"), true);
  assert.equal(bool('item.name.lowerAscii() == "acme widgets"'), true);
  assert.equal(bool("item.mx == null"), true);
});

Deno.test("JSON numbers compare and compute naturally with int and double literals", () => {
  // score is 72.5, count is 72: both are JS numbers (CEL doubles).
  assert.equal(bool("item.score >= 50"), true);
  assert.equal(bool("item.score >= 50.0"), true);
  assert.equal(bool("item.score > 72"), true);
  assert.equal(bool("item.score < 73"), true);
  assert.equal(bool("item.score == 72"), false);
  assert.equal(bool("item.count == 72"), true);
  assert.equal(bool("item.count >= 72"), true);
  assert.equal(bool("item.count != 71"), true);
  assert.equal(bool("item.count in [1, 72]"), true);
  assert.equal(bool("size(item.tags) == 2.0"), true);
  assert.equal(bool("item.count + 1 == 73"), true);
  assert.equal(bool("1 + item.score == 73.5"), true);
  assert.equal(bool("item.count - 2 == 70"), true);
  assert.equal(bool("item.count * 2 == 144"), true);
  assert.equal(bool("item.count / 8 == 9"), true);
  assert.equal(bool("item.count % 2 == 0"), true);
  assert.equal(bool("item.score * 2 > 144"), true);
  assert.equal(bool("int(item.score) == 72"), true);
  assert.equal(bool("item.score >= inputs.min", { inputs: { min: 50 } }), true);
  assert.equal(bool("item.score >= inputs.min", { inputs: { min: 80 } }), false);
  assert.equal(bool("item.tags[item.zero] == 'parked'"), true);
  assert.throws(() => bool("item.score % 2 == 0"), /needs whole numbers/);
});

Deno.test("evaluate returns plain JS values", () => {
  const ev = (src: string) => compileExpression(src).evaluate({ item, run: { id: "r1" } });
  assert.equal(ev("item.domain"), "example.com");
  assert.equal(ev("1 + 2"), 3);
  assert.equal(typeof ev("1 + 2"), "number");
  assert.deepEqual(ev("item.tags.map(t, t.upperAscii())"), ["PARKED", "CHEAP"]);
  assert.deepEqual(ev('{"a": 1, "b": [true]}'), { a: 1, b: [true] });
  assert.deepEqual(ev("item.website"), item.website);
  assert.equal(ev("run.id"), "r1");
  assert.equal(ev('item.count > 10 ? "big" : "small"'), "big");
});

Deno.test("syntax errors, unknown names and functions fail at compile time with a column", () => {
  const err = (src: string) => {
    try {
      compileExpression(src);
    } catch (e) {
      assert.ok(e instanceof ExpressionError);
      return e;
    }
    assert.fail(`expected ${src} to fail`);
  };
  const syntax = err("item.score >= 50 &&");
  assert.match(syntax.message, /^invalid expression: /);
  assert.equal(syntax.col, 17);
  const unknown = err("item.a == 1 && score > 3");
  assert.match(
    unknown.message,
    /unknown name "score": an expression can read item, inputs and run/,
  );
  assert.equal(unknown.col, 15);
  const fn = err('item.name.shout("x")');
  assert.equal(fn.message, 'unknown function "shout"');
  assert.equal(err("  ").message, "the expression is empty; write e.g. item.score >= 50");
  assert.match(err("Foo{a: 1}").message, /creating "Foo" objects is not supported/);
  // Comprehension variables are in scope only inside the macro.
  assert.doesNotThrow(() => compileExpression("item.tags.exists(t, t == 'x')"));
  assert.match(err("item.tags.exists(t, true) && t == 1").message, /unknown name "t"/);
});

Deno.test("inputs read by an expression are listed", () => {
  assert.deepEqual(
    compileExpression("item.a > inputs.min && inputs.mode == 'x' || inputs.min < 3").inputs,
    ["min", "mode"],
  );
  assert.deepEqual(compileExpression("[1].exists(inputs, inputs.x == 1)").inputs, []);
});

Deno.test("evaluation errors are clear; evaluateBool requires a boolean", () => {
  assert.throws(
    () => bool("item.rdap.created > 3"),
    (e: Error) =>
      e instanceof ExpressionError &&
      e.message.includes('expression "item.rdap.created > 3" failed: field not found: rdap') &&
      e.message.includes("has(item.rdap)"),
  );
  assert.throws(
    () => bool("item.domain"),
    /expression "item.domain" must give true or false, but gave string "example.com"/,
  );
  assert.equal(evaluateBool("has(item.rdap) && item.rdap.age > 1", { item }), false);
});

Deno.test("compiled expressions are cached by source", () => {
  assert.equal(compileExpression("item.count > 1"), compileExpression("item.count > 1"));
});
