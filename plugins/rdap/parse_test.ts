import assert from "node:assert/strict";
import { isRedacted, parseJCard, parseRdapDomain, RdapParseError } from "./parse.ts";
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
    phone: "+49.301234567",
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
  assert.deepEqual(c, { org: "ACME Sales", phone: "+1.5551234567", email: "sales@acme.example" });
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
