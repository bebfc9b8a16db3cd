import assert from "node:assert/strict";
import { findEvidence, nameWords } from "./match.ts";

const base = { name: "Bäckerei Schmidt GmbH", city: "Köln", domain: "baeckerei-schmidt.de" };
const hit = (url: string, title: string, content = "") => ({ url, title, content });

Deno.test("name words drop legal forms and fold accents", () => {
  assert.deepEqual(nameWords("Bäckerei Schmidt GmbH"), ["backerei", "schmidt"]);
});

Deno.test("another domain with name and city counts as a website elsewhere", () => {
  const ev = findEvidence({
    ...base,
    hits: [
      hit("https://www.schmidt-brot.de/", "Bäckerei Schmidt – frisches Brot", "in Köln seit 1950"),
    ],
  });
  assert.equal(ev.length, 1);
  assert.equal(ev[0].kind, "website");
  assert.match(ev[0].reason, /mentions Köln/);
});

Deno.test("a social page counts, ranked after websites", () => {
  const ev = findEvidence({
    ...base,
    hits: [
      hit("https://www.facebook.com/baeckereischmidtkoeln", "Bäckerei Schmidt | Köln | Facebook"),
      hit("https://schmidt-koeln.de/", "Bäckerei Schmidt Köln"),
    ],
  });
  assert.deepEqual(ev.map((e) => e.kind), ["website", "social"]);
});

Deno.test("own domain, directories, marketplaces, other businesses and other cities do not count", () => {
  const ev = findEvidence({
    ...base,
    hits: [
      hit("https://baeckerei-schmidt.de/", "Bäckerei Schmidt Köln"),
      hit("https://shop.baeckerei-schmidt.de/", "Bäckerei Schmidt Köln"),
      hit("https://www.yelp.de/biz/schmidt-koeln", "Bäckerei Schmidt - Köln - Yelp"),
      hit("https://www.gelbeseiten.de/x", "Bäckerei Schmidt in Köln"),
      hit(
        "https://dan.com/buy-domain/baeckerei-schmidt.de",
        "baeckerei-schmidt.de is for sale Köln",
      ),
      hit("https://mueller-brot.de/", "Bäckerei Müller Köln"),
      hit("https://schmidt-muenchen.example/", "Bäckerei Schmidt", "München"),
      hit("not a url", "Bäckerei Schmidt Köln"),
    ],
  });
  assert.deepEqual(ev, []);
});
