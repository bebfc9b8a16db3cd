import assert from "node:assert/strict";
import {
  AlsoListedIndex,
  listingOf,
  listingsOf,
  listingText,
  MAX_LISTINGS,
  MAX_VALUE_CHARS,
} from "./also_listed.ts";

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

Deno.test("AlsoListedIndex: a row that differs only in an input column (a CRM's record id) is named, with it", () => {
  // Price's Flowers: 2001 (Leeds) kept, 2002 (York) and 2003 (Leeds, no phone) merged into it.
  const kept = {
    key: "pricesflowers.co.uk",
    name: "Price's Flowers",
    city: "Leeds",
    phone: "+44 113 496 0001",
    "Record ID": "2001",
    Owner: "Jo",
    website: { status: "parked" },
    duplicates: [
      {
        key: "row-2",
        row: 2,
        name: "Price's Flowers",
        city: "York",
        phone: "+44 1904 000",
        "Record ID": "2002",
        Owner: "Jo",
        website: "https://pricesflowers.co.uk/kontakt",
      },
      {
        key: "row-3",
        row: 3,
        name: "Price's Flowers",
        city: "Leeds",
        "Record ID": "2003",
        Owner: "Jo",
      },
      // The very row 2001 again (a repeated line): adds nothing.
      { key: "row-4", row: 4, name: "Price's Flowers", city: "Leeds", "Record ID": "2001" },
    ],
  };
  const listings = listingsOf(kept);
  assert.deepEqual(listings[0], ["Price's Flowers", "Leeds", "+44 113 496 0001", "", [
    ["Record ID", "2001"],
    ["Owner", "Jo"],
  ]]);
  const index = new AlsoListedIndex();
  index.add(kept.key, listings);
  assert.deepEqual(index.others(kept.key, listings[0]), [
    "Price's Flowers, York, +44 1904 000, Record ID: 2002",
    "Price's Flowers, Leeds, Record ID: 2003",
  ]);
  assert.equal(
    listingText(listingOf({ name: "A", Notes: "x".repeat(300) })),
    `A, Notes: ${"x".repeat(MAX_VALUE_CHARS - 1)}…`,
  );
});
