import assert from "node:assert/strict";
import { startDnsServer } from "../../testing/dns_server.ts";
import { DnsClient } from "./dns_client.ts";
import { lookupDomain, lookupHost } from "./dns_lookup.ts";

const zones = {
  "shop.test": {
    A: ["192.0.2.10"],
    AAAA: ["2001:db8::10"],
    NS: ["NS2.Host.test.", "ns1.host.test"],
    MX: [{ preference: 20, exchange: "mx2.mail.test" }, {
      preference: 10,
      exchange: "mx1.mail.test",
    }],
    TXT: ["v=spf1 include:mail.test -all", "x".repeat(300)],
  },
  "www.shop.test": { CNAME: "edge.cdn.test" },
  "edge.cdn.test": { CNAME: "lb.cdn.test" },
  "lb.cdn.test": { A: ["192.0.2.20"] },
  "bare.test": { SOA: { mname: "ns.bare.test", rname: "h.bare.test" } },
  "nomail.test": { A: ["192.0.2.30"], MX: [{ preference: 0, exchange: "." }] },
  "broken.test": { behaviour: "servfail" as const },
  "refusing.test": { behaviour: "refused" as const },
  "silent.test": { behaviour: "drop" as const },
  "halfway.test": { A: ["192.0.2.40"] },
  "www.halfway.test": { behaviour: "drop" as const },
  "www.dangling.test": { CNAME: "deleted-app.cloud.test" },
};

async function withDns(fn: (client: DnsClient) => Promise<void>) {
  const server = await startDnsServer({ zones });
  using client = new DnsClient({ servers: [server.address], timeoutMs: 150, attempts: 2 });
  try {
    await fn(client);
  } finally {
    await server.close();
  }
}

Deno.test("lookupDomain gathers apex, www with its CNAME chain, NS, MX and TXT", async () => {
  await withDns(async (client) => {
    const r = await lookupDomain(client, "shop.test");
    assert.deepEqual(r, {
      status: "ok",
      apex: { status: "ok", a: ["192.0.2.10"], aaaa: ["2001:db8::10"], cname: [] },
      www: { status: "ok", a: ["192.0.2.20"], aaaa: [], cname: ["edge.cdn.test", "lb.cdn.test"] },
      ns: ["ns1.host.test", "ns2.host.test"],
      mx: [{ priority: 10, exchange: "mx1.mail.test" }, {
        priority: 20,
        exchange: "mx2.mail.test",
      }],
      txt: ["v=spf1 include:mail.test -all", "x".repeat(300)],
    });
  });
});

Deno.test("lookupDomain: an existing name without addresses, and a null MX", async () => {
  await withDns(async (client) => {
    const bare = await lookupDomain(client, "bare.test");
    assert.equal(bare.status, "ok");
    assert.deepEqual([bare.apex.a, bare.apex.aaaa], [[], []]);
    assert.equal(bare.www.status, "nxdomain");
    const nomail = await lookupDomain(client, "nomail.test");
    assert.deepEqual(nomail.mx, [{ priority: 0, exchange: "." }]);
  });
});

Deno.test("lookupDomain statuses: nxdomain, servfail, refused, and unknown on timeout", async () => {
  await withDns(async (client) => {
    const cases: [string, string, RegExp][] = [
      ["missing.test", "nxdomain", /NXDOMAIN/],
      ["broken.test", "servfail", /SERVFAIL/],
      ["refusing.test", "refused", /REFUSED/],
      ["silent.test", "unknown", /timeout/],
    ];
    for (const [name, status, reason] of cases) {
      const r = await lookupDomain(client, name);
      assert.equal(r.status, status, name);
      assert.match(r.reason ?? "", reason, name);
      assert.deepEqual([r.apex.a, r.ns, r.mx, r.txt], [[], [], [], []]);
      assert.equal(r.www.status, status);
    }
  });
});

Deno.test("lookupDomain marks a result partial when a secondary lookup timed out", async () => {
  await withDns(async (client) => {
    const r = await lookupDomain(client, "halfway.test");
    assert.equal(r.status, "ok");
    assert.equal(r.www.status, "unknown");
    assert.equal(r.partial, true);
  });
});

Deno.test("lookupHost: resolver unreachable is unknown, never nxdomain", async () => {
  const server = await startDnsServer({ zones });
  const address = server.address;
  await server.close(); // nothing listens there any more
  using client = new DnsClient({ servers: [address], timeoutMs: 100, attempts: 1 });
  const h = await lookupHost(client, "shop.test");
  assert.equal(h.status, "unknown");
  assert.deepEqual(h.a, []);
});

Deno.test("lookupHost keeps the CNAME chain of a dangling alias (NXDOMAIN at its end)", async () => {
  await withDns(async (client) => {
    const r = await lookupHost(client, "www.dangling.test");
    assert.equal(r.status, "nxdomain");
    assert.deepEqual(r.cname, ["deleted-app.cloud.test"]);
  });
});

Deno.test("lookupHost: a failed A query with no AAAA address is that failure, never a bare 'no address'", async () => {
  // A fails (SERVFAIL for the apexes, dropped for www), AAAA answers: NODATA or an address.
  const server = await startDnsServer({
    zones: (name, type) => {
      if (type !== "A") return undefined;
      if (name.startsWith("www.")) {
        return { rcode: "NOERROR", answers: [], authorities: [], behaviour: "drop" };
      }
      return { rcode: "SERVFAIL", answers: [], authorities: [] };
    },
    zoneData: {
      "half.test": { TXT: ["v=spf1 -all"], MX: [{ preference: 10, exchange: "mx.half.test" }] },
      "www.half.test": { TXT: ["x"] },
      "six.test": { AAAA: ["2001:db8::6"] },
    },
  });
  using client = new DnsClient({ servers: [server.address], timeoutMs: 150, attempts: 2 });
  try {
    const half = await lookupDomain(client, "half.test");
    assert.equal(half.status, "ok", "AAAA answered NOERROR: the name exists");
    assert.equal(half.partial, true);
    assert.equal(half.apex.status, "servfail");
    assert.deepEqual(half.apex.failed, ["A"]);
    assert.match(half.apex.reason ?? "", /^A query failed \(SERVFAIL from .*\); AAAA answered no/);
    assert.equal(half.www.status, "unknown", "www was asked: its A query timed out");
    assert.deepEqual(half.www.failed, ["A"]);
    assert.match(half.www.reason ?? "", /^A query failed \(timeout: /);
    assert.deepEqual(half.mx, [{ priority: 10, exchange: "mx.half.test" }]);

    const six = await lookupHost(client, "six.test");
    assert.equal(six.status, "ok", "an IPv6 address is an address");
    assert.deepEqual(six.aaaa, ["2001:db8::6"]);
    assert.deepEqual(six.failed, ["A"]);
    assert.match(six.reason ?? "", /^A query failed \(SERVFAIL/);
  } finally {
    await server.close();
  }
});
