import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { lockRetrying, openKv, retryLocked } from "./kv_locks.ts";

/**
 * Another process's hold on the KV file's write lock: a plain SQLite connection (as a second
 * Sluice process's commit would be) that writes in a transaction and commits after `ms`.
 */
function holdLock(path: string, ms: number): Promise<void> {
  const db = new DatabaseSync(path);
  db.exec("BEGIN IMMEDIATE");
  db.exec("UPDATE data_version SET version = version + 1 WHERE k = 0");
  return new Promise((resolve) =>
    setTimeout(() => {
      db.exec("COMMIT");
      db.close();
      resolve();
    }, ms)
  );
}

async function withKvFile(fn: (path: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-kv-locks-" });
  try {
    await fn(join(dir, "x.kv"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a checked commit meeting another process's lock: Deno KV throws at once, a lockRetrying handle waits it out", async () => {
  await withKvFile(async (path) => {
    const raw = await Deno.openKv(path);
    try {
      await raw.set(["x"], 1);
      const x = await raw.get(["x"]);
      // The premise: Deno KV itself does not wait for the lock in a commit with checks.
      const held = holdLock(path, 300);
      await assert.rejects(
        raw.atomic().check(x).set(["y"], 1).commit(),
        /database is locked/,
      );
      await held;

      const kv = lockRetrying(raw);
      const x2 = await kv.get(["x"]);
      const heldAgain = holdLock(path, 300);
      const started = Date.now();
      const res = await kv.atomic().check(x2).set(["y"], 2).sum(["n"], 1n).commit();
      assert.equal(res.ok, true);
      assert.ok(Date.now() - started >= 200, "the commit went through while the lock was held");
      await heldAgain;
      assert.equal((await kv.get(["y"])).value, 2);

      // A check that no longer holds once the lock is free is a conflict as usual, not an error.
      const y = await kv.get(["y"]);
      const heldOnceMore = holdLock(path, 200);
      const other = kv.set(["y"], 3); // waits for the lock too, and commits first
      const conflict = await kv.atomic().check(y).set(["y"], 4).commit();
      await Promise.all([heldOnceMore, other]);
      assert.equal(conflict.ok, false);
      assert.equal((await kv.get(["y"])).value, 3);
    } finally {
      raw.close();
    }
  });
});

Deno.test("openKv: a plain write waits out a lock longer than Deno KV's own five-second wait", async () => {
  await withKvFile(async (path) => {
    const kv = await openKv(path);
    try {
      await kv.set(["x"], 1);
      // Deno KV gives a plain write up after 5 s of another process's lock ("database is
      // locked", measured on Deno 2.9); the handle tries again until the lock is gone.
      const held = holdLock(path, 5_500);
      const started = Date.now();
      await kv.set(["x"], 2);
      assert.ok(Date.now() - started >= 5_000, "the write waited for the lock");
      await held;
      await kv.delete(["x"]);
      await kv.enqueue({ m: 1 }, { delay: 60_000 });
      assert.equal((await kv.get(["x"])).versionstamp, null);
      assert.equal(lockRetrying(kv), kv, "wrapping twice keeps one layer of retries");
    } finally {
      kv.close();
    }
  });
});

Deno.test("retryLocked: other errors at once, a lock until its wait is over", async () => {
  let calls = 0;
  await assert.rejects(
    retryLocked(() => {
      calls++;
      return Promise.reject(new Error("disk full"));
    }),
    /disk full/,
  );
  assert.equal(calls, 1);

  calls = 0;
  const started = Date.now();
  await assert.rejects(
    retryLocked(
      () => {
        calls++;
        return Promise.reject(new TypeError("database is locked"));
      },
      150,
      "data/sluice.kv",
    ),
    /^Error: data\/sluice\.kv stayed locked by another process for 0 s \(database is locked\): another Sluice process on the same data folder/,
  );
  assert.ok(calls > 1, `tried ${calls} times`);
  assert.ok(Date.now() - started >= 150);

  calls = 0;
  const value = await retryLocked(() =>
    ++calls < 3 ? Promise.reject(new TypeError("database is locked")) : Promise.resolve("done")
  );
  assert.equal(value, "done");
  assert.equal(calls, 3);
});
