import assert from "node:assert/strict";
import { ApiClient, ApiNetworkError, type ApiResponse, SHARED_RATE_MAX } from "./client.ts";
import { CircuitOpenError } from "./circuit_breaker.ts";
import { HttpStatusError } from "./retry.ts";
import { manualClock } from "./test_clock.ts";
import { SharedSlots } from "../net/limiter.ts";
import type { SharedLimits } from "../plugin.ts";

const res = (status: number, headers: Record<string, string> = {}): ApiResponse => ({
  status,
  headers,
  body: "",
});

Deno.test("client retries a 429, pausing the host for Retry-After", async () => {
  const c = manualClock();
  const answers = [res(429, { "retry-after": "3" }), res(200)];
  const client = new ApiClient({
    request: () => Promise.resolve(answers.shift()!),
    now: c.now,
    sleep: c.sleep,
    perSecond: 100,
    retry: { baseMs: 10, random: () => 0 },
  });
  const t0 = c.now();
  const r = await client.call({ url: "https://api.test/x?key=secret" });
  assert.equal(r.status, 200);
  assert.ok(c.now() - t0 >= 3000, "waited for Retry-After");
});

Deno.test("client returns non-retryable answers (404) without retrying", async () => {
  let calls = 0;
  const client = new ApiClient({
    request: () => (calls++, Promise.resolve(res(404))),
    sleep: manualClock().sleep,
  });
  assert.equal((await client.call({ url: "https://api.test/" })).status, 404);
  assert.equal(calls, 1);
  assert.equal(client.breaker.failures, 0);
});

Deno.test("client opens the circuit after repeated failures and then refuses at once", async () => {
  const c = manualClock();
  let calls = 0;
  const client = new ApiClient({
    request: () => (calls++, Promise.resolve(res(503))),
    now: c.now,
    sleep: c.sleep,
    retry: { attempts: 2 },
    breaker: { failureThreshold: 2, cooldownMs: 60_000, name: "search" },
  });
  const err = await client.call({ url: "https://api.test/?key=SECRET" }).catch((e) => e);
  assert.ok(err instanceof HttpStatusError);
  assert.doesNotMatch(err.message, /SECRET/, "query strings never reach error messages");
  await assert.rejects(client.call({ url: "https://api.test/" }), HttpStatusError);
  assert.equal(calls, 4);
  await assert.rejects(client.call({ url: "https://api.test/" }), CircuitOpenError);
  assert.equal(calls, 4, "an open circuit sends nothing");
  assert.match(client.breaker.reason, /search paused after 2 failures/);
});

Deno.test("network failures are retried and reported as ApiNetworkError", async () => {
  let calls = 0;
  const client = new ApiClient({
    request: () => (calls++, Promise.reject(new Error("ECONNREFUSED"))),
    sleep: manualClock().sleep,
    retry: { attempts: 3 },
  });
  const err = await client.call({ url: "https://api.test/" }).catch((e) => e);
  assert.ok(err instanceof ApiNetworkError);
  assert.match(err.message, /ECONNREFUSED/);
  assert.equal(calls, 3);
});

Deno.test("validate failures count toward the breaker even though HTTP succeeded", async () => {
  const client = new ApiClient({
    request: () => Promise.resolve({ status: 200, headers: {}, body: "{broken" }),
    sleep: manualClock().sleep,
    breaker: { failureThreshold: 2 },
  });
  const validate = (r: ApiResponse) => void JSON.parse(r.body);
  await assert.rejects(client.call({ url: "https://api.test/" }, { validate }), SyntaxError);
  await assert.rejects(client.call({ url: "https://api.test/" }, { validate }), SyntaxError);
  await assert.rejects(client.call({ url: "https://api.test/" }, { validate }), CircuitOpenError);
});

Deno.test("a Retry-After past the call's deadline fails at once, naming status, wait and body", async () => {
  const c = manualClock();
  let calls = 0;
  const client = new ApiClient({
    request:
      () => (calls++, Promise.resolve({ ...res(429, { "retry-after": "90" }), body: "slow" })),
    now: c.now,
    sleep: c.sleep,
  });
  const err = await client.call({
    url: "https://api.test/x?key=SECRET",
    deadline: c.now() + 60_000,
  })
    .catch((e) => e);
  assert.ok(err instanceof HttpStatusError);
  assert.equal(calls, 1);
  assert.deepEqual(c.sleeps, [], "nothing waited");
  assert.equal(err.status, 429);
  assert.equal(err.body, "slow");
  assert.match(
    err.message,
    /^GET https:\/\/api\.test\/x\?… answered HTTP 429; it asked to wait 90 s \(Retry-After\), longer than the 58 s left before this call's deadline/,
  );
});

