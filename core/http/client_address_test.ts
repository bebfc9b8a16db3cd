import assert from "node:assert/strict";
import { IpRanges } from "../config/ip_ranges.ts";
import {
  clientAddress,
  clientAddressResolver,
  forwardedFor,
  nodeAddress,
  xForwardedFor,
} from "./client_address.ts";
import { type TestServer, testServer } from "./test_support.ts";

const h = (init: Record<string, string>) => new Headers(init);

Deno.test("clientAddress: the peer unless it is a trusted proxy", () => {
  const none = IpRanges.parse([]);
  const xff = h({ "x-forwarded-for": "198.51.100.7" });
  assert.equal(clientAddress(xff, "127.0.0.1", none), "127.0.0.1", "nothing trusted by default");
  const local = IpRanges.parse(["127.0.0.1"]);
  assert.equal(clientAddress(xff, "127.0.0.1", local), "198.51.100.7");
  assert.equal(clientAddress(xff, "192.0.2.9", local), "192.0.2.9", "untrusted peer: its own");
  assert.equal(clientAddress(h({}), "127.0.0.1", local), "127.0.0.1", "no header: the proxy");
  assert.equal(clientAddress(xff, undefined, local), "local", "no peer address");
  assert.equal(
    clientAddress(h({}), "::ffff:192.0.2.9", local),
    "192.0.2.9",
    "a dual-stack peer in IPv4 form",
  );
});

Deno.test("clientAddress: the rightmost X-Forwarded-For entry that is not a trusted proxy", () => {
  const trusted = IpRanges.parse(["127.0.0.1", "10.0.0.0/8"]);
  // The client wrote 6.6.6.6 itself; the edge proxy (10.0.0.5) saw 198.51.100.7.
  const chain = "6.6.6.6, 198.51.100.7, 10.0.0.5";
  assert.equal(
    clientAddress(h({ "x-forwarded-for": chain }), "127.0.0.1", trusted),
    "198.51.100.7",
  );
  // Several header lines are one list.
  const lines = new Headers([["x-forwarded-for", "6.6.6.6"], ["x-forwarded-for", "198.51.100.8"]]);
  assert.equal(clientAddress(lines, "127.0.0.1", trusted), "198.51.100.8");
  // Every entry trusted: the leftmost (the client is one of the proxies' hosts).
  assert.equal(
    clientAddress(h({ "x-forwarded-for": "10.1.1.1, 10.0.0.5" }), "127.0.0.1", trusted),
    "10.1.1.1",
  );
  // Garbage where the client should be: the hop that passed it on, never a key of the client's.
  assert.equal(
    clientAddress(h({ "x-forwarded-for": "1.1.1.1, unknown, 10.0.0.5" }), "127.0.0.1", trusted),
    "10.0.0.5",
  );
  assert.equal(clientAddress(h({ "x-forwarded-for": "" }), "127.0.0.1", trusted), "127.0.0.1");
  // Ports and brackets, as some proxies write them.
  assert.equal(
    clientAddress(h({ "x-forwarded-for": "198.51.100.7:5123" }), "127.0.0.1", trusted),
    "198.51.100.7",
  );
  assert.equal(
    clientAddress(h({ "x-forwarded-for": "[2001:DB8::7]:443" }), "127.0.0.1", trusted),
    "2001:db8::7",
  );
});

Deno.test("clientAddress: Forwarded for= when there is no X-Forwarded-For", () => {
  const trusted = IpRanges.parse(["127.0.0.1", "::1"]);
  const fwd = 'for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For=127.0.0.1';
  assert.deepEqual(forwardedFor(fwd), ["6.6.6.6", "[2001:db8:cafe::17]:4711", "127.0.0.1"]);
  assert.equal(clientAddress(h({ forwarded: fwd }), "::1", trusted), "2001:db8:cafe::17");
  assert.equal(
    clientAddress(h({ forwarded: "for=_hidden;by=1.2.3.4" }), "::1", trusted),
    "::1",
    "an obfuscated node is no key",
  );
  // X-Forwarded-For wins: a proxy that sets it passes a client's Forwarded on untouched.
  assert.equal(
    clientAddress(
      h({ forwarded: "for=6.6.6.6", "x-forwarded-for": "198.51.100.7" }),
      "::1",
      trusted,
    ),
    "198.51.100.7",
  );
  assert.deepEqual(xForwardedFor(" a , ,b"), ["a", "b"]);
  assert.equal(nodeAddress("[1.2.3.4]"), undefined);
});

Deno.test("clientAddressResolver refuses a malformed proxy entry, naming it", () => {
  assert.throws(
    () => clientAddressResolver({ trustedProxies: ["127.0.0.1", "10.0.0.1/40"] }),
    /"10\.0\.0\.1\/40" is not an IP address or CIDR range/,
  );
});

/** The app of `s` on a real Deno.serve at `hostname`, port 0. */
function serve(s: TestServer, hostname: string) {
  const server = Deno.serve(
    { hostname, port: 0, onListen() {} },
    (req, info) => s.app.fetch(req, info),
  );
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    /**
     * GET `/auth/providers` (public, rate-limited per address) with `headers`, through `client`
     * (e.g. one bound to another local address) when given.
     */
    async get(
      headers: Record<string, string> = {},
      client?: Deno.HttpClient,
    ): Promise<{ status: number; detail?: string }> {
      const res = await fetch(`http://${host}:${server.addr.port}/auth/providers`, {
        headers,
        client,
      });
      const body = await res.json();
      return { status: res.status, detail: body.detail };
    },
    close: () => server.shutdown(),
  };
}

