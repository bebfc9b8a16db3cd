import assert from "node:assert/strict";
import { ParsedHandoff } from "./parsed_handoff.ts";
import type { Item } from "../../sdk/types.ts";

const items = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ key: `k${i}` }));

Deno.test("parsed handoff: an entry is taken once, by run, stage and chunk", () => {
  const h = new ParsedHandoff({ now: () => 0 });
  const a = items(3);
  h.keep("r1", 1, 0, a);
  h.keep("r1", 1, 1, items(2));
  assert.equal(h.take("r1", 2, 0), undefined, "another stage");
  assert.equal(h.take("r2", 1, 0), undefined, "another run");
  assert.equal(h.take("r1", 1, 0, 3), a, "the same items, not a copy");
  assert.equal(h.take("r1", 1, 0), undefined, "taken once");
  assert.equal(h.size, 1);
});

Deno.test("parsed handoff: too old, a count that differs from the stored chunk's, too many", () => {
  let now = 0;
  const h = new ParsedHandoff({ now: () => now, maxAgeMs: 100, max: 2 });
  h.keep("r", 1, 0, items(2));
  now = 100;
  assert.equal(h.take("r", 1, 0), undefined, "expired");
  h.keep("r", 1, 1, items(2));
  assert.equal(h.take("r", 1, 1, 3), undefined, "the stored chunk has another count");
  assert.equal(h.take("r", 1, 1, 2), undefined, "and the entry is gone");
  h.keep("r", 1, 2, items(1));
  h.keep("r", 1, 3, items(1));
  h.keep("r", 1, 4, items(1));
  assert.equal(h.size, 2, "at most max: the oldest went");
  assert.equal(h.take("r", 1, 2), undefined);
  assert.equal(h.take("r", 1, 4)?.length, 1);
  now = 150;
  h.keep("r", 1, 5, items(1));
  now = 250;
  h.keep("r", 1, 6, items(1));
  assert.equal(h.size, 1, "expired entries go when another is kept");
});

Deno.test("parsed handoff: a run's entries go when it ends", () => {
  const h = new ParsedHandoff({ now: () => 0 });
  h.keep("a", 1, 0, items(1));
  h.keep("b", 1, 0, items(1));
  h.keep("a", 2, 0, items(1));
  h.forgetRun("a");
  assert.equal(h.size, 1);
  assert.equal(h.take("b", 1, 0)?.length, 1);
});
