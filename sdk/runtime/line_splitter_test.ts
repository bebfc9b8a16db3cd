import assert from "node:assert/strict";
import { CUT_MARK, LineSplitter, LineTooLongError, readLines } from "./protocol.ts";

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

function pieces(data: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.slice(i, i + size));
  return out;
}

Deno.test("LineSplitter: a line over maxLineBytes throws before its text is kept, however it comes", () => {
  // 10 bytes a line at most: "ä" is 2 bytes, so "ääääää" (12 bytes) is over, "äääää" is not.
  const data = new TextEncoder().encode("short\näääää\n0123456789\nääääää and more\nnext\n");
  for (const size of [1, 3, 7, data.length]) {
    const lines = new LineSplitter({ maxLineBytes: 10 });
    const out: string[] = [];
    assert.throws(
      () => {
        for (const p of pieces(data, size)) for (const l of lines.push(p)) out.push(l);
      },
      (e: Error) => e instanceof LineTooLongError && e.limit === 10,
      `pieces of ${size} bytes`,
    );
    assert.deepEqual(out, ["short", "äääää", "0123456789"], `pieces of ${size} bytes`);
  }
  // Without a newline at all: it throws once the pending bytes pass the limit.
  const flood = new LineSplitter({ maxLineBytes: 1000 });
  let pushed = 0;
  assert.throws(() => {
    for (; pushed < 100; pushed++) [...flood.push(new Uint8Array(64).fill(120))];
  }, LineTooLongError);
  assert.equal(pushed, 15, "1024 bytes is the first amount over 1000");
});

Deno.test("LineSplitter: overflow truncate cuts a long line, marks it and keeps splitting", async () => {
  const text = `a\n${"x".repeat(50)}\n${"ü".repeat(30)}\nb\n${"y".repeat(40)}`;
  const data = new TextEncoder().encode(text);
  for (const size of [1, 5, 16, data.length]) {
    const stream = ReadableStream.from(pieces(data, size));
    const out: string[] = [];
    for await (const l of readLines(stream, { maxLineBytes: 20, overflow: "truncate" })) {
      out.push(l);
    }
    assert.equal(out.length, 5, `pieces of ${size} bytes`);
    assert.equal(out[0], "a");
    assert.equal(out[1], "x".repeat(20) + CUT_MARK);
    assert.ok(out[2].startsWith("üüüüüüüüüü") && out[2].endsWith(CUT_MARK), out[2]);
    assert.ok(!out[2].slice(0, -CUT_MARK.length).includes("\n"));
    assert.equal(out[3], "b");
    assert.equal(out[4], "y".repeat(20) + CUT_MARK, "the last line without a newline too");
  }
});

Deno.test("LineSplitter keepBytes: each line's bytes as they came, pieces cut anywhere and reused", () => {
  // Not UTF-8 here and there too: the bytes are kept as they came, the text has U+FFFD.
  const raw = new Uint8Array([...bytes.subarray(0, 40), 0xff, 0x0a, 0xc3, ...bytes.subarray(40)]);
  const want: Uint8Array[] = [];
  for (let at = 0;;) {
    const nl = raw.indexOf(0x0a, at);
    want.push(raw.slice(at, nl < 0 ? raw.length : nl));
    if (nl < 0) break;
    at = nl + 1;
  }
  const decoded = new TextDecoder().decode(raw).split("\n");
  for (const size of [1, 3, 64, 4096, raw.length]) {
    for (const max of [undefined, 400_000]) {
      const lines = new LineSplitter({ keepBytes: true, maxLineBytes: max });
      const buf = new Uint8Array(size);
      const got: [string, Uint8Array][] = [];
      const joined = (pieces: Uint8Array[]) => new Uint8Array(pieces.flatMap((b) => [...b]));
      for (let i = 0; i < raw.length; i += size) {
        const n = Math.min(size, raw.length - i);
        buf.set(raw.subarray(i, i + n));
        for (const line of lines.push(buf.subarray(0, n))) {
          got.push([line, joined(lines.lineBytes()!)]);
        }
        buf.fill(0x0a); // the caller reuses its buffer
      }
      const last = lines.end();
      if (last !== undefined) got.push([last, joined(lines.lineBytes()!)]);
      assert.deepEqual(got.map(([t]) => t), decoded, `text, pieces of ${size}`);
      assert.deepEqual(got.map(([, b]) => b), want, `bytes, pieces of ${size}, max ${max}`);
    }
  }
  assert.equal(new LineSplitter().lineBytes(), undefined);
  assert.throws(() => new LineSplitter({ keepBytes: true, overflow: "truncate" }), TypeError);
});
