import assert from "node:assert/strict";
import { buildSandboxCommand, isInside } from "../../sdk/runtime/sandbox_args.ts";
import {
  addsNothing,
  describeApproval,
  describePermissionDiff,
  describePermissions,
  describeRead,
  describeWrite,
  diffPermissions,
  isWithin,
} from "./describe.ts";
import { effectivePermissions } from "./permissions.ts";

Deno.test("describePermissions says what a plugin may do in plain words", () => {
  assert.deepEqual(
    describePermissions({
      net: ["rdap.org:443", "example.com", "*.whois.net:43"],
      read: ["cache/"],
      write: ["out/"],
      env: ["FOO"],
    }),
    [
      "may connect to rdap.org:443",
      "may connect to example.com on any port",
      "may connect to any subdomain of whois.net on port 43",
      "may read files in its data folder: cache/",
      "may write files in its data folder: out/",
      "may read environment variable FOO",
    ],
  );
  assert.deepEqual(describePermissions({}), [
    "no network access",
    "no file access beyond its own code",
    "no environment variables",
  ]);
});

Deno.test("diffPermissions and its text show added and removed permissions", () => {
  const diff = diffPermissions({ net: ["a.org:443"], env: ["OLD"] }, {
    net: ["a.org:443", "b.org:443"],
    env: [],
  });
  assert.deepEqual(diff.added, { net: ["b.org:443"], read: [], write: [], env: [] });
  assert.deepEqual(diff.removed, { net: [], read: [], write: [], env: ["OLD"] });
  assert.equal(addsNothing(diff), false);
  assert.deepEqual(describePermissionDiff(diff), [
    "new permissions:",
    "  + may connect to b.org:443",
    "no longer asks for:",
    "  - may read environment variable OLD",
  ]);
  const same = diffPermissions({ net: ["a.org:443"] }, { net: ["a.org:443"] });
  assert.deepEqual(describePermissionDiff(same), ["no new permissions"]);
  assert.ok(isWithin({ net: ["a.org:443"] }, { net: ["a.org:443", "b.org"] }));
  assert.ok(!isWithin({ env: ["X"] }, {}));
});

Deno.test("describeApproval shows the upgrade diff before the permissions", () => {
  const permissions = { net: ["rdap.org:443"], read: [], write: [], env: [] };
  const lines = describeApproval({
    name: "acme",
    version: "2.0.0",
    kind: "transform",
    description: "Looks things up",
    source: "npm:acme@2.0.0",
    integrity: "sha256-abc=",
    permissions,
    secrets: ["TOKEN"],
    change: "upgrade",
    previous: {
      version: "1.0.0",
      approved: { net: [], read: [], write: [], env: [] },
      diff: diffPermissions({}, permissions),
    },
  });
  assert.deepEqual(lines, [
    "Upgrade to plugin acme@2.0.0 (transform) from npm:acme@2.0.0",
    "  Looks things up",
    "Compared with the installed acme@1.0.0:",
    "  new permissions:",
    "    + may connect to rdap.org:443",
    "It asks for:",
    "  - may connect to rdap.org:443",
    "  - no file access beyond its own code",
    "  - no environment variables",
    "  - may be given the secrets: TOKEN",
    "Integrity: sha256-abc=",
  ]);
});

Deno.test("a grant of the whole data folder reads as such", () => {
  assert.deepEqual(
    describePermissions({ net: [], read: ["."], write: ["."], env: [] }),
    [
      "no network access",
      "may read files in its data folder",
      "may write files in its data folder",
      "no environment variables",
    ],
  );
});

Deno.test("read and write paths are described as the sandbox grants them", () => {
  assert.deepEqual(describePermissions({ read: [".", "cache", "/etc/ssl", "/"] }), [
    "no network access",
    "may read files in its data folder",
    "may read files in its data folder: cache",
    "may read ANY file under /etc/ssl — outside its data folder",
    "may read ANY file on the whole filesystem — outside its data folder",
    "no environment variables",
  ]);
  assert.deepEqual(describePermissions({ write: [".", "out", "/srv/out", "/"] }).slice(1, 5), [
    "may write files in its data folder",
    "may write files in its data folder: out",
    "asks to write under /srv/out — outside its data folder: never granted (a plugin writes " +
    "only under its data folder; a stage that keeps this fails to start)",
    "asks to write ANYWHERE on the filesystem — outside its data folder: never granted (a " +
    "plugin writes only under its data folder; a stage that keeps this fails to start)",
  ]);
  assert.equal(
    describeRead("../../sluice.kv"),
    'asks to read ../../sluice.kv, which climbs out of its folder with "..": refused, never granted',
  );
  assert.match(describeWrite("out/../../x"), /climbs out of its folder with "\.\.": refused/);
});

Deno.test("the sandbox grants exactly what the approval text says", () => {
  const dataDir = "/data/run1/acme";
  const approved = { read: [".", "cache", "/etc/ssl", "/"], write: ["out", "/srv/out"] };
  const effective = effectivePermissions(approved);
  const { args } = buildSandboxCommand({
    pluginDir: "/plugins/acme",
    dataDir,
    memoryMb: 64,
    hostConfig: "/app/deno.json",
    permissions: { ...effective, write: ["out"] },
    hostEnv: () => undefined,
  });
  const granted = args.find((a) => a.startsWith("--allow-read="))!.slice(13).split(",").slice(2);
  assert.deepEqual(granted, [dataDir, `${dataDir}/cache`, "/etc/ssl", "/"]);
  approved.read.forEach((p, i) => {
    const text = describeRead(p);
    const inData = isInside(dataDir, granted[i]);
    assert.equal(text.startsWith("may read files in its data folder"), inData, text);
    assert.equal(text.endsWith("— outside its data folder"), !inData, text);
    if (granted[i] === "/") assert.match(text, /ANY file on the whole filesystem/);
    else if (!inData) assert.ok(text.includes(`ANY file under ${granted[i]}`), text);
  });
  // A write outside the data folder is described as never granted, and it is not.
  assert.match(describeWrite("/srv/out"), /never granted/);
  assert.throws(
    () =>
      buildSandboxCommand({
        pluginDir: "/plugins/acme",
        dataDir,
        memoryMb: 64,
        hostConfig: "/app/deno.json",
        permissions: effective,
        hostEnv: () => undefined,
      }),
    /write permission "\/srv\/out" resolves to \/srv\/out, outside the plugin's data folder/,
  );
});
