import assert from "node:assert/strict";
import { classifyMx, guessAddresses, isNullMx, parseDmarc, parseSpf } from "./analyze.ts";

const mx = (...hosts: string[]) => hosts.map((exchange, i) => ({ priority: i * 10, exchange }));

Deno.test("provider classes from MX hosts", () => {
  const d = "shop.de";
  assert.deepEqual(classifyMx(d, mx("aspmx.l.google.com", "alt1.aspmx.l.google.com")), {
    provider: "google",
    via: "aspmx.l.google.com",
  });
  assert.equal(classifyMx(d, mx("shop-de.mail.protection.outlook.com")).provider, "microsoft");
  assert.equal(classifyMx(d, mx("mx.zoho.eu")).provider, "zoho");
  assert.equal(classifyMx(d, mx("mx00.ionos.de")).provider, "hosting");
  assert.equal(classifyMx(d, mx("mail.shop.de.")).provider, "self_hosted");
  assert.equal(classifyMx(d, mx("eu-smtp-inbound-1.mimecast.com")).provider, "other");
  assert.equal(classifyMx(d, mx("mx.some-unknown-isp.example")).provider, "other");
  assert.equal(classifyMx(d, []).provider, "none");
  assert.equal(classifyMx(d, mx("notgoogle.com")).provider, "other", "suffix, not substring");
});

Deno.test("null MX", () => {
  assert.ok(isNullMx([{ priority: 0, exchange: "." }]));
  assert.ok(isNullMx([{ priority: 0, exchange: "" }]));
  assert.ok(!isNullMx([]));
  assert.ok(!isNullMx(mx("mx.a.com")));
});

Deno.test("SPF includes, redirect, all qualifier, multiple records", () => {
  assert.deepEqual(
    parseSpf(["google-site-verification=x", "v=spf1 include:_spf.google.com ~all"]),
    {
      record: "v=spf1 include:_spf.google.com ~all",
      includes: ["_spf.google.com"],
      all: "~all",
    },
  );
  assert.deepEqual(parseSpf(["v=spf1 a mx redirect=_spf.Example.NET."])?.includes, [
    "_spf.example.net",
  ]);
  // With an "all" mechanism the redirect never applies (RFC 7208 6.1), whatever the order.
  assert.deepEqual(
    parseSpf(["v=spf1 redirect=_spf.google.com include:spf.protection.outlook.com -all"])
      ?.includes,
    ["spf.protection.outlook.com"],
  );
  assert.equal(parseSpf(["v=spf1 -all", "v=spf1 mx -all"])?.multiple, true);
  assert.equal(parseSpf(["v=spf10 nope", "hello"]), undefined);
});

Deno.test("DMARC policy and tags; invalid policies are flagged", () => {
  assert.deepEqual(
    parseDmarc(["v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:a@x.com,mailto:b@x.com"]),
    {
      record: "v=DMARC1; p=reject; sp=none; pct=50; rua=mailto:a@x.com,mailto:b@x.com",
      policy: "reject",
      subdomain_policy: "none",
      pct: 50,
      rua: ["mailto:a@x.com", "mailto:b@x.com"],
    },
  );
  assert.equal(parseDmarc(["v=DMARC1; p=banana"])?.policy, "invalid");
  assert.equal(parseDmarc(["v=spf1 -all"]), undefined);
});

Deno.test("address guesses are never verified and only when mail is received", () => {
  const g = guessAddresses({
    domain: "shop.de",
    canReceive: true,
    roles: ["info", "Sales", "bad role"],
    inputEmail: "Owner@Shop.de",
    rdapEmail: "someone@gmail.com",
  });
  assert.deepEqual(g, [
    { address: "owner@shop.de", source: "input", verified: false },
    { address: "info@shop.de", role: "info", source: "guess", verified: false },
    { address: "sales@shop.de", role: "sales", source: "guess", verified: false },
  ]);
  assert.ok(g.every((a) => a.verified === false));
  assert.deepEqual(guessAddresses({ domain: "x.de", canReceive: false, roles: ["info"] }), []);
});

Deno.test("addresses: an internationalized domain's e-mail counts in either form, once", () => {
  const g = guessAddresses({
    domain: "xn--caf-dma.fr",
    canReceive: true,
    roles: ["info", "kontakt"],
    inputEmail: " Kontakt@Café.FR ",
    rdapEmail: "owner@xn--caf-dma.fr",
  });
  assert.deepEqual(g.map((a) => [a.address, a.source]), [
    ["kontakt@café.fr", "input"],
    ["owner@xn--caf-dma.fr", "rdap"],
    ["info@xn--caf-dma.fr", "guess"],
  ]);
  // Another domain that only looks alike stays out.
  const other = guessAddresses({
    domain: "xn--caf-dma.fr",
    canReceive: true,
    roles: [],
    inputEmail: "kontakt@cafe.fr",
  });
  assert.deepEqual(other, []);
});

Deno.test("DMARC: two published records mean no policy applies; a bad sp= is flagged", () => {
  const two = parseDmarc(["v=DMARC1; p=reject", "v=DMARC1; p=none; rua=mailto:d@x.de"]);
  assert.equal(two?.policy, "invalid", "receivers apply no DMARC policy with two records");
  assert.equal(two?.multiple, true);
  assert.equal(parseDmarc(["v=DMARC1; p=reject; sp=maybe"])?.subdomain_policy, "invalid");
  assert.equal(parseDmarc(["v=DMARC1; rua=mailto:d@x.de"])?.policy, "invalid", "p= missing");
  assert.equal(parseDmarc(["V=dmarc1; P=Quarantine"])?.policy, "quarantine");
});

Deno.test("provider classes of common real MX hosts outside the US defaults", () => {
  const d = "shop.it";
  const cases: [string, string][] = [
    ["mx00.ionos.it", "hosting"],
    ["mx01.ionos.ca", "hosting"],
    ["mx00.ionos.mx", "hosting"],
    ["mx00.1and1.co.uk", "hosting"],
    ["mx1.mail.ovh.ca", "hosting"],
    ["mx1.titan.email", "hosting"],
    ["mx.zoho.sa", "zoho"],
    ["mx.zohocloud.ca", "zoho"],
    ["mx.zoho.uk", "zoho"],
    ["shop-it.mail.protection.outlook.de", "microsoft"],
    ["shop-it.mail.protection.office365.us", "microsoft"],
    ["smtp.google.com", "google"],
    ["mail.protonmail.ch", "other"],
    ["in1-smtp.messagingengine.com", "other"],
  ];
  for (const [host, provider] of cases) {
    assert.equal(classifyMx(d, mx(host)).provider, provider, host);
  }
});
