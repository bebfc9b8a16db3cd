import assert from "node:assert/strict";
import { KvStore } from "./kv_backend.ts";
import type { RunLogEntry, RunRecord } from "./store.ts";
import { runTallies } from "./run_tallies.ts";

const run = { id: "r1", stages: [{ id: "source" }, { id: "score" }] } as unknown as RunRecord;
const line = 'rule "big" did not evaluate for {count} item(s): bad (first: item b)';
const entry = (
  chunk: number,
  count: number,
  at: number,
  key = "rule:big",
  part?: number,
): RunLogEntry => ({
  at,
  level: "warn",
  stage: "score",
  chunk,
  msg: `score: ${count} in this chunk`,
  tally: { key, count, line: line.replace("big", key.slice(5)), ...(part ? { part } : {}) },
});

Deno.test("runTallies sums each chunk once (a retried chunk logs again), first chunk's line", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvStore(kv);
    await store.appendRunLog(run.id, [
      entry(1, 2, 1),
      { at: 2, level: "info", stage: "score", chunk: 0, msg: "no tally" },
      entry(0, 1, 3),
      entry(1, 2, 4), // chunk 1 retried
      entry(2, 5, 5, "rule:small"),
    ]);
    assert.deepEqual(await runTallies(store, run), [
      {
        stage: "score",
        key: "rule:big",
        count: 3,
        partial: false,
        text: 'rule "big" did not evaluate for 3 item(s): bad (first: item b)',
      },
      {
        stage: "score",
        key: "rule:small",
        count: 5,
        partial: false,
        text: 'rule "small" did not evaluate for 5 item(s): bad (first: item b)',
      },
    ]);
    // A log read up to its limit may miss lines: the count is a lower bound.
    const [first] = await runTallies(store, run, 3);
    assert.equal(
      first.text,
      'rule "big" did not evaluate for at least 3 item(s): bad (first: item b)',
    );
  } finally {
    kv.close();
  }
});

Deno.test("runTallies counts each call of a chunk split by the stage's chunk: (its part) once", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const store = new KvStore(kv);
    await store.appendRunLog(run.id, [
      entry(0, 4, 1),
      entry(0, 3, 2, "rule:big", 1),
      entry(0, 1, 3, "rule:big", 2),
      entry(0, 3, 4, "rule:big", 1), // that call retried
      entry(1, 2, 5),
    ]);
    const [t] = await runTallies(store, run);
    assert.equal(t.count, 10);
  } finally {
    kv.close();
  }
});
