/**
 * The behaviour every `TriggerStore` backend must have, as scenarios over two stores on one
 * database (as two servers would have). The Deno KV and PostgreSQL tests run the same list.
 * @module
 */
import assert from "node:assert/strict";
import type { TriggerStore } from "./trigger_store.ts";

/** One scenario: a name and a check over two stores sharing one database. */
export type TriggerStoreScenario = [string, (a: TriggerStore, b: TriggerStore) => Promise<void>];

const ref = { pipeline: "p", trigger: "t" };

/** Every scenario, in order. */
export const TRIGGER_STORE_SCENARIOS: TriggerStoreScenario[] = [
  [
    "trigger store: an occurrence is claimed once among parallel claimers on two handles",
    async (a, b) => {
      const at = Date.parse("2025-01-01T00:00:00Z");
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).claimOccurrence(ref, at, at)),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal(await a.lastOccurrence(ref), at);
      // The last occurrence only moves forward.
      await b.advanceLastOccurrence(ref, at - 60_000);
      assert.equal(await a.lastOccurrence(ref), at);
      assert.equal(await a.claimOccurrence(ref, at + 60_000, at), true);
      assert.equal(await b.lastOccurrence(ref), at + 60_000);
    },
  ],
  ["trigger store: the lease has one holder until it expires", async (a, b) => {
    assert.equal(await a.acquireLease("s", "A", 30_000, 1000), true);
    assert.equal(await b.acquireLease("s", "B", 30_000, 2000), false);
    assert.equal(await a.acquireLease("s", "A", 30_000, 20_000), true, "renewal");
    assert.equal(await b.acquireLease("s", "B", 30_000, 40_000), false, "renewed lease holds");
    assert.deepEqual(await b.leaseHolder("s", 40_000), { owner: "A", expiresAt: 50_000 });
    assert.equal(await b.acquireLease("s", "B", 30_000, 50_001), true, "expired: taken over");
    await a.releaseLease("s", "A"); // not the holder any more: no effect
    assert.equal((await a.leaseHolder("s", 50_002))?.owner, "B");
    await b.releaseLease("s", "B");
    assert.equal(await a.leaseHolder("s", 50_003), undefined);
  }],
  ["trigger store: the queue slot holds one occurrence and is taken once", async (a, b) => {
    assert.equal(await a.enqueueOccurrence(ref, 1), true);
    assert.equal(await b.enqueueOccurrence(ref, 2), false);
    assert.equal(await b.queuedOccurrence(ref), 1);
    const took = await Promise.all([
      a.takeQueuedOccurrence(ref, 1),
      b.takeQueuedOccurrence(ref, 1),
    ]);
    assert.equal(took.filter(Boolean).length, 1);
    assert.equal(await a.queuedOccurrence(ref), undefined);
  }],
  ["trigger store: fire and delivery histories keep the newest records", async (a) => {
    for (let i = 1; i <= 5; i++) {
      await a.recordFire(ref, { scheduledAt: i, firedAt: i, outcome: "started" }, 3);
      await a.recordDeliveries("p", "h", [{ at: i, status: 202 }], 3);
    }
    assert.deepEqual((await a.listFires(ref, 10)).map((f) => f.scheduledAt), [5, 4, 3]);
    assert.deepEqual((await a.listDeliveries("p", "h", 10)).map((d) => d.at), [5, 4, 3]);
    // Several records in one call: the newest `keep` stay, same-time records in call order.
    const many = [1, 2, 3, 3, 4].map((at, i) => ({ at, status: 200 + i }));
    await a.recordDeliveries("p", "h2", many, 3);
    assert.deepEqual(
      (await a.listDeliveries("p", "h2", 10)).map((d) => [d.at, d.status]),
      [[4, 204], [3, 203], [3, 202]],
    );
    // A fire record is overwritten by its occurrence (queued -> started).
    await a.recordFire(ref, { scheduledAt: 5, firedAt: 9, outcome: "skipped" }, 3);
    assert.equal((await a.listFires(ref, 1))[0].outcome, "skipped");
  }],
  ["trigger store: delivery claims refuse replays and duplicates, and expire", async (a, b) => {
    const base = {
      pipeline: "p",
      hook: "h",
      replayTtlMs: 600_000,
      idempotencyTtlMs: 86_400_000,
      pendingStaleMs: 60_000,
    };
    const claims = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? a : b).claimDelivery({
          ...base,
          replayKey: "sig:1",
          idempotencyKey: "k1",
          runId: `r${i}`,
          now: 1000,
        })),
    );
    const won = claims.filter((c) => c.ok);
    assert.equal(won.length, 1);
    assert.ok(claims.every((c) => c.ok || c.reason === "duplicate"));
    const winner = claims.findIndex((c) => c.ok);
    await a.completeDelivery({
      pipeline: "p",
      hook: "h",
      idempotencyKey: "k1",
      runId: `r${winner}`,
      now: 2000,
    });
    assert.deepEqual(await b.idempotency("p", "h", "k1", 3000), {
      state: "done",
      runId: `r${winner}`,
      claimedAt: 1000,
      expiresAt: 1000 + 86_400_000,
    });
    // Same signature with another key (or none): a replay.
    const replay = await a.claimDelivery({ ...base, replayKey: "sig:1", runId: "x", now: 5000 });
    assert.deepEqual(replay, { ok: false, reason: "replay" });
    // After the TTLs both are free again.
    assert.equal(
      (await a.claimDelivery({ ...base, replayKey: "sig:1", runId: "y", now: 700_000 })).ok,
      true,
    );
    assert.equal(
      (await a.claimDelivery({ ...base, idempotencyKey: "k1", runId: "z", now: 86_401_001 })).ok,
      true,
    );
    // A pending claim whose owner died is taken over after pendingStaleMs.
    assert.equal(
      (await a.claimDelivery({ ...base, idempotencyKey: "k2", runId: "p1", now: 0 })).ok,
      true,
    );
    const dup = await b.claimDelivery({ ...base, idempotencyKey: "k2", runId: "p2", now: 30_000 });
    assert.equal(dup.ok === false && dup.reason, "duplicate");
    assert.equal(
      (await b.claimDelivery({ ...base, idempotencyKey: "k2", runId: "p3", now: 61_000 })).ok,
      true,
    );
    // Released claims are free at once.
    await b.releaseDelivery({ pipeline: "p", hook: "h", idempotencyKey: "k2" });
    assert.equal(await a.idempotency("p", "h", "k2", 61_001), undefined);
  }],
];
