import assert from "node:assert/strict";
import { compareSortValues, parseSort, sortValues } from "./sort_rows.ts";

Deno.test("parseSort: strings with a leading - and { path, order } entries", () => {
  assert.deepEqual(parseSort(["-score", "name", { path: "rdap.expires", order: "desc" }]), [
    { path: ["score"], desc: true },
    { path: ["name"], desc: false },
    { path: ["rdap", "expires"], desc: true },
  ]);
  assert.deepEqual(parseSort(undefined), []);
});

Deno.test("parseSort: bad entries are named with the forms that work", () => {
  assert.throws(() => parseSort("-score"), /sort: "-score" is not a list; write e\.g\./);
  assert.throws(() => parseSort(["score", "-"]), /sort\[1\]: "-" is not a dotted field path/);
  assert.throws(() => parseSort([{ path: "a..b" }]), /sort\[0\]: .* not a dotted field path/);
  assert.throws(
    () => parseSort([{ path: "score", order: "down" }]),
    /sort\[0\]: order "down" is unknown; use "asc" or "desc"/,
  );
});

Deno.test("sort order: numbers as numbers, natural case-insensitive text, empty last both ways", () => {
  const rows = [
    { n: "shop 10", s: 5 },
    { n: "Shop 9", s: 40 },
    { n: "", s: null },
    { n: "apple", s: 100 },
    { s: "" },
    { n: "Bakery", s: 7, x: true },
  ];
  const order = (spec: string[]) => {
    const keys = parseSort(spec);
    return rows
      .map((r, i) => ({ i, v: sortValues(r, keys) }))
      .sort((a, b) => compareSortValues(a.v, b.v, keys))
      .map((r) => r.i);
  };
  assert.deepEqual(order(["n"]), [3, 5, 1, 0, 2, 4], "natural, case-insensitive; empties last");
  assert.deepEqual(order(["-n"]), [0, 1, 5, 3, 2, 4], "descending; empties still last");
  assert.deepEqual(order(["-s"]), [3, 1, 5, 0, 2, 4], "numbers compared as numbers");
  assert.deepEqual(order(["s"]), [0, 5, 1, 3, 2, 4]);
  assert.deepEqual(order(["-x", "s"]), [5, 0, 1, 3, 2, 4], "booleans: true first when -");
});
