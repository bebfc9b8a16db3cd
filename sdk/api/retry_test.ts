import assert from "node:assert/strict";
import {
  backoffDelay,
  HttpStatusError,
  isRetryableStatus,
  parseRetryAfter,
  retry,
} from "./retry.ts";
import { manualClock } from "./test_clock.ts";

Deno.test("parseRetryAfter reads seconds and HTTP dates", () => {
  const now = Date.parse("2024-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("7", now), 7000);
  assert.equal(parseRetryAfter("Mon, 01 Jan 2024 00:00:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Sun, 31 Dec 2023 00:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
});

Deno.test("retryable statuses", () => {
  assert.deepEqual([408, 429, 500, 503, 400, 404, 200].map(isRetryableStatus), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
  ]);
});

Deno.test("backoff grows exponentially with jitter and a cap", () => {
  const opts = { baseMs: 100, maxMs: 1000, random: () => 1 };
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(a, opts)), [100, 200, 400, 800, 1000]);
  assert.equal(backoffDelay(1, { baseMs: 100, random: () => 0 }), 50);
});

Deno.test("retry retries retryable errors and returns the first success", async () => {
  const c = manualClock();
  let calls = 0;
  const v = await retry(() => {
    calls++;
    if (calls < 3) throw new HttpStatusError("503", { status: 503 });
    return Promise.resolve("ok");
  }, { sleep: c.sleep, random: () => 1, baseMs: 10 });
  assert.equal(v, "ok");
  assert.equal(calls, 3);
  assert.deepEqual(c.sleeps, [10, 20]);
});

Deno.test("retry waits at least Retry-After", async () => {
  const c = manualClock();
  let calls = 0;
  await retry(() => {
    if (calls++ === 0) throw new HttpStatusError("429", { status: 429, retryAfterMs: 5000 });
    return Promise.resolve();
  }, { sleep: c.sleep, baseMs: 10 });
  assert.deepEqual(c.sleeps, [5000]);
});

Deno.test("retry gives up on non-retryable errors, too-long Retry-After and exhaustion", async () => {
  const c = manualClock();
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      throw new HttpStatusError("400", { status: 400 });
    }, { sleep: c.sleep }),
    /400/,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      throw new HttpStatusError("429", { status: 429, retryAfterMs: 3_600_000 });
    }, { sleep: c.sleep }),
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      throw new HttpStatusError("500", { status: 500 });
    }, { sleep: c.sleep, attempts: 3 }),
  );
  assert.equal(calls, 3);
});

Deno.test("retry does not start a wait that would end after the deadline", async () => {
  const c = manualClock();
  let calls = 0;
  const err = await retry(() => {
    calls++;
    throw new HttpStatusError("429", { status: 429, retryAfterMs: 90_000 });
  }, { sleep: c.sleep, now: c.now, deadline: c.now() + 60_000 }).catch((e) => e);
  assert.ok(err instanceof HttpStatusError);
  assert.equal(calls, 1);
  assert.deepEqual(c.sleeps, [], "nothing waited");
  calls = 0;
  await retry(() => {
    if (calls++ === 0) throw new HttpStatusError("429", { status: 429, retryAfterMs: 30_000 });
    return Promise.resolve();
  }, { sleep: c.sleep, now: c.now, deadline: c.now() + 60_000, baseMs: 10 });
  assert.deepEqual(c.sleeps, [30_000], "a wait that ends in time is waited");
});
