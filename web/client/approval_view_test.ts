import assert from "node:assert/strict";
import { describeApproval, diffPermissions } from "../../core/plugins/describe.ts";
import type { ApprovalRequest } from "../../core/plugins/install.ts";
import type { ManifestPermissions } from "../../core/plugins/manifest.ts";
import { approvalView } from "./approval_view.ts";

const perms = (p: Partial<ManifestPermissions>): ManifestPermissions => ({
  net: [],
  read: [],
  write: [],
  env: [],
  ...p,
});

const BASE: ApprovalRequest = {
  name: "acme-enrich",
  version: "2.0.0",
  kind: "transform",
  description: "Adds ACME data",
  source: "/srv/plugins/acme-enrich",
  integrity: "sha256-AbCdEf0123456789+/=",
  permissions: { net: ["api.acme.example:443"], read: [], write: [], env: ["ACME_KEY"] },
  secrets: [],
  change: "install",
};

Deno.test("approval view: a first install reads as title, notes, permissions and integrity", () => {
  const req: ApprovalRequest = { ...BASE, secrets: ["ACME_TOKEN"], builtinVersion: "1.0.0" };
  const v = approvalView(describeApproval(req));
  assert.equal(
    v.title,
    "Install plugin acme-enrich@2.0.0 (transform) from /srv/plugins/acme-enrich",
  );
  assert.equal(v.notes[0], "Adds ACME data");
  assert.match(v.notes[1], /^\(a built-in acme-enrich@1\.0\.0 exists/);
  assert.equal(v.notes.length, 2);
  assert.equal(v.diff, undefined);
  assert.deepEqual(v.asks, [
    "may connect to api.acme.example:443",
    "no file access beyond its own code",
    "may read environment variable ACME_KEY",
    "may be given the secrets: ACME_TOKEN",
  ]);
  assert.equal(v.integrity, BASE.integrity);
});

Deno.test("approval view: an upgrade lists the added and removed permissions apart, without markers", () => {
  const before = perms({ net: ["api.acme.example:443"], env: ["ACME_KEY", "OLD_VAR"] });
  const after = perms({ net: ["api.acme.example:443", "evil.example.net:443"], env: ["ACME_KEY"] });
  const req: ApprovalRequest = {
    ...BASE,
    change: "upgrade",
    permissions: after,
    previous: { version: "1.0.0", approved: before, diff: diffPermissions(before, after) },
  };
  const lines = describeApproval(req);
  const v = approvalView(lines);
  assert.equal(v.diff?.heading, "Compared with the installed acme-enrich@1.0.0");
  assert.deepEqual(v.diff?.added, ["may connect to evil.example.net:443"]);
  assert.deepEqual(v.diff?.removed, ["may read environment variable OLD_VAR"]);
  assert.deepEqual(v.asks, [
    "may connect to api.acme.example:443",
    "may connect to evil.example.net:443",
    "no file access beyond its own code",
    "may read environment variable ACME_KEY",
  ]);
  assert.deepEqual(v.notes, ["Adds ACME data"]);
  // Nothing of the text is lost or shown twice: every line is a part, a heading or a marker.
  const parts = [v.title, ...v.notes, ...v.diff!.added, ...v.diff!.removed, ...v.asks];
  for (const l of parts) assert.doesNotMatch(l, /^[-+] |:$|^Integrity/, l);
  assert.equal(parts.filter((p) => p.includes("sha256-")).length, 0, "integrity only once");
  const words = lines.filter((l) =>
    !/^(Compared with .*|It asks for|\s*new permissions|\s*no longer asks for):?$/.test(l) &&
    !l.startsWith("Integrity: ")
  ).map((l) => l.trim().replace(/^[-+] /, ""));
  assert.deepEqual(words.sort(), [...parts].sort());
});

Deno.test("approval view: an upgrade that adds nothing has an empty added list", () => {
  const same = perms({ net: ["api.acme.example:443"] });
  const req: ApprovalRequest = {
    ...BASE,
    change: "reinstall",
    permissions: same,
    previous: { version: "2.0.0", approved: same, diff: diffPermissions(same, same) },
  };
  const v = approvalView(describeApproval(req));
  assert.deepEqual(v.diff, {
    heading: "Compared with the installed acme-enrich@2.0.0",
    added: [],
    removed: [],
  });
  assert.equal(v.asks.length, 3);
});
