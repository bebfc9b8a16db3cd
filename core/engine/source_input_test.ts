/**
 * Runs whose source's input is at fault, end to end: real sandboxed csv-source processes and a
 * real KV file.
 */
import assert from "node:assert/strict";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { join } from "../paths.ts";
import { runOutput } from "./test_helpers.ts";
import { testEngine } from "./test_helpers.ts";

const PIPELINE = `name: leads
source: { plugin: csv-source, chunk: 2 }
stages:
  - { id: mark, plugin: set-fields, with: { set: { seen: true } } }
`;

Deno.test("a CSV with a header wider than a stored value (64 KiB) runs: the cursor holds the header's offset, not its cells", async () => {
  const te = await testEngine({ firstParty: true, executor: new SandboxExecutor() });
  try {
    const file = join(te.dir, "wide.csv");
    const extra = Array.from({ length: 10_000 }, (_, i) => `extra_column_${i}`);
    const rows = ["A,a.com", "B,b.com", "C,c.com", "D,d.com", "E,e.com"].map((r) =>
      r + ",".repeat(extra.length)
    );
    await Deno.writeTextFile(file, [`name,domain,${extra.join(",")}`, ...rows].join("\n"));
    const run = await te.start(PIPELINE, { inputFile: file });
    const done = await te.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    const out = await runOutput(te.backend, run);
    assert.deepEqual(out.map((i) => i.domain).sort(), [
      "a.com",
      "b.com",
      "c.com",
      "d.com",
      "e.com",
    ]);
  } finally {
    await te.dispose();
  }
});
