import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";
import { DEFAULT_NETWORK } from "@sluice/sdk";
import type { DnsResult } from "@sluice/sdk/net/types.ts";
import { startDnsServer } from "../../testing/dns_server.ts";

const dir = new URL(".", import.meta.url);
// The sandbox grants read of the plugin folder only; the shared `sdk/net/` modules the plugin
// imports must be readable too (see the report: the host should grant `sdk/` itself).
const permissions = {
  net: ["*"],
  read: [new URL("../../sdk/", import.meta.url).pathname],
};

Deno.test("dns in the sandbox: statuses and records per domain, retry on a second server", async () => {
  const dead = await startDnsServer({ zones: { "*.test": { behaviour: "drop" } } });
  const good = await startDnsServer({
    zones: {
      "acme.test": { A: ["192.0.2.1"], MX: [{ preference: 5, exchange: "mx.acme.test" }] },
      "www.acme.test": { A: ["192.0.2.1"] },
      "broken.test": { behaviour: "servfail" },
      "slow.test": { behaviour: { slowMs: 2000 } },
    },
  });
  try {
    const result = await runPlugin({
      dir,
      permissions,
      network: {
        ...DEFAULT_NETWORK,
        dnsServers: [dead.address, good.address],
        // The budget of one query, both servers included: the dead one gets half of it first.
        timeouts: { ...DEFAULT_NETWORK.timeouts, dns: 500 },
      },
      config: { txt: false },
      items: [
        { key: "acme.test", domain: "acme.test" },
        { key: "gone.test", domain: "gone.test" },
        { key: "broken.test", domain: "broken.test" },
        { key: "slow.test", domain: "slow.test" },
      ],
    });
    const dns = Object.fromEntries(
      result.items.map((i) => [i.key, i.dns as Record<string, unknown>]),
    );
    assert.equal(dns["acme.test"].status, "ok");
    assert.deepEqual((dns["acme.test"].apex as { a: string[] }).a, ["192.0.2.1"]);
    assert.deepEqual(dns["acme.test"].mx, [{ priority: 5, exchange: "mx.acme.test" }]);
    assert.equal(dns["gone.test"].status, "nxdomain");
    assert.equal(dns["broken.test"].status, "servfail");
    assert.equal(dns["slow.test"].status, "unknown");
    assert.match(String(dns["slow.test"].reason), /timeout/);
    assert.equal(result.metrics.dns_ok, 1);
    assert.equal(result.metrics.dns_unknown, 1);
  } finally {
    await Promise.all([dead.close(), good.close()]);
  }
});

Deno.test("dns without servers refuses to start with a clear message", async () => {
  const err = await runPlugin({ dir, permissions, items: [{ key: "a.test" }] }).catch((e) => e);
  assert.match(String(err?.message ?? err), /no DNS servers configured/);
});

Deno.test("dns: NXDOMAIN is no verdict when the resolver denies the zone above the name too", async () => {
  // A broken or filtering resolver (a sandboxed network, a captive portal) that says every name
  // does not exist, `com` included, would make every domain a "no DNS" lead.
  const liar = await startDnsServer({
    zones: () => ({ rcode: "NXDOMAIN", answers: [], authorities: [] }),
  });
  // A working resolver: `com` exists (the simulated internet serves public suffixes), the name not.
  const honest = await startDnsServer({ zones: { "acme.com": { A: ["192.0.2.1"] } } });
  try {
    const run = (server: string) =>
      runPlugin({
        dir,
        permissions,
        network: { ...DEFAULT_NETWORK, dnsServers: [server] },
        items: [
          { key: "gone.com", domain: "gone.com" },
          { key: "also-gone.com", domain: "also-gone.com" },
          { key: "gone.co.uk", domain: "gone.co.uk" },
          { key: "www.gone.com", domain: "www.gone.com" },
        ],
      });
    const lied = await run(liar.address);
    for (const item of lied.items) {
      const dns = item.dns as Record<string, unknown>;
      assert.equal(dns.status, "unknown", String(item.key));
      assert.match(String(dns.reason), /NXDOMAIN for .*, but also for its zone "(com|co\.uk)"/);
      assert.match(String(dns.reason), /check network\.dns\.servers/);
    }
    assert.deepEqual(lied.items.map((i) => (i.dns as { zoneDenied?: string }).zoneDenied), [
      "com",
      "com",
      "co.uk",
      "com",
    ]);
    // The zone is asked once per zone, not per domain: 4 names x (A + AAAA) + com + co.uk.
    assert.equal(liar.queries, 4 * 2 + 2);

    const told = await run(honest.address);
    assert.deepEqual(told.items.map((i) => (i.dns as { status: string }).status), [
      "nxdomain",
      "nxdomain",
      "nxdomain",
      "nxdomain",
    ], "a host under a domain that does not exist is no resolver fault");
    assert.equal((told.items[0].dns as { zoneDenied?: string }).zoneDenied, undefined);
  } finally {
    await Promise.all([liar.close(), honest.close()]);
  }
});

Deno.test("dns + classify: a failed A query on every resolver with NODATA for AAAA is unknown, not a no-address lead", async () => {
  // Both resolvers answer SERVFAIL (one) or nothing (the other) to every A query of the domain
  // and its www, and NODATA to AAAA; www.live.test answers on AAAA.
  const zoneData = {
    "nowhere.test": { MX: [{ preference: 10, exchange: "mx.mail.test" }] },
    "www.nowhere.test": { TXT: ["x"] },
    "live.test": { TXT: ["x"] },
    "www.live.test": { AAAA: ["2001:db8::80"] },
  };
  const failA = (behaviour?: "drop") => (_name: string, type: string) =>
    type === "A"
      ? { rcode: "SERVFAIL" as const, answers: [], authorities: [], behaviour }
      : undefined;
  const sick = await startDnsServer({ zones: failA(), zoneData });
  const mute = await startDnsServer({ zones: failA("drop"), zoneData });
  try {
    const result = await runPlugin({
      dir,
      permissions,
      network: {
        ...DEFAULT_NETWORK,
        dnsServers: [sick.address, mute.address],
        timeouts: { ...DEFAULT_NETWORK.timeouts, dns: 300 },
      },
      items: [
        { key: "nowhere.test", domain: "nowhere.test" },
        { key: "live.test", domain: "live.test" },
      ],
    });
    const [nowhere, live] = result.items.map((i) => i.dns as DnsResult);
    assert.equal(nowhere.status, "ok", "AAAA answered NOERROR: the name exists");
    assert.equal(nowhere.partial, true);
    for (const host of [nowhere.apex, nowhere.www]) {
      assert.notEqual(host.status, "ok", "no address, and A unanswered: no 'ok' verdict");
      assert.deepEqual(host.failed, ["A"]);
      assert.match(host.reason ?? "", /^A query failed \((SERVFAIL|timeout)/);
    }
    assert.deepEqual(live.www.aaaa, ["2001:db8::80"]);
    assert.equal(live.www.status, "ok");
    assert.deepEqual(live.www.failed, ["A"], "the failed A query is recorded beside the address");
    assert.deepEqual(live.apex.failed, ["A"]);
    assert.equal(live.partial, true);

    const classified = await runPlugin({
      dir: new URL("../classify/", import.meta.url),
      items: result.items,
    });
    const website = classified.items[0].website as { status: string; reason: string };
    assert.equal(website.status, "unknown");
    assert.match(website.reason, /nowhere\.test: A query failed/);
    assert.equal(classified.items[0].lead, false);
  } finally {
    await Promise.all([sick.close(), mute.close()]);
  }
});
