import assert from "node:assert/strict";
import { RateLimiter } from "./rate_limit.ts";
import { manualClock } from "./test_clock.ts";

Deno.test("rate limiter spaces requests per key at the configured rate", () => {
  const c = manualClock();
  const rl = new RateLimiter({ perSecond: 2, now: c.now, sleep: c.sleep });
  assert.deepEqual([rl.reserve("a"), rl.reserve("a"), rl.reserve("a")], [0, 500, 1000]);
  assert.equal(rl.reserve("b"), 0, "another host has its own budget");
});

Deno.test("rate limiter allows a burst, then spaces", () => {
  const c = manualClock();
  const rl = new RateLimiter({ perSecond: 10, burst: 3, now: c.now });
  assert.deepEqual([0, 0, 0, 100, 200], [1, 2, 3, 4, 5].map(() => rl.reserve("h")));
});

Deno.test("rate limiter refills over time", () => {
  const c = manualClock();
  const rl = new RateLimiter({ perSecond: 1, now: c.now });
  assert.equal(rl.reserve("h"), 0);
  c.advance(1000);
  assert.equal(rl.reserve("h"), 0);
});

Deno.test("pause holds a key until the given time, then requests go one at a time", () => {
  const c = manualClock();
  const rl = new RateLimiter({ perSecond: 10, burst: 5, now: c.now });
  rl.pause("h", 3000);
  assert.equal(rl.pausedUntil("h"), c.now() + 3000);
  assert.equal(rl.reserve("h"), 3000);
  assert.equal(rl.reserve("h"), 3100, "no burst right after a pause");
  assert.equal(rl.reserve("other"), 0);
});

Deno.test("acquire sleeps the reserved time and honours abort", async () => {
  const c = manualClock();
  const rl = new RateLimiter({ perSecond: 4, now: c.now, sleep: c.sleep });
  await rl.acquire("h");
  await rl.acquire("h");
  assert.deepEqual(c.sleeps, [250]);
  const ac = new AbortController();
  ac.abort(new Error("stop"));
  await assert.rejects(rl.acquire("h", ac.signal), /stop/);
});

Deno.test("a rate that is not positive is refused with a clear error", () => {
  assert.throws(() => new RateLimiter({ perSecond: 0 }), /perSecond must be a positive number/);
});

Deno.test("onWait hears each wait of acquire (ms, key)", async () => {
  const c = manualClock();
  const waits: [number, string][] = [];
  const rl = new RateLimiter({
    perSecond: 4,
    now: c.now,
    sleep: c.sleep,
    onWait: (ms, key) => waits.push([ms, key]),
  });
  await rl.acquire("h");
  await rl.acquire("h");
  assert.deepEqual(waits, [[250, "h"]]);
});
