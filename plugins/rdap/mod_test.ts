import assert from "node:assert/strict";
import { DEFAULT_NETWORK, type NetworkSettings } from "@sluice/sdk";
import { openPlugin, runPlugin } from "@sluice/sdk/testing.ts";
import { startDnsServer } from "../../testing/dns_server.ts";
import { createTestCa } from "../../testing/test_ca.ts";
import { type RdapFakeOptions, startRdapFake } from "../../testing/rdap_fake.ts";

const dir = new URL(".", import.meta.url);
const HOST = "rdap.registry.test";

/** A TLS RDAP fake reachable as rdap.registry.test through a loopback DNS server. */
async function world(opts: Omit<RdapFakeOptions, "tls">, allowPrivate = true) {
  const ca = await createTestCa();
  const rdap = await startRdapFake({ ...opts, tls: { ca, hostName: HOST } });
  const dns = await startDnsServer({ zones: { [HOST]: { A: ["127.0.0.1"] } } });
  const network: NetworkSettings = {
    ...DEFAULT_NETWORK,
    dnsServers: [dns.address],
    caPem: ca.caPem,
    allowPrivate,
    timeouts: { dns: 1000, connect: 2000, request: 1500 },
    rdapBootstrap: rdap.bootstrapUrl,
  };
  return {
    rdap,
    network,
    async [Symbol.asyncDispose]() {
      await rdap.close();
      await dns.close();
    },
  };
}

Deno.test("rdap: registered, redacted, unregistered, unsupported and hostile answers", async () => {
  await using w = await world({
    tlds: ["de", "com"],
    domains: {
      "mueller-bau.de": {
        registered: "2009-05-01T00:00:00Z",
        expires: "2031-05-01T00:00:00Z",
        registrar: { name: "Example Registrar", ianaId: "1234" },
        status: ["client hold"],
        nameservers: ["ns1.parking.example"],
        registrant: { org: "Müller Bau GmbH", phone: "+49.301234", email: "info@mueller-bau.de" },
      },
      "private.com": { registrant: { redacted: true }, registrar: { name: "R" } },
      "storm.com": { registered: "2015-01-01T00:00:00Z" },
    },
    behaviours: {
      "broken.com": { kind: "malformed" },
      "weird.com": { kind: "wrong_shape" },
      "storm.com": { kind: "status", status: 429, retryAfter: "1", times: 2 },
    },
  });
  const { items, metrics } = await runPlugin({
    dir,
    network: w.network,
    config: { perSecond: 50 },
    items: [
      "mueller-bau.de",
      "private.com",
      "gone.com",
      "x.zz",
      "broken.com",
      "weird.com",
      "storm.com",
    ]
      .map((d) => ({ key: d, domain: d })),
  });
  const by = Object.fromEntries(items.map((i) => [i.key, i.rdap as Record<string, unknown>]));
  assert.equal(by["mueller-bau.de"].status, "ok");
  assert.equal(by["mueller-bau.de"].registered, "2009-05-01T00:00:00.000Z");
  assert.deepEqual(by["mueller-bau.de"].registrar, { name: "Example Registrar", iana_id: "1234" });
  assert.equal((by["mueller-bau.de"].flags as Record<string, boolean>).client_hold, true);
  assert.deepEqual(by["mueller-bau.de"].registrant, {
    org: "Müller Bau GmbH",
    phone: "+49 301234",
    email: "info@mueller-bau.de",
  });
  assert.equal(by["private.com"].status, "ok");
  assert.equal(by["private.com"].registrant, null, "redacted data never shows as contact data");
  assert.equal(by["gone.com"].status, "not_found");
  assert.equal(by["x.zz"].status, "unsupported");
  assert.equal(by["broken.com"].status, "unknown");
  assert.match(String(by["broken.com"].reason), /malformed RDAP answer/);
  assert.equal(by["weird.com"].status, "unknown");
  assert.equal(by["storm.com"].status, "ok", "a 429 storm is waited out (Retry-After)");
  assert.equal(w.rdap.queries.filter((q) => q === "storm.com").length, 3);
  assert.equal(metrics.rdap_ok, 3);
});

