import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { binaryBody, hugeBody, type Site, startWebServers } from "../../testing/web_server.ts";
import { startConnectProxy } from "../../testing/connect_proxy.ts";
import { DEFAULT_NETWORK, type NetworkSettings } from "../types.ts";
import { connectOrder, fetchWithRedirects, type HostResolver } from "./http_fetch.ts";
import type { HostRecords } from "./types.ts";

const PAGE = `<!doctype html><html><head><title> Acme  Bakery </title>
<style>body{color:red}</style><script>var hidden = "no";</script></head>
<body><h1>Fresh&nbsp;bread</h1><p>Since 1990.</p><noscript>enable js</noscript></body></html>`;

const SITES: Record<string, Site> = {
  "ok.test": { ips: ["127.9.1.1"], body: PAGE },
  "upgrade.test": { ips: ["127.9.1.2"], httpsUpgrade: true, body: PAGE },
  "moved.test": { ips: ["127.9.1.3"], redirect: { location: "https://ok.test/" } },
  "loop-a.test": { ips: ["127.9.1.4"], redirect: { location: "https://loop-b.test/" } },
  "loop-b.test": { ips: ["127.9.1.4"], redirect: { location: "https://loop-a.test/" } },
  "far.test": { ips: ["127.9.1.5"], redirect: { location: "https://gone.test/" } },
  "refused.test": { ips: ["127.9.1.6"], behaviour: "refuse" },
  "reset.test": { ips: ["127.9.1.7"], behaviour: "reset" },
  "hang.test": { ips: ["127.9.1.8"], behaviour: "timeout" },
  "expired.test": { ips: ["127.9.1.9"], tls: "expired", body: PAGE },
  "wronghost.test": { ips: ["127.9.1.9"], tls: "wrong_host", body: PAGE },
  "selfsigned.test": { ips: ["127.9.1.9"], tls: "self_signed", body: PAGE },
  "notls.test": { ips: ["127.9.1.9"], tls: "none", body: PAGE },
  "huge.test": { ips: ["127.9.1.10"], body: hugeBody(50_000_000) },
  "endless.test": { ips: ["127.9.1.10"], body: hugeBody(Infinity) },
  "binary.test": {
    ips: ["127.9.1.10"],
    headers: { "content-type": "image/png" },
    body: binaryBody(5000),
  },
  "sniffed.test": { ips: ["127.9.1.10"], body: binaryBody(3000) },
  "chain.test": { ips: ["127.9.1.11"], redirect: { location: "https://chain1.test/" } },
  "chain1.test": { ips: ["127.9.1.11"], redirect: { location: "https://chain2.test/" } },
  "chain2.test": { ips: ["127.9.1.11"], redirect: { location: "https://chain3.test/" } },
  "chain3.test": { ips: ["127.9.1.11"], body: PAGE },
  "badloc.test": { ips: ["127.9.1.12"], redirect: { location: "ftp://files.test/" } },
  // Compressed though the probe asks for identity; the bomb inflates to 20 MB of HTML.
  "gz.test": {
    ips: ["127.9.1.10"],
    headers: { "content-encoding": "gzip", "content-type": "text/html; charset=utf-8" },
    body: new Uint8Array(gzipSync(new TextEncoder().encode(PAGE))),
  },
  "bomb.test": {
    ips: ["127.9.1.10"],
    headers: { "content-encoding": "gzip", "content-type": "text/html" },
    body: new Uint8Array(
      gzipSync(new TextEncoder().encode("<p>lorem ipsum</p>".repeat(1_200_000))),
    ),
  },
  "noloc.test": { ips: ["127.9.1.12"], status: 302, body: "" },
  "nolochtml.test": { ips: ["127.9.1.12"], status: 301, body: "<html><body>Moved</body></html>" },
  "to-lit.test": { ips: ["127.9.1.12"], redirect: { location: "http://127.9.1.1/x" } },
  "to-dec.test": { ips: ["127.9.1.12"], redirect: { location: "http://2131296513/" } },
  "to-v6.test": { ips: ["127.9.1.12"], redirect: { location: "http://[::1]/" } },
  // Round robin with a dead first address (nothing listens on 127.9.1.250 or 127.9.1.251).
  "rr.test": { ips: ["127.9.1.13"], body: PAGE },
  // A dead IPv4 address and a live IPv6 one.
  "v6ok.test": { ips: ["::1"], body: PAGE },
  // Its first address (127.9.1.14, see the test) takes the request and hangs up unanswered.
  "hangup.test": { ips: ["127.9.1.13"], body: PAGE },
};

