import assert from "node:assert/strict";
import { normalizeDomain } from "./normalize_domain.ts";

Deno.test("normalizeDomain strips scheme, www, path, port and case", () => {
  const cases: [string, string, string][] = [
    ["Example.COM", "example.com", "example.com"],
    ["https://www.Example.com:8443/shop?x=1#top", "example.com", "www.example.com"],
    ["www.example.co.uk/", "example.co.uk", "www.example.co.uk"],
    ["shop.example.com.", "example.com", "shop.example.com"],
    ["  //example.org/path ", "example.org", "example.org"],
    ["info@bakery-smith.de", "bakery-smith.de", "bakery-smith.de"],
  ];
  for (const [input, domain, host] of cases) {
    const n = normalizeDomain(input);
    assert.ok(!("reason" in n), input);
    assert.deepEqual([n.domain, n.host], [domain, host], input);
  }
});

Deno.test("normalizeDomain converts IDNs to punycode", () => {
  const n = normalizeDomain("https://www.Bücher.de/");
  assert.ok(!("reason" in n));
  assert.deepEqual([n.domain, n.host, n.suffix], [
    "xn--bcher-kva.de",
    "www.xn--bcher-kva.de",
    "de",
  ]);
  const rf = normalizeDomain("пример.рф");
  assert.ok(!("reason" in rf));
  assert.equal(rf.domain, "xn--e1afmkfd.xn--p1ai");
});

Deno.test("normalizeDomain keeps private-suffix sites apart unless told otherwise", () => {
  const a = normalizeDomain("foo.github.io");
  assert.ok(!("reason" in a));
  assert.deepEqual([a.domain, a.privateSuffix], ["foo.github.io", true]);
  const b = normalizeDomain("foo.github.io", { privateSuffixes: false });
  assert.ok(!("reason" in b));
  assert.deepEqual([b.domain, b.privateSuffix], ["github.io", false]);
});

Deno.test("normalizeDomain rejects invalid names with a reason", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["   ", /empty/],
    ["192.168.1.1", /IP address/],
    ["http://[::1]/", /IP address/],
    ["localhost", /no top-level domain/],
    ["co.uk", /public suffix/],
    ["example.notatld", /unknown top-level domain ".notatld"/],
    ["exa mple.com", /not a valid host name/],
    ["a_b.com", /label "a_b" is invalid/],
    ["-bad.com", /label "-bad" is invalid/],
    ["ftp://example.com", /not a web address/],
    ["x".repeat(64) + ".com", /invalid/],
  ];
  for (const [input, reason] of cases) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, input);
    assert.match(n.reason, reason, input);
  }
});
