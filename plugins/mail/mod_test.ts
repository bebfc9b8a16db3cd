import assert from "node:assert/strict";
import { DEFAULT_NETWORK } from "@sluice/sdk";
import { runPlugin } from "@sluice/sdk/testing.ts";
import { startDnsServer } from "../../testing/dns_server.ts";
import { mailRecords } from "../../testing/world_providers.ts";

const dir = new URL(".", import.meta.url);

Deno.test("mail: providers, null MX, SPF, DMARC and resolver failures, in the sandbox", async () => {
  const g = mailRecords("google", "g.de", "");
  const m = mailRecords("microsoft", "m.com", "");
  await using dns = await startDnsServer({
    zones: {
      "g.de": { MX: g.mx, TXT: [g.spf!, "MS=ms123"] },
      "_dmarc.g.de": { TXT: ["v=DMARC1; p=quarantine; rua=mailto:d@g.de"] },
      "m.com": { MX: m.mx, TXT: [m.spf!] },
      "self.nl": { MX: [{ preference: 10, exchange: "mail.self.nl" }] },
      "null.org": { MX: [{ preference: 0, exchange: "." }], TXT: ["v=spf1 -all"] },
      "nomail.fr": { A: ["192.0.2.1"] },
      "broken.com": { behaviour: "servfail" },
    },
  }).then((s) => Object.assign(s, { [Symbol.asyncDispose]: () => s.close() }));
  const network = {
    ...DEFAULT_NETWORK,
    dnsServers: [dns.address],
    timeouts: { dns: 500, connect: 1000, request: 1000 },
  };
  const { items } = await runPlugin({
    dir,
    network,
    items: ["g.de", "m.com", "self.nl", "null.org", "nomail.fr", "broken.com", "gone.com"].map((
      d,
    ) => ({ key: d, domain: d })),
  });
  const by = Object.fromEntries(items.map((i) => [i.key, i.mail as Record<string, unknown>]));
  assert.equal(by["g.de"].provider, "google");
  assert.deepEqual(by["g.de"].spf, {
    record: "v=spf1 include:_spf.google.com ~all",
    includes: ["_spf.google.com"],
    all: "~all",
  });
  assert.equal((by["g.de"].dmarc as { policy: string }).policy, "quarantine");
  assert.deepEqual(
    (by["g.de"].addresses as { address: string; verified: boolean }[]).map((a) => [
      a.address,
      a.verified,
    ]),
    [["info@g.de", false], ["sales@g.de", false], ["contact@g.de", false]],
  );
  assert.deepEqual(by["g.de"].role_guesses, ["info@g.de", "sales@g.de", "contact@g.de"]);
  assert.equal(by["m.com"].provider, "microsoft");
  assert.equal(by["m.com"].dmarc, null);
  assert.equal(by["self.nl"].provider, "self_hosted");
  assert.equal(by["null.org"].null_mx, true);
  assert.equal(by["null.org"].provider, "none");
  assert.deepEqual(by["null.org"].addresses, [], "no guesses for a domain that takes no mail");
  assert.deepEqual(by["null.org"].role_guesses, []);
  assert.equal(by["nomail.fr"].provider, "none");
  assert.equal(by["nomail.fr"].null_mx, false);
  assert.equal(by["broken.com"].status, "unknown");
  assert.match(String(by["broken.com"].reason), /MX lookup failed: SERVFAIL/);
  assert.equal(by["gone.com"].status, "no_domain");
});

Deno.test("mail: reuses item.dns (only _dmarc is asked) and skips NXDOMAIN domains", async () => {
  await using dns = await startDnsServer({
    zones: { "_dmarc.z.eu": { TXT: ["v=DMARC1; p=none"] } },
  }).then((s) => Object.assign(s, { [Symbol.asyncDispose]: () => s.close() }));
  const network = { ...DEFAULT_NETWORK, dnsServers: [dns.address] };
  const { items } = await runPlugin({
    dir,
    network,
    items: [
      {
        key: "z.eu",
        dns: {
          status: "ok",
          mx: [{ priority: 10, exchange: "mx.zoho.eu" }],
          txt: ["v=spf1 include:zoho.eu ~all"],
        },
      },
      { key: "nx.eu", dns: { status: "nxdomain", reason: "NXDOMAIN from x", mx: [], txt: [] } },
    ],
  });
  const z = items[0].mail as Record<string, unknown>;
  assert.equal(z.provider, "zoho");
  assert.deepEqual((z.spf as { includes: string[] }).includes, ["zoho.eu"]);
  assert.equal((z.dmarc as { policy: string }).policy, "none");
  assert.equal((items[1].mail as { status: string }).status, "no_domain");
  assert.equal(dns.queries, 1, "only the _dmarc question went out");
});
