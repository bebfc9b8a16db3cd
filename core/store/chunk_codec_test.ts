import assert from "node:assert/strict";
import { decodeParts, encodeParts } from "./chunk_codec.ts";

Deno.test("small values stay in one part", () => {
  const parts = encodeParts([{ key: "a" }]);
  assert.equal(parts.length, 1);
  assert.deepEqual(decodeParts(parts), [{ key: "a" }]);
});

Deno.test("large values split below the part size and join back, multibyte text included", () => {
  const items = Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, text: "äöü€".repeat(50) }));
  const parts = encodeParts(items, 10_000);
  assert.ok(parts.length > 5);
  for (const p of parts) assert.ok(p.length <= 10_000);
  assert.deepEqual(decodeParts(parts), items);
});
