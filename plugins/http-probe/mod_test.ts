import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";
import { DEFAULT_NETWORK, type Item, type NetworkSettings } from "@sluice/sdk";
import type { HttpProbeResult } from "@sluice/sdk/net/types.ts";
import { startDnsServer } from "../../testing/dns_server.ts";
import { type Site, startWebServers } from "../../testing/web_server.ts";
import { createTestCa } from "../../testing/test_ca.ts";

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
  // Round robin whose first address is dead (nothing listens on 127.9.2.250 and .251).
  "rr.test": { ips: ["127.9.2.9"], body: "<title>Round Robin Co</title><p>Welcome</p>" },
  "www.rr.test": { ips: ["127.9.2.9"], body: "<title>Round Robin Co</title><p>Welcome</p>" },
  // A dead IPv4 address and a live IPv6 one.
  "v6.test": { ips: ["::1"], body: "<title>Six Co</title><p>Welcome</p>" },
  // The SSL default vhost shows the panel's page; the site's vhost exists for port 80 only.
  "panel.test": { ips: ["127.9.2.7"], body: ({ scheme }) => scheme === "https" ? PLESK : PANEL },
  "www.panel.test": {
    ips: ["127.9.2.7"],
    body: ({ scheme }) => scheme === "https" ? PLESK : PANEL,
  },
  // Slower than the tests' request timeout (600 ms), faster than the slow retry's (1800 ms).
  "slow.test": {
    ips: ["127.9.2.10"],
    behaviour: { slowMs: 1000 },
    body: ({ scheme }) => {
      served.push(`slow.test ${scheme}`);
      return "<title>Slow Co</title><p>Welcome</p>";
    },
  },
  "five.test": {
    ips: ["127.9.2.11"],
    status: 500,
    body: ({ scheme }) => {
      served.push(`five.test ${scheme}`);
      fiveServedAt = Date.now();
      return "<title>500 Internal Server Error</title>";
    },
  },
};

/** Requests of the counting sites (`slow.test`, `five.test`) answered, as `host scheme`. */
const served: string[] = [];
/** When `five.test` last answered (epoch ms). */
let fiveServedAt = 0;

/**
 * Raw listeners on `ip` at both web ports that count each connection by port: `hang` keeps it open
 * without a byte (not even the TLS handshake), `close` closes it at once.
 */
function rawServer(ip: string, ports: { http: number; https: number }, mode: "hang" | "close") {
  const seen = { http: 0, https: 0 };
  const conns = new Set<Deno.Conn>();
  const listeners = (["http", "https"] as const).map((scheme) => {
    const l = Deno.listen({ hostname: ip, port: ports[scheme] });
    (async () => {
      for await (const c of l) {
        seen[scheme]++;
        if (mode === "close") c.close();
        else conns.add(c);
      }
    })().catch(() => {});
    return l;
  });
  return {
    seen,
    close() {
      for (const l of listeners) l.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed already */ }
      }
    },
  };
}
const PLESK = "<html><head><title>Domain Default page</title></head><body><h1>Domain Default " +
  "page</h1><p>The domain has been created in Plesk.</p></body></html>";
const PANEL =
  "<html><head><title>Schreinerei Holz</title></head><body>Möbel nach Maß</body></html>";

/** Where the bot-blocking site (`waf.test`) listens; served by `Deno.serve`, not `web_server.ts`. */
const WAF_IP = "127.9.2.8";
const WAF_PAGE = "<html><head><title>Waf Co</title></head><body>Our shop</body></html>";

/** Requests `waf.test` got: scheme, User-Agent, Accept. */
type WafLog = { scheme: string; ua: string; accept: string; lang: string }[];

/**
 * A site behind bot protection: 403 unless the User-Agent looks like a desktop browser's (HTTP
 * and HTTPS, at the ports of the simulated web servers, its certificate from their CA).
 */
function serveWaf(
  httpPort: number,
  httpsPort: number,
  tls: { cert: string; key: string },
  log: WafLog,
) {
  const handler = (scheme: string) => (req: Request) => {
    const ua = req.headers.get("user-agent") ?? "";
    log.push({
      scheme,
      ua,
      accept: req.headers.get("accept") ?? "",
      lang: req.headers.get("accept-language") ?? "",
    });
    const browser = /^Mozilla\/5\.0 \(Windows NT [^)]*\) .*Chrome\/\d+/.test(ua) &&
      !/compatible|bot|probe/i.test(ua);
    return browser
      ? new Response(WAF_PAGE, { headers: { "content-type": "text/html" } })
      : new Response("<title>Access denied</title>", {
        status: 403,
        headers: { "content-type": "text/html" },
      });
  };
  const quiet = { hostname: WAF_IP, onListen() {} };
  return [
    Deno.serve({ ...quiet, port: httpPort }, handler("http")),
    Deno.serve({ ...quiet, port: httpsPort, ...tls }, handler("https")),
  ];
}

