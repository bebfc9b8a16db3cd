import assert from "node:assert/strict";
import { joinBytes } from "./join_bytes.ts";

Deno.test("joinBytes joins pieces in order; one piece is returned as it is", () => {
  const one = new Uint8Array([1, 2]);
  assert.equal(joinBytes([one]), one);
  assert.deepEqual(
    joinBytes([new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3])]),
    new Uint8Array([1, 2, 3]),
  );
  assert.deepEqual(joinBytes([]), new Uint8Array(0));
});
