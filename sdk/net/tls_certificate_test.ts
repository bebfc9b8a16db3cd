import assert from "node:assert/strict";
import { startWebServers, WRONG_HOST_NAME } from "../../testing/web_server.ts";
import { startConnectProxy } from "../../testing/connect_proxy.ts";
import { certificateTarget, describeCertificate, grabCertificate } from "./tls_certificate.ts";
import type { PeerCertificate } from "node:tls";
import type { HttpProbeResult } from "./types.ts";

const DAY = 86_400_000;

Deno.test("grabCertificate describes the certificate a host presents: valid, expired, another name's, self-signed", async () => {
  const web = await startWebServers({
    sites: {
      "ok.test": { ips: ["127.9.6.1"], body: "<title>Ok</title>" },
      "www.ok.test": { ips: ["127.9.6.1"], body: "<title>Ok</title>" },
      "old.test": { ips: ["127.9.6.2"], tls: "expired", body: "<title>Old</title>" },
      "other.test": { ips: ["127.9.6.3"], tls: "wrong_host", body: "<title>Other</title>" },
      "own.test": { ips: ["127.9.6.4"], tls: "self_signed", body: "<title>Own</title>" },
    },
    httpOnlyAddresses: ["127.9.6.5"],
  });
  const proxy = await startConnectProxy();
  try {
    const now = Date.now();
    const grab = (host: string, ip: string, extra: { proxy?: string } = {}) =>
      grabCertificate({
        host,
        ip,
        port: web.httpsPort,
        target: "https://apex",
        timeoutMs: 2000,
        now: () => now,
        ...extra,
      });

    const ok = await grab("ok.test", "127.9.6.1");
    assert.equal(ok.error, undefined, ok.error);
    assert.deepEqual([ok.host, ok.ip, ok.target], ["ok.test", "127.9.6.1", "https://apex"]);
    assert.equal(ok.subject?.commonName, "ok.test");
    assert.equal(ok.issuer?.commonName, "Sluice Test CA");
    assert.ok(ok.dnsNames?.includes("ok.test"), `${ok.dnsNames}`);
    assert.equal(ok.coversHost, true);
    assert.equal(ok.selfIssued, false);
    assert.ok(ok.daysLeft! > 0, `${ok.daysLeft}`);
    assert.equal(ok.daysLeft, Math.floor((Date.parse(ok.validTo!) - now) / DAY));
    assert.ok(Date.parse(ok.validFrom!) < now);
    assert.match(ok.fingerprint256!, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.match(ok.serialNumber!, /^[0-9A-F]+$/);

    const old = await grab("old.test", "127.9.6.2");
    assert.ok(old.daysLeft! < -300, `expired a year ago: ${old.daysLeft}`);
    assert.equal(old.coversHost, true);

    const other = await grab("other.test", "127.9.6.3");
    assert.equal(other.subject?.commonName, WRONG_HOST_NAME);
    assert.equal(other.coversHost, false);

    // The simulated "self_signed" site's certificate comes from a CA nobody trusts.
    const own = await grab("own.test", "127.9.6.4");
    assert.match(own.issuer?.commonName ?? "", /untrusted/);
    assert.equal(own.selfIssued, false);

    // Through network.proxy: a CONNECT tunnel to the same address, the same certificate.
    const tunnelled = await grab("ok.test", "127.9.6.1", { proxy: proxy.url });
    assert.equal(tunnelled.fingerprint256, ok.fingerprint256);
    assert.deepEqual(proxy.tunnels, [`127.9.6.1:${web.httpsPort}`]);

    // No HTTPS listener there: an error, not a throw.
    const none = await grab("ok.test", "127.9.6.5");
    assert.match(none.error ?? "", /ECONNREFUSED|refused/i);
    assert.equal(none.subject, undefined);
  } finally {
    await proxy.close();
    await web.close();
  }
});

Deno.test("grabCertificate gives up within its time on a server that never finishes the handshake", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const c of listener) held.push(c); // accepts, never answers
  })();
  try {
    const t0 = performance.now();
    const r = await grabCertificate({
      host: "slow.test",
      ip: "127.0.0.1",
      port: listener.addr.port,
      target: "https://www",
      timeoutMs: 300,
    });
    assert.match(r.error ?? "", /no certificate in 300 ms/);
    assert.ok(performance.now() - t0 < 3000);
  } finally {
    listener.close();
    for (const c of held) c.close();
  }
});

