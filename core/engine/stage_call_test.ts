import assert from "node:assert/strict";
import { withRawItems } from "../../sdk/raw_items.ts";
import type { Item, ProcessResult } from "../../sdk/types.ts";
import type { StageSnapshot } from "../store/store.ts";
import type { StageInstance } from "./executor.ts";
import { callStage } from "./stage_call.ts";

const stage = { id: "s", chunk: 100 } as StageSnapshot;
const signal = new AbortController().signal;

/** An instance answering with `answer(items)`, its items' text kept as a plugin process's are. */
function instance(answer: (items: Item[]) => unknown[]): StageInstance {
  return {
    process(items: Item[]) {
      const out = answer(items);
      const res = {} as ProcessResult;
      const text = ` ${JSON.stringify(out)} `;
      withRawItems(res as unknown as Record<string, unknown>, out, text, [encoder.encode(text)]);
      return Promise.resolve(res);
    },
  } as unknown as StageInstance;
}

const input: Item[] = [{ key: "a", n: 1 }, { key: "b", n: 2 }];
const encoder = new TextEncoder();

Deno.test("a stage's output keeps the plugin's JSON text when it is the output as it came", async () => {
  const o = await callStage({
    stage,
    instance: instance((items) => items.map((i) => ({ ...i, seen: true }))),
    input,
    chunk: 0,
    signal,
  });
  assert.deepEqual(o.items.map((i) => i.seen), [true, true]);
  assert.equal(o.itemsJson, ` ${JSON.stringify(o.items)} `);
  assert.deepEqual(o.itemsBytes, [encoder.encode(o.itemsJson)], "and the bytes it came as");
});

Deno.test("items skipped by when: follow the plugin's JSON in the kept bytes", async () => {
  const skipped = await callStage({
    stage,
    instance: instance((items) => items.map((i) => ({ ...i, seen: true, t: "Café – ok" }))),
    input: [...input, { key: "c", n: 3, text: 'é \u2028 "q"' }],
    chunk: 0,
    signal,
    when: (item) => item.key === "b",
  });
  assert.deepEqual(skipped.items.map((i) => i.key), ["b", "a", "c"]);
  assert.equal(skipped.items[0].seen, true);
  assert.equal(skipped.itemsJson, undefined, "no joined text: the bytes are joined");
  assert.equal(skipped.itemsBytes?.length, 1);
  assert.equal(new TextDecoder().decode(skipped.itemsBytes![0]), JSON.stringify(skipped.items));
  // An instance that keeps the text alone (no bytes): the texts are joined.
  const textOnly = await callStage({
    stage,
    instance: {
      process(items: Item[]) {
        const res = {} as ProcessResult;
        withRawItems(res as unknown as Record<string, unknown>, items, JSON.stringify(items));
        return Promise.resolve(res);
      },
    } as unknown as StageInstance,
    input,
    chunk: 0,
    signal,
    when: (item) => item.key === "b",
  });
  assert.equal(textOnly.itemsJson, JSON.stringify(textOnly.items));
  assert.equal(textOnly.itemsBytes, undefined);
  const none = await callStage({
    stage,
    instance: instance((items) => items),
    input,
    chunk: 0,
    signal,
    when: () => false,
  });
  assert.deepEqual(none.items, input);
  assert.equal(none.itemsJson, undefined, "no call, no plugin text: the store serializes");
});

Deno.test("no kept text when an item was refused for a missing key", async () => {
  const refused = await callStage({
    stage,
    instance: instance((items) => [...items, { nokey: true }]),
    input,
    chunk: 0,
    signal,
  });
  assert.equal(refused.items.length, 2);
  assert.equal(refused.rejected.length, 1);
  assert.equal(refused.itemsJson, undefined, "the text holds an item the stage refused");
  assert.equal(refused.itemsBytes, undefined);
  const refusedAndSkipped = await callStage({
    stage,
    instance: instance((items) => [...items, { nokey: true }]),
    input,
    chunk: 0,
    signal,
    when: (item) => item.key === "a",
  });
  assert.equal(refusedAndSkipped.items.length, 2);
  assert.equal(refusedAndSkipped.itemsJson, undefined);
});
