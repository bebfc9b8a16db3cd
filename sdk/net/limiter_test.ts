import assert from "node:assert/strict";
import {
  KeyedLimiter,
  Limiter,
  mapConcurrent,
  sharedKeySlots,
  SharedSlots,
  withSlot,
} from "./limiter.ts";

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

Deno.test("SharedSlots: each caller's limit, waiters in order, aborts and idle keys", async () => {
  const slots = new SharedSlots();
  const order: string[] = [];
  const a = await slots.acquire("k", 2);
  const b = await slots.acquire("k", 2);
  assert.equal(slots.active("k"), 2);
  // c waits (2 hold, its limit is 2); d's limit of 3 would let it in, but it waits behind c.
  const c = slots.acquire("k", 2).then((r) => (order.push("c"), r));
  const d = slots.acquire("k", 3).then((r) => (order.push("d"), r));
  const aborter = new AbortController();
  const e = slots.acquire("k", 3, aborter.signal).catch((err) => (order.push("e aborted"), err));
  await tick();
  assert.deepEqual(order, []);
  aborter.abort(new Error("gave up"));
  assert.equal((await e).message, "gave up");
  a();
  a(); // a second call gives back nothing more
  // c takes a's slot; then 2 hold, fewer than d's limit of 3: d gets in too.
  const releaseC = await c;
  const releaseD = await d;
  assert.deepEqual(order, ["e aborted", "c", "d"]);
  assert.equal(slots.active("k"), 3, "the aborted waiter took no slot");
  // Another key is independent; keys nobody holds or waits for are dropped.
  const other = await slots.acquire("other", 1);
  assert.equal(slots.size, 2);
  other();
  b();
  releaseC();
  releaseD();
  assert.equal(slots.size, 0);
  await assert.rejects(slots.acquire("k", 1, AbortSignal.abort(new Error("early"))), /early/);
  assert.equal(slots.size, 0);
});

Deno.test("SharedSlots: a waiter that gives up lets those behind it in", async () => {
  const slots = new SharedSlots();
  const held = await slots.acquire("k", 2);
  const held2 = await slots.acquire("k", 2);
  const aborter = new AbortController();
  // The first waiter asks for at most 1 holder (it waits until both are gone); the second for 3.
  const strict = slots.acquire("k", 1, aborter.signal).catch(() => "aborted");
  let loose: (() => void) | undefined;
  const looseP = slots.acquire("k", 3).then((r) => (loose = r));
  await Promise.resolve();
  assert.equal(loose, undefined, "in order: behind the strict waiter");
  aborter.abort();
  assert.equal(await strict, "aborted");
  await looseP;
  assert.equal(slots.active("k"), 3);
  held();
  held2();
  loose!();
  assert.equal(slots.size, 0);
});

Deno.test("sharedKeySlots: keys with a prefix and one limit, through ctx.limits", async () => {
  const slots = new SharedSlots();
  const asked: [string, number][] = [];
  const perIp = sharedKeySlots(
    {
      acquire: (
        key,
        limit,
        signal,
      ) => (asked.push([key, limit]), slots.acquire(key, limit, signal)),
    },
    "ip:",
    1,
  );
  const order: string[] = [];
  await Promise.all([1, 2].map((n) =>
    withSlot(perIp, "192.0.2.1", async () => {
      order.push(`start ${n}`);
      await new Promise((r) => setTimeout(r, 10));
      order.push(`end ${n}`);
    })
  ));
  assert.deepEqual(order, ["start 1", "end 1", "start 2", "end 2"]);
  assert.deepEqual(asked, [["ip:192.0.2.1", 1], ["ip:192.0.2.1", 1]]);
  assert.equal(slots.size, 0);
});
