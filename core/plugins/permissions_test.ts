import assert from "node:assert/strict";
import {
  effectivePermissions,
  netCovered,
  normalizePermissionPath,
  pathCovered,
  PermissionWideningError,
  widenings,
} from "./permissions.ts";

const approved = {
  net: ["*.example.com", "api.test.net:443", "rdap.org", "10.0.0.5", "[::1]:8053"],
  read: ["data", "/srv/shared"],
  write: ["out"],
  env: ["PROBE_TOKEN", "AWS_*"],
};

Deno.test("net entries follow Deno's forms: host, host:port, *.domain, IPs", () => {
  assert.equal(netCovered("www.example.com", "*.example.com"), true);
  assert.equal(netCovered("a.b.example.com:8080", "*.example.com"), true);
  assert.equal(netCovered("*.cdn.example.com", "*.example.com"), true);
  assert.equal(
    netCovered("example.com", "*.example.com"),
    false,
    "wildcard covers subdomains only",
  );
  assert.equal(netCovered("badexample.com", "*.example.com"), false);
  assert.equal(netCovered("rdap.org:443", "rdap.org"), true, "a host without port covers any port");
  assert.equal(netCovered("RDAP.org", "rdap.org"), true);
  assert.equal(netCovered("api.test.net:443", "api.test.net:443"), true);
  assert.equal(netCovered("api.test.net:80", "api.test.net:443"), false);
  assert.equal(netCovered("api.test.net", "api.test.net:443"), false, "any port is wider");
  assert.equal(netCovered("10.0.0.5:53", "10.0.0.5"), true);
  assert.equal(netCovered("10.0.0.6", "10.0.0.5"), false);
  assert.equal(netCovered("[::1]:8053", "[::1]:8053"), true);
  assert.equal(netCovered("[::1]:9", "[::1]:8053"), false);
  assert.equal(netCovered("::1", "[::1]"), true);
  assert.equal(netCovered("host:notaport", "host"), false, "malformed entries are never covered");
});

Deno.test("paths are covered when equal to or under an approved path, after normalizing", () => {
  assert.equal(normalizePermissionPath("data/./a//b/../c"), "data/a/c");
  assert.equal(normalizePermissionPath("../x"), undefined);
  assert.equal(normalizePermissionPath("data/../../x"), undefined);
  assert.equal(normalizePermissionPath("/srv/../.."), undefined);
  assert.equal(pathCovered("data", "data"), true);
  assert.equal(pathCovered("data/sub/file.csv", "data"), true);
  assert.equal(pathCovered("data/../out", "data"), false);
  assert.equal(pathCovered("database", "data"), false, "a prefix is not a parent folder");
  assert.equal(pathCovered("/srv/shared/x", "/srv/shared"), true);
  assert.equal(pathCovered("srv/shared/x", "/srv/shared"), false, "relative is not absolute");
  assert.equal(pathCovered("anything/deep", "."), true);
});

Deno.test("widenings lists what a stage asks beyond the approved set", () => {
  assert.deepEqual(widenings(undefined, approved), []);
  assert.deepEqual(
    widenings(
      { net: ["www.example.com", "rdap.org:443"], read: ["data/in"], env: ["AWS_KEY"] },
      approved,
    ),
    [],
  );
  assert.deepEqual(
    widenings({
      net: ["evil.com", "api.test.net"],
      read: ["../secrets", "data2"],
      write: ["out/../data"],
      env: ["HOME"],
    }, approved),
    [
      `net "evil.com" is not in the plugin's approved net permissions (${approved.net.join(", ")})`,
      `net "api.test.net" is not in the plugin's approved net permissions (${
        approved.net.join(", ")
      })`,
      `read "../secrets" escapes its folder with ..`,
      `read "data2" is not in the plugin's approved read permissions (data, /srv/shared)`,
      `write "out/../data" is not in the plugin's approved write permissions (out)`,
      `env "HOME" is not in the plugin's approved env permissions (PROBE_TOKEN, AWS_*)`,
    ],
  );
  assert.deepEqual(widenings({ net: ["a.com"] }, {}), [
    `net "a.com" is not in the plugin's approved net permissions (nothing)`,
  ]);
});

Deno.test("effective permissions: the stage's list when given, else the approved list", () => {
  assert.deepEqual(effectivePermissions(approved), approved);
  assert.deepEqual(
    effectivePermissions(approved, {
      net: ["www.example.com"],
      read: ["data/./in", "data/in"],
      env: [],
    }),
    { net: ["www.example.com"], read: ["data/in"], write: ["out"], env: [] },
  );
  assert.deepEqual(effectivePermissions({}, undefined), { net: [], read: [], write: [], env: [] });
  assert.throws(
    () => effectivePermissions(approved, { net: ["evil.com"], env: ["HOME"] }),
    (e: Error) =>
      e instanceof PermissionWideningError && e.widenings.length === 2 &&
      e.message.startsWith(
        'stage permissions widen the plugin\'s approved permissions: net "evil.com"',
      ),
  );
});

Deno.test("an approved * covers any host; a stage may narrow it to named hosts", () => {
  const approved = { net: ["*"], read: [], write: [], env: [] };
  assert.deepEqual(widenings({ net: ["rdap.org:443", "*.example.com"] }, approved), []);
  assert.deepEqual(effectivePermissions(approved, { net: ["rdap.org:443"] }).net, ["rdap.org:443"]);
  assert.deepEqual(effectivePermissions(approved).net, ["*"]);
  assert.equal(
    widenings({ net: ["*"] }, { net: ["rdap.org"], read: [], write: [], env: [] }).length,
    1,
  );
});