Deno.test("a call stopped by the host's pause fails at once with the answer that paused it", async () => {
  const c = manualClock();
  let calls = 0;
  const client = new ApiClient({
    request:
      () => (calls++, Promise.resolve({ ...res(429, { "retry-after": "200" }), body: "quota" })),
    now: c.now,
    sleep: c.sleep,
    breaker: { failureThreshold: 2 },
  });
  // 200 s is longer than a call waits (2 minutes): the first call fails at once...
  const first = await client.call({ url: "https://api.test/a" }).catch((e) => e);
  assert.match(
    first.message,
    /answered HTTP 429; it asked to wait 200 s \(Retry-After\), longer than a call waits \(120 s\)/,
  );
  // ...and so do later calls to the paused host, without sending, instead of waiting the pause.
  for (const deadline of [undefined, c.now() + 600_000]) {
    const err = await client.call({ url: "https://api.test/b", method: "POST", deadline })
      .catch((e) => e);
    assert.ok(err instanceof HttpStatusError);
    assert.equal(err.status, 429);
    assert.equal(err.body, "quota");
    assert.match(
      err.message,
      /^POST https:\/\/api\.test\/b not sent: an earlier request to api\.test was answered HTTP 429; it asked to wait 200 s \(Retry-After\) and 200 s of that pause are left, longer than a call waits/,
    );
  }
  assert.equal(calls, 1, "nothing more was sent");
  assert.deepEqual(c.sleeps, []);
  assert.equal(client.breaker.failures, 1, "only the answer counts toward the breaker");
  // A pause that ends before the deadline is waited out.
  c.advance(150_000);
  const err = await client.call({ url: "https://api.test/c", deadline: c.now() + 30_000 })
    .catch((e) => e);
  assert.match(err.message, /not sent: .* 50 s of that pause are left, longer than the 28 s left/);
});

Deno.test("shared: the per-host rate holds across clients sharing ctx.limits, as a plugin's processes do", async () => {
  const slots = new SharedSlots();
  const asked: string[] = [];
  const limits: SharedLimits = {
    acquire: (
      key,
      limit,
      signal,
    ) => (asked.push(`${key} ${limit}`), slots.acquire(key, limit, signal)),
  };
  const gaps = async (shared?: SharedLimits) => {
    const sent: number[] = [];
    const request = () => (sent.push(performance.now()), Promise.resolve(res(200)));
    // Two clients (two processes, or two runs) at 20 requests/s each: 3 requests each at once.
    const clients = [0, 1].map(() => new ApiClient({ request, perSecond: 20, shared }));
    await Promise.all(
      clients.flatMap((c) => [0, 1, 2].map(() => c.call({ url: "https://api.test/x" }))),
    );
    sent.sort((a, b) => a - b);
    return sent.slice(1).map((t, i) => t - sent[i]);
  };
  const together = await gaps(limits);
  assert.equal(together.length, 5);
  assert.ok(together.every((g) => g >= 49), `50 ms apart in all: ${together}`);
  assert.deepEqual(new Set(asked), new Set(["rate:api.test 1"]));
  await new Promise((r) => setTimeout(r, 80)); // the last request's hold ends
  assert.equal(slots.size, 0, "every slot was given back");
  // Each client alone keeps its own rate: the two together go twice as fast.
  const apart = await gaps();
  assert.ok(apart.some((g) => g < 25), `without shared limits the clients overlap: ${apart}`);
  // A rate above SHARED_RATE_MAX stays the client's own (no slot asked for).
  asked.length = 0;
  const fast = new ApiClient({
    request: () => Promise.resolve(res(200)),
    perSecond: SHARED_RATE_MAX * 2,
    shared: limits,
  });
  await fast.call({ url: "https://api.test/y" });
  assert.deepEqual(asked, []);
});
