import assert from "node:assert/strict";
import {
  addsNothing,
  describeApproval,
  describePermissionDiff,
  describePermissions,
  diffPermissions,
  isWithin,
} from "./describe.ts";

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
