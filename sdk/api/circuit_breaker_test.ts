import assert from "node:assert/strict";
import { CircuitBreaker, CircuitOpenError } from "./circuit_breaker.ts";
import { manualClock } from "./test_clock.ts";
import { ApiMetrics } from "./api_metrics.ts";

Deno.test("breaker opens after N failures in a row and says why", () => {
  const c = manualClock();
  const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: c.now, name: "rdap" });
  b.failure("HTTP 503");
  b.failure("HTTP 503");
  assert.equal(b.state, "closed");
  assert.ok(b.allow());
  b.failure("timeout");
  assert.equal(b.state, "open");
  assert.equal(b.allow(), false);
  assert.match(b.reason, /rdap paused after 3 failures in a row \(last: timeout\)/);
  assert.throws(() => b.check(), CircuitOpenError);
});

Deno.test("a success resets the failure count", () => {
  const b = new CircuitBreaker({ failureThreshold: 2 });
  b.failure("x");
  b.success();
  b.failure("x");
  assert.equal(b.state, "closed");
});

Deno.test("after the cooldown one probe goes through; success closes, failure reopens", () => {
  const c = manualClock();
  const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1000, now: c.now });
  b.failure("down");
  c.advance(999);
  assert.equal(b.allow(), false);
  c.advance(1);
  assert.equal(b.state, "half_open");
  assert.equal(b.allow(), true);
  assert.equal(b.allow(), false, "only one probe at a time");
  b.failure("still down");
  assert.equal(b.state, "open");
  c.advance(1000);
  assert.equal(b.allow(), true);
  b.success();
  assert.equal(b.state, "closed");
  assert.ok(b.allow() && b.allow());
});

Deno.test("onChange hears the breaker open and close; ApiMetrics reports circuit_open for any open breaker", () => {
  const c = manualClock();
  const reported: [string, string, number][] = [];
  const api = new ApiMetrics({
    count: (n, v = 1) => reported.push(["count", n, v]),
    gauge: (n, v) => reported.push(["gauge", n, v]),
  });
  const opts = { failureThreshold: 1, cooldownMs: 10, now: c.now };
  const a = new CircuitBreaker({ ...opts, onChange: api.breaker("a") });
  const b = new CircuitBreaker({ ...opts, onChange: api.breaker("b") });
  a.failure("down");
  b.failure("down");
  c.advance(10);
  assert.ok(a.allow());
  a.failure("still down"); // a probe failed: still open, no new report
  assert.ok(b.allow());
  b.success();
  assert.deepEqual(api.open, ["a"]);
  c.advance(10);
  assert.ok(a.allow());
  a.success();
  assert.deepEqual(reported, [
    ["gauge", "circuit_open", 1],
    ["gauge", "circuit_open", 1],
    ["gauge", "circuit_open", 1],
    ["gauge", "circuit_open", 0],
  ]);
  api.wait(12.4);
  api.wait(30);
  api.flush();
  api.flush();
  assert.deepEqual(reported.slice(4), [["count", "rate_limit_wait_ms", 42]]);
});