async function withWorld(
  fn: (network: NetworkSettings, waf: WafLog) => Promise<void>,
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
      "panel.test": { A: ["127.9.2.7"] },
      "www.panel.test": { A: ["127.9.2.7"] },
      "waf.test": { A: [WAF_IP] },
      "rr.test": { A: ["127.9.2.250", "127.9.2.9"] },
      "www.rr.test": { A: ["127.9.2.250", "127.9.2.9"] },
      "v6.test": { A: ["127.9.2.251"], AAAA: ["::1"] },
      "slow.test": { A: ["127.9.2.10"] },
      "five.test": { A: ["127.9.2.11"] },
      "dead.test": { A: ["127.9.2.252"] },
      "still.test": { A: ["127.9.2.13"] },
      "shut.test": { A: ["127.9.2.14"] },
    },
  });
  const ca = await createTestCa();
  const web = await startWebServers({
    sites: SITES,
    httpOnlyAddresses: ["127.9.2.2"],
    ca,
  });
  const waf: WafLog = [];
  const wafServers = serveWaf(web.httpPort, web.httpsPort, {
    cert: await ca.issue({ commonName: "waf.test" }),
    key: ca.leafKeyPem,
  }, waf);
  try {
    await fn({
      ...DEFAULT_NETWORK,
      dnsServers: [dns.address],
      httpPort: web.httpPort,
      httpsPort: web.httpsPort,
      caPem: web.caPem,
      allowPrivate: true,
      timeouts: { dns: 500, connect: 1000, request: 600 },
    }, waf);
  } finally {
    await Promise.all([dns.close(), web.close(), ...wafServers.map((s) => s.shutdown())]);
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

Deno.test("http-probe asks a site that refuses its User-Agent (403) once more as a browser: browserUa", async () => {
  await withWorld(async (network, waf) => {
    const result = await runPlugin({
      dir,
      permissions,
      network,
      items: [{ key: "waf.test", domain: "waf.test" }],
    });
    const h = byKey(result.items)["waf.test"];
    assert.equal(h.status, "responded");
    assert.equal(h.best?.target, "https://apex");
    assert.equal(h.best?.status, 200);
    assert.equal(h.best?.title, "Waf Co");
    assert.equal(h.best?.browserUa, true);
    assert.deepEqual(h.attempts.map((a) => [a.url, a.response?.status, a.response?.browserUa]), [
      ["https://waf.test/", 200, true],
    ]);
    // One request with the probe's User-Agent, one more as Chrome on Windows; nothing else.
    assert.deepEqual(waf.map((r) => r.scheme), ["https", "https"]);
    assert.match(waf[0].ua, /SluiceProbe/);
    assert.match(waf[1].ua, /^Mozilla\/5\.0 \(Windows NT 10\.0; Win64; x64\).*Chrome\//);
    assert.match(waf[1].accept, /text\/html/);
    assert.equal(waf[0].lang, "", "the probe says no language");
    assert.equal(waf[1].lang, "en-US,en;q=0.9", "the browser does");
  });
});

Deno.test("http-probe asks HTTP when HTTPS on apex and www shows a panel's stock page", async () => {
  await withWorld(async (network) => {
    const result = await runPlugin({
      dir,
      permissions,
      network,
      items: [{ key: "panel.test", domain: "panel.test" }],
    });
    const h = byKey(result.items)["panel.test"];
    assert.equal(h.status, "responded");
    assert.deepEqual(h.attempts.map((a) => [a.target, a.response?.status]), [
      ["https://apex", 200],
      ["https://www", 200],
      ["http://apex", 200],
    ]);
    assert.equal(h.best?.target, "http://apex");
    assert.equal(h.best?.title, "Schreinerei Holz");
  });
});

Deno.test("http-probe tries a host's next address (IPv4, then IPv6) when one refuses", async () => {
  await withWorld(async (network) => {
    const result = await runPlugin({
      dir,
      permissions,
      network,
      items: ["rr.test", "v6.test"].map((d) => ({ key: d, domain: d })),
    });
    const http = byKey(result.items);
    const rr = http["rr.test"];
    assert.equal(rr.status, "responded");
    assert.equal(rr.best?.target, "https://apex");
    assert.equal(rr.best?.title, "Round Robin Co");
    assert.equal(rr.best?.ip, "127.9.2.9");
    assert.deepEqual(rr.attempts[0].hops[0].failedBefore?.map((f) => [f.ip, f.kind]), [
      ["127.9.2.250", "refused"],
    ]);
    const v6 = http["v6.test"];
    assert.equal(v6.status, "responded");
    assert.equal(v6.best?.ip, "::1");
    assert.equal(v6.best?.title, "Six Co");
  });
});

Deno.test("http-probe with tlsDetails describes the certificate of the first HTTPS host (in the sandbox)", async () => {
  await withWorld(async (network) => {
    const items = ["live.test", "badcert.test", "plain.test"].map((d) => ({ key: d, domain: d }));
    const result = await runPlugin({
      dir,
      permissions,
      network,
      config: { tlsDetails: true },
      items,
    });
    const http = byKey(result.items);
    const live = http["live.test"].tls!;
    assert.deepEqual([live.host, live.ip, live.target], ["live.test", "127.9.2.1", "https://apex"]);
    assert.equal(live.issuer?.commonName, "Sluice Test CA");
    assert.equal(live.coversHost, true);
    assert.ok(live.daysLeft! > 0);
    // The expired certificate failed the probe's handshake; it is still described.
    const old = http["badcert.test"].tls!;
    assert.equal(http["badcert.test"].attempts[0].error?.kind, "tls_expired");
    assert.equal(old.subject?.commonName, "badcert.test");
    assert.ok(old.daysLeft! < 0, `${old.daysLeft}`);
    assert.equal(http["plain.test"].tls, undefined, "no HTTPS there");

    const off = await runPlugin({ dir, permissions, network, items: items.slice(0, 1) });
    assert.equal(byKey(off.items)["live.test"].tls, undefined, "off by default");
  });
});

Deno.test("http-probe slow retry: a site slower than the request timeout answers on the retry; hanging, refused, reset and 500 sites are not asked twice", async (t) => {
  await withWorld(async (network) => {
    const ports = { http: network.httpPort, https: network.httpsPort };
    const still = rawServer("127.9.2.13", ports, "hang");
    const shut = rawServer("127.9.2.14", ports, "close");
    const probe = async (config: Record<string, unknown>) => {
      served.length = 0;
      still.seen.http =
        still.seen.https =
        shut.seen.http =
        shut.seen.https =
          0;
      const result = await runPlugin({
        dir,
        permissions,
        network,
        config,
        items: ["slow.test", "still.test", "dead.test", "shut.test", "five.test"]
          .map((d) => ({ key: d, domain: d })),
      });
      return { http: byKey(result.items), metrics: result.metrics };
    };
    /** What holds with and without keep-open. */
    const common = (
      http: Record<string, HttpProbeResult>,
      metrics: Record<string, number>,
    ) => {
      // request timeout 600 ms: slowRetryTimeoutMs defaults to 3 x that.
      const slow = http["slow.test"];
      assert.equal(slow.status, "responded");
      assert.equal(slow.best?.status, 200);
      assert.equal(slow.best?.title, "Slow Co");
      assert.equal(slow.best?.target, "https://apex");

      const hung = http["still.test"];
      assert.equal(hung.status, "unknown");
      assert.equal(hung.best, undefined);
      assert.equal(hung.slowRetry?.answered, false);
      assert.deepEqual(hung.slowRetry?.targets, ["https://apex", "http://apex"]);
      assert.ok(
        hung.attempts.every((a) => a.error!.kind === "timeout" && a.slowRetry),
        JSON.stringify(hung.attempts.map((a) => a.error)),
      );

      const dead = http["dead.test"];
      assert.equal(dead.status, "failed");
      assert.equal(dead.slowRetry, undefined);
      assert.deepEqual(dead.attempts.map((a) => a.error?.kind), ["refused", "refused"]);

      const reset = http["shut.test"];
      assert.equal(reset.slowRetry, undefined);
      assert.deepEqual(shut.seen, { https: 1, http: 1 }, "one connection per port, no retry");

      const five = http["five.test"];
      assert.equal(five.best?.status, 500);
      assert.equal(five.slowRetry, undefined);
      assert.deepEqual(served.filter((s) => s.startsWith("five")).sort(), [
        "five.test http",
        "five.test https",
      ]);
      assert.equal(metrics.http_slow_retry_silent, 1);
    };
    try {
      await t.step(
        "kept open (the default): each URL asked once, its request waited for",
        async () => {
          const { http, metrics } = await probe({});
          common(http, metrics);
          const slow = http["slow.test"];
          // The answer came on the first request, ~1 s after it started: past the 600 ms request
          // timeout, on the connection kept open. That is during the first round (which ends
          // when HTTP's request, made once HTTPS's was set aside at 600 ms, is set aside too),
          // or, on a slow machine, in the slow retry that waited for it; never a second request.
          assert.ok(slow.best!.timeMs >= 900, `answered after ${slow.best!.timeMs} ms`);
          if (slow.slowRetry) {
            assert.equal(slow.slowRetry.answered, true);
            assert.ok(slow.slowRetry.keptOpen?.includes("https://apex"), "waited for, not asked");
          }
          assert.equal(metrics.http_slow_retry_answered ?? 0, slow.slowRetry ? 1 : 0);
          assert.deepEqual(served.filter((s) => s === "slow.test https"), ["slow.test https"]);
          assert.ok(served.filter((s) => s === "slow.test http").length <= 1, served.join());
          const hung = http["still.test"];
          assert.deepEqual(hung.slowRetry?.keptOpen, ["https://apex", "http://apex"]);
          assert.match(hung.attempts[0].error!.message, /1800 ms/);
          // One connection per port, kept open for the slow retry's 1.8 s.
          assert.deepEqual(still.seen, { https: 1, http: 1 });
        },
      );
      await t.step("keepOpen false: the URLs that timed out are asked again", async () => {
        const { http, metrics } = await probe({ keepOpen: false });
        common(http, metrics);
        const slow = http["slow.test"];
        assert.equal(slow.slowRetry?.keptOpen, undefined);
        assert.equal(slow.slowRetry?.tried, true);
        assert.equal(slow.slowRetry?.answered, true);
        assert.equal(slow.slowRetry?.timeoutMs, 1800);
        assert.deepEqual(slow.slowRetry?.targets, ["https://apex", "http://apex"]);
        assert.equal(slow.attempts[0].slowRetry, true);
        // HTTP was asked alongside HTTPS (a queue per port); its answer, in flight when HTTPS
        // answered, is kept, but HTTPS comes first in the verdict.
        assert.equal(slow.attempts[1].slowRetry, true);
        assert.equal(slow.attempts[1].response?.status, 200);
        assert.equal(metrics.http_slow_retry_answered, 1);
        assert.ok(
          slow.slowRetry!.ms >= 900,
          `the retry waited for the answer (${slow.slowRetry!.ms})`,
        );
        // The server answered each port twice (the first round's answers came too late).
        assert.deepEqual(served.filter((s) => s.startsWith("slow")).sort(), [
          "slow.test http",
          "slow.test http",
          "slow.test https",
          "slow.test https",
        ]);
        assert.deepEqual({ ...http["still.test"].slowRetry, ms: 0 }, {
          tried: true,
          answered: false,
          ms: 0,
          timeoutMs: 1800,
          targets: ["https://apex", "http://apex"],
        });
        // Retried once per port, alongside: one more connection to each.
        assert.deepEqual(still.seen, { https: 2, http: 2 });
      });
    } finally {
      still.close();
      shut.close();
    }
  });
});

Deno.test("http-probe slow retry hands the domain's probe slot back: other domains are probed meanwhile", async () => {
  await withWorld(async (network) => {
    const ports = { http: network.httpPort, https: network.httpsPort };
    const still = rawServer("127.9.2.13", ports, "hang");
    try {
      // One domain at a time: still.test takes the slot first; five.test waits for it.
      const result = await runPlugin({
        dir,
        permissions,
        network: { ...network, concurrency: 1 },
        items: ["still.test", "five.test"].map((d) => ({ key: d, domain: d })),
      });
      const ended = Date.now();
      const http = byKey(result.items);
      assert.equal(http["still.test"].slowRetry?.answered, false);
      assert.equal(http["five.test"].best?.status, 500);
      // five.test was probed while still.test waited out its slow retry (1.8 s), not after it.
      assert.ok(
        ended - fiveServedAt >= 1000,
        `five.test answered ${ended - fiveServedAt} ms before the end`,
      );
    } finally {
      still.close();
    }
  });
});

Deno.test("http-probe slowRetryTimeoutMs 0: a slow site stays a timeout, asked once per URL", async () => {
  await withWorld(async (network) => {
    served.length = 0;
    const result = await runPlugin({
      dir,
      permissions,
      network,
      config: { slowRetryTimeoutMs: 0 },
      items: [{ key: "slow.test", domain: "slow.test" }],
    });
    const slow = byKey(result.items)["slow.test"];
    assert.equal(slow.status, "unknown");
    assert.equal(slow.slowRetry, undefined);
    assert.deepEqual(slow.attempts.map((a) => a.error?.kind), ["timeout", "timeout"]);
  });
});
