import assert from "node:assert/strict";
import { startDnsServer } from "../../testing/dns_server.ts";
import { createTestCa } from "../../testing/test_ca.ts";
import { startConnectProxy } from "../../testing/connect_proxy.ts";
import { serveTcp } from "../../testing/tcp_server.ts";
import { DEFAULT_NETWORK, type NetworkSettings } from "../types.ts";
import { createNetRequester, RequestRefusedError } from "./net_requester.ts";

/**
 * A raw HTTP/1.1 server on loopback counting connections and requests. `drop(conn, n)` says
 * whether the n-th request (from 1) on the conn-th connection (from 1) is answered by closing
 * the connection instead.
 */
function rawServer(drop: (conn: number, n: number) => boolean = () => false) {
  const stats = { connections: 0, requests: 0 };
  const server = serveTcp(async (conn, id) => {
    stats.connections = id;
    const buf = new Uint8Array(8192);
    let text = "";
    for (let n = 0;;) {
      const got = await conn.read(buf);
      if (got === null) return;
      text += new TextDecoder().decode(buf.subarray(0, got));
      while (text.includes("\r\n\r\n")) {
        text = text.slice(text.indexOf("\r\n\r\n") + 4);
        n++;
        stats.requests++;
        if (drop(id, n)) return;
        const body = JSON.stringify({ conn: id, n });
        await conn.write(new TextEncoder().encode(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n` +
            `connection: keep-alive\r\n\r\n${body}`,
        ));
      }
    }
  });
  return { ...server, stats };
}

function network(dns: string, o: Partial<NetworkSettings> = {}): NetworkSettings {
  return {
    ...DEFAULT_NETWORK,
    dnsServers: [dns],
    allowPrivate: true,
    timeouts: { dns: 1000, connect: 2000, request: 3000 },
    ...o,
  };
}

Deno.test("net requester: one kept-alive connection for many calls; the address kept for its TTL", async () => {
  const dns = await startDnsServer({ zones: { "api.test": { A: ["127.0.0.1"], ttl: 60 } } });
  const server = rawServer();
  let clock = 1_000_000;
  const req = createNetRequester({ network: network(dns.address), now: () => clock });
  try {
    const url = `http://api.test:${server.port}/v1/x`;
    for (let i = 1; i <= 5; i++) {
      const res = await req({ url });
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.body), { conn: 1, n: i });
    }
    assert.equal(server.stats.connections, 1, "every call after the first reused the connection");
    assert.equal(dns.queries, 1, "one A query for five calls within the TTL");
    clock += 61_000;
    assert.equal((await req({ url })).status, 200);
    assert.equal(dns.queries, 2, "asked again once the TTL ran out");
    // The private-address check still runs on a remembered address.
    const strict = createNetRequester({
      network: network(dns.address, { allowPrivate: false }),
      now: () => clock,
    });
    try {
      await assert.rejects(() => strict({ url }), RequestRefusedError);
      await assert.rejects(() => strict({ url }), /private or reserved address/);
    } finally {
      strict.close();
    }
  } finally {
    req.close();
    await server.close();
    await dns.close();
  }
});

Deno.test("net requester: a call on a kept-alive connection the server closed goes again on a new one; a new connection's failure does not", async () => {
  const dns = await startDnsServer({ zones: { "api.test": { A: ["127.0.0.1"] } } });
  // The first connection serves one call and closes on the second without answering.
  const stale = rawServer((conn, n) => conn === 1 && n === 2);
  const req = createNetRequester({ network: network(dns.address) });
  try {
    const url = `http://api.test:${stale.port}/`;
    assert.deepEqual(JSON.parse((await req({ url })).body), { conn: 1, n: 1 });
    const again = await req({ url, method: "POST", body: "{}" });
    assert.deepEqual(JSON.parse(again.body), { conn: 2, n: 1 });
    assert.equal(stale.stats.requests, 3);

    // A connection that fails on its first call is not a stale one: the error comes back.
    const broken = rawServer((_conn, n) => n === 1);
    try {
      await assert.rejects(() => req({ url: `http://api.test:${broken.port}/` }), /hang up|reset/i);
      assert.equal(broken.stats.connections, 1);
    } finally {
      await broken.close();
    }
  } finally {
    req.close();
    await stale.close();
    await dns.close();
  }
});

Deno.test("net requester: HTTPS with the operator's CA keeps its connection too, per host name", async () => {
  const ca = await createTestCa();
  const dns = await startDnsServer({
    zones: { "api.test": { A: ["127.0.0.1"] }, "other.test": { A: ["127.0.0.1"] } },
  });
  const ports: number[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
    cert: await ca.issue({ commonName: "api.test", dnsNames: ["api.test", "other.test"] }),
    key: ca.leafKeyPem,
  }, (_req, info) => {
    ports.push((info.remoteAddr as Deno.NetAddr).port);
    return Response.json({ ok: true });
  });
  const req = createNetRequester({ network: network(dns.address, { caPem: ca.caPem }) });
  try {
    for (let i = 0; i < 4; i++) {
      const res = await req({ url: `https://api.test:${server.addr.port}/` });
      assert.equal(res.status, 200);
    }
    assert.equal(new Set(ports).size, 1, `one TLS connection for four calls (ports ${ports})`);
    // Another name (another SNI) gets a connection of its own.
    await req({ url: `https://other.test:${server.addr.port}/` });
    assert.equal(new Set(ports).size, 2);
    // Through a proxy: TLS with the name inside the tunnel to the address.
    const proxy = await startConnectProxy();
    const proxied = createNetRequester({
      network: network(dns.address, { caPem: ca.caPem, proxy: proxy.url }),
    });
    try {
      for (let i = 0; i < 2; i++) {
        assert.equal((await proxied({ url: `https://api.test:${server.addr.port}/` })).status, 200);
      }
      assert.deepEqual(proxy.tunnels, [`127.0.0.1:${server.addr.port}`]);
    } finally {
      proxied.close();
      await proxy.close();
    }
    // Without the CA the certificate is refused.
    const strict = createNetRequester({ network: network(dns.address) });
    try {
      await assert.rejects(() => strict({ url: `https://api.test:${server.addr.port}/` }));
    } finally {
      strict.close();
    }
  } finally {
    req.close();
    await server.shutdown();
    await dns.close();
  }
});

Deno.test("net requester: without DNS servers the system resolver's private answers are refused too", async () => {
  const server = rawServer();
  const refusing = createNetRequester({
    network: { ...DEFAULT_NETWORK, dnsServers: [], allowPrivate: false },
  });
  const allowing = createNetRequester({
    network: { ...DEFAULT_NETWORK, dnsServers: [], allowPrivate: true },
  });
  try {
    const err = await refusing({ url: `http://localhost:${server.port}/` }).catch((e) => e);
    assert.ok(err instanceof RequestRefusedError, String(err));
    assert.match(err.message, /localhost resolves to (127\.0\.0\.1|::1), a private or reserved/);
    assert.equal(server.stats.connections, 0, "never connected");
    const res = await allowing({ url: `http://localhost:${server.port}/` });
    assert.equal(res.status, 200);
  } finally {
    refusing.close();
    allowing.close();
    await server.close();
  }
});

Deno.test("net requester: through network.proxy, a CONNECT tunnel to the checked address, kept for the next calls", async () => {
  const dns = await startDnsServer({ zones: { "api.test": { A: ["127.0.0.1"] } } });
  const server = rawServer();
  const proxy = await startConnectProxy({ deny: (t) => t.endsWith(":1") });
  const req = createNetRequester({ network: network(dns.address, { proxy: proxy.url }) });
  try {
    for (let i = 1; i <= 3; i++) {
      const res = await req({ url: `http://api.test:${server.port}/`, method: "POST", body: "{}" });
      assert.deepEqual(JSON.parse(res.body), { conn: 1, n: i });
    }
    assert.deepEqual(proxy.tunnels, [`127.0.0.1:${server.port}`], "one tunnel, to the address");
    await assert.rejects(
      () => req({ url: "http://api.test:1/" }),
      /proxy 127\.0\.0\.1:\d+, tunnel to 127\.0\.0\.1:1: refused: HTTP\/1\.1 403/,
    );
    // The private-address check still runs first: nothing reaches the proxy.
    const strict = createNetRequester({
      network: network(dns.address, { proxy: proxy.url, allowPrivate: false }),
    });
    try {
      await assert.rejects(() => strict({ url: `http://api.test:${server.port}/` }), /private/);
      assert.equal(proxy.tunnels.length, 1);
    } finally {
      strict.close();
    }
    assert.throws(
      () => createNetRequester({ network: network(dns.address, { proxy: "socks5://x:1" }) }),
      /network\.proxy "socks5:\/\/x:1": not an http:\/\/ proxy URL/,
    );
  } finally {
    req.close();
    await proxy.close();
    await server.close();
    await dns.close();
  }
});
