import assert from "node:assert/strict";
import { CircuitBreaker, CircuitOpenError } from "./circuit_breaker.ts";
import { manualClock } from "./test_clock.ts";

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
