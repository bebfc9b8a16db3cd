import assert from "node:assert/strict";
import { itemPredicate } from "../core/http/items.ts";
import type { Item } from "../sdk/types.ts";
import { apiQuery, textPrefilter } from "./leads_query.ts";

const ITEMS: Item[] = [
  { key: "a", domain: "acme-shop.example", name: "ACME Shop" },
  { key: "b", domain: "bakery.example", name: "Bäckerei Müller" },
  { key: "c", domain: "kelvin.example", name: "\u212Aelvin Tools" }, // Kelvin sign folds to k
  { key: "d", domain: "x.example" },
  { key: "e", name: "Nameless" },
  { key: "f", domain: 42, name: ["not", "text"] },
  { key: "g", domain: "MIXED.Example", name: "the [shop] (1)" },
];

Deno.test("the text search's prefilter never drops a match of its CEL and spares CEL the rest", () => {
  for (
    const q of ["shop", "SHOP", "k", "kelvin", "müller", "ü", "[shop]", "(1)", ".example", "zz"]
  ) {
    const { where } = apiQuery({ q });
    const cel = itemPredicate({ stage: 0, filters: [], where });
    const pre = textPrefilter(q);
    const both = itemPredicate({ stage: 0, filters: [], where, prefilter: pre });
    for (const item of ITEMS) {
      assert.equal(both(item), cel(item), `q=${q} item ${item.key}`);
      if (pre && cel(item)) assert.ok(pre(item), `prefilter dropped ${item.key} for q=${q}`);
    }
  }
  const pre = textPrefilter("shop")!;
  assert.deepEqual(ITEMS.filter(pre).map((i) => i.key), ["a", "b", "c", "g"]);
  assert.equal(textPrefilter("müller"), undefined);
  assert.equal(textPrefilter(""), undefined);
});