/** Addresses the resolver gives instead of the sites' own (dead ones first). */
const RECORDS: Record<string, string[]> = {
  "rr.test": ["127.9.1.250", "127.9.1.13"],
  "v6ok.test": ["127.9.1.251", "::1"],
  "hangup.test": ["127.9.1.14", "127.9.1.13"],
  "dead.test": ["127.9.1.250", "127.9.1.251"],
};

const host = (status: HostRecords["status"], a: string[] = []): HostRecords => ({
  status,
  a,
  aaaa: [],
  cname: [],
});

async function withWeb(
  fn: (net: NetworkSettings, resolve: HostResolver, asked: string[]) => Promise<void>,
  extra: Record<string, Site> = {},
) {
  const web = await startWebServers({ sites: { ...SITES, ...extra } });
  const asked: string[] = [];
  const resolve: HostResolver = (name) => {
    asked.push(name);
    if (name === "gone.test") return Promise.resolve(host("nxdomain"));
    if (name === "flaky.test") return Promise.resolve(host("unknown"));
    const ips = RECORDS[name] ?? SITES[name]?.ips ?? [];
    return Promise.resolve({
      ...host("ok", ips.filter((ip) => !ip.includes(":"))),
      aaaa: ips.filter((ip) => ip.includes(":")),
    });
  };
  const net: NetworkSettings = {
    ...DEFAULT_NETWORK,
    httpPort: web.httpPort,
    httpsPort: web.httpsPort,
    caPem: web.caPem,
    allowPrivate: true,
    timeouts: { dns: 500, connect: 1000, request: 1500 },
  };
  try {
    await fn(net, resolve, asked);
  } finally {
    await web.close();
  }
}

