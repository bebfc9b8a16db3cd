import assert from "node:assert/strict";
import dgram from "node:dgram";
import dnsPacket from "dns-packet";
import { startDnsServer } from "../../testing/dns_server.ts";
import {
  ALL_DOWN_BUDGET_MS,
  DnsClient,
  type DnsResponse,
  isDnsFailure,
  MIN_RECEIVE_BYTES,
  parseServer,
  QUERIES_PER_SOCKET,
} from "./dns_client.ts";

const zones = {
  "ok.test": { A: ["192.0.2.1", "192.0.2.2"], MX: [{ preference: 10, exchange: "mx.ok.test" }] },
  "alias.test": { CNAME: "ok.test" },
  "nodata.test": { TXT: ["v=spf1 -all"] },
  "broken.test": { A: ["192.0.2.9"], behaviour: "servfail" as const },
  "refuse.test": { A: ["192.0.2.9"], behaviour: "refused" as const },
  "drop.test": { A: ["192.0.2.9"], behaviour: "drop" as const },
  "big.test": { A: ["192.0.2.7"], behaviour: "truncate" as const },
};

Deno.test("parseServer reads ip:port, [v6]:port and bare addresses", () => {
  assert.deepEqual(parseServer("127.0.0.1:5353"), { host: "127.0.0.1", port: 5353, family: 4 });
  assert.deepEqual(parseServer("[::1]:53"), { host: "::1", port: 53, family: 6 });
  assert.deepEqual(parseServer("8.8.8.8"), { host: "8.8.8.8", port: 53, family: 4 });
  assert.deepEqual(parseServer("2001:db8::1"), { host: "2001:db8::1", port: 53, family: 6 });
  assert.throws(() => parseServer("dns.example:53"), /not an address/);
});

for (const udp of ["deno", "node"] as const) {
  Deno.test(`DnsClient tells NOERROR, NODATA, NXDOMAIN, SERVFAIL and REFUSED apart (UDP over ${udp})`, async () => {
    const server = await startDnsServer({ zones });
    using client = new DnsClient({ servers: [server.address], timeoutMs: 1000, udp });
    try {
      const ok = await client.query("ok.test", "A") as DnsResponse;
      assert.equal(ok.rcode, "NOERROR");
      assert.deepEqual(ok.answers.map((a) => a.data).sort(), ["192.0.2.1", "192.0.2.2"]);
      assert.equal(ok.tcp, false);
      const alias = await client.query("ALIAS.test", "A") as DnsResponse;
      assert.deepEqual(alias.answers.map((a) => [a.type, a.data]), [
        ["CNAME", "ok.test"],
        ["A", "192.0.2.1"],
        ["A", "192.0.2.2"],
      ]);
      const nodata = await client.query("nodata.test", "A") as DnsResponse;
      assert.equal(nodata.rcode, "NOERROR");
      assert.equal(nodata.answers.length, 0);
      assert.equal((await client.query("missing.test", "A") as DnsResponse).rcode, "NXDOMAIN");
      assert.equal((await client.query("broken.test", "A") as DnsResponse).rcode, "SERVFAIL");
      assert.equal((await client.query("refuse.test", "A") as DnsResponse).rcode, "REFUSED");
    } finally {
      await server.close();
    }
  });
}

Deno.test("DnsClient: a dropped query is a timeout failure after every attempt", async () => {
  const server = await startDnsServer({ zones });
  using client = new DnsClient({ servers: [server.address], timeoutMs: 100, attempts: 2 });
  try {
    const before = server.queries;
    const r = await client.query("drop.test", "A");
    assert.ok(isDnsFailure(r));
    assert.equal(r.failure, "timeout");
    assert.match(r.message, /no answer after 2 attempt/);
    assert.equal(server.queries - before, 2);
  } finally {
    await server.close();
  }
});

Deno.test("DnsClient retries on the next server after a timeout or SERVFAIL", async () => {
  const dead = await startDnsServer({ zones: { "ok.test": { behaviour: "drop" } } });
  const sick = await startDnsServer({ zones: { "ok.test": { behaviour: "servfail" } } });
  const good = await startDnsServer({ zones });
  using client = new DnsClient({
    servers: [dead.address, sick.address, good.address],
    timeoutMs: 150,
  });
  try {
    const r = await client.query("ok.test", "A") as DnsResponse;
    assert.equal(r.rcode, "NOERROR");
    assert.equal(r.server, good.address);
    assert.equal(dead.queries, 1);
    assert.equal(sick.queries, 1);
  } finally {
    await Promise.all([dead.close(), sick.close(), good.close()]);
  }
});

