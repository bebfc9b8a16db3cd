import assert from "node:assert/strict";
import { type PoolUser, SharedPool } from "./pool.ts";

interface Fake {
  id: number;
  alive: boolean;
}

/** A user of the pool (a run's stage) holding at most `limit` instances. */
function user(limit: number): PoolUser<Fake> & { take(f: Fake): void; held: Set<Fake> } {
  const held = new Set<Fake>();
  return { limit, held, take: (f) => held.add(f) };
}

function fakePool(size: number, callsPerItem = 1) {
  let next = 1;
  const destroyed: number[] = [];
  const idle: string[] = [];
  const pool = new SharedPool<Fake>({
    size,
    callsPerItem,
    create: () => Promise.resolve({ id: next++, alive: true }),
    destroy: (f) => {
      destroyed.push(f.id);
      return Promise.resolve();
    },
    healthy: (f) => f.alive,
    onIdle: (f, on) => idle.push(`${f.id} ${on ? "idle" : "busy"}`),
  });
  return { pool, destroyed, idle };
}

Deno.test("shared pool: a user reuses its own instance, another user takes a free one", async () => {
  const { pool } = fakePool(2);
  const a = user(1), b = user(1);
  const a1 = await pool.acquire(a);
  pool.release(a1);
  assert.equal(await pool.acquire(a), a1, "its own instance again");
  const b1 = await pool.acquire(b);
  assert.notEqual(b1, a1, "a1 is busy: b gets a new one");
  pool.release(a1);
  pool.release(b1);
  const c = user(2);
  const c1 = await pool.acquire(c);
  const c2 = await pool.acquire(c);
  assert.deepEqual([c1, c2].map((f) => f.id).sort(), [1, 2], "c shares both, none started");
  assert.equal(pool.items().length, 2);
  assert.deepEqual([...c.held].map((f) => f.id).sort(), [1, 2]);
  await pool.close();
});

Deno.test("shared pool: a user at its limit waits for its own instances; size bounds the rest", async () => {
  const { pool } = fakePool(2);
  const a = user(1), b = user(1), c = user(1);
  const a1 = await pool.acquire(a);
  const b1 = await pool.acquire(b);
  pool.release(b1); // free, but a holds its one instance already
  let second: Fake | undefined;
  const waiting = pool.acquire(a).then((f) => second = f);
  await Promise.resolve();
  assert.equal(second, undefined, "a waits for its own instance");
  const c1 = await pool.acquire(c);
  assert.equal(c1, b1, "c takes the free instance b holds");
  let third: Fake | undefined;
  const d = user(1);
  const dWaits = pool.acquire(d).then((f) => third = f);
  await Promise.resolve();
  assert.equal(third, undefined, "no room for a third instance");
  pool.release(a1);
  assert.equal(await waiting, a1);
  pool.release(c1);
  assert.equal(await dWaits, b1);
  assert.equal(pool.items().length, 2);
  await pool.close();
});

Deno.test("shared pool: idle means no call and no holder; only idle instances are evicted", async () => {
  const { pool, destroyed, idle } = fakePool(1);
  const a = user(1);
  const f = await pool.acquire(a);
  assert.equal(pool.evict(f), false, "busy");
  pool.release(f);
  assert.equal(pool.evict(f), false, "its run is still open there");
  assert.deepEqual(idle, []);
  pool.unhold(f);
  assert.deepEqual(idle, ["1 idle"]);
  const b = user(1);
  assert.equal(await pool.acquire(b), f, "an idle instance is reused");
  assert.deepEqual(idle, ["1 idle", "1 busy"]);
  pool.release(f);
  pool.unhold(f);
  assert.equal(pool.evict(f), true);
  assert.deepEqual(destroyed, [1]);
  assert.ok(pool.empty);
  await pool.close();
});

Deno.test("shared pool: a broken instance is replaced; waiters can abort; close fails waiters", async () => {
  const { pool, destroyed } = fakePool(1);
  const a = user(1);
  const f = await pool.acquire(a);
  const ac = new AbortController();
  const aborted = pool.acquire(user(1), ac.signal);
  ac.abort(new Error("cancelled"));
  await assert.rejects(aborted, /cancelled/);
  f.alive = false;
  pool.release(f);
  const g = await pool.acquire(a);
  assert.notEqual(g.id, f.id, "a may replace its dead instance");
  assert.deepEqual(destroyed, [f.id]);
  // An instance that dies while idle leaves the pool when someone needs room.
  pool.release(g);
  g.alive = false;
  const h = await pool.acquire(user(1));
  assert.notEqual(h.id, g.id);
  const late = pool.acquire(user(1));
  await pool.close();
  await assert.rejects(late, /closed/);
  await assert.rejects(pool.acquire(a), /closed/);
});

Deno.test("shared pool: calls spread over new instances before sharing one up to callsPerItem", async () => {
  const { pool } = fakePool(2, 3);
  const a = user(2);
  const got = [];
  for (let i = 0; i < 6; i++) got.push(await pool.acquire(a));
  assert.deepEqual(got.map((f) => f.id), [1, 2, 1, 2, 1, 2]);
  let seventh: Fake | undefined;
  const waiting = pool.acquire(a).then((f) => seventh = f);
  await Promise.resolve();
  assert.equal(seventh, undefined, "every instance has 3 calls");
  pool.release(got[1]);
  await waiting;
  assert.equal((seventh as Fake | undefined)?.id, 2);
  await pool.close();
});
