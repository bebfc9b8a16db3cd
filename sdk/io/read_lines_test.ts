import assert from "node:assert/strict";
import { readLines } from "./read_lines.ts";

Deno.test("readLines reads from an offset, reports line ends, and notices the end of the file", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/f.txt`;
  await Deno.writeTextFile(path, "ab\r\ncdé\n\nlast");
  try {
    const a = await readLines(path, 0, 2);
    assert.deepEqual(a.lines, ["ab", "cdé"]);
    assert.deepEqual(a.ends, [4, 9]);
    assert.equal(a.eof, false);
    const b = await readLines(path, a.offset, 10);
    assert.deepEqual(b.lines, ["", "last"]);
    assert.equal(b.offset, 14);
    assert.equal(b.eof, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readLines with a fallback reads a line that is not UTF-8 in it and lists the line", async () => {
  const d = await Deno.makeTempDir();
  try {
    const path = `${d}/mixed.txt`;
    const bytes = [
      ...new TextEncoder().encode("caf\u00e9\n"),
      ...Uint8Array.from("K\u00f6ln\n", (c) => c.charCodeAt(0)),
      ...new TextEncoder().encode("S\u00fc\u00df"),
    ];
    await Deno.writeFile(path, Uint8Array.from(bytes));
    const r = await readLines(path, 0, 10, "utf-8", { fallback: "windows-1252" });
    assert.deepEqual(r.lines, ["caf\u00e9", "K\u00f6ln", "S\u00fc\u00df"]);
    assert.deepEqual(r.recoded, [1]);
    const plain = await readLines(path, 0, 10);
    assert.equal(plain.lines[1], "K\uFFFDln", "without a fallback: a replacement character");
    assert.equal(plain.recoded, undefined);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});
