import assert from "node:assert/strict";
import {
  businessIdentity,
  isSiblingRow,
  MAX_OTHERS,
  rowDomain,
  SameBusinessIndex,
  SiblingIndex,
  siblingOf,
  type SiblingRow,
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

Deno.test("SiblingIndex: thousands of rows of one business cost each row a bounded number of steps, not one per sibling", () => {
  // Placeholder names ("Unknown" in "Unknown") put thousands of rows into one business. Counted
  // are reads of the rows' fields (no clock): gathering them and asking for each row's other
  // domains, as an export's finish does, looks at no more than the 20 shown and the next one.
  let reads = 0;
  const counted = (row: SiblingRow): SiblingRow => {
    for (const i of [1, 2, 3, 4, 5]) {
      const v = row[i];
      Object.defineProperty(row, i, { get: () => (reads++, v), enumerable: true });
    }
    return row;
  };
  const n = 5_000;
  const row = (i: number, exported: boolean) =>
    counted(
      siblingOf({
        domain: `d${i}.com`,
        name: "Unknown",
        city: "Unknown",
        phone: i % 3 ? `520-555-${String(i % 7).padStart(4, "0")}` : "",
        phone_e164: i % 2 ? "" : `+1520555${String(i % 7).padStart(4, "0")}`,
        website: { status: ["live", "parked", "redirect", ""][i % 4] },
      }, exported)!,
    );
  const index = new SiblingIndex();
  for (let i = 0; i < n; i++) index.add(row(i, i % 2 === 0));
  for (let i = 0; i < n; i += 2) index.add(row(i, true)); // again: marks it exported
  const added = n + n / 2;
  assert.ok(reads <= 10 * added, `${reads} reads of row fields for ${added} adds`);
  const identity = businessIdentity({ name: "Unknown", city: "Unknown" });
  // Each add reads its row a few times; each row asked for reads the up to 21 siblings it shows
  // (and as many that work) a few times. Looking at every sibling would read millions.
  const bound = 10 * added + 8 * 2 * (MAX_OTHERS + 1) * n;
  const cells: string[][] = [];
  for (let i = 0; i < n && reads <= bound; i++) {
    const s = index.others(identity, `d${i}.com`);
    cells.push(s.sameBusinessAs, s.websiteElsewhere);
  }
  assert.ok(reads <= bound, `${reads} reads of row fields for ${added} adds and ${n} rows`);
  // What the rows say is what they said when every sibling was looked at: the first 20 others,
  // each with its status and its phone unless it is the row's (E.164, else digits), then the rest.
  assert.equal(cells[0].length, 21);
  assert.deepEqual(cells[0].slice(0, 3), [
    "d1.com (parked, 520-555-0001)",
    "d2.com (redirect, 520-555-0002)",
    "d3.com",
  ]);
  assert.equal(cells[0][13], "d14.com (redirect)", "d0 and d14: one E.164 form");
  assert.equal(cells[0][20], `(+${n - 21} more)`);
  assert.deepEqual(cells[1].slice(0, 3), ["d2.com", "d4.com", "d6.com"]);
  assert.equal(cells[1].length, 20, "working sites elsewhere: at most 20");
  assert.equal(cells[2 * 7][13], "d14.com (redirect)", "d7 and d14: the same digits");
  assert.equal(cells[2 * 1][13], "d14.com (redirect, 520-555-0000)", "d1 and d14 differ");
  assert.deepEqual(
    cells[2 * (n - 1)].slice(0, 2),
    ["d0.com (live)", "d1.com (parked)"],
    "d4999 and d1: the same digits",
  );
  assert.equal(cells[2 * (n - 1)][20], `(+${n - 21} more)`);
  assert.equal(index.others(identity, "elsewhere.com").sameBusinessAs[20], `(+${n - 20} more)`);
});
