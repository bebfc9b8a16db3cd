import assert from "node:assert/strict";
import { Batcher } from "./pg_batch.ts";

/** A batch runner that records its batches and answers when told to. */
function recorder(fail?: (x: number) => boolean) {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  const run = async (xs: number[]) => {
    batches.push([...xs]);
    await new Promise<void>((r) => gates.push(r));
    if (fail && xs.some(fail)) throw new Error(`bad input in ${xs.join(",")}`);
    return xs.map((x) => x * 10);
  };
  const open = async () => {
    // Let the dispatch turn of the event loop run, then release every batch in flight.
    for (let i = 0; i < 50 && !gates.length; i++) await new Promise((r) => setTimeout(r, 1));
    for (const g of gates.splice(0)) g();
  };
  return { batches, run, open };
}

Deno.test("calls made together go out as one batch, each gets its own result", async () => {
  const r = recorder();
  const b = new Batcher({ run: r.run });
  const all = Promise.all([1, 2, 3].map((x) => b.call(x)));
  await r.open();
  assert.deepEqual(await all, [10, 20, 30]);
  assert.deepEqual(r.batches, [[1, 2, 3]]);
  assert.deepEqual(b.stats, { batches: 1, calls: 3, retried: 0 });
});

Deno.test("calls made while the batches in flight are at the limit wait and go out together", async () => {
  const r = recorder();
  const b = new Batcher({ run: r.run, maxInFlight: 1 });
  const first = b.call(1);
  await new Promise((res) => setTimeout(res, 5)); // the first batch is in flight
  const later = Promise.all([2, 3, 4].map((x) => b.call(x)));
  await new Promise((res) => setTimeout(res, 5));
  assert.deepEqual(r.batches, [[1]], "nothing else is sent while the limit is reached");
  await r.open();
  assert.equal(await first, 10);
  await r.open();
  assert.deepEqual(await later, [20, 30, 40]);
  assert.deepEqual(r.batches, [[1], [2, 3, 4]]);
});

Deno.test("maxBatch and fits split batches; a refused call keeps its turn", async () => {
  const r = recorder();
  const b = new Batcher({
    run: r.run,
    maxBatch: 3,
    maxInFlight: 4,
    // An even number never shares a batch with another even one.
    fits: (batch, x) => x % 2 === 1 || !batch.some((y) => y % 2 === 0),
  });
  const all = Promise.all([2, 4, 1, 3, 5, 6].map((x) => b.call(x)));
  await r.open();
  await r.open();
  assert.deepEqual(await all, [20, 40, 10, 30, 50, 60]);
  assert.deepEqual(r.batches, [[2, 1, 3], [4, 5], [6]]);
});

Deno.test("a failing batch is retried call by call, so only the bad call fails", async () => {
  const r = recorder((x) => x === 2);
  const b = new Batcher({ run: r.run });
  const calls = [1, 2, 3].map((x) => b.call(x));
  const settled = Promise.allSettled(calls);
  for (let i = 0; i < 4; i++) await r.open();
  const out = await settled;
  assert.deepEqual(out.map((o) => o.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.equal((out[0] as PromiseFulfilledResult<number>).value, 10);
  assert.match(String((out[1] as PromiseRejectedResult).reason), /bad input in 2/);
  assert.deepEqual(r.batches, [[1, 2, 3], [1], [2], [3]]);
  assert.equal(b.stats.retried, 1);
});
