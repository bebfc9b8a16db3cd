import assert from "node:assert/strict";
import { CACHE_MAX_ENTRIES, cacheSet } from "./fresh_cache.ts";

Deno.test("cacheSet drops the entries older than the ttl when it sets one", () => {
  const c = new Map<string, { at: number; v: string }>();
  cacheSet(c, "a", { at: 0, v: "a" }, 250);
  cacheSet(c, "b", { at: 100, v: "b" }, 250);
  cacheSet(c, "c", { at: 249, v: "c" }, 250);
  assert.deepEqual([...c.keys()], ["a", "b", "c"], "all still fresh");
  cacheSet(c, "d", { at: 300, v: "d" }, 250);
  assert.deepEqual([...c.keys()], ["b", "c", "d"], "a (300 ms old) dropped");
  cacheSet(c, "b", { at: 360, v: "b2" }, 250);
  assert.deepEqual([...c.keys()], ["c", "d", "b"], "a key set again moves to the end");
  assert.equal(c.get("b")?.v, "b2");
  cacheSet(c, "e", { at: 10_000, v: "e" }, 250);
  assert.deepEqual([...c.keys()], ["e"], "a cache read once long ago keeps nothing of it");
});

Deno.test("cacheSet keeps at most CACHE_MAX_ENTRIES, dropping the oldest", () => {
  const c = new Map<string, { at: number }>();
  for (let i = 0; i < CACHE_MAX_ENTRIES + 5; i++) cacheSet(c, `k${i}`, { at: i / 1000 }, 1e9);
  assert.equal(c.size, CACHE_MAX_ENTRIES);
  assert.equal(c.keys().next().value, "k5");
  assert.ok(c.has(`k${CACHE_MAX_ENTRIES + 4}`));
});
