import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { createLogger } from "../telemetry/log.ts";
import { DeliveryHistory } from "./delivery_history.ts";
import { KvTriggerStore } from "./kv_trigger_store.ts";
import type { DeliveryRecord } from "./trigger_store.ts";

async function withStore(fn: (store: KvTriggerStore) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-history-" });
  const kv = await Deno.openKv(join(dir, "t.kv"));
  try {
    await fn(new KvTriggerStore(kv));
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("delivery history: a burst keeps the newest records and writes at most `keep` per round", async () => {
  await withStore(async (store) => {
    const writes: number[] = [];
    let rounds = 0;
    const counting = {
      recordDeliveries: (p: string, h: string, ds: DeliveryRecord[], keep: number) => {
        rounds++;
        writes.push(...ds.map((d) => d.at));
        return store.recordDeliveries(p, h, ds, keep);
      },
    };
    const history = new DeliveryHistory(counting, 5);
    // Added out of order: the newest by `at` are kept.
    for (let i = 199; i >= 0; i--) history.add("p", "h", { at: 1000 + i, status: 202 });
    history.add("p", "other", { at: 1, status: 401, reason: "bad signature" });
    await history.settled("p", "h");
    const newest = (await store.listDeliveries("p", "h", 50)).map((d) => d.at);
    assert.deepEqual(newest, [1199, 1198, 1197, 1196, 1195]);
    // The first record started a round alone; the other 199 came in one round: 5 written.
    assert.ok(writes.filter((at) => at >= 1000).length <= 6, `wrote ${writes.length} records`);
    assert.equal(rounds, 3, "one write per round: p/h twice, p/other once");
    await history.settled();
    assert.equal((await store.listDeliveries("p", "other", 50))[0].reason, "bad signature");

    // Records added while a round is being written land in the next round.
    history.add("p", "h", { at: 5000, status: 202 });
    history.add("p", "h", { at: 5001, status: 400 });
    await history.settled();
    const after = await store.listDeliveries("p", "h", 50);
    assert.deepEqual(after.map((d) => [d.at, d.status]).slice(0, 2), [[5001, 400], [5000, 202]]);
    assert.equal(after.length, 5);
  });
});

Deno.test("delivery history: a failing store is logged, not thrown, and later records still land", async () => {
  await withStore(async (store) => {
    const logged: string[] = [];
    const log = createLogger({
      level: "error",
      format: "json",
      write: (line) => logged.push(line),
    });
    let fail = true;
    const flaky = {
      recordDeliveries: (p: string, h: string, ds: DeliveryRecord[], keep: number) =>
        fail ? Promise.reject(new Error("disk full")) : store.recordDeliveries(p, h, ds, keep),
    };
    const history = new DeliveryHistory(flaky, 10, log);
    history.add("p", "h", { at: 1, status: 202 });
    await history.settled();
    assert.equal(logged.length, 1);
    assert.match(logged[0], /recording a delivery failed.*disk full/);
    fail = false;
    history.add("p", "h", { at: 2, status: 202 });
    await history.settled();
    assert.deepEqual((await store.listDeliveries("p", "h", 10)).map((d) => d.at), [2]);
  });
});
