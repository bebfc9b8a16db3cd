import assert from "node:assert/strict";
import { isStdoutClosed, stdioWriters, StdoutClosed, type SyncWriter } from "./stdio.ts";

/** A writer that takes at most `chunk` bytes per call, and breaks after `breakAfter` calls. */
function writer(chunk: number, breakAfter = Infinity) {
  const got: number[] = [];
  let calls = 0;
  const w: SyncWriter = {
    writeSync(p) {
      if (++calls > breakAfter) throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
      const n = Math.min(chunk, p.length);
      got.push(...p.subarray(0, n));
      return n;
    },
  };
  return { w, text: () => new TextDecoder().decode(new Uint8Array(got)) };
}

Deno.test("stdioWriters writes all of a text a pipe takes in parts", () => {
  const out = writer(3);
  const err = writer(2);
  const io = stdioWriters(out.w, err.w);
  io.out("hello world\n");
  io.err("oops\n");
  assert.equal(out.text(), "hello world\n");
  assert.equal(err.text(), "oops\n");
});

Deno.test("a closed stdout throws StdoutClosed, then and later; a closed stderr is ignored", () => {
  const io = stdioWriters(writer(100, 1).w, writer(100, 0).w);
  io.out("first\n");
  assert.throws(() => io.out("second\n"), StdoutClosed);
  assert.throws(() => io.out("third\n"), StdoutClosed);
  io.err("nobody reads this\n");
  assert.ok(isStdoutClosed(new StdoutClosed()));
  assert.ok(!isStdoutClosed(new Deno.errors.BrokenPipe()), "another pipe's is a failure");
  assert.ok(!isStdoutClosed(new Error("other")));
});
