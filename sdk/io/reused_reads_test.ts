import assert from "node:assert/strict";
import { readReusing } from "./reused_reads.ts";

/** A child process that writes `bytes` to its stdout, in writes of `piece` bytes. */
function writer(total: number, piece: number): Deno.ChildProcess {
  const src = `const b = new Uint8Array(${total}).map((_, i) => i % 251);
for (let at = 0; at < b.length; at += ${piece}) {
  let p = b.subarray(at, at + ${piece});
  while (p.length) p = p.subarray(await Deno.stdout.write(p));
}`;
  return new Deno.Command(Deno.execPath(), { args: ["eval", src], stdout: "piped" }).spawn();
}

Deno.test("readReusing reads a child's stdout whole, through one buffer it reuses", async () => {
  const child = writer(200_000, 7_000);
  const got: number[] = [];
  let previous: Uint8Array | undefined;
  let pieces = 0;
  for await (const piece of readReusing(child.stdout, 4096)) {
    // The piece before was read into the same memory: its view is detached now.
    if (previous) assert.equal(previous.byteLength, 0);
    assert.ok(piece.byteLength > 0 && piece.byteLength <= 4096, `${piece.byteLength} bytes`);
    got.push(...piece);
    previous = piece;
    pieces++;
  }
  assert.equal((await child.status).code, 0);
  assert.equal(got.length, 200_000);
  assert.ok(got.every((v, i) => v === i % 251), "the bytes came in order, none lost");
  assert.ok(pieces >= 200_000 / 4096, `${pieces} reads`);
});

Deno.test("readReusing yields the pieces of a stream that is not a byte stream as they come", async () => {
  const sent = [new Uint8Array([1, 2]), new Uint8Array([3])];
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      for (const s of sent) c.enqueue(s);
      c.close();
    },
  });
  const got: Uint8Array[] = [];
  for await (const piece of readReusing(stream)) got.push(piece);
  assert.deepEqual(got, sent);
  assert.equal(got[0], sent[0], "the same pieces, not copies");
});

Deno.test("readReusing: leaving the loop early releases the stream, the rest is still there", async () => {
  const child = writer(50_000, 50_000);
  let first = 0;
  for await (const piece of readReusing(child.stdout, 1000)) {
    first = piece.byteLength;
    break;
  }
  assert.equal(child.stdout.locked, false);
  let rest = 0;
  for await (const piece of child.stdout) rest += piece.byteLength;
  assert.equal(first + rest, 50_000);
  assert.equal((await child.status).code, 0);
});
