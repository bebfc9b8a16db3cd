import assert from "node:assert/strict";
import { join } from "node:path";
import { ArchiveError, extractTarGz } from "./tar.ts";
import { listTree, makeTarGz, tempDir } from "./test_support.ts";

Deno.test("extractTarGz writes files, folders and pax long names", async () => {
  await using tmp = await tempDir();
  const long = `package/${"deep/".repeat(30)}file.txt`;
  const tgz = await makeTarGz([
    { path: "package/", type: "dir" },
    { path: "package/plugin.json", body: "{}" },
    { path: "./package/lib/a.ts", body: "export const a = 1;" },
    { path: long, body: "far" },
  ]);
  const files = await extractTarGz(tgz, tmp.path);
  assert.deepEqual(files, [long, "package/lib/a.ts", "package/plugin.json"].sort());
  assert.equal(await Deno.readTextFile(join(tmp.path, long)), "far");
  assert.equal(await Deno.readTextFile(join(tmp.path, "package/lib/a.ts")), "export const a = 1;");
});

Deno.test("extractTarGz reads archives made by the system tar (GNU long names)", async () => {
  await using tmp = await tempDir();
  const src = join(tmp.path, "src");
  const name = "n".repeat(120) + ".txt";
  await Deno.mkdir(join(src, "package"), { recursive: true });
  await Deno.writeTextFile(join(src, "package", name), "long");
  await Deno.writeTextFile(join(src, "package", "plugin.json"), "{}");
  const tgz = join(tmp.path, "p.tgz");
  const out = await new Deno.Command("tar", { args: ["-czf", tgz, "-C", src, "package"] }).output();
  assert.ok(out.success);
  const dest = join(tmp.path, "dest");
  const file = await Deno.open(tgz);
  const files = await extractTarGz(file.readable, dest);
  assert.deepEqual(files, [`package/${name}`, "package/plugin.json"]);
  assert.equal(await Deno.readTextFile(join(dest, "package", name)), "long");
});

const hostile: [string, Parameters<typeof makeTarGz>[0], RegExp][] = [
  ["a .. path", [{ path: "package/../../evil.txt", body: "x" }], /evil\.txt" climbs out/],
  ["an absolute path", [{ path: "/tmp/evil.txt", body: "x" }], /is an absolute path/],
  [
    "a symlink to outside",
    [{ path: "package/passwd", type: "symlink", target: "/etc/passwd" }],
    /points outside the plugin folder/,
  ],
  [
    "a relative symlink climbing out",
    [{ path: "package/up", type: "symlink", target: "../../x" }],
    /points outside the plugin folder/,
  ],
  [
    "a hard link to outside",
    [{ path: "package/h", type: "hardlink", target: "../etc/shadow" }],
    /points outside the plugin folder/,
  ],
  [
    "a link to a folder",
    [{ path: "package/sub/", type: "dir" }, { path: "package/l", type: "symlink", target: "sub" }],
    /does not point to a file of the archive/,
  ],
];

for (const [what, entries, message] of hostile) {
  Deno.test(`extractTarGz refuses ${what} and writes nothing outside`, async () => {
    await using tmp = await tempDir();
    const dest = join(tmp.path, "a", "b", "dest");
    await assert.rejects(
      extractTarGz(await makeTarGz(entries), dest, { displayName: "evil.tgz" }),
      (e: Error) =>
        e instanceof ArchiveError && message.test(e.message) && e.message.startsWith("evil.tgz: "),
    );
    const tree = await listTree(tmp.path);
    const outside = tree.filter((p) => !p.startsWith("a/b/dest") && p !== "a/" && p !== "a/b/");
    assert.deepEqual(outside, []);
    assert.ok(!tree.some((p) => p.endsWith("evil.txt")));
  });
}

Deno.test("extractTarGz turns links to files inside the archive into copies", async () => {
  await using tmp = await tempDir();
  const files = await extractTarGz(
    await makeTarGz([
      { path: "package/lib/real.ts", body: "real" },
      { path: "package/alias.ts", type: "symlink", target: "lib/real.ts" },
      { path: "package/lib/hard.ts", type: "hardlink", target: "package/lib/real.ts" },
    ]),
    tmp.path,
  );
  assert.deepEqual(files, ["package/alias.ts", "package/lib/hard.ts", "package/lib/real.ts"]);
  const st = await Deno.lstat(join(tmp.path, "package/alias.ts"));
  assert.ok(st.isFile && !st.isSymlink);
  assert.equal(await Deno.readTextFile(join(tmp.path, "package/alias.ts")), "real");
  assert.equal(await Deno.readTextFile(join(tmp.path, "package/lib/hard.ts")), "real");
});

Deno.test("extractTarGz reports truncated, corrupt and oversized archives", async () => {
  await using tmp = await tempDir();
  const tgz = await makeTarGz([{ path: "a.txt", body: "x".repeat(5000) }]);
  // a gzip of a cut tar
  const raw = new Uint8Array(
    await new Response(new Blob([tgz]).stream().pipeThrough(new DecompressionStream("gzip")))
      .arrayBuffer(),
  );
  const cut = new Uint8Array(
    await new Response(
      new Blob([raw.subarray(0, 2048)]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer(),
  );
  await assert.rejects(extractTarGz(cut, join(tmp.path, "1")), /truncated/);
  await assert.rejects(
    extractTarGz(new TextEncoder().encode("not gzip at all"), join(tmp.path, "2")),
    ArchiveError,
  );
  await assert.rejects(
    extractTarGz(tgz, join(tmp.path, "3"), { maxBytes: 1000 }),
    /exceed 1000 bytes/,
  );
});