/** A test server allowing 2 requests per address and minute (the clock stands still). */
function limitedServer(trustedProxies: string[]) {
  return testServer({
    deps: {
      now: () => 1_000_000,
      trustedProxies,
      limits: { perIp: { rate: 2, perMs: 60_000 } },
    },
  });
}

const xff = (v: string) => ({ "x-forwarded-for": v });

Deno.test("behind a trusted proxy each forwarded client has its own rate-limit bucket", async () => {
  const s = await limitedServer(["127.0.0.1"]);
  const http = serve(s, "127.0.0.1");
  try {
    // A burst from one client (a CRM's webhooks) uses up its own bucket only.
    assert.equal((await http.get(xff("198.51.100.1"))).status, 200);
    assert.equal((await http.get(xff("198.51.100.1"))).status, 200);
    const limited = await http.get(xff("198.51.100.1"));
    assert.equal(limited.status, 429);
    assert.match(limited.detail!, /too many requests from 198\.51\.100\.1;/);
    // Another user behind the same proxy is not locked out.
    assert.equal((await http.get(xff("198.51.100.2"))).status, 200);
    assert.equal((await http.get(xff("198.51.100.2"))).status, 200);
    // The access log names each client, not the proxy.
    const clients = s.logs.map((l) => JSON.parse(l)).filter((o) => o.msg === "request")
      .map((o) => o.client);
    assert.deepEqual(clients, [
      "198.51.100.1",
      "198.51.100.1",
      "198.51.100.1",
      "198.51.100.2",
      "198.51.100.2",
    ]);
  } finally {
    await http.close();
    await s.dispose();
  }
});

Deno.test("a spoofed X-Forwarded-For from an untrusted peer is ignored: the peer's bucket counts", async () => {
  // One server, two peers: the proxy on 127.0.0.1 (trusted) and a client on 127.0.0.2 (not).
  const s = await limitedServer(["127.0.0.1"]);
  const http = serve(s, "127.0.0.1");
  const direct = Deno.createHttpClient({ localAddress: "127.0.0.2" });
  try {
    // The direct client names a new address each time: it gets no new bucket, and uses up none
    // of the clients it names.
    assert.equal((await http.get(xff("203.0.113.1"), direct)).status, 200);
    assert.equal((await http.get(xff("203.0.113.2"), direct)).status, 200);
    const third = await http.get(xff("203.0.113.3"), direct);
    assert.equal(third.status, 429, "a new header is no new bucket");
    assert.match(third.detail!, /too many requests from 127\.0\.0\.2;/);
    assert.equal((await http.get({ forwarded: "for=203.0.113.4" }, direct)).status, 429);
    // The clients it named, forwarded by the trusted proxy, still have their whole buckets.
    for (const client of ["203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2"]) {
      assert.equal((await http.get(xff(client))).status, 200, client);
    }
  } finally {
    direct.close();
    await http.close();
    await s.dispose();
  }
  // With no proxy trusted (the default) the proxy's own address is every client's.
  const plain = await limitedServer([]);
  const http2 = serve(plain, "127.0.0.1");
  try {
    assert.equal((await http2.get(xff("203.0.113.1"))).status, 200);
    assert.equal((await http2.get(xff("203.0.113.2"))).status, 200);
    const third = await http2.get(xff("203.0.113.3"));
    assert.equal(third.status, 429);
    assert.match(third.detail!, /too many requests from 127\.0\.0\.1;/);
  } finally {
    await http2.close();
    await plain.dispose();
  }
});

Deno.test("a chain of proxies: the rightmost untrusted entry is the client, the leftmost is not believed", async () => {
  const s = await limitedServer(["127.0.0.1", "10.0.0.0/8"]);
  const http = serve(s, "127.0.0.1");
  try {
    // The attacker varies the entry it writes itself; the edge proxy 10.0.0.5 appends its peer.
    for (const spoof of ["6.6.6.1", "6.6.6.2"]) {
      assert.equal((await http.get(xff(`${spoof}, 198.51.100.9, 10.0.0.5`))).status, 200);
    }
    const limited = await http.get(xff("6.6.6.3, 198.51.100.9, 10.0.0.5"));
    assert.equal(limited.status, 429);
    assert.match(limited.detail!, /too many requests from 198\.51\.100\.9;/);
    assert.equal((await http.get(xff("198.51.100.9, 198.51.100.10, 10.0.0.5"))).status, 200);
  } finally {
    await http.close();
    await s.dispose();
  }
});

Deno.test("IPv6: a proxy on ::1 trusted by CIDR forwards IPv6 clients, each its own bucket", async () => {
  const s = await limitedServer(["::1/128"]);
  const http = serve(s, "::1");
  try {
    assert.equal((await http.get(xff("2001:db8::1"))).status, 200);
    assert.equal((await http.get(xff("2001:DB8:0::1"))).status, 200, "the same address");
    const limited = await http.get(xff("2001:db8::1"));
    assert.equal(limited.status, 429);
    assert.match(limited.detail!, /too many requests from 2001:db8::1;/);
    assert.equal((await http.get({ forwarded: 'for="[2001:db8::2]:4711"' })).status, 200);
    assert.equal((await http.get(xff("2001:db8::2"))).status, 200);
    assert.equal((await http.get(xff("2001:db8::2"))).status, 429);
  } finally {
    await http.close();
    await s.dispose();
  }
});
