import assert from "node:assert/strict";
import type { Store } from "../store/store.ts";
import { join } from "../paths.ts";
import { KvStore } from "../store/kv_backend.ts";
import { testServer } from "./test_support.ts";

Deno.test("/readyz answers 503 within 2 s while the store hangs", async () => {
  // Every store call of this app hangs, as with a PostgreSQL that stopped answering.
  const hanging = new Proxy({}, { get: () => () => new Promise(() => {}) }) as Store;
  const s = await testServer({ deps: { store: hanging } });
  try {
    const t0 = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const res = await Promise.race([
      s.call("/readyz"),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("/readyz did not answer within 3 s")), 3000)
      ),
    ]).finally(() => clearTimeout(timer));
    const ms = performance.now() - t0;
    assert.equal(res.status, 503);
    assert.equal((await res.json()).status, "unavailable");
    assert.ok(ms < 2000, `answered after ${Math.round(ms)} ms`);
  } finally {
    await s.dispose();
  }
});

Deno.test("/readyz answers 503 naming the cause when the KV store reads but cannot write (full disk)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-readyz-" });
  const kv = await Deno.openKv(join(dir, "sluice.kv"));
  const real = new KvStore(kv);
  await real.checkWritable(); // a real KV file writes
  // The store of a full disk: reads answer, every write fails as SQLite reports it.
  const full = new Proxy(real, {
    get: (t, p) =>
      p === "checkWritable"
        ? () => Promise.reject(new TypeError("database or disk is full"))
        : typeof Reflect.get(t, p) === "function"
        ? Reflect.get(t, p).bind(t)
        : Reflect.get(t, p),
  });
  const s = await testServer({ deps: { store: full } });
  try {
    const res = await s.call("/readyz");
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), {
      status: "unavailable",
      reason: "the store failed: database or disk is full",
    });
  } finally {
    await s.dispose();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
