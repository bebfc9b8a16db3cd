import assert from "node:assert/strict";
import {
  businessIdentity,
  isSiblingRow,
  rowDomain,
  SameBusinessIndex,
  SiblingIndex,
  siblingOf,
} from "./same_business.ts";

Deno.test("businessIdentity: name and city match across case, accents, umlaut spellings, punctuation and legal forms", () => {
  const id = (name: unknown, city: unknown, country?: string) =>
    businessIdentity({ name, city, country });
  assert.equal(id("Bäckerei Müller GmbH", "Köln", "DE"), id("BAECKEREI MUELLER", "koeln", "de"));
  assert.equal(id("Café de l'Opéra", "Paris"), id("cafe l opera", "PARIS"));
  assert.equal(id("ร้านกาแฟ สุข", "กรุงเทพ"), id("ร้านกาแฟ  สุข", "กรุงเทพ"), "non-Latin names too");
  assert.notEqual(id("Bäckerei Müller", "Köln"), id("Bäckerei Müller", "Bonn"), "another city");
  assert.equal(id("Bäckerei Müller", "Köln", "DE"), id("Bäckerei Müller", "Köln", "Germany"));
  assert.equal(id("Bäckerei Müller", "Köln", "DE"), id("Bäckerei Müller", "Köln"));
  assert.equal(id("Mu\u0308ller Bau", "Ko\u0308ln"), id("Mueller Bau", "Koeln"), "decomposed text");
  assert.equal(id("Øresund Café", "Malmö"), id("Oresund Cafe", "Malmo"));
  assert.equal(id("Müller Bau", "Köln"), id("Muller Bau", "Koln"), "umlauts written plain");
  // Initials are words; only dotted legal forms go.
  assert.notEqual(id("H&M Fashion", "Berlin"), id("C&A Fashion", "Berlin"));
  assert.notEqual(id("A & O Bäckerei", "Berlin"), id("Bäckerei", "Berlin"));
  assert.notEqual(id("Pizzeria I", "Rom"), id("Pizzeria", "Rom"));
  assert.equal(id("Moda S.r.l.", "Roma"), id("Moda", "Roma"));
  assert.equal(id("Muster e.K", "Ulm"), id("Muster", "Ulm"));
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
  const many = new SameBusinessIndex();
  for (let i = 0; i < 30; i++) many.add("z", `d${i}.de`);
  const others = many.others("z", "d0.de");
  assert.equal(others.length, 21, "at most 20 named, then how many more");
  assert.equal(others.at(-1), "(+9 more)");
  assert.equal(rowDomain({ key: "k.de" }), "k.de");
  assert.equal(rowDomain({ key: "k.de", domain: "d.de" }), "d.de");
});

Deno.test("SiblingIndex: other domains of a business, exported or not, with status and a differing phone", () => {
  const index = new SiblingIndex();
  const row = (domain: string, status: string, phone: string, e164: string, exported: boolean) =>
    siblingOf(
      { domain, name: "Miller Cafe", city: "Tucson", phone, phone_e164: e164, website: { status } },
      exported,
    )!;
  index.add(row("millercafetucson.com", "parked", "520-555-0101", "+15205550101", true));
  index.add(row("millercafe.com", "live", "(520) 555 0101", "+15205550101", false));
  index.add(row("miller.shop", "no_dns", "520-555-0199", "", false));
  index.add(row("millercafe.com", "live", "", "", true)); // the same domain again: marks it exported
  const identity = businessIdentity({ name: "Miller Cafe", city: "Tucson" });
  assert.deepEqual(index.others(identity, "millercafetucson.com"), {
    sameBusinessAs: ["millercafe.com (live)", "miller.shop (no_dns, 520-555-0199)"],
    websiteElsewhere: ["millercafe.com"],
  });
  assert.deepEqual(index.others(undefined, "x.com"), { sameBusinessAs: [], websiteElsewhere: [] });
  assert.equal(siblingOf({ domain: "x.com", name: "X" }, true), undefined, "no city, no identity");
  assert.ok(isSiblingRow(row("a.com", "", "", "", true)));
  assert.ok(!isSiblingRow(["a.com", "text"]));
});
