import assert from "node:assert/strict";
import { AlsoListedIndex, listingsOf, MAX_LISTINGS } from "./also_listed.ts";

Deno.test("listingsOf: the item's own listing, then its merged rows'", () => {
  assert.deepEqual(
    listingsOf({
      name: " Reed ",
      city: "Raleigh",
      phone: 919,
      duplicates: [{ name: "Reed", city: "Portland", email: "p@reed.com" }, "junk", null],
    }),
    [["Reed", "Raleigh", "919", ""], ["Reed", "Portland", "", "p@reed.com"]],
  );
  assert.deepEqual(listingsOf({}), [["", "", "", ""]]);
});

Deno.test("AlsoListedIndex: other rows of a key, each once, none that add nothing to the row", () => {
  const index = new AlsoListedIndex();
  index.add("a.com", [
    ["Reed", "Raleigh", "+1 919", ""],
    ["Reed", "Raleigh", "", ""], // adds nothing
    ["REED", "raleigh", "+1 919", ""], // the same, another case
    ["Reed", "Portland", "+1 503", ""],
  ]);
  index.add("a.com", [["Reed", "Portland", "+1 503", ""], ["Reed", "Raleigh", "+1 999", ""]]);
  index.add("b.com", [["Solo", "Berlin", "", ""]]);
  assert.deepEqual(index.others("a.com", ["Reed", "Raleigh", "+1 919", ""]), [
    "Reed, Portland, +1 503",
    "Reed, Raleigh, +1 999",
  ]);
  // Another row of the key (unique: false) sees the first row among its others.
  assert.deepEqual(index.others("a.com", ["Reed", "Portland", "+1 503", ""]), [
    "Reed, Raleigh, +1 919",
    "Reed, Raleigh, +1 999",
  ]);
  assert.deepEqual(index.others("b.com", ["Solo", "Berlin", "", ""]), []);
  assert.deepEqual(index.others("c.com", undefined), []);
  assert.deepEqual(index.summary(), { keys: 1, examples: ["a.com: Reed, Portland, +1 503"] });
  const many = new AlsoListedIndex();
  many.add("chain.com", Array.from({ length: 30 }, (_, i) => ["Chain", `City ${i}`, "", ""]));
  const others = many.others("chain.com", ["Chain", "City 0", "", ""]);
  assert.equal(others.length, MAX_LISTINGS + 1);
  assert.equal(others.at(-1), "(+9 more)");
});
