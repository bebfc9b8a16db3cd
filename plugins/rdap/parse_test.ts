import assert from "node:assert/strict";
import { displayPhone, isRedacted, parseJCard, parseRdapDomain, RdapParseError } from "./parse.ts";
import { rdapDomainJson } from "../../testing/rdap_fake.ts";

Deno.test("parses dates, registrar, statuses, name servers and the registrant", () => {
  const json = rdapDomainJson("example.de", {
    registered: "2011-02-03T04:05:06Z",
    expires: "2030-02-03T04:05:06Z",
    registrar: { name: "Example Registrar GmbH", ianaId: "1234" },
    status: ["client hold", "client transfer prohibited"],
    nameservers: ["NS1.EXAMPLE.NET."],
    registrant: { org: "Müller Bau", phone: "+49.301234567", email: "Info@Mueller.de" },
  });
  const r = parseRdapDomain(json);
  assert.equal(r.registered, "2011-02-03T04:05:06.000Z");
  assert.equal(r.expires, "2030-02-03T04:05:06.000Z");
  assert.deepEqual(r.registrar, { name: "Example Registrar GmbH", iana_id: "1234" });
  assert.deepEqual(r.flags, {
    client_hold: true,
    server_hold: false,
    redemption_period: false,
    pending_delete: false,
  });
  assert.deepEqual(r.nameservers, ["ns1.example.net"]);
  assert.deepEqual(r.registrant, {
    org: "Müller Bau",
    phone: "+49 301234567",
    email: "info@mueller.de",
  });
});

Deno.test("redacted registrant data is dropped, and the registrar's abuse contact is not the registrant", () => {
  const r = parseRdapDomain(rdapDomainJson("x.com", {
    registrar: { name: "R" },
    registrant: { redacted: true },
    status: ["redemptionPeriod", "pending delete"],
  }));
  assert.equal(r.registrant, null);
  assert.equal(r.flags?.redemption_period, true);
  assert.equal(r.flags?.pending_delete, true);
});

Deno.test("jCard details: tel URIs, mailto, structured org values, junk", () => {
  const c = parseJCard(["vcard", [
    ["version", {}, "text", "4.0"],
    ["org", {}, "text", ["ACME", "Sales"]],
    ["tel", { type: "voice" }, "uri", "tel:+1.5551234567;ext=12"],
    ["email", {}, "text", "mailto:sales@acme.example"],
    ["fn", {}, "text", 42],
    "garbage",
  ]]);
  assert.deepEqual(c, {
    org: "ACME Sales",
    phone: "+1 5551234567 ext. 12",
    email: "sales@acme.example",
  });
  assert.deepEqual(parseJCard({ not: "a card" }), {});
  assert.ok(isRedacted("REDACTED FOR PRIVACY"));
  assert.ok(isRedacted("Data Protected"));
  assert.ok(!isRedacted("Bäckerei Schmidt"));
});

Deno.test("hostile answers are refused with a reason", () => {
  assert.throws(() => parseRdapDomain("nope"), RdapParseError);
  assert.throws(() => parseRdapDomain({ objectClassName: "entity" }), /not an RDAP domain object/);
  const r = parseRdapDomain({
    objectClassName: "domain",
    events: "yesterday",
    entities: [null, 1, { roles: "registrar" }],
    status: [1, null, "Active"],
    nameservers: [{ ldhName: 5 }],
  });
  assert.deepEqual(r.epp_status, ["active"]);
  assert.deepEqual(r.nameservers, []);
  assert.equal(r.registered, undefined);
  assert.equal(r.registrar, undefined);
});

/** A domain answer whose registrant jCard is `props`, with optional RFC 9537 `redacted`. */
function withRegistrant(props: unknown[][], redacted?: unknown[]): Record<string, unknown> {
  const json = rdapDomainJson("shop.com", { registrar: { name: "R", ianaId: "146" } });
  (json.entities as unknown[]).push({
    objectClassName: "entity",
    roles: ["registrant"],
    vcardArray: ["vcard", [["version", {}, "text", "4.0"], ...props]],
  });
  if (redacted) json.redacted = redacted;
  return json;
}

