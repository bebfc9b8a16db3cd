import assert from "node:assert/strict";
import { startDnsServer } from "./dns_server.ts";
import { queryDns } from "./dns_client.ts";
import { Zone } from "./dns_zone.ts";

const zones = {
  "shop.com": {
    A: ["127.1.0.5"],
    AAAA: ["::1"],
    NS: ["ns1.host.net", "ns2.host.net"],
    MX: [{ preference: 10, exchange: "mx.host.net" }],
    TXT: ["v=spf1 include:_spf.google.com ~all"],
    SOA: { mname: "ns1.host.net", rname: "hostmaster.host.net" },
  },
  "www.shop.com": { CNAME: "edge.cdn.net" },
  "edge.cdn.net": { CNAME: "edge2.cdn.net" },
  "edge2.cdn.net": { A: ["127.1.0.9"] },
  "dangling.shop.com": { CNAME: "gone.cdn.net" },
  "mailonly.de": { MX: [{ preference: 0, exchange: "." }], SOA: { mname: "a.ns", rname: "b.ns" } },
  "*.wild.org": { A: ["127.1.0.7"] },
};

Deno.test("dns server: records, CNAME chains, NXDOMAIN and NODATA over UDP", async () => {
  const server = await startDnsServer({ zones });
  try {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    const a = await queryDns(server.address, "SHOP.com", "A");
    assert.equal(a.rcode, "NOERROR");
    assert.deepEqual(a.answers.map((r) => r.data), ["127.1.0.5"]);

    const aaaa = await queryDns(server.address, "shop.com", "AAAA");
    assert.deepEqual(aaaa.answers.map((r) => r.data), ["::1"]);
    const ns = await queryDns(server.address, "shop.com", "NS");
    assert.deepEqual(ns.answers.map((r) => r.data), ["ns1.host.net", "ns2.host.net"]);
    const mx = await queryDns(server.address, "shop.com", "MX");
    assert.deepEqual(mx.answers[0].data, { preference: 10, exchange: "mx.host.net" });
    const txt = await queryDns(server.address, "shop.com", "TXT");
    const txtData = txt.answers[0].data as Uint8Array[];
    assert.equal(new TextDecoder().decode(txtData[0]), "v=spf1 include:_spf.google.com ~all");
    const soa = await queryDns(server.address, "shop.com", "SOA");
    assert.equal((soa.answers[0].data as { mname: string }).mname, "ns1.host.net");

    // CNAME chain followed for A, as a recursive resolver returns it.
    const chain = await queryDns(server.address, "www.shop.com", "A");
    assert.equal(chain.rcode, "NOERROR");
    assert.deepEqual(chain.answers.map((r) => [r.type, r.data]), [
      ["CNAME", "edge.cdn.net"],
      ["CNAME", "edge2.cdn.net"],
      ["A", "127.1.0.9"],
    ]);
    // Asked for the CNAME itself: only the CNAME.
    const cname = await queryDns(server.address, "www.shop.com", "CNAME");
    assert.deepEqual(cname.answers.map((r) => r.data), ["edge.cdn.net"]);
    // Dangling CNAME: NXDOMAIN with the CNAME kept in the answer.
    const dangling = await queryDns(server.address, "dangling.shop.com", "A");
    assert.equal(dangling.rcode, "NXDOMAIN");
    assert.equal(dangling.answers[0].type, "CNAME");

    // NXDOMAIN: SOA of the enclosing zone in authority, or the public suffix's.
    const nx = await queryDns(server.address, "nope.shop.com", "A");
    assert.equal(nx.rcode, "NXDOMAIN");
    assert.equal(nx.answers.length, 0);
    assert.equal(nx.authorities[0].type, "SOA");
    assert.equal(nx.authorities[0].name, "shop.com");
    const nx2 = await queryDns(server.address, "unknown-business.co.uk", "A");
    assert.equal(nx2.rcode, "NXDOMAIN");
    assert.equal(nx2.authorities[0].name, "co.uk");

    // NODATA: name exists, no record of that type.
    const nodata = await queryDns(server.address, "mailonly.de", "A");
    assert.equal(nodata.rcode, "NOERROR");
    assert.equal(nodata.answers.length, 0);
    assert.equal(nodata.authorities[0].type, "SOA");
    const nullMx = await queryDns(server.address, "mailonly.de", "MX");
    assert.deepEqual(nullMx.answers[0].data, { preference: 0, exchange: "." });

    // Wildcards.
    const wild = await queryDns(server.address, "anything.deep.wild.org", "A");
    assert.deepEqual(wild.answers.map((r) => r.data), ["127.1.0.7"]);

    assert.equal(server.queries, 14);
  } finally {
    await server.close();
  }
});

