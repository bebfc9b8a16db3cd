import assert from "node:assert/strict";
import { InstancePool } from "./pool.ts";

interface Fake {
  id: number;
  alive: boolean;
}

function fakePool(size: number) {
  let next = 1;
  const destroyed: number[] = [];
  const pool = new InstancePool<Fake>({
    size,
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
