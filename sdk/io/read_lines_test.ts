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
