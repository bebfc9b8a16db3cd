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

Deno.test("directories under other country domains, maps and marketplaces do not count", () => {
  const ev = findEvidence({
    ...base,
    hits: [
      hit("https://www.google.de/maps/place/B%C3%A4ckerei+Schmidt", "Bäckerei Schmidt · Köln"),
      hit("https://www.tripadvisor.co.uk/Restaurant-Schmidt", "Bäckerei Schmidt, Köln"),
      hit(
        "https://www.northdata.de/B%C3%A4ckerei+Schmidt+GmbH,+K%C3%B6ln",
        "Bäckerei Schmidt GmbH, Köln",
      ),
      hit("https://www.golocal.de/koeln/baeckereien/baeckerei-schmidt", "Bäckerei Schmidt in Köln"),
      hit("https://www.das-telefonbuch.de/x", "Bäckerei Schmidt Köln - Telefonbuch"),
      hit("https://www.yelp.at/biz/x", "Bäckerei Schmidt - Köln"),
      hit("https://www.lieferando.de/x", "Bäckerei Schmidt Köln bestellen"),
    ],
  });
  assert.deepEqual(ev, []);
});

Deno.test("social posts, people's profiles and searches are not the business's page", () => {
  const ev = findEvidence({
    ...base,
    hits: [
      hit(
        "https://de.linkedin.com/in/max-schmidt-123",
        "Max Schmidt – Inhaber – Bäckerei Schmidt | Köln",
      ),
      hit(
        "https://www.facebook.com/groups/koelnbrot/posts/123",
        "Bäckerei Schmidt Köln – tolle Brötchen",
      ),
      hit("https://www.instagram.com/p/Cx1Ab2/", "Bäckerei Schmidt on Instagram: Köln"),
      hit("https://www.youtube.com/watch?v=abc", "Bäckerei Schmidt Köln – Reportage"),
      hit("https://x.com/koelnnews/status/1", "Bäckerei Schmidt Köln schließt"),
      hit("https://www.facebook.com/p/B%C3%A4ckerei-Schmidt-100063", "Bäckerei Schmidt | Köln"),
    ],
  });
  assert.deepEqual(ev.map((e) => e.url), [
    "https://www.facebook.com/p/B%C3%A4ckerei-Schmidt-100063",
  ]);
});

Deno.test("the city must be a whole word, a bad URL encoding is no error, umlauts in hosts match", () => {
  const hamm = { name: "Autohaus Weber", city: "Hamm", domain: "autohaus-weber.de" };
  assert.deepEqual(
    findEvidence({
      ...hamm,
      hits: [hit("https://weber-werkzeug.example/", "Autohaus Weber", "Hammer Preise")],
    }),
    [],
  );
  const ev = findEvidence({
    ...base,
    hits: [
      hit("https://schmidt.example/%E0%A4%A", "Bäckerei Schmidt", "Filiale Köln"),
      hit("https://baeckerei-schmidt-koeln.example/", "Bäckerei Schmidt – Brot"),
    ],
  });
  assert.deepEqual(ev.map((e) => e.url), [
    "https://schmidt.example/%E0%A4%A",
    "https://baeckerei-schmidt-koeln.example/",
  ]);
});

Deno.test("a one-word name needs more than the city: another Schmidt in Köln is not the business", () => {
  const schmidt = { name: "Schmidt GmbH", city: "Köln", domain: "schmidt-gmbh.de" };
  const others = [
    hit("https://www.schmidt-elektro.de/", "Schmidt Elektrotechnik", "Ihr Elektriker in Köln"),
    hit("https://schmidt-heizung.de/", "Heizung Schmidt Köln", "Notdienst in Köln"),
  ];
  assert.deepEqual(findEvidence({ ...schmidt, hits: others }), []);
  // Confirmed: the whole name with its legal form, the name as the host, or the phone number.
  const same = [
    hit("https://schmidt-handwerk.de/", "Schmidt GmbH – Heizung und Sanitär", "Köln-Ehrenfeld"),
    hit("https://schmidtkoeln.de/", "Schmidt Köln", "Ihr Betrieb in Köln"),
    hit("https://meister-s.de/", "Schmidt Meisterbetrieb", "Tel. 0221 / 987 65 43"),
  ];
  const ev = findEvidence({ ...schmidt, phone: "+49 221 9876543", hits: same });
  assert.deepEqual(ev.map((e) => e.url), same.map((h) => h.url));
  assert.match(ev[2].reason, /phone number/);
  // The phone alone does not make a page with another name the business's.
  assert.deepEqual(
    findEvidence({
      ...schmidt,
      phone: "+49 221 9876543",
      hits: [hit("https://x.de/", "Meyer Bau", "0221 9876543")],
    }),
    [],
  );
});

Deno.test("a phone number confirms a hit of a longer name without the city", () => {
  const ev = findEvidence({
    ...base,
    phone: "0221 123 45 67",
    hits: [hit("https://brot-online.example/", "Bäckerei Schmidt", "Bestellung: +49 221 1234567")],
  });
  assert.equal(ev.length, 1);
  assert.match(ev[0].reason, /phone number/);
});
