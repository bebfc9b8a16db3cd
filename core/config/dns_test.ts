import assert from "node:assert/strict";
import { join } from "node:path";
import { parseResolvConf, systemDnsServers } from "./dns.ts";

Deno.test("parseResolvConf reads nameserver lines as ip:53", () => {
  const text = [
    "# generated",
    "search example.org",
    "nameserver 10.0.0.53",
    "nameserver  2001:db8::1 ; comment",
    "nameserver not-an-ip",
    "; nameserver 10.9.9.9",
    "nameserver 10.0.0.53",
    "options ndots:2",
  ].join("\n");
  assert.deepEqual(parseResolvConf(text), ["10.0.0.53:53", "[2001:db8::1]:53"]);
});

Deno.test("systemDnsServers reads the file and falls back to 127.0.0.1:53", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_dns_" });
  try {
    const path = join(dir, "resolv.conf");
    await Deno.writeTextFile(path, "nameserver 192.0.2.1\nnameserver 192.0.2.2\n");
    assert.deepEqual(await systemDnsServers({ path }), ["192.0.2.1:53", "192.0.2.2:53"]);
    await Deno.writeTextFile(path, "search local\n");
    assert.deepEqual(await systemDnsServers({ path }), ["127.0.0.1:53"]);
    assert.deepEqual(await systemDnsServers({ path: join(dir, "missing") }), ["127.0.0.1:53"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
