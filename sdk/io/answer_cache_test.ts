import assert from "node:assert/strict";
import { AnswerCache } from "./answer_cache.ts";

const DAY = 86_400_000;

Deno.test("AnswerCache: a key is the hash of what decides the answer", async () => {
  const a = await AnswerCache.keyOf(["brave", "https://api.search.brave.com", 10, '"Café" Köln']);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(
    a,
    await AnswerCache.keyOf(["brave", "https://api.search.brave.com", 10, '"Café" Köln']),
  );
  for (
    const other of [
      ["searxng", "https://api.search.brave.com", 10, '"Café" Köln'],
      ["brave", "https://api.search.brave.com", 20, '"Café" Köln'],
      ["brave", "https://api.search.brave.com", 10, '"Cafe" Köln'],
    ]
  ) assert.notEqual(await AnswerCache.keyOf(other), a);
});

Deno.test("AnswerCache: answers kept in batches are served to another opener of the file until they are too old", async () => {
  const dir = await Deno.makeTempDir({ prefix: "answer_cache_" });
  const now = Date.parse("2026-12-01T08:00:00Z");
  try {
    const writer = await AnswerCache.open<{ n: number }>(dir, "search", 7 * DAY, "hits-v1");
    // 250 answers: three commits of up to 100, read back in getMany's slices of 10.
    const entries: [string, { n: number }][] = [];
    for (let n = 0; n < 250; n++) entries.push([await AnswerCache.keyOf([n]), { n }]);
    try {
      await writer.putMany(entries, now);
      await writer.putMany([[await AnswerCache.keyOf(["old"]), { n: -1 }]], now - 8 * DAY);
    } finally {
      writer.close();
    }
    const reader = await AnswerCache.open<{ n: number }>(dir, "search", 7 * DAY, "hits-v1");
    try {
      const keys = [...entries.map(([k]) => k), await AnswerCache.keyOf(["old"])];
      const got = await reader.getMany([...keys, keys[0]], now + DAY);
      assert.equal(got.size, 250, "every kept answer, the 8-day-old one left out");
      for (const [k, v] of entries) assert.deepEqual(got.get(k), v);
      assert.equal((await reader.getMany(keys, now + 7 * DAY)).size, 0, "all too old a week on");
    } finally {
      reader.close();
    }
    // Another prefix (what the entries hold changed): nothing is served.
    const changed = await AnswerCache.open<unknown>(dir, "search", 7 * DAY, "hits-v2");
    try {
      assert.equal((await changed.getMany([entries[0][0]], now)).size, 0);
    } finally {
      changed.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
