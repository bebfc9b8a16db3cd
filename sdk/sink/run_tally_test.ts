import assert from "node:assert/strict";
import { plural, readRunTally, writeChunkTally } from "./run_tally.ts";

Deno.test("run tally: chunk counts add up; a retried chunk counts once; runs and stages apart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "sluice_tally_" });
  try {
    const scope = { dataDir, run: { id: "r1", stage: "crm" } };
    assert.deepEqual(await readRunTally(scope), { chunks: 0, counts: {} }, "nothing yet");
    await writeChunkTally(scope, 0, { items: 20, sent: 3 });
    await writeChunkTally(scope, 1, { items: 5, sent: 0 });
    await writeChunkTally(scope, 1, { items: 5, sent: 2 }); // the chunk retried
    await writeChunkTally({ dataDir, run: { id: "r2", stage: "crm" } }, 0, { items: 7 });
    await writeChunkTally({ dataDir, run: { id: "r1", stage: "other" } }, 0, { items: 9 });
    assert.deepEqual(await readRunTally(scope), { chunks: 2, counts: { items: 25, sent: 5 } });
    await assert.rejects(writeChunkTally(scope, -1, {}), RangeError);
    // A chunk the stage's `chunk:` split: each call's counts add up; it is one chunk.
    await writeChunkTally(scope, 2, { items: 4, sent: 1 });
    await writeChunkTally(scope, 2, { items: 4, sent: 4 }, 1);
    await writeChunkTally(scope, 2, { items: 2, sent: 0 }, 2);
    await writeChunkTally(scope, 2, { items: 2, sent: 2 }, 2); // that call retried
    assert.deepEqual(await readRunTally(scope), { chunks: 3, counts: { items: 35, sent: 12 } });
    await assert.rejects(writeChunkTally(scope, 3, {}, -1), RangeError);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("plural", () => {
  assert.equal(plural(1, "lead"), "1 lead");
  assert.equal(plural(0, "lead"), "0 leads");
  assert.equal(plural(2, "batch", "batches"), "2 batches");
});
