import assert from "node:assert/strict";
import type { Store } from "../store/store.ts";
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
