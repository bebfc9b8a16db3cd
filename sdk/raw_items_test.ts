import assert from "node:assert/strict";
import { concatJsonArrays } from "./raw_items.ts";

Deno.test("concatJsonArrays joins the elements of two JSON array texts, whitespace and all", () => {
  const cases: [string, string][] = [
    ["[]", "[]"],
    ["[1]", "[]"],
    ["[]", "[2]"],
    ['[{"key":"a"}]', '[{"key":"b"},{"key":"c"}]'],
    [' \n[ 1 , "x" ]\t', "\r\n[ ]  "],
    ["[ ]", ' [ {"k":[1,[2]]} ] '],
    ['["]","["]', '["\\\\"]'],
  ];
  for (const [a, b] of cases) {
    const joined = concatJsonArrays(a, b);
    assert.deepEqual(JSON.parse(joined), [...JSON.parse(a), ...JSON.parse(b)], `${a} + ${b}`);
  }
  assert.equal(concatJsonArrays("[1,2]", "[3]"), "[1,2,3]");
});

Deno.test("concatJsonArrays refuses text that is not an array", () => {
  assert.throws(() => concatJsonArrays('{"a":1}', "[]"), /not the text of a JSON array/);
  assert.throws(() => concatJsonArrays("[]", "null"), /not the text of a JSON array/);
});