Deno.test("dns server: servfail, refused, slow, drop and truncate behaviours", async () => {
  const server = await startDnsServer({ zones });
  try {
    server.setBehaviour("shop.com", "servfail");
    assert.equal((await queryDns(server.address, "shop.com", "A")).rcode, "SERVFAIL");
    server.setBehaviour("shop.com", "refused");
    assert.equal((await queryDns(server.address, "shop.com", "A")).rcode, "REFUSED");

    server.setBehaviour("shop.com", "drop");
    await assert.rejects(
      queryDns(server.address, "shop.com", "A", { timeoutMs: 300 }),
      { name: "TimeoutError" },
    );

    // slow: the answer comes, but only after the delay (a short client timeout misses it).
    server.setBehaviour("shop.com", { slowMs: 400 });
    await assert.rejects(
      queryDns(server.address, "shop.com", "A", { timeoutMs: 100 }),
      { name: "TimeoutError" },
    );
    const slow = await queryDns(server.address, "shop.com", "A", { timeoutMs: 3000 });
    assert.deepEqual(slow.answers.map((r) => r.data), ["127.1.0.5"]);

    server.setBehaviour("shop.com", "truncate");
    const udp = await queryDns(server.address, "shop.com", "A");
    assert.equal(udp.truncated, true);
    assert.equal(udp.answers.length, 0);
    const tcp = await queryDns(server.address, "shop.com", "A", { tcp: true });
    assert.equal(tcp.truncated, false);
    assert.deepEqual(tcp.answers.map((r) => r.data), ["127.1.0.5"]);

    server.setBehaviour("shop.com", undefined);
    assert.equal((await queryDns(server.address, "shop.com", "A")).rcode, "NOERROR");
  } finally {
    await server.close();
  }
});

Deno.test("dns server: big answers truncate over UDP unless EDNS allows them", async () => {
  const txt = Array.from({ length: 12 }, (_, i) => `verification-${i}=${"x".repeat(60)}`);
  const server = await startDnsServer({ zones: { "big.net": { TXT: txt } } });
  try {
    const udp = await queryDns(server.address, "big.net", "TXT");
    assert.equal(udp.truncated, true);
    const tcp = await queryDns(server.address, "big.net", "TXT", { tcp: true });
    assert.equal(tcp.answers.length, 12);
    const edns = await queryDns(server.address, "big.net", "TXT", { ednsSize: 4096 });
    assert.equal(edns.truncated, false);
    assert.equal(edns.answers.length, 12);
  } finally {
    await server.close();
  }
});

Deno.test("dns server: setRecord, removeName and a resolver function", async () => {
  const server = await startDnsServer({
    zones: (name, type) =>
      name === "fn.example.com" && type === "A"
        ? {
          rcode: "NOERROR",
          answers: [{ name, type: "A", ttl: 60, data: "127.3.3.3" }],
          authorities: [],
        }
        : undefined,
    zoneData: { "static.com": { A: ["127.1.1.1"] } },
  });
  try {
    const fn = await queryDns(server.address, "fn.example.com", "A");
    assert.deepEqual(fn.answers.map((r) => r.data), ["127.3.3.3"]);
    assert.deepEqual(
      (await queryDns(server.address, "static.com", "A")).answers.map((r) => r.data),
      ["127.1.1.1"],
    );
    server.setRecord("new.com", { A: ["127.2.2.2"] });
    assert.deepEqual(
      (await queryDns(server.address, "new.com", "A")).answers.map((r) => r.data),
      ["127.2.2.2"],
    );
    server.removeName("new.com");
    assert.equal((await queryDns(server.address, "new.com", "A")).rcode, "NXDOMAIN");
  } finally {
    await server.close();
  }
});

Deno.test("zone: public suffixes exist (SOA, or no data), unknown top-level names do not", () => {
  const zone = new Zone({ "acme.com": { A: ["192.0.2.1"] } });
  for (const suffix of ["com", "co.uk", "github.io", "test"]) {
    const soa = zone.answer(`${suffix}.`, "SOA");
    assert.equal(soa.rcode, "NOERROR", suffix);
    assert.equal(soa.answers[0]?.type, "SOA", suffix);
    const a = zone.answer(suffix, "A");
    assert.deepEqual([a.rcode, a.answers.length], ["NOERROR", 0], suffix);
  }
  assert.equal(zone.answer("notatld", "SOA").rcode, "NXDOMAIN");
  assert.equal(zone.answer("gone.com", "A").rcode, "NXDOMAIN");
});
