import assert from "node:assert/strict";
import { RateLimiter, type Timer } from "./rate_limiter.ts";
import { Semaphore } from "./semaphore.ts";
import { backoffDelay } from "./backoff.ts";

function fakeTimer(): Timer & { t: number } {
  const timer = {
    t: 0,
    now: () => timer.t,
    sleep: (ms: number) => {
      timer.t += ms;
      return Promise.resolve();
    },
  };
  return timer;
}

Deno.test("rate limiter spaces takes per key at the configured rate", async () => {
  const timer = fakeTimer();
  const rl = new RateLimiter({ rate: 5, perMs: 1000, burst: 1, timer });
  for (let i = 0; i < 10; i++) await rl.take("a.example");
  // 10 takes at 5/s with a bucket of 1: 9 waits of 200 ms.
  assert.equal(timer.t, 1800);
  const before = timer.t;
  await rl.take("b.example");
  assert.equal(timer.t, before, "another key has its own bucket");
});

Deno.test("rate limiter allows a burst then throttles", async () => {
  const timer = fakeTimer();
  const rl = new RateLimiter({ rate: 2, perMs: 1000, timer });
  await rl.take();
  await rl.take();
  assert.equal(timer.t, 0);
  await rl.take();
  assert.equal(timer.t, 500);
});

Deno.test("semaphore never lets more than its permits through", async () => {
  const sem = new Semaphore(3);
  let active = 0;
  let peak = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    const release = await sem.acquire();
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 1));
    active--;
    release();
  }));
  assert.equal(peak, 3);
});

Deno.test("exponential backoff doubles and is capped", () => {
  const policy = { attempts: 5, backoff: "exponential" as const, delayMs: 100, maxDelayMs: 350 };
  const mid = () => 0.5; // no jitter
  assert.equal(backoffDelay(policy, 1, mid), 100);
  assert.equal(backoffDelay(policy, 2, mid), 200);
  assert.equal(backoffDelay(policy, 3, mid), 350);
  assert.equal(backoffDelay({ ...policy, backoff: "fixed" }, 4, mid), 100);
});
