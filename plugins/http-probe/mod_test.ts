import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";
import { DEFAULT_NETWORK, type Item, type NetworkSettings } from "@sluice/sdk";
import type { HttpProbeResult } from "@sluice/sdk/net/types.ts";
import { startDnsServer } from "../../testing/dns_server.ts";
import { type Site, startWebServers } from "../../testing/web_server.ts";

const dir = new URL(".", import.meta.url);
// The sandbox grants read of the plugin folder only; the shared `sdk/net/` modules the plugin
// imports must be readable too (see the report: the host should grant `sdk/` itself).
const permissions = { net: ["*"], read: [new URL("../../sdk/", import.meta.url).pathname] };

const PARKED = "<html><head><title>acme.test is for sale</title></head><body>Buy it</body></html>";
const SITES: Record<string, Site> = {
  "live.test": { ips: ["127.9.2.1"], body: "<title>Live Co</title><p>Welcome</p>" },
  "www.live.test": { ips: ["127.9.2.1"], body: "<title>Live Co</title><p>Welcome</p>" },
  "plain.test": { ips: ["127.9.2.2"], body: "<title>Plain</title>" }, // HTTPS refused
  "parked.test": { ips: ["127.9.2.3"], body: PARKED, catchAll: true },
  "badcert.test": { ips: ["127.9.2.4"], tls: "expired", body: "<title>Old</title>" },
  "hang.test": { ips: ["127.9.2.5"], behaviour: "timeout" },
  "away.test": { ips: ["127.9.2.6"], redirect: { location: "https://live.test/" } },
};

async function withWorld(
  fn: (network: NetworkSettings) => Promise<void>,
) {
  const dns = await startDnsServer({
    zones: {
      "live.test": { A: ["127.9.2.1"] },
      "www.live.test": { CNAME: "live.test" },
      "plain.test": { A: ["127.9.2.2"] },
      "parked.test": { A: ["127.9.2.3"] },
      "badcert.test": { A: ["127.9.2.4"] },
      "hang.test": { A: ["127.9.2.5"] },
      "away.test": { A: ["127.9.2.6"] },
    },
  });
  const web = await startWebServers({
    sites: SITES,
    httpOnlyAddresses: ["127.9.2.2"],
  });
  try {
    await fn({
      ...DEFAULT_NETWORK,
      dnsServers: [dns.address],
      httpPort: web.httpPort,
      httpsPort: web.httpsPort,
      caPem: web.caPem,
      allowPrivate: true,
      timeouts: { dns: 500, connect: 1000, request: 600 },
    });
  } finally {
    await Promise.all([dns.close(), web.close()]);
  }
}

const byKey = (items: Item[]) =>
  Object.fromEntries(items.map((i) => [i.key, i.http as HttpProbeResult]));

Deno.test("http-probe in the sandbox: live, http-only, bad TLS, our timeout, cross-host redirect", async () => {
  await withWorld(async (network) => {
    const result = await runPlugin({
      dir,
      permissions,
      network,
      items: ["live.test", "plain.test", "badcert.test", "hang.test", "away.test", "nope.test"]
        .map((d) => ({ key: d, domain: d })),
    });
    const http = byKey(result.items);
    assert.equal(http["live.test"].status, "responded");
    assert.equal(http["live.test"].best?.target, "https://apex");
    assert.equal(http["live.test"].best?.title, "Live Co");
    assert.equal(http["live.test"].attempts.length, 1);
    assert.match(http["live.test"].best!.html, /Live Co/, "the page is kept on best");
    assert.equal(http["live.test"].attempts[0].response?.html, "", "and only there");
    assert.equal(http["live.test"].attempts[0].response?.text, "");
    assert.equal(http["live.test"].attempts[0].response?.status, 200);

    assert.equal(http["plain.test"].best?.target, "http://apex");
    assert.equal(http["plain.test"].attempts[0].error?.kind, "refused");

    assert.equal(http["badcert.test"].attempts[0].error?.kind, "tls_expired");
    assert.equal(http["badcert.test"].best?.target, "http://apex");

    assert.equal(http["hang.test"].status, "unknown");
    assert.ok(http["hang.test"].attempts.every((a) => a.error?.ours));

    assert.equal(http["away.test"].best?.url, "https://live.test/");
    assert.deepEqual(http["away.test"].attempts[0].hops.map((h) => h.status), [301, 200]);

    assert.equal(http["nope.test"].status, "no_address");
    assert.equal(result.metrics.http_responded, 4);
  });
});

Deno.test("http-probe refuses private addresses unless allowPrivate, and spots catch-all sites", async () => {
  await withWorld(async (network) => {
    const blocked = await runPlugin({
      dir,
      permissions,
      network: { ...network, allowPrivate: false },
      items: [{ key: "live.test", domain: "live.test" }],
    });
    const b = byKey(blocked.items)["live.test"];
    assert.equal(b.status, "blocked_private");
    assert.ok(b.attempts.every((a) => a.error?.kind === "blocked_private" && a.hops.length === 0));

    const parked = await runPlugin({
      dir,
      permissions,
      network,
      config: { randomPath: true },
      items: [{ key: "parked.test", domain: "parked.test" }],
    });
    const p = byKey(parked.items)["parked.test"];
    assert.equal(p.best?.title, "acme.test is for sale");
    assert.equal(p.randomPath?.sameAsBest, true);
    const live = await runPlugin({
      dir,
      permissions,
      network,
      config: { randomPath: true },
      items: [{ key: "live.test", domain: "live.test" }],
    });
    const l = byKey(live.items)["live.test"];
    assert.equal(l.randomPath?.status, 404);
    assert.equal(l.randomPath?.sameAsBest, false);
  });
});
