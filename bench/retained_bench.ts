/**
 * What a long-lived engine keeps per run it has run: `--runs` small runs one after another (a
 * 200-row JSON-lines source, a stage with a `when:`, a sink-free transform, all sandboxed) on one
 * engine and one KV file, as a `sluice serve` runs its scheduled and webhook runs. After `--warm`
 * runs and again after the last, a full GC and V8's object heap (old and large-object spaces;
 * not the compiled code, which grows as the JIT optimises); prints one JSON line with the heap
 * growth per run and the runs the engine still holds state for (`Engine.runsHeld`).
 *
 *     deno run -A --v8-flags=--expose-gc bench/retained_bench.ts [--warm 30] [--runs 200]
 *
 * Run through `bench/run.ts` (section `retained`).
 */
import { getHeapSpaceStatistics } from "node:v8";
import { parseArgs } from "node:util";
import { DEFAULT_STAGE, prepareRun } from "../core/engine/prepare.ts";
import { Pipeline } from "../core/pipeline/model.ts";
import { join } from "../core/paths.ts";
import { openBenchEngine } from "./bench_engine.ts";
import { parse } from "yaml";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error("retained_bench needs a GC it can call: deno run --v8-flags=--expose-gc …");
  Deno.exit(2);
}
const { values } = parseArgs({
  args: Deno.args,
  options: { warm: { type: "string", default: "30" }, runs: { type: "string", default: "200" } },
});
const warm = Number(values.warm), runs = Number(values.runs);

/**
 * V8's object heap after full GCs: old and large-object spaces, bytes. Between the GCs a pause
 * lets finalization callbacks run (Deno's `AbortSignal.any` cleans up its weak references so).
 */
async function objectHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 100));
  }
  gc!();
  return getHeapSpaceStatistics()
    .filter((s) => s.space_name === "old_space" || s.space_name === "large_object_space")
    .reduce((n, s) => n + s.space_used_size, 0);
}

const dir = await Deno.makeTempDir({ prefix: "sluice-retained-" });
const input = join(dir, "in.jsonl");
await Deno.writeTextFile(
  input,
  Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `b${i}`, n: i })).join("\n") + "\n",
);
const yaml = `name: retained
source: { plugin: jsonl-source, with: { key: id }, chunk: 50 }
stages:
  - { id: low, plugin: set-fields, with: { set: { low: true } }, when: "item.n < 100" }
  - { id: all, plugin: set-fields, with: { set: { seen: true } } }
`;
const bench = await openBenchEngine(dir);
const { engine, registry } = bench;
const pipeline = Pipeline.parse(parse(yaml));

async function oneRun(): Promise<void> {
  const run = prepareRun({
    pipeline,
    yaml,
    file: "retained.yaml",
    registry,
    inputs: {},
    inputFile: input,
    trigger: { kind: "cli" },
    defaults: DEFAULT_STAGE,
  });
  await engine.createRun(run);
  const done = await engine.waitForRun(run.id);
  if (done.state !== "succeeded") throw new Error(`run ${run.id} ${done.state}: ${done.error}`);
}

for (let i = 0; i < warm; i++) await oneRun();
const before = await objectHeap();
const t0 = performance.now();
for (let i = 0; i < runs; i++) await oneRun();
const seconds = (performance.now() - t0) / 1000;
const after = await objectHeap();
const held = engine.runsHeld;
const rss = Number(/VmRSS:\s+(\d+)/.exec(await Deno.readTextFile("/proc/self/status"))?.[1] ?? 0);
await bench.close();
await Deno.remove(dir, { recursive: true });
console.log(JSON.stringify({
  warm,
  runs,
  seconds: +seconds.toFixed(1),
  heapBeforeMb: +(before / 1e6).toFixed(2),
  heapAfterMb: +(after / 1e6).toFixed(2),
  bytesPerRun: Math.round((after - before) / runs),
  runsHeld: held,
  rssMb: Math.round(rss / 1024),
}));
