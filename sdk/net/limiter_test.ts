import assert from "node:assert/strict";
import { KeyedLimiter, Limiter, mapConcurrent } from "./limiter.ts";

const tick = () => new Promise((r) => setTimeout(r, 1));

Deno.test("Limiter never lets more than `limit` run and serves waiters in order", async () => {
  const lim = new Limiter(2);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all([0, 1, 2, 3, 4].map((i) =>
    lim.run(async () => {
      running++;
      peak = Math.max(peak, running);
      order.push(i);
      await tick();
      running--;
    })
  ));
  assert.equal(peak, 2);
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
  assert.equal(lim.active, 0);
});

Deno.test("Limiter: an aborted waiter leaves the queue and the slot goes to the next", async () => {
  const lim = new Limiter(1);
  const release = await lim.acquire();
  const ac = new AbortController();
  const aborted = lim.acquire(ac.signal);
  const next = lim.acquire();
  ac.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  release();
  const r2 = await next;
  assert.equal(lim.active, 1);
  r2();
  r2(); // releasing twice is harmless
  assert.equal(lim.active, 0);
});

Deno.test("KeyedLimiter limits per key, not across keys, and forgets idle keys", async () => {
  const lim = new KeyedLimiter(1);
  const peak = new Map<string, number>();
  const running = new Map<string, number>();
  let total = 0;
  let peakTotal = 0;
  const job = (key: string) =>
    lim.run(key, async () => {
      running.set(key, (running.get(key) ?? 0) + 1);
      total++;
      peakTotal = Math.max(peakTotal, total);
      peak.set(key, Math.max(peak.get(key) ?? 0, running.get(key)!));
      await tick();
      running.set(key, running.get(key)! - 1);
      total--;
    });
  await Promise.all(["a", "a", "a", "b", "b", "c"].map(job));
  assert.deepEqual([...peak.values()], [1, 1, 1]);
  assert.equal(peakTotal, 3);
  assert.equal(lim.size, 0);
});

Deno.test("mapConcurrent keeps order, bounds parallelism and propagates errors", async () => {
  let running = 0;
  let peak = 0;
  const out = await mapConcurrent([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
    running++;
    peak = Math.max(peak, running);
    await tick();
    running--;
    return x * 10;
  });
  assert.deepEqual(out, [10, 20, 30, 40, 50, 60, 70]);
  assert.equal(peak, 3);
  assert.deepEqual(await mapConcurrent([], 4, () => Promise.resolve(1)), []);
  await assert.rejects(
    mapConcurrent([1, 2, 3], 2, (x) => x === 2 ? Promise.reject(new Error("bad 2")) : tick()),
    /bad 2/,
  );
});