Deno.test("fetchWithRedirects: a page over HTTPS with title, text, HTML head and hash", async () => {
  await withWeb(async (network, resolve) => {
    const r = await fetchWithRedirects({ url: "https://ok.test/", network, resolve });
    assert.equal(r.error, undefined);
    const res = r.response!;
    assert.equal(res.status, 200);
    assert.equal(res.ip, "127.9.1.1");
    assert.equal(res.title, "Acme Bakery");
    assert.equal(res.text, "Fresh bread Since 1990.");
    assert.ok(res.html.startsWith("<!doctype html>"));
    assert.match(res.bodyHash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(res.bodyBytes, new TextEncoder().encode(PAGE).length);
    assert.equal(res.contentType, "text/html");
    assert.equal(res.binary, false);
    assert.equal(res.truncated, false);
    assert.deepEqual(r.hops, [{ url: "https://ok.test/", ip: "127.9.1.1", status: 200 }]);
  });
});

Deno.test("fetchWithRedirects follows redirects, re-resolving other hosts", async () => {
  await withWeb(async (network, resolve, asked) => {
    const up = await fetchWithRedirects({
      url: "http://upgrade.test/",
      addresses: ["127.9.1.2"],
      network,
      resolve,
    });
    assert.deepEqual(up.hops.map((h) => [h.url, h.status]), [
      ["http://upgrade.test/", 301],
      ["https://upgrade.test/", 200],
    ]);
    assert.equal(up.response?.title, "Acme Bakery");
    assert.deepEqual(asked, []); // same host: addresses reused
    const moved = await fetchWithRedirects({ url: "https://moved.test/", network, resolve });
    assert.equal(moved.response?.url, "https://ok.test/");
    assert.deepEqual(asked, ["moved.test", "ok.test"]);
    const gone = await fetchWithRedirects({ url: "https://far.test/", network, resolve });
    assert.equal(gone.error?.kind, "no_address");
    assert.equal(gone.error?.ours, false);
  });
});

Deno.test("fetchWithRedirects detects loops, long chains and bad locations", async () => {
  await withWeb(async (network, resolve) => {
    const loop = await fetchWithRedirects({ url: "https://loop-a.test/", network, resolve });
    assert.equal(loop.error?.kind, "redirect_loop");
    assert.equal(loop.hops.length, 2);
    const long = await fetchWithRedirects({
      url: "https://chain.test/",
      network,
      resolve,
      maxRedirects: 2,
    });
    assert.equal(long.error?.kind, "too_many_redirects");
    const fine = await fetchWithRedirects({
      url: "https://chain.test/",
      network,
      resolve,
      maxRedirects: 3,
    });
    assert.equal(fine.response?.status, 200);
    assert.equal(fine.hops.length, 4);
    const bad = await fetchWithRedirects({ url: "https://badloc.test/", network, resolve });
    assert.equal(bad.error?.kind, "bad_redirect");
    // A redirect status without a Location is a broken redirect, not a page.
    for (const [name, status] of [["noloc", 302], ["nolochtml", 301]] as const) {
      const r = await fetchWithRedirects({ url: `https://${name}.test/`, network, resolve });
      assert.equal(r.response, undefined, name);
      assert.equal(r.error?.kind, "bad_redirect", name);
      assert.equal(r.error?.message, `${status} redirect without a Location header`);
      assert.deepEqual(r.hops.map((h) => [h.status, h.location]), [[status, undefined]]);
    }
  });
});

Deno.test("fetchWithRedirects records refused, reset and our timeouts", async () => {
  await withWeb(async (network, resolve) => {
    const refused = await fetchWithRedirects({ url: "https://refused.test/", network, resolve });
    assert.deepEqual([refused.error?.kind, refused.error?.ours], ["refused", false]);
    const reset = await fetchWithRedirects({ url: "http://reset.test/", network, resolve });
    assert.deepEqual([reset.error?.kind, reset.error?.ours], ["reset", false]);
    const quick = { ...network, timeouts: { ...network.timeouts, request: 300 } };
    const hang = await fetchWithRedirects({ url: "https://hang.test/", network: quick, resolve });
    assert.deepEqual([hang.error?.kind, hang.error?.ours], ["timeout", true]);
    const flaky = await fetchWithRedirects({ url: "https://flaky.test/", network, resolve });
    assert.deepEqual([flaky.error?.kind, flaky.error?.ours], ["dns_unknown", true]);
  });
});

Deno.test("fetchWithRedirects names TLS failures: expired, wrong host, unknown CA, handshake", async () => {
  await withWeb(async (network, resolve) => {
    const kinds: string[] = [];
    for (const name of ["expired", "wronghost", "selfsigned", "notls"]) {
      const r = await fetchWithRedirects({ url: `https://${name}.test/`, network, resolve });
      assert.equal(r.response, undefined);
      assert.equal(r.error?.ours, false);
      kinds.push(r.error!.kind);
    }
    assert.deepEqual(kinds, ["tls_expired", "tls_hostname", "tls_unknown_ca", "tls_handshake"]);
    // Without the test CA, a valid test certificate is from an unknown CA.
    const noCa = await fetchWithRedirects({
      url: "https://ok.test/",
      network: { ...network, caPem: undefined },
      resolve,
    });
    assert.equal(noCa.error?.kind, "tls_unknown_ca");
  });
});

Deno.test("fetchWithRedirects caps huge and endless bodies and spots binary ones", async () => {
  await withWeb(async (network, resolve) => {
    for (const name of ["huge", "endless"]) {
      const r = await fetchWithRedirects({
        url: `http://${name}.test/`,
        network,
        resolve,
        maxBodyBytes: 100_000,
      });
      assert.equal(r.response?.status, 200, name);
      assert.equal(r.response?.truncated, true, name);
      assert.equal(r.response?.bodyBytes, 100_000, name);
      assert.ok(r.response!.html.length <= 16384);
      assert.ok(r.response!.text.length <= 4096);
      assert.match(r.response!.text, /^lorem ipsum/);
    }
    const png = await fetchWithRedirects({ url: "https://binary.test/", network, resolve });
    assert.deepEqual([png.response?.binary, png.response?.html, png.response?.contentType], [
      true,
      "",
      "image/png",
    ]);
    // A compressed page is read decoded; the cap counts decoded bytes.
    const gz = await fetchWithRedirects({ url: "https://gz.test/", network, resolve });
    assert.deepEqual([gz.response?.binary, gz.response?.title, gz.response?.truncated], [
      false,
      "Acme Bakery",
      false,
    ]);
    assert.equal(gz.response?.bodyBytes, new TextEncoder().encode(PAGE).length);
    const bomb = await fetchWithRedirects({
      url: "http://bomb.test/",
      network,
      resolve,
      maxBodyBytes: 100_000,
    });
    assert.deepEqual([bomb.response?.binary, bomb.response?.truncated], [false, true]);
    assert.equal(bomb.response?.bodyBytes, 100_000);
    assert.match(bomb.response!.text, /^lorem ipsum lorem ipsum/);
    const sniffed = await fetchWithRedirects({ url: "https://sniffed.test/", network, resolve });
    assert.equal(sniffed.response?.binary, true);
    assert.equal(sniffed.response?.bodyBytes, 3000);
  });
});

Deno.test("fetchWithRedirects never connects to private addresses unless allowed", async () => {
  await withWeb(async (network, resolve) => {
    const r = await fetchWithRedirects({
      url: "https://ok.test/",
      network: { ...network, allowPrivate: false },
      resolve,
    });
    assert.equal(r.error?.kind, "blocked_private");
    assert.equal(r.error?.ip, "127.9.1.1");
    assert.equal(r.hops.length, 0);
  });
});

Deno.test("fetchWithRedirects connects to an IP-address host as it is, never asking DNS", async () => {
  const v6Site: Site = { ips: ["::1"], body: PAGE };
  await withWeb(async (network, resolve, asked) => {
    // Allowed: probed for real (no site for that Host there: the server's 404).
    const lit = await fetchWithRedirects({ url: "https://to-lit.test/", network, resolve });
    assert.deepEqual(lit.hops.map((h) => [h.url, h.ip, h.status]), [
      ["https://to-lit.test/", "127.9.1.12", 301],
      ["http://127.9.1.1/x", "127.9.1.1", 404],
    ]);
    // The URL parser reads 2131296513 as 127.9.1.1.
    const dec = await fetchWithRedirects({ url: "https://to-dec.test/", network, resolve });
    assert.equal(dec.response?.url, "http://127.9.1.1/");
    assert.equal(dec.response?.ip, "127.9.1.1");
    const v6 = await fetchWithRedirects({ url: "https://to-v6.test/", network, resolve });
    assert.equal(v6.response?.url, "http://[::1]/");
    assert.equal(v6.response?.ip, "::1");
    assert.deepEqual(asked, ["to-lit.test", "to-dec.test", "to-v6.test"]);
    // Not allowed: blocked like a name that resolves there, before any connection.
    const noPrivate = { ...network, allowPrivate: false };
    for (const url of ["http://169.254.169.254/latest/meta-data/", "http://[::1]/"]) {
      const r = await fetchWithRedirects({ url, network: noPrivate, resolve });
      assert.equal(r.error?.kind, "blocked_private", url);
      assert.equal(r.error?.url, url);
      assert.equal(r.error?.ip, new URL(url).hostname.replace(/^\[|\]$/g, ""));
      assert.match(r.error!.message, / is (169\.254\.169\.254|::1), a private\/reserved address/);
    }
    assert.equal(asked.length, 3);
  }, { "[::1]": v6Site });
});

Deno.test("connectOrder: allowed addresses, IPv4 and IPv6 interleaved, at most four", () => {
  assert.deepEqual(connectOrder(["10.0.0.1", "8.8.8.8"], false), { ips: ["8.8.8.8"] });
  assert.deepEqual(connectOrder(["2606:4700::1", "1.1.1.1"], false), {
    ips: ["1.1.1.1", "2606:4700::1"],
  });
  assert.deepEqual(
    connectOrder(["1.1.1.1", "1.0.0.1", "9.9.9.9", "2606:4700::1", "2606:4700::2"], false),
    { ips: ["1.1.1.1", "2606:4700::1", "1.0.0.1", "2606:4700::2"] },
  );
  assert.deepEqual(connectOrder(["1.1.1.1", "1.1.1.1", "8.8.8.8"], false), {
    ips: ["1.1.1.1", "8.8.8.8"],
  });
  assert.deepEqual(connectOrder(["127.0.0.1", "::1"], false), { ips: [], blocked: "127.0.0.1" });
  assert.deepEqual(connectOrder(["127.0.0.1", "::1"], true), { ips: ["127.0.0.1", "::1"] });
  assert.deepEqual(connectOrder([], false), { ips: [] });
});

/** A listener on `ip:port` that reads a request, writes `reply` (default nothing) and hangs up. */
function serveRaw(ip: string, port: number, reply = "") {
  const listener = Deno.listen({ hostname: ip, port });
  const serving = (async () => {
    for await (const conn of listener) {
      await conn.read(new Uint8Array(4096)).catch(() => null);
      if (reply) await conn.write(new TextEncoder().encode(reply)).catch(() => 0);
      conn.close();
    }
  })().catch(() => {});
  return {
    async close() {
      listener.close();
      await serving;
    },
  };
}

Deno.test("fetchWithRedirects tries the host's next address when the connection fails", async () => {
  await withWeb(async (network, resolve) => {
    // Refused at the first IPv4 address: the second one answers, and says so.
    const rr = await fetchWithRedirects({ url: "https://rr.test/", network, resolve });
    assert.equal(rr.error, undefined);
    assert.equal(rr.response?.ip, "127.9.1.13");
    assert.equal(rr.response?.title, "Acme Bakery");
    assert.equal(rr.hops.length, 1);
    assert.equal(rr.hops[0].ip, "127.9.1.13");
    assert.deepEqual(rr.hops[0].failedBefore?.map((f) => [f.ip, f.kind]), [
      ["127.9.1.250", "refused"],
    ]);
    // Refused over IPv4: IPv6 is tried.
    const v6 = await fetchWithRedirects({ url: "http://v6ok.test/", network, resolve });
    assert.equal(v6.response?.ip, "::1");
    assert.equal(v6.response?.title, "Acme Bakery");
    // Hung up before any answer: the next address is asked.
    const hangingUp = serveRaw("127.9.1.14", network.httpPort);
    try {
      const hangup = await fetchWithRedirects({ url: "http://hangup.test/", network, resolve });
      assert.equal(hangup.response?.ip, "127.9.1.13");
      assert.deepEqual(hangup.hops[0].failedBefore?.map((f) => f.kind), ["reset"]);
    } finally {
      await hangingUp.close();
    }
    // Every address refused: the last one is the error's, the others are listed.
    const dead = await fetchWithRedirects({ url: "https://dead.test/", network, resolve });
    assert.equal(dead.error?.kind, "refused");
    assert.equal(dead.error?.ip, "127.9.1.251");
    assert.deepEqual(dead.error?.failedBefore?.map((f) => f.ip), ["127.9.1.250"]);
    // A broken answer is the server's answer: the next address is not asked.
    const garbling = serveRaw("127.9.1.15", network.httpPort, "SMTP ready\r\n\r\n");
    try {
      const broken = await fetchWithRedirects({
        url: "http://rr.test/",
        addresses: ["127.9.1.15", "127.9.1.13"],
        network,
        resolve,
      });
      assert.equal(broken.error?.kind, "protocol");
      assert.equal(broken.error?.failedBefore, undefined);
    } finally {
      await garbling.close();
    }
    // Addresses the private-address policy refuses are never tried.
    const mixed = await fetchWithRedirects({
      url: "https://rr.test/",
      addresses: ["127.9.1.250", "192.0.2.1"],
      network: { ...network, allowPrivate: false },
      resolve,
    });
    assert.equal(mixed.error?.kind, "blocked_private");
  });
});

Deno.test("fetchWithRedirects goes through network.proxy with a CONNECT tunnel to our address", async () => {
  const proxy = await startConnectProxy({ deny: (t) => t.startsWith("127.9.1.6:") });
  try {
    await withWeb(async (network, resolve) => {
      const viaProxy = { ...network, proxy: proxy.url };
      const https = await fetchWithRedirects({
        url: "https://ok.test/",
        network: viaProxy,
        resolve,
      });
      assert.equal(https.response?.title, "Acme Bakery");
      const http = await fetchWithRedirects({
        url: "http://upgrade.test/",
        network: viaProxy,
        resolve,
      });
      assert.equal(http.response?.url, "https://upgrade.test/");
      const expired = await fetchWithRedirects({
        url: "https://expired.test/",
        network: viaProxy,
        resolve,
      });
      assert.equal(expired.error?.kind, "tls_expired");
      assert.deepEqual(proxy.tunnels, [
        `127.9.1.1:${network.httpsPort}`,
        `127.9.1.2:${network.httpPort}`,
        `127.9.1.2:${network.httpsPort}`,
        `127.9.1.9:${network.httpsPort}`,
      ]);
      const denied = await fetchWithRedirects({
        url: "https://refused.test/",
        network: viaProxy,
        resolve,
      });
      assert.deepEqual([denied.error?.kind, denied.error?.ours], ["proxy", true]);
      // Through the proxy (node:http) a compressed page is decoded too, within the cap.
      const gz = await fetchWithRedirects({ url: "https://gz.test/", network: viaProxy, resolve });
      assert.deepEqual([gz.response?.binary, gz.response?.title], [false, "Acme Bakery"]);
      const bomb = await fetchWithRedirects({
        url: "https://bomb.test/",
        network: viaProxy,
        resolve,
        maxBodyBytes: 100_000,
      });
      assert.deepEqual([bomb.response?.bodyBytes, bomb.response?.truncated], [100_000, true]);
      assert.match(denied.error!.message, /403 Forbidden/);
    });
  } finally {
    await proxy.close();
  }
});
