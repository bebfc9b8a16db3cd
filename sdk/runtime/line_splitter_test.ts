import assert from "node:assert/strict";
import { LineSplitter, readLines } from "./protocol.ts";

const text = "first line\nzweite Zeile: größer ✓\n\n" + "x".repeat(300_000) +
  "é\nno newline at the end";
const bytes = new TextEncoder().encode(text);
const expected = text.split("\n");

Deno.test("readLines: pieces cut anywhere (inside characters, at newlines) give the same lines", async () => {
  for (const size of [1, 2, 3, 7, 4096, bytes.length]) {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size));
        c.close();
      },
    });
    const lines: string[] = [];
    for await (const l of readLines(stream)) lines.push(l);
    assert.deepEqual(lines, expected, `pieces of ${size} bytes`);
  }
});

Deno.test("LineSplitter: the caller may read into the same buffer again", () => {
  const lines = new LineSplitter();
  const buf = new Uint8Array(5);
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += buf.length) {
    const n = Math.min(buf.length, bytes.length - i);
    buf.set(bytes.subarray(i, i + n));
    out.push(...lines.push(buf.subarray(0, n)));
    buf.fill(0); // the next read overwrites the buffer
  }
  out.push(lines.end()!);
  assert.deepEqual(out, expected);
  assert.equal(lines.end(), undefined);
});