Deno.test("DnsClient falls back to TCP when the UDP answer is truncated", async () => {
  const server = await startDnsServer({ zones });
  using client = new DnsClient({ servers: [server.address], timeoutMs: 1000 });
  try {
    const r = await client.query("big.test", "A") as DnsResponse;
    assert.equal(r.rcode, "NOERROR");
    assert.equal(r.tcp, true);
    assert.deepEqual(r.answers.map((a) => a.data), ["192.0.2.7"]);
  } finally {
    await server.close();
  }
});

Deno.test("DnsClient takes a UDP answer longer than the payload it advertised, whole", async () => {
  // A server that ignores the EDNS size (1232) and answers 12 TXT strings of 250 bytes in one
  // datagram: the socket's receive buffer must hold it, or the answer is cut and dropped.
  const strings = Array.from({ length: 12 }, (_, i) => `s${i}-`.padEnd(250, "x"));
  const server = dgram.createSocket("udp4");
  let size = 0;
  server.on("message", (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0].name;
    const out = dnsPacket.encode({
      id: q.id,
      type: "response",
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: (name === "long.test" ? strings : ["short"]).map((data) => ({
        type: "TXT",
        name,
        ttl: 60,
        data,
      })),
    });
    if (name === "long.test") size = out.length;
    server.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, "127.0.0.1", () => r()));
  using client = new DnsClient({
    servers: [`127.0.0.1:${server.address().port}`],
    timeoutMs: 1000,
    attempts: 1,
  });
  try {
    // A first answer: node:dgram has begun its first read before the socket's size is set.
    assert.ok(!isDnsFailure(await client.query("short.test", "TXT")));
    const r = await client.query("long.test", "TXT");
    assert.ok(!isDnsFailure(r), `answered: ${JSON.stringify(r)}`);
    assert.equal(r.tcp, false);
    assert.ok(size > 2 * 1232 && size <= MIN_RECEIVE_BYTES, `a ${size}-byte datagram`);
    const got = r.answers.map((a) => new TextDecoder().decode((a.data as Uint8Array[])[0]));
    assert.deepEqual(got, strings);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

Deno.test("DnsClient matches many concurrent answers to their queries on one socket", async () => {
  const data: Record<string, { A: string[] }> = {};
  for (let i = 0; i < 300; i++) data[`h${i}.test`] = { A: [`198.51.100.${i % 250}`] };
  const server = await startDnsServer({ zones: data });
  using client = new DnsClient({ servers: [server.address], timeoutMs: 2000, concurrency: 64 });
  try {
    const results = await Promise.all(
      Object.keys(data).map((name) => client.query(name, "A") as Promise<DnsResponse>),
    );
    results.forEach((r, i) => assert.deepEqual(r.answers.map((a) => a.data), data[`h${i}.test`].A));
    assert.equal(client.inFlight, 0);
  } finally {
    await server.close();
  }
});

Deno.test("DnsClient moves to a new source port every QUERIES_PER_SOCKET queries and closes the old", async () => {
  const data: Record<string, { A: string[] }> = {};
  const n = QUERIES_PER_SOCKET * 2 + 50;
  for (let i = 0; i < n; i++) data[`p${i}.test`] = { A: ["198.51.100.7"] };
  const ports = new Set<number>();
  const server = await startDnsServer({ zones: data, onUdpQuery: (from) => ports.add(from.port) });
  using client = new DnsClient({ servers: [server.address], timeoutMs: 2000, concurrency: 32 });
  try {
    const results = await Promise.all(Object.keys(data).map((name) => client.query(name, "A")));
    assert.ok(results.every((r) => !isDnsFailure(r) && r.rcode === "NOERROR"));
    assert.equal(ports.size, 3, `${n} queries from 3 source ports, got ${[...ports]}`);
    assert.equal(client.openSockets, 1, "replaced sockets are closed once their answers are in");
    assert.equal(client.inFlight, 0);
  } finally {
    await server.close();
  }
});

Deno.test("DnsClient without servers or when aborted fails without a verdict", async () => {
  using none = new DnsClient({ servers: [] });
  const r = await none.query("x.test", "A");
  assert.ok(isDnsFailure(r) && r.failure === "no_servers");
  const server = await startDnsServer({ zones });
  using client = new DnsClient({ servers: [server.address], timeoutMs: 5000 });
  try {
    const ac = new AbortController();
    const p = client.query("drop.test", "A", ac.signal);
    ac.abort();
    const a = await p;
    assert.ok(isDnsFailure(a) && a.failure === "aborted");
  } finally {
    await server.close();
  }
});

/** A server that drops every packet (a dead resolver). */
const blackhole = () =>
  startDnsServer({
    zones: () => ({ rcode: "NOERROR", answers: [], authorities: [], behaviour: "drop" }),
  });

Deno.test("DnsClient sets a dead server aside: 200 lookups cost it one wave of queries", async () => {
  const data: Record<string, { A: string[] }> = {};
  for (let i = 0; i < 200; i++) data[`d${i}.test`] = { A: [`198.51.100.${i % 250}`] };
  const dead = await blackhole();
  const good = await startDnsServer({ zones: data });
  const concurrency = 20;
  using client = new DnsClient({
    servers: [dead.address, good.address],
    timeoutMs: 400,
    concurrency,
    downCooldownMs: 600_000,
  });
  try {
    const results = await Promise.all(
      Object.keys(data).map((name) => client.query(name, "A") as Promise<DnsResponse>),
    );
    results.forEach((r, i) => {
      assert.equal(r.rcode, "NOERROR");
      assert.equal(r.server, good.address);
      assert.deepEqual(r.answers.map((a) => a.data), data[`d${i}.test`].A);
    });
    // Only the first wave (the queries in flight before its first silence) went there; before,
    // every one of the 200 queries waited for it first.
    assert.ok(dead.queries <= concurrency, `the dead server got ${dead.queries} queries`);
    assert.deepEqual(client.downServers, [dead.address]);
  } finally {
    await Promise.all([dead.close(), good.close()]);
  }
});

Deno.test("DnsClient probes a down server after its cool-down and takes it back when it answers", async () => {
  let silent = true;
  const flaky = await startDnsServer({
    zones: () =>
      silent ? { rcode: "NOERROR", answers: [], authorities: [], behaviour: "drop" } : undefined,
    zoneData: zones,
  });
  const good = await startDnsServer({ zones });
  using client = new DnsClient({
    servers: [flaky.address, good.address],
    timeoutMs: 300,
    downAfter: 1,
    downCooldownMs: 0,
  });
  try {
    const first = await client.query("ok.test", "A") as DnsResponse;
    assert.equal(first.server, good.address);
    assert.deepEqual(client.downServers, [flaky.address]);
    silent = false;
    const probe = await client.query("ok.test", "A") as DnsResponse;
    assert.equal(probe.server, flaky.address, "the cool-down is over: it is asked first again");
    assert.deepEqual(client.downServers, []);
  } finally {
    await Promise.all([flaky.close(), good.close()]);
  }
});

Deno.test("DnsClient never sets aside a server that answers other names while some stay silent", async () => {
  const server = await startDnsServer({ zones });
  using client = new DnsClient({ servers: [server.address], timeoutMs: 200 });
  try {
    const [a, b, c, ok] = await Promise.all([
      client.query("drop.test", "A"),
      client.query("drop.test", "AAAA"),
      client.query("drop.test", "MX"),
      client.query("ok.test", "A"),
    ]);
    for (const r of [a, b, c]) assert.ok(isDnsFailure(r) && r.failure === "timeout");
    assert.equal((ok as DnsResponse).rcode, "NOERROR");
    assert.deepEqual(client.downServers, []);
  } finally {
    await server.close();
  }
});

Deno.test("DnsClient: when every server is down, queries still go out on a short budget", async () => {
  const one = await blackhole();
  const two = await blackhole();
  using client = new DnsClient({
    servers: [one.address, two.address],
    timeoutMs: ALL_DOWN_BUDGET_MS + 200,
    downAfter: 1,
  });
  try {
    const first = await client.query("ok.test", "A");
    assert.ok(isDnsFailure(first) && first.failure === "timeout");
    assert.match(first.message, new RegExp(`in ${ALL_DOWN_BUDGET_MS + 200} ms`));
    assert.deepEqual(client.downServers, [one.address, two.address]);
    const later = await client.query("ok.test", "A");
    assert.ok(isDnsFailure(later) && later.failure === "timeout");
    assert.match(later.message, new RegExp(`in ${ALL_DOWN_BUDGET_MS} ms`));
    assert.equal(one.queries + two.queries, 4, "each query still asks both servers");
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});
