import assert from "node:assert/strict";
import { classifyAddress, ipFamily, isPublicAddress, mayConnect, parseIPv6 } from "./address.ts";

Deno.test("classifyAddress: IPv4 special ranges", () => {
  const cases: [string, string][] = [
    ["8.8.8.8", "public"],
    ["93.184.216.34", "public"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "private"],
    ["127.0.0.1", "loopback"],
    ["127.250.3.4", "loopback"],
    ["169.254.169.254", "link_local"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.18.0.1", "reserved"],
    ["256.1.1.1", "invalid"],
    ["01.2.3.4", "invalid"],
    ["1.2.3", "invalid"],
  ];
  for (const [ip, cls] of cases) assert.equal(classifyAddress(ip), cls, ip);
});

Deno.test("classifyAddress: IPv6 ranges, mapped and embedded IPv4", () => {
  const cases: [string, string][] = [
    ["2606:4700::1111", "public"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1%eth0", "link_local"],
    ["fd00::1", "private"],
    ["fc12:3456::1", "private"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:8.8.8.8", "public"],
    ["64:ff9b::10.0.0.1", "private"],
    ["2002:c0a8:0101::1", "private"],
    ["[2606:4700::1]", "public"],
    ["1:2:3:4:5:6:7:8:9", "invalid"],
    ["2001:::1", "invalid"],
    ["example.com", "invalid"],
  ];
  for (const [ip, cls] of cases) assert.equal(classifyAddress(ip), cls, ip);
});

Deno.test("parseIPv6 expands :: and dotted tails", () => {
  assert.deepEqual(parseIPv6("1::2"), [1, 0, 0, 0, 0, 0, 0, 2]);
  assert.deepEqual(parseIPv6("::ffff:1.2.3.4"), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  assert.equal(parseIPv6("1.2.3.4"), undefined);
});

Deno.test("isPublicAddress, ipFamily and mayConnect", () => {
  assert.equal(isPublicAddress("1.1.1.1"), true);
  assert.equal(isPublicAddress("10.0.0.1"), false);
  assert.equal(ipFamily("1.1.1.1"), 4);
  assert.equal(ipFamily("::1"), 6);
  assert.equal(ipFamily("x"), 0);
  assert.equal(mayConnect("127.0.0.1", false), false);
  assert.equal(mayConnect("127.0.0.1", true), true);
  assert.equal(mayConnect("1.1.1.1", false), true);
  assert.equal(mayConnect("not-an-ip", true), false);
});