Deno.test("certificateTarget: the first HTTPS attempt that reached the handshake", () => {
  const base = { status: "responded" as const };
  const refused = {
    target: "https://apex" as const,
    url: "https://a.test/",
    hops: [],
    error: {
      kind: "refused" as const,
      message: "",
      ours: false,
      url: "https://a.test/",
      ip: "192.0.2.1",
    },
  };
  const tlsFailed = {
    target: "https://www" as const,
    url: "https://www.a.test/",
    hops: [],
    error: {
      kind: "tls_expired" as const,
      message: "",
      ours: false,
      url: "https://www.a.test/",
      ip: "192.0.2.2",
    },
  };
  const answered = {
    target: "https://www" as const,
    url: "https://www.a.test/",
    hops: [{
      url: "https://www.a.test/",
      ip: "192.0.2.3",
      status: 301,
      location: "https://b.test/",
    }],
  };
  const plain = {
    target: "http://apex" as const,
    url: "http://a.test/",
    hops: [{ url: "http://a.test/", ip: "192.0.2.4", status: 200 }],
  };
  const r = (attempts: unknown[]) => ({ ...base, attempts }) as HttpProbeResult;
  assert.deepEqual(certificateTarget(r([refused, tlsFailed, plain])), {
    host: "www.a.test",
    ip: "192.0.2.2",
    target: "https://www",
  });
  assert.deepEqual(certificateTarget(r([refused, answered])), {
    host: "www.a.test",
    ip: "192.0.2.3",
    target: "https://www",
  });
  assert.equal(certificateTarget(r([refused, plain])), undefined, "HTTP only: no certificate");
  assert.equal(certificateTarget(r([])), undefined);
});

Deno.test("describeCertificate: a self-issued certificate, names in lists, wildcards", () => {
  const now = Date.parse("2026-11-30T00:00:00Z");
  const name = { CN: ["*.shop.test", "shop.test"], O: "Shop Ltd" };
  const cert = {
    subject: name,
    issuer: { ...name },
    subjectaltname: "DNS:*.shop.test, IP Address:192.0.2.1, DNS:shop.test",
    valid_from: "Nov  1 00:00:00 2026 GMT",
    valid_to: "Dec 10 12:00:00 2026 GMT",
    serialNumber: "0a1b",
    fingerprint256: "AA:BB",
  } as unknown as PeerCertificate;
  const d = describeCertificate(cert, {
    host: "www.shop.test",
    ip: "192.0.2.1",
    target: "https://www",
  }, now);
  assert.deepEqual(d, {
    host: "www.shop.test",
    ip: "192.0.2.1",
    target: "https://www",
    subject: { commonName: "*.shop.test", organization: "Shop Ltd" },
    issuer: { commonName: "*.shop.test", organization: "Shop Ltd" },
    dnsNames: ["*.shop.test", "shop.test"],
    validFrom: "2026-11-01T00:00:00.000Z",
    validTo: "2026-12-10T12:00:00.000Z",
    daysLeft: 10,
    serialNumber: "0A1B",
    fingerprint256: "AA:BB",
    selfIssued: true,
    coversHost: true,
  });
  const other = describeCertificate(cert, {
    host: "a.b.shop.test",
    ip: "192.0.2.1",
    target: "https://apex",
  }, now);
  assert.equal(other.coversHost, false, "a wildcard covers one label");
});
