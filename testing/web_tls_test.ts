import assert from "node:assert/strict";
import { SAN_BATCH, SniCertificates } from "./web_tls.ts";
import { type CertSpec, createTestCa, type TestCa } from "./test_ca.ts";
import { startWebServers } from "./web_server.ts";
import { tlsHandshake } from "./http_client.ts";
import type { Site } from "./web_site.ts";

Deno.test("SniCertificates: valid hosts share certificates in batches, other modes get their own", async () => {
  const ca = await createTestCa();
  const sites = new Map<string, Site>();
  for (let i = 0; i < SAN_BATCH + 3; i++) sites.set(`h${i}.test`, { body: "x" });
  sites.set("old.test", { tls: "expired", body: "x" });
  const certs = new SniCertificates(ca, (h) => sites.get(h), () => sites.keys());
  const a = certs.pair("valid", "h0.test");
  assert.equal(certs.pair("valid", "h1.test"), a, "h0 and h1 share one certificate");
  assert.notEqual(certs.pair("valid", `h${SAN_BATCH}.test`), a, "a batch has a size limit");
  assert.notEqual(certs.pair("expired", "old.test"), a);
  await Promise.all([a, certs.pair("expired", "old.test")]);
});

/** A test CA that counts the certificates it issues (`issued`). */
async function countingCa(): Promise<TestCa & { issued: number }> {
  const ca = await createTestCa();
  const counting = {
    ...ca,
    issued: 0,
    issue: (spec: CertSpec) => (counting.issued++, ca.issue(spec)),
  };
  return counting;
}

Deno.test("SniCertificates.issueAll issues every certificate a handshake could ask for, once", async () => {
  const counting = await countingCa();
  const sites = new Map<string, Site>();
  for (let i = 0; i < SAN_BATCH + 3; i++) sites.set(`h${i}.test`, { body: "x" });
  sites.set("old.test", { tls: "expired", body: "x" });
  sites.set("plain.test", { tls: "none", body: "x" });
  const certs = new SniCertificates(counting, (h) => sites.get(h), () => sites.keys());
  // Two batches of valid hosts, the expired host's own, the default vhost's; none for plain.test.
  assert.equal(await certs.issueAll(sites.keys()), 4);
  assert.equal(counting.issued, 4);
  for (const name of [...sites.keys()].filter((n) => n !== "plain.test")) await certs.resolve(name);
  await certs.resolve("unknown.test");
  assert.equal(counting.issued, 4, "handshakes after issueAll issue nothing");
});

Deno.test("a shared certificate verifies for every name on it, and only for those", async () => {
  const sites: Record<string, Site> = {};
  for (let i = 0; i < 5; i++) sites[`s${i}.test`] = { ips: ["127.9.7.1"], body: "x" };
  const web = await startWebServers({ sites });
  try {
    for (let i = 0; i < 5; i++) {
      assert.equal(
        await tlsHandshake({
          ip: "127.9.7.1",
          port: web.httpsPort,
          host: `s${i}.test`,
          ca: web.caPem,
        }),
        "ok",
      );
    }
    // A name the server does not know gets the default-vhost certificate: wrong name.
    assert.match(
      await tlsHandshake({
        ip: "127.9.7.1",
        port: web.httpsPort,
        host: "other.test",
        ca: web.caPem,
      }),
      /NotValidForName|not valid for/i,
    );
  } finally {
    await web.close();
  }
});

Deno.test("startWebServers with issueCertificatesAhead has every certificate before the first handshake", async () => {
  const counting = await countingCa();
  const sites: Record<string, Site> = {};
  for (let i = 0; i < 3; i++) sites[`a${i}.test`] = { ips: ["127.9.7.2"], body: "x" };
  const web = await startWebServers({ sites, ca: counting, issueCertificatesAhead: true });
  try {
    assert.equal(
      counting.issued,
      2,
      "the shared certificate and the default vhost's, issued at start",
    );
    const ok = await tlsHandshake({
      ip: "127.9.7.2",
      port: web.httpsPort,
      host: "a1.test",
      ca: web.caPem,
    });
    assert.equal(ok, "ok");
    assert.equal(counting.issued, 2);
  } finally {
    await web.close();
  }
});
