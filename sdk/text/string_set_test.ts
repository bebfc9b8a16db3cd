import assert from "node:assert/strict";
import { CompactStringSet } from "./string_set.ts";

/** FNV-1a of an ASCII string's bytes, as the set hashes them (to find a colliding pair). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

Deno.test("CompactStringSet agrees with Set<string> on many keys, grown from small", () => {
  const set = new CompactStringSet(4);
  const ref = new Set<string>();
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const alphabet = ["a", "b", "z", "-", ".", "ä", "ß", "日", "😀", "0"];
  for (let i = 0; i < 50_000; i++) {
    // Short keys repeat often; some are long (beyond the first scratch buffer).
    const len = rnd() < 0.01 ? 300 + Math.floor(rnd() * 600) : Math.floor(rnd() * 4);
    let s = "";
    for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    assert.equal(set.has(s), ref.has(s), `has(${JSON.stringify(s)}) before`);
    assert.equal(set.add(s), !ref.has(s), `add(${JSON.stringify(s)}) says whether it was new`);
    ref.add(s);
    assert.equal(set.has(s), true);
  }
  assert.equal(set.size, ref.size);
  assert.ok(ref.has(""), "the empty string is a key like any other");
  for (const s of ref) assert.equal(set.has(s), true, s);
  assert.equal(set.has("not there"), false);
});

Deno.test("CompactStringSet tells apart strings whose hashes collide", () => {
  const byHash = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const s = `shop-${String(i).padStart(7, "0")}.com`; // one length: only the bytes differ
    const h = fnv1a(s);
    const other = byHash.get(h);
    if (other !== undefined) pair = [other, s];
    else byHash.set(h, s);
  }
  const set = new CompactStringSet();
  assert.equal(set.add(pair[0]), true);
  assert.equal(set.has(pair[1]), false, `${pair[1]} shares ${pair[0]}'s hash, not its bytes`);
  assert.equal(set.add(pair[1]), true);
  assert.equal(set.add(pair[0]), false);
  assert.equal(set.add(pair[1]), false);
  assert.equal(set.size, 2);
});

Deno.test("CompactStringSet keeps strings with a lone surrogate apart from U+FFFD", () => {
  // UTF-8 cannot hold a lone surrogate (an encoder writes U+FFFD): the two keys must stay two.
  const set = new CompactStringSet();
  assert.equal(set.add("a\ud800"), true);
  assert.equal(set.has("a\ufffd"), false);
  assert.equal(set.add("a\ufffd"), true);
  assert.equal(set.add("a\ud800"), false);
  assert.equal(set.has("a\udc00"), false);
  assert.equal(set.size, 2);
});
