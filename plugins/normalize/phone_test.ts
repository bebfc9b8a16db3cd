import assert from "node:assert/strict";
import { countryCode, phoneE164, tldCountry } from "./phone.ts";

Deno.test("phoneE164: numbers as people write them, read in the business's country", () => {
  const cases: [string, string | undefined, string][] = [
    ["+49 30 1234567", undefined, "+49301234567"],
    ["(030) 123-4567", "DE", "+49301234567"],
    ["030/1234567", "DE", "+49301234567"],
    ["0049 30 1234567", undefined, "+49301234567"],
    ["+49 (0)30 1234567", undefined, "+49301234567"],
    ["tel:+44 20 7946 0123", undefined, "+442079460123"],
    ["'+1 415-555-0100", undefined, "+14155550100"],
    ["415.555.0100", "US", "+14155550100"],
    ["06 12 34 56 78", "FR", "+33612345678"],
    ["+55 11 91234-5678", undefined, "+5511912345678"],
    ["bad; 030 1234567", "DE", "+49301234567"],
    ["030 1234567 oder 0171 1234567", "DE", "+49301234567"],
    ["+1 415 555 0100 / +1 415 555 0101", undefined, "+14155550100"],
    ["00 49 30 1234567", undefined, "+49301234567"],
    ["(0049) 30 1234567", undefined, "+49301234567"],
    ["T: +43 1 234567", undefined, "+431234567"],
    ["Tel.: 030 1234567", "DE", "+49301234567"],
    ["030 1234567 / 0171 1234567", "DE", "+49301234567"],
    ["030 / 1234567", "DE", "+49301234567"],
    ["030 1234567 und 0171 1234567", "DE", "+49301234567"],
    ["030 1234567\n0171 1234567", "DE", "+49301234567"],
    ["Fax 030 1234568 / Tel 030 1234567", "DE", "+49301234567"],
    ["030-1234567 (Mo-Fr 9-17 Uhr)", "DE", "+49301234567"],
    ["(+49) 30 1234567", undefined, "+49301234567"],
    ["030 1234567 +49 171 1234567", "DE", "+49301234567"],
    ["０３０ １２３４５６７", "DE", "+49301234567"],
  ];
  for (const [raw, country, e164] of cases) {
    const r = phoneE164(raw, country as never);
    assert.ok("e164" in r, `${raw} (${country}): ${JSON.stringify(r)}`);
    assert.equal(r.e164, e164, raw);
  }
  assert.deepEqual(phoneE164("+1 212 555 0100 ext. 12"), {
    e164: "+12125550100",
    country: "US",
    ext: "12",
  });
  assert.deepEqual(phoneE164("+49 30 1234567 Durchwahl 12"), {
    e164: "+49301234567",
    country: "DE",
    ext: "12",
  });
  assert.deepEqual(phoneE164("Fax: 030 1234567", "DE"), {
    problem: '"Fax: 030 1234567" is a fax number',
  });
});

Deno.test("phoneE164: no number, a short one, or a local one without a country says why", () => {
  assert.deepEqual(phoneE164("call us"), { problem: "no digits" });
  assert.deepEqual(phoneE164("12", "DE"), { problem: '"12" is not a valid phone number in DE' });
  assert.deepEqual(phoneE164("+49 12"), { problem: '"+49 12" is not a valid phone number' });
  assert.match(
    (phoneE164("030 1234567") as { problem: string }).problem,
    /"030 1234567" has no country code and the business's country is not known/,
  );
});

Deno.test("countryCode: ISO codes and names in several languages; tldCountry skips generic ccTLDs", () => {
  for (
    const [v, code] of [
      ["DE", "DE"],
      ["de", "DE"],
      ["Germany", "DE"],
      ["Deutschland", "DE"],
      ["Allemagne", "DE"],
      ["  österreich ", "AT"],
      ["Oesterreich", undefined],
      ["UK", "GB"],
      ["United Kingdom", "GB"],
      ["USA", "US"],
      ["Brasil", "BR"],
      ["España", "ES"],
      ["Espana", "ES"],
      ["Nederland", "NL"],
      ["Turkey", "TR"],
      ["Ivory Coast", "CI"],
      ["Korea", "KR"],
      ["XX", undefined],
      ["Atlantis", undefined],
      ["", undefined],
    ] as const
  ) {
    assert.equal(countryCode(v), code, v);
  }
  assert.equal(countryCode(49), undefined);
  assert.equal(tldCountry("baecker.de"), "DE");
  assert.equal(tldCountry("shop.co.uk"), "GB");
  assert.equal(tldCountry("acme.com"), undefined);
  assert.equal(tldCountry("startup.io"), undefined);
  assert.equal(tldCountry("firma.co"), undefined);
  assert.equal(tldCountry("x.eu"), undefined);
});
