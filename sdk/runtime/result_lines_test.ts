import assert from "node:assert/strict";
import { FRAME_MARK, resultLines } from "./protocol.ts";

const lines = (text: string) => {
  assert.ok(text.endsWith("\n"));
  return text.slice(0, -1).split("\n").map((l) => {
    assert.ok(l.startsWith(FRAME_MARK), l);
    return l.slice(1);
  });
};

Deno.test("resultLines: a result with items is two lines, the items alone on the second", () => {
  const [head, items] = lines(resultLines(7, { items: [{ key: "a" }], rejected: [], cursor: 3 }));
  assert.deepEqual(JSON.parse(head), {
    id: 7,
    ok: true,
    result: { rejected: [], cursor: 3 },
    itemsNext: true,
  });
  assert.equal(items, '[{"key":"a"}]');
});

Deno.test("resultLines: any other result is one line", () => {
  assert.deepEqual(lines(resultLines(1, { finish: true })).map((l) => JSON.parse(l)), [
    { id: 1, ok: true, result: { finish: true } },
  ]);
  assert.deepEqual(lines(resultLines(2, undefined)).map((l) => JSON.parse(l)), [
    { id: 2, ok: true, result: null },
  ]);
  assert.deepEqual(lines(resultLines(3, { items: "not a list" })).map((l) => JSON.parse(l)), [
    { id: 3, ok: true, result: { items: "not a list" } },
  ]);
  assert.throws(() => resultLines(4, { items: [{ key: "a", n: 1n }] }), TypeError);
});
