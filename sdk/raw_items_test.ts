import assert from "node:assert/strict";
import { concatJsonArrayBytes, concatJsonArrays } from "./raw_items.ts";

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

Deno.test("concatJsonArrayBytes joins an array's UTF-8 JSON in pieces with an array's text", () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const cases: [string, string][] = [
    ["[]", "[]"],
    ["[1]", "[]"],
    ["[]", "[2]"],
    ['[{"key":"a","t":"Bäckerei – Café 🍰"}]', '[{"key":"b"},{"key":"c"}]'],
    [' \n[ 1 , "x" ]\t', "\r\n[ ]  "],
    ["[ ]", ' [ {"k":[1,[2]]} ] '],
    ['["]","["]', '["\\\\"]'],
  ];
  for (const [a, b] of cases) {
    const bytes = enc.encode(a);
    // Whole, and cut into pieces at every byte (inside a character too).
    const cuts = [
      [bytes],
      ...[...bytes.keys()].map((i) => [bytes.subarray(0, i), bytes.subarray(i)]),
    ];
    for (const pieces of cuts) {
      const joined = dec.decode(concatJsonArrayBytes(pieces, b));
      assert.deepEqual(JSON.parse(joined), [...JSON.parse(a), ...JSON.parse(b)], `${a} + ${b}`);
      assert.equal(joined, concatJsonArrays(a, b));
    }
  }
  assert.throws(
    () => concatJsonArrayBytes([enc.encode('{"a":1}')], "[]"),
    /not the JSON of an array/,
  );
  assert.throws(
    () => concatJsonArrayBytes([enc.encode("[1]")], "null"),
    /not the JSON of an array/,
  );
  assert.throws(() => concatJsonArrayBytes([enc.encode("[")], "[]"), /not the JSON of an array/);
});
