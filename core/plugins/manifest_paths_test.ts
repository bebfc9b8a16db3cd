import assert from "node:assert/strict";
import { hasParentSegment, ManifestPermissions } from "./manifest.ts";
import { parseManifest } from "./manifest_file.ts";
import { LockFile, readLock } from "./lockfile.ts";
import { effectivePermissions } from "./permissions.ts";

const base = { name: "acme", version: "1.0.0", kind: "transform" };

Deno.test("approved permissions: a read or write path with a .. segment is refused, naming the field and what to write", () => {
  for (
    const [kind, path] of [
      ["read", "../../sluice.kv"],
      ["read", "cache/../../x"],
      ["write", "out/.."],
      ["read", "/srv/../etc"],
      ["write", "a\\..\\b"],
    ] as const
  ) {
    const r = ManifestPermissions.safeParse({ [kind]: ["ok", path] });
    assert.ok(!r.success, `${kind} ${path} is refused`);
    const issue = r.error.issues[0];
    assert.deepEqual(issue.path, [kind, 1]);
    assert.match(issue.message, /climbs out of its folder with "\.\."/);
    assert.match(issue.message, /without "\.\.", e\.g\. "cache" or "cache\/index\.db"/);
  }
  assert.ok(ManifestPermissions.safeParse({ read: [".", "a..b", "c/..d", "/etc/ssl"] }).success);
});

Deno.test("plugin.json: .. and absolute read paths are refused with file, line, column and what to write", () => {
  const text = JSON.stringify(
    { ...base, permissions: { read: ["/", "../../sluice.kv"] } },
    null,
    2,
  );
  assert.throws(
    () => parseManifest(text, "acme/plugin.json"),
    (e: Error) => {
      const lines = e.message.split("\n");
      assert.equal(lines.length, 2, e.message);
      assert.match(
        lines[0],
        /^acme\/plugin\.json:7:7: "\/" must be relative to the plugin's data folder/,
      );
      assert.match(
        lines[1],
        /^acme\/plugin\.json:8:7: "\.\.\/\.\.\/sluice\.kv" must be relative to the plugin's data folder \(no leading \/, no \.\.\)/,
      );
      return true;
    },
  );
});

Deno.test("plugins.lock: an approved path with .. is refused when read", async () => {
  const lock = {
    lockfileVersion: 1,
    plugins: {
      acme: {
        "1.0.0": {
          version: "1.0.0",
          source: "npm:acme@1.0.0",
          integrity: "sha256-abc=",
          approved: { net: [], read: ["../../sluice.kv"], write: [], env: [] },
          installedAt: "2025-01-01T00:00:00.000Z",
        },
      },
    },
  };
  const dir = await Deno.makeTempDir({ prefix: "sluice_lock_" });
  try {
    await Deno.writeTextFile(`${dir}/plugins.lock`, JSON.stringify(lock));
    await assert.rejects(
      readLock(`${dir}/plugins.lock`),
      (e: Error) => {
        assert.ok(
          e.message.startsWith(
            `${dir}/plugins.lock: plugins.acme.1.0.0.approved.read.0: "../../sluice.kv" climbs ` +
              'out of its folder with ".."',
          ),
          e.message,
        );
        return true;
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const r = LockFile.safeParse(lock);
  assert.ok(!r.success);
  assert.deepEqual(r.error.issues[0].path, [
    "plugins",
    "acme",
    "1.0.0",
    "approved",
    "read",
    0,
  ]);
});

Deno.test("effective permissions: an approved path with .. is never granted as written", () => {
  // Only a hand-built permission set gets here (manifests and plugins.lock refuse it).
  for (const path of ["../../sluice.kv", "/srv/../etc", "cache/../.."]) {
    assert.throws(
      () => effectivePermissions({ read: [path] }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message.includes(`approved read permission "${path}" climbs out of its folder`),
    );
  }
  assert.throws(() => effectivePermissions({ write: ["../x"] }), RangeError);
  assert.ok(hasParentSegment("a/../b") && !hasParentSegment("a..b/c"));
});
