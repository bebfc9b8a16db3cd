import assert from "node:assert/strict";
import { InstancePool } from "./pool.ts";

interface Fake {
  id: number;
  alive: boolean;
}

function fakePool(size: number, callsPerItem = 1) {
  let next = 1;
  const destroyed: number[] = [];
  const pool = new InstancePool<Fake>({
    size,
    callsPerItem,
    create: () => Promise.resolve({ id: next++, alive: true }),
    destroy: (f) => {
      destroyed.push(f.id);
      return Promise.resolve();
    },
    healthy: (f) => f.alive,
  });
  return { pool, destroyed };
}

Deno.test("pool reuses an idle instance and creates at most `size`", async () => {
  const { pool, destroyed } = fakePool(2);
  const a = await pool.acquire();
  const b = await pool.acquire();
  let third: Fake | undefined;
  const waiting = pool.acquire().then((f) => third = f);
  await Promise.resolve();
  assert.equal(third, undefined, "a third caller waits");
  pool.release(a);
  await waiting;
  assert.equal(third, a, "the released instance is handed over");
  pool.release(b);
  pool.release(a);
  assert.deepEqual(pool.items().map((f) => f.id).sort(), [1, 2]);
  await pool.close();
  assert.deepEqual(destroyed.sort(), [1, 2]);
});

Deno.test("pool replaces a broken instance and lets a waiter abort", async () => {
  const { pool, destroyed } = fakePool(1);
  const a = await pool.acquire();
  const ac = new AbortController();
  const aborted = pool.acquire(ac.signal);
  ac.abort(new Error("cancelled"));
  await assert.rejects(aborted, /cancelled/);
  a.alive = false;
  pool.release(a);
  const b = await pool.acquire();
  assert.notEqual(b.id, a.id);
  assert.deepEqual(destroyed, [a.id]);
  const late = pool.acquire();
  await pool.close();
  await assert.rejects(late, /closed/);
  await assert.rejects(pool.acquire(), /closed/);
});

Deno.test("pool shares an instance among up to callsPerItem callers, least loaded first", async () => {
  const { pool } = fakePool(2, 3);
  const got = [];
  for (let i = 0; i < 6; i++) got.push(await pool.acquire());
  // Two instances are spawned first, then calls are spread over them up to 3 each.
  assert.deepEqual(got.map((f) => f.id), [1, 2, 1, 2, 1, 2]);
  let seventh: Fake | undefined;
  const waiting = pool.acquire().then((f) => seventh = f);
  await Promise.resolve();
  assert.equal(seventh, undefined, "a seventh caller waits: every instance has 3 calls");
  pool.release(got[1]);
  await waiting;
  assert.equal((seventh as Fake | undefined)?.id, 2);
  got[0].alive = false;
  pool.release(got[0]);
  // A broken shared instance is dropped at once; its other callers still hold it.
  assert.deepEqual(pool.items().map((f) => f.id), [2]);
  await pool.close();
});