Deno.test("a privacy/proxy service as registrant is no contact: its phone and e-mail are dropped too", () => {
  // GoDaddy: Domains By Proxy, with its own phone and a forwarding address.
  const dbp = parseRdapDomain(withRegistrant([
    ["fn", {}, "text", "Registration Private"],
    ["org", {}, "text", "Domains By Proxy, LLC"],
    ["tel", { type: "voice" }, "uri", "tel:+1.4806242599"],
    ["email", {}, "text", "shop.com@domainsbyproxy.com"],
  ]));
  assert.equal(dbp.registrant, null);
  // Namecheap: the org is a placeholder-like name, the phone is the service's.
  const namecheap = parseRdapDomain(withRegistrant([
    ["fn", {}, "text", "Redacted for Privacy"],
    ["org", {}, "text", "Withheld for Privacy ehf"],
    ["tel", {}, "uri", "tel:+354.4212434"],
    ["email", {}, "text", "abc123@withheldforprivacy.com"],
  ]));
  assert.equal(namecheap.registrant, null);
  // Tucows: Contact Privacy Inc. with a customer number.
  const tucows = parseRdapDomain(withRegistrant([
    ["org", {}, "text", "Contact Privacy Inc. Customer 0151234567"],
    ["tel", {}, "uri", "tel:+1.4165385487"],
  ]));
  assert.equal(tucows.registrant, null);
  // A redacted person's name next to a real company is still the company's contact.
  const real = parseRdapDomain(withRegistrant([
    ["fn", {}, "text", "REDACTED FOR PRIVACY"],
    ["org", {}, "text", "Acme Software Private Limited"],
    ["tel", {}, "uri", "tel:+91.2212345678"],
  ]));
  assert.deepEqual(real.registrant, {
    org: "Acme Software Private Limited",
    phone: "+91 2212345678",
  });
  // A business with "proxy" in its name is not a proxy service.
  const named = parseRdapDomain(withRegistrant([["org", {}, "text", "Proxy Marketing GmbH"]]));
  assert.deepEqual(named.registrant, { org: "Proxy Marketing GmbH" });
});

Deno.test("RFC 9537 redacted members drop replaced or partial registrant values", () => {
  const r = parseRdapDomain(withRegistrant([
    ["fn", {}, "text", "J. D."],
    ["org", {}, "text", "Müller Bau GmbH"],
    ["tel", {}, "uri", "tel:+49.3012345678"],
    ["email", {}, "text", "c1f4e0a7b@anon-relay.registrar.example"],
  ], [
    { name: { type: "Registrant Name" }, method: "partialValue", postPath: "$..." },
    { name: { type: "Registrant Email" }, method: "replacementValue" },
    { name: { type: "Registrant Phone Ext" }, method: "removal" },
    { name: { type: "Tech Phone" }, method: "removal" },
  ]));
  assert.deepEqual(r.registrant, { org: "Müller Bau GmbH", phone: "+49 3012345678" });
});

Deno.test("jCard: a fax number is not the phone, grouped names are read, real names are not taken for placeholders", () => {
  const c = parseJCard(["vcard", [
    ["fn", {}, "text", "Hidden Valley Bakery"],
    ["tel", { type: "fax" }, "uri", "tel:+49.30999999"],
    ["tel", { type: ["voice", "work"] }, "uri", "tel:+49.30123456"],
    ["item1.email", {}, "text", "Info@Hidden-Valley.example"],
  ]]);
  assert.deepEqual(c, {
    name: "Hidden Valley Bakery",
    phone: "+49 30123456",
    email: "info@hidden-valley.example",
  });
  assert.ok(isRedacted("Statutory Masking Enabled"));
  assert.ok(isRedacted("Non-Public Data"));
  assert.ok(!isRedacted("Acme Software Private Limited"));
});

Deno.test("event dates without a zone are UTC, whatever the machine's time zone", async () => {
  // Read in a process whose local zone is far from UTC, as an operator's machine may be.
  const code = `import { parseRdapDomain } from ${
    JSON.stringify(new URL("./parse.ts", import.meta.url).href)
  };
    const r = parseRdapDomain({ objectClassName: "domain", ldhName: "a.de", events: [
      { eventAction: "registration", eventDate: "2021-03-04T05:06:07" },
      { eventAction: "expiration", eventDate: "2031-03-04 05:06:07Z" },
    ] });
    console.log(JSON.stringify([r.registered, r.expires]));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env: { TZ: "America/Los_Angeles" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [
    "2021-03-04T05:06:07.000Z",
    "2031-03-04T05:06:07.000Z",
  ]);
});

Deno.test("displayPhone writes EPP numbers as people do and leaves other forms", () => {
  assert.equal(displayPhone("+49.3053123456"), "+49 3053123456");
  assert.equal(displayPhone("+1.4165385487x77"), "+1 4165385487 ext. 77");
  assert.equal(displayPhone(" +44 20 7946 0000 "), "+44 20 7946 0000");
  assert.equal(displayPhone("030 1234567"), "030 1234567");
  assert.equal(displayPhone("+49.30.1234"), "+49.30.1234", "not EPP: left as given");
});