Deno.test("rdap: results and the bootstrap are cached in the data folder", async () => {
  await using w = await world({ domains: { "a.com": { registered: "2010-01-01T00:00:00Z" } } });
  const dataDir = await Deno.makeTempDir();
  try {
    const items = [{ key: "a.com" }, { key: "b.com" }];
    await runPlugin({ dir, network: w.network, dataDir, items });
    const second = await runPlugin({ dir, network: w.network, dataDir, items });
    assert.equal(w.rdap.queries.length, 2, "second run answered from the cache");
    assert.equal(w.rdap.bootstrapFetches, 1, "bootstrap downloaded once, then reused");
    assert.deepEqual(second.items.map((i) => (i.rdap as { cached?: boolean }).cached), [
      true,
      true,
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("rdap: a failing server trips the breaker; later items pass as unknown untouched", async () => {
  const names = Array.from({ length: 8 }, (_, i) => `d${i}.com`);
  await using w = await world({
    domains: {},
    behaviours: Object.fromEntries(names.map((n) => [n, { kind: "status", status: 503 }])),
  });
  const { items } = await runPlugin({
    dir,
    network: w.network,
    config: { attempts: 1, breakerThreshold: 3, concurrency: 1, perSecond: 100 },
    items: names.map((key) => ({ key, name: `Shop ${key}` })),
  });
  assert.equal(items.length, 8, "nothing lost");
  assert.equal(w.rdap.queries.length, 3, "the breaker stopped the requests");
  const last = items[7].rdap as { status: string; reason: string };
  assert.equal(last.status, "unknown");
  assert.match(last.reason, /paused after 3 failures in a row/);
  assert.equal(items[7].name, "Shop d7.com");
});

Deno.test("rdap: a slow server times out as unknown; private addresses are refused by default", async () => {
  await using w = await world({
    domains: { "ok.com": {} },
    behaviours: { "slow.com": { kind: "hang" } },
  });
  await using p = await openPlugin({
    dir,
    network: w.network,
    config: { attempts: 1 },
  });
  const slow = await p.process([{ key: "slow.com" }]);
  assert.equal((slow.items[0].rdap as { status: string }).status, "unknown");
  assert.match((slow.items[0].rdap as { reason: string }).reason, /within 1500 ms/);

  const { items } = await runPlugin({
    dir,
    network: { ...w.network, allowPrivate: false },
    config: { bootstrapJson: w.rdap.bootstrap, attempts: 1 },
    items: [{ key: "ok.com" }],
  });
  const r = items[0].rdap as { status: string; reason: string };
  assert.equal(r.status, "unknown");
  assert.match(r.reason, /private or reserved address; refused/);
});

Deno.test("rdap: an unreachable bootstrap passes items as unknown instead of failing", async () => {
  await using dns = await startDnsServer({ zones: {} })
    .then((s) => Object.assign(s, { [Symbol.asyncDispose]: () => s.close() }));
  const { items, logs } = await runPlugin({
    dir,
    network: {
      ...DEFAULT_NETWORK,
      dnsServers: [dns.address],
      timeouts: { dns: 300, connect: 500, request: 500 },
    },
    items: [{ key: "a.com" }, { key: "b.de" }],
  });
  assert.equal(items.length, 2);
  for (const i of items) {
    const r = i.rdap as { status: string; reason: string };
    assert.equal(r.status, "unknown");
    assert.match(r.reason, /RDAP bootstrap unavailable: .*data\.iana\.org does not exist/);
  }
  assert.ok(logs.some((l) => /items pass with rdap.status unknown/.test(l.msg)));
});

Deno.test("rdap: a domain written with a trailing dot or in upper case is the same domain", async () => {
  await using w = await world({
    tlds: ["de"],
    domains: { "mueller-bau.de": { registered: "2009-05-01T00:00:00Z" } },
  });
  const { items } = await runPlugin({
    dir,
    network: w.network,
    config: { perSecond: 50 },
    items: [{ key: "a", domain: "Mueller-Bau.DE." }],
  });
  const rdap = items[0].rdap as { status: string; registered?: string };
  assert.equal(rdap.status, "ok", JSON.stringify(rdap));
  assert.equal(rdap.registered, "2009-05-01T00:00:00.000Z");
});

Deno.test("rdap: a lead whose domain is not registered is no lead, and says why", async () => {
  await using w = await world({ domains: { "real.de": { registered: "2010-01-01T00:00:00Z" } } });
  const items = [
    { key: "typo-firma.de", domain: "typo-firma.de", lead: true, lead_reason: "no DNS" },
    { key: "real.de", domain: "real.de", lead: true, lead_reason: "parked" },
    { key: "other.de", domain: "other.de", lead: false },
  ];
  const { items: out, metrics } = await runPlugin({ dir, network: w.network, items });
  const by = Object.fromEntries(out.map((i) => [i.key, i]));
  assert.equal(by["typo-firma.de"].lead, false);
  assert.match(
    String(by["typo-firma.de"].lead_reason),
    /^the domain is not registered \(.* has no record of typo-firma\.de\): the business does not own it; check the list for a typo$/,
  );
  assert.equal(by["real.de"].lead, true);
  assert.equal(by["real.de"].lead_reason, "parked");
  assert.equal(by["other.de"].lead, false);
  assert.equal(by["other.de"].lead_reason, undefined, "a non-lead keeps its fields");
  assert.equal(metrics.rdap_unleaded, 1);

  const kept = await runPlugin({
    dir,
    network: w.network,
    config: { unleadUnregistered: false },
    items: items.slice(0, 1),
  });
  assert.equal(kept.items[0].lead, true, "unleadUnregistered: false keeps it a lead");
  assert.equal((kept.items[0].rdap as { status: string }).status, "not_found");
});
