import assert from "node:assert/strict";
import { ApiClient, ApiNetworkError, type ApiResponse } from "./client.ts";
import { CircuitOpenError } from "./circuit_breaker.ts";
import { HttpStatusError } from "./retry.ts";
import { manualClock } from "./test_clock.ts";

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
