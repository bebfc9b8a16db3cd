import assert from "node:assert/strict";
import { businessIdentity, rowDomain, SameBusinessIndex } from "./same_business.ts";

Deno.test("businessIdentity: name and city match across case, accents, umlaut spellings, punctuation and legal forms", () => {
  const id = (name: unknown, city: unknown, country?: string) =>
    businessIdentity({ name, city, country });
  assert.equal(id("Bäckerei Müller GmbH", "Köln", "DE"), id("BAECKEREI MUELLER", "koeln", "de"));
  assert.equal(id("Café de l'Opéra", "Paris"), id("cafe l opera", "PARIS"));
  assert.equal(id("ร้านกาแฟ สุข", "กรุงเทพ"), id("ร้านกาแฟ  สุข", "กรุงเทพ"), "non-Latin names too");
  assert.notEqual(id("Bäckerei Müller", "Köln"), id("Bäckerei Müller", "Bonn"), "another city");
  assert.notEqual(id("Bäckerei Müller", "Köln", "DE"), id("Bäckerei Müller", "Köln", "AT"));
  assert.notEqual(id("Müller Bau", "Köln"), id("Müller Bäckerei", "Köln"));
  assert.equal(id("Muster e.K.", "Ulm"), id("Muster", "Ulm"), "legal forms with dots");
  assert.equal(id("Müller", ""), undefined, "no city: no identity");
  assert.equal(id("GmbH", "Köln"), undefined, "a name of legal forms only says nothing");
  assert.equal(id(42, "Köln"), undefined);
});

Deno.test("SameBusinessIndex: other domains in list order, once each; summary and log line", () => {
  const index = new SameBusinessIndex();
  index.add("x", "a.de");
  index.add("y", "b.de");
  index.add("x", "c.de");
  index.add("x", "a.de");
  assert.deepEqual(index.others("x", "a.de"), ["c.de"]);
  assert.deepEqual(index.others("x", "c.de"), ["a.de"]);
  assert.deepEqual(index.others("y", "b.de"), []);
  assert.deepEqual(index.others(undefined, "z.de"), []);
  assert.deepEqual(index.summary(), { businesses: 1, rows: 2, examples: ["a.de = c.de"] });
  assert.match(
    index.logLine("csv-export", true)!,
    /^csv-export: 1 business\(es\) .*same_business_as names/,
  );
  assert.equal(new SameBusinessIndex().logLine("csv-export", false), undefined);
  assert.equal(rowDomain({ key: "k.de" }), "k.de");
  assert.equal(rowDomain({ key: "k.de", domain: "d.de" }), "d.de");
});
