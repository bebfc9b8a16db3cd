import assert from "node:assert/strict";
import { renderBars, showProgress } from "./progress.ts";
import type { RunRecord, StageCounters, Store } from "../store/store.ts";

const counters = (out: number, chunksDone: number, extra: Partial<StageCounters> = {}) =>
  ({
    in: out,
    out,
    filtered: 0,
    skipped: 0,
    failed: 0,
    rejected: 0,
    chunksDone,
    chunksDead: 0,
    ...extra,
  }) as StageCounters;

const run = { id: "r1", stages: [{ id: "source" }, { id: "normalize" }] } as unknown as RunRecord;
const store = {
  counters: () => Promise.resolve([counters(300, 2), counters(296, 1, { rejected: 4 })]),
  sourceProgress: () => Promise.resolve({ done: true }),
} as unknown as Store;

Deno.test("progress without a terminal: one plain line per update that says what it counts", async () => {
  const lines: string[] = [];
  const stop = new AbortController();
  const last = showProgress(store, run, stop.signal, (s) => lines.push(s), false);
  stop.abort();
  await last();
  assert.equal(
    lines.at(-1),
    "progress r1: source 300 out, 2 chunks | normalize 296 out, 1 chunk\n",
  );
});

Deno.test("progress bars on a terminal: items in and out, rejections named", () => {
  const frame = renderBars(run, [counters(300, 2), counters(296, 1, { rejected: 4 })], true, 10);
  assert.deepEqual(frame.split("\n"), [
    "source         ██████████ 300 read",
    "normalize      █████░░░░░ 296 in, 296 out (4 rejected)",
  ]);
});
