import assert from "node:assert/strict";
import { storedRows } from "./stored_rows.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Checks storedRows against JSON.parse on the array text `text`. */
function checkAgainstParse(text: string, label: string): void {
  const bytes = enc.encode(text);
  const rows = storedRows(bytes);
  assert.ok(rows, `${label}: read as an array`);
  const items: unknown[] = JSON.parse(text);
  assert.equal(rows.length, items.length, `${label}: one row per element`);
  rows.forEach((r, k) => {
    const slice = dec.decode(bytes.subarray(r.start, r.end));
    assert.deepEqual(JSON.parse(slice), items[k], `${label}: element ${k}'s bytes`);
    const item = items[k] as { key?: unknown } | null;
    const key = item && typeof item === "object" && !Array.isArray(item) &&
        typeof item.key === "string"
      ? item.key
      : undefined;
    assert.equal(r.key, key, `${label}: element ${k}'s key`);
    assert.equal(r.compact, !/\s/.test(slice.replace(/"(?:[^"\\]|\\.)*"/g, '""')), label);
  });
}

Deno.test("storedRows cuts an item array as JSON.parse reads it: keys, strings with quotes, brackets and escapes", () => {
  const items: unknown[] = [
    { name: 'Café "Zur Post" [1] {a}', key: "zur-post.de", n: 1.5 },
    { key: "a\\", tail: "\\", q: '"' },
    { nested: { key: "not this" }, list: [{ key: "nor this" }], key: "this.de" },
    { key: "first", other: 1, key2: "x" },
    { emoji: "😀 Grüße – ok", key: "ünïcode.de" },
    { noKey: true },
    { key: 42 },
    { key: null },
    { key: { inner: "x" } },
    { key: ["a"] },
    "a string",
    12.5e3,
    -0.5,
    true,
    null,
    [1, [2, { key: "deep" }]],
    {},
    [],
  ];
  checkAgainstParse(JSON.stringify(items), "compact");
  checkAgainstParse(JSON.stringify(items, null, 2), "indented");
  checkAgainstParse(" [ ] ", "empty with spaces");
  checkAgainstParse("[]", "empty");
});

Deno.test("storedRows takes the last key when an object names it twice, and reads escaped names and values", () => {
  const text = '[{"key":"a","key":"b"},{"key":"a","key":7},{"key":7,"key":"c"},' +
    '{"\\u006bey":"d"},{"key":"e\\"f\\u00e9"},{"k":"key","v":"key"}]';
  checkAgainstParse(text, "duplicates and escapes");
  const keys = storedRows(enc.encode(text))!.map((r) => r.key);
  assert.deepEqual(keys, ["b", undefined, "c", "d", 'e"fé', undefined]);
});

Deno.test("storedRows gives undefined for what is no JSON array, so the caller parses it instead", () => {
  for (const text of ["", "{}", '{"key":"a"}', "[1,]", "[1 2]", '["a]', "[1]x", "[", "[{]"]) {
    assert.equal(storedRows(enc.encode(text)), undefined, JSON.stringify(text));
  }
});

Deno.test("storedRows agrees with JSON.parse on random nested values", () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
  const chars = [
    '"',
    "\\",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    " ",
    "\n",
    "é",
    "😀",
    "a",
    "key",
    "\u0001",
  ];
  const str = () =>
    Array.from({ length: Math.floor(rnd() * 6) }, () => chars[Math.floor(rnd() * chars.length)])
      .join("");
  const value = (depth: number): unknown => {
    const r = rnd();
    if (depth > 3 || r < 0.3) {
      return [str(), rnd() * 100 - 50, rnd() < 0.5, null][Math.floor(rnd() * 4)];
    }
    if (r < 0.5) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rnd() * 5); i > 0; i--) {
      o[rnd() < 0.3 ? "key" : str()] = value(depth + 1);
    }
    return o;
  };
  for (let round = 0; round < 200; round++) {
    const items = Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => value(1));
    checkAgainstParse(JSON.stringify(items), `round ${round}`);
    checkAgainstParse(JSON.stringify(items, null, "\t"), `round ${round}, indented`);
  }
});
