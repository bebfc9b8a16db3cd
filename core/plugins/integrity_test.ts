import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { checkSri, hashFolder, hashFolderSync } from "./integrity.ts";
import { tempDir } from "./test_support.ts";

Deno.test("hashFolder covers paths and contents, skips .git, and matches the sync version", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "p");
  await Deno.mkdir(join(dir, "lib"), { recursive: true });
  await Deno.writeTextFile(join(dir, "a.ts"), "a");
  await Deno.writeTextFile(join(dir, "lib", "b.ts"), "b");
  const h1 = await hashFolder(dir);
  assert.match(h1, /^sha256-[A-Za-z0-9+/]{43}=$/);
  assert.equal(hashFolderSync(dir).integrity, h1);

  await Deno.mkdir(join(dir, ".git"));
  await Deno.writeTextFile(join(dir, ".git", "HEAD"), "x");
  await Deno.mkdir(join(dir, "empty"));
  assert.equal(await hashFolder(dir), h1);

  await Deno.rename(join(dir, "lib", "b.ts"), join(dir, "lib", "c.ts"));
  const renamed = await hashFolder(dir);
  assert.notEqual(renamed, h1);
  await Deno.rename(join(dir, "lib", "c.ts"), join(dir, "lib", "b.ts"));
  assert.equal(await hashFolder(dir), h1);

  // moving bytes between files changes the hash (sizes are part of it)
  await Deno.writeTextFile(join(dir, "a.ts"), "");
  await Deno.writeTextFile(join(dir, "lib", "b.ts"), "ab");
  assert.notEqual(await hashFolder(dir), h1);

  await Deno.remove(join(dir, "a.ts"));
  await Deno.symlink(join(dir, "lib", "b.ts"), join(dir, "a.ts"));
  const linked = hashFolderSync(dir);
  assert.ok(linked.entries.some((e) => e.path === "a.ts" && e.type === "symlink"));
});

Deno.test("checkSri verifies npm's sha512 integrity and sha1 shasum", () => {
  const bytes = new TextEncoder().encode("tarball");
  const sha512 = `sha512-${createHash("sha512").update(bytes).digest("base64")}`;
  assert.equal(checkSri(bytes, sha512), undefined);
  assert.equal(checkSri(bytes, `sha1-xyz ${sha512}`), undefined);
  assert.match(checkSri(new TextEncoder().encode("other"), sha512)!, /does not match/);
  assert.equal(checkSri(bytes, createHash("sha1").update(bytes).digest("hex")), undefined);
  assert.match(checkSri(bytes, "md5-abc")!, /no sha512, sha384 or sha256/);
});
