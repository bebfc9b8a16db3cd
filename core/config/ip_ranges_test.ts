import assert from "node:assert/strict";
import { formatIp, IpRanges, normalizeIp, parseIp, parseIpRange } from "./ip_ranges.ts";

Deno.test("addresses parse to bytes and print in one canonical form", () => {
  assert.deepEqual([...parseIp("192.0.2.1")!], [192, 0, 2, 1]);
  assert.equal(normalizeIp("::ffff:192.0.2.1"), "192.0.2.1", "IPv4-mapped IPv6 is IPv4");
  assert.equal(normalizeIp("[2001:DB8:0:0:0:0:0:1]"), "2001:db8::1");
  assert.equal(normalizeIp("fe80::1%eth0"), "fe80::1", "the zone id is dropped");
  assert.equal(normalizeIp("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1", "first longest run");
  assert.equal(normalizeIp("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1", "one zero: no ::");
  assert.equal(normalizeIp("::"), "::");
  assert.equal(normalizeIp("::1"), "::1");
  assert.equal(formatIp(parseIp("1::")!), "1::");
  for (
    const bad of ["", "unknown", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1:2:3", "::g"]
  ) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

Deno.test("ranges: single addresses and CIDRs of both families; host bits are cleared", () => {
  const proxies = IpRanges.parse(["127.0.0.1", "10.0.0.0/8", "192.168.1.7/24", "::1", "fd00::/8"]);
  for (const ip of ["127.0.0.1", "10.255.0.3", "192.168.1.200", "::1", "fd12:3456::9"]) {
    assert.ok(proxies.has(ip), ip);
  }
  for (const ip of ["127.0.0.2", "11.0.0.1", "192.168.2.1", "::2", "fe00::1", "junk"]) {
    assert.ok(!proxies.has(ip), ip);
  }
  assert.ok(proxies.has("::ffff:10.1.2.3"), "a dual-stack socket's IPv4-mapped peer");
  assert.ok(!IpRanges.parse(["0.0.0.0/0"]).has("::1"), "IPv4 ranges never hold IPv6");
  assert.ok(IpRanges.parse(["::/0"]).has("2001:db8::1"));
  assert.ok(IpRanges.parse(["::ffff:10.0.0.0/104"]).has("10.9.9.9"), "a mapped range is IPv4");
  assert.ok(IpRanges.parse(["2001:db8:abcd:12::/63"]).has("2001:db8:abcd:13::5"));
  assert.ok(!IpRanges.parse(["2001:db8:abcd:12::/63"]).has("2001:db8:abcd:14::5"));
  assert.ok(IpRanges.parse([]).empty);
});

Deno.test("malformed ranges are refused, naming the entry", () => {
  for (const bad of ["10.0.0/8", "10.0.0.0/33", "::1/129", "10.0.0.0/", "10.0.0.0/x", "host"]) {
    assert.equal(parseIpRange(bad), undefined, bad);
  }
  assert.equal(parseIpRange("fe80::1%eth0"), undefined, "no zone ids");
  assert.equal(parseIpRange("::ffff:10.0.0.0/95"), undefined, "a mapped range below /96");
  assert.throws(
    () => IpRanges.parse(["127.0.0.1", "10.0.0/8"]),
    (e: Error) => e instanceof RangeError && e.message.includes('"10.0.0/8"'),
  );
});
