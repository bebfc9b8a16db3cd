import assert from "node:assert/strict";
import { Fifo } from "./fifo.ts";

Deno.test("Fifo: items come out in the order they went in, across compactions", () => {
  const q = new Fifo<number>();
  assert.equal(q.length, 0);
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  let next = 0;
  let expected = 0;
  // Keep ~1,500 queued while 10,000 pass through: the consumed front is cut several times.
  for (let round = 0; round < 10_000; round++) {
    q.push(next++);
    if (round >= 1_500) {
      assert.equal(q.peek(), expected);
      assert.equal(q.shift(), expected++);
    }
    assert.equal(q.length, next - expected);
  }
  while (q.length > 0) assert.equal(q.shift(), expected++);
  assert.equal(expected, 10_000);
  assert.equal(q.shift(), undefined);
});

Deno.test("Fifo: remove takes one queued item by identity and keeps the order of the rest", () => {
  const q = new Fifo<{ n: number }>();
  const items = Array.from({ length: 5 }, (_, n) => ({ n }));
  for (const i of items) q.push(i);
  assert.equal(q.shift(), items[0]);
  assert.equal(q.remove(items[0]), false, "an item already taken is not queued");
  assert.equal(q.remove({ n: 2 }), false, "equal but not the same object");
  assert.equal(q.remove(items[2]), true);
  assert.equal(q.remove(items[2]), false);
  assert.equal(q.length, 3);
  assert.deepEqual([q.shift(), q.shift(), q.shift()], [items[1], items[3], items[4]]);
  q.push(items[0]);
  assert.equal(q.remove(items[0]), true);
  assert.equal(q.length, 0);
  q.push(items[1]);
  assert.equal(q.shift(), items[1]);
});
