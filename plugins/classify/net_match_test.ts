import assert from "node:assert/strict";
import { hostMatches, hostSuffixes, SuffixIndex } from "./net_match.ts";
import { defaultSignatures } from "./signatures.ts";

Deno.test("hostSuffixes: the host and each parent, lower case, without a trailing dot", () => {
  assert.deepEqual(hostSuffixes("Ns1.Sedo.COM."), ["ns1.sedo.com", "sedo.com", "com"]);
  assert.deepEqual(hostSuffixes("localhost"), ["localhost"]);
});

Deno.test("SuffixIndex: finds exactly the entries hostMatches finds, in list order", () => {
  const sigs = defaultSignatures();
  const lists = sigs.dnsServices.map((s) => [...s.ns, ...s.cname]);
  const index = new SuffixIndex(lists);
  const suffixes = [...new Set(lists.flat())];
  assert.ok(suffixes.length > 20, "the signatures have name-server suffixes");
  // Hosts that match (the suffix, a child, upper case, a trailing dot) and near misses (no dot
  // before the suffix, the suffix's parent alone).
  const hosts = suffixes.flatMap((s) => [
    s,
    `ns1.${s}`,
    `A.B.${s.toUpperCase()}.`,
    `x${s}`,
    s.slice(s.indexOf(".") + 1),
  ]);
  for (const host of hosts) {
    const expected = lists.flatMap((l, i) => l.some((s) => hostMatches(host, s)) ? [i] : []);
    assert.deepEqual(index.matches(host), expected, host);
  }
  assert.deepEqual(index.matches("example.org"), []);
});
