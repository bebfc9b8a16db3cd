/**
 * Test support for durable-write code: a folder sync that is held until the test releases it.
 * @module
 */
import assert from "node:assert/strict";

/** A folder sync that records its calls and ends when the test says so. */
export function heldSyncs() {
  const calls: { path: string; done: PromiseWithResolvers<void> }[] = [];
  return {
    calls,
    sync: (path: string) => {
      const done = Promise.withResolvers<void>();
      calls.push({ path, done });
      return done.promise;
    },
  };
}

/** Waits (up to 2 s) until `ok()` holds, failing with `what` otherwise. */
export async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !ok(); i++) await new Promise((r) => setTimeout(r, 1));
  assert.ok(ok(), `timed out waiting until ${what}`);
}
