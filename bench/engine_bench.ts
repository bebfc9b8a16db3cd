/**
 * Engine benchmark (issue: foundation; sandbox comparison): N items through 4 trivial transform
 * stages on the file-backed KV store. `--executor sandbox|inprocess`. Prints one JSON line with
 * items/s and this process's peak RSS (VmHWM). Run through `bench/run.ts`.
 */
import { parseArgs } from "node:util";
import type { StageExecutor } from "../core/engine/executor.ts";
import { InProcessExecutor } from "../core/engine/in_process_executor.ts";
import { DEFAULT_STAGE, prepareRun } from "../core/engine/prepare.ts";
import { Pipeline } from "../core/pipeline/model.ts";
import { join } from "../core/paths.ts";
import { SandboxExecutor } from "../core/sandbox/executor.ts";
import { openBenchEngine } from "./bench_engine.ts";
import { parse } from "yaml";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    executor: { type: "string", default: "sandbox" },
    items: { type: "string", default: "100000" },
    chunk: { type: "string", default: "500" },
    concurrency: { type: "string", default: "8" },
  },
});
const n = Number(values.items);
const dir = await Deno.makeTempDir({ prefix: "sluice-bench-" });
const input = join(dir, "in.jsonl");
{
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({ id: `item-${i}`, name: `Business ${i}`, city: "Springfield", n: i }),
    );
  }
  await Deno.writeTextFile(input, lines.join("\n") + "\n");
}
const yaml = `name: bench
source: { plugin: jsonl-source, with: { key: id }, chunk: ${values.chunk} }
stages:
  - { id: t1, plugin: set-fields, with: { set: { a: 1 } }, concurrency: 2 }
  - { id: t2, plugin: set-fields, with: { set: { b: 2 } }, concurrency: 2 }
  - { id: t3, plugin: set-fields, with: { copy: { c: n } }, concurrency: 2 }
  - { id: t4, plugin: set-fields, with: { remove: [a] }, concurrency: 2 }
`;
const executor: StageExecutor = values.executor === "inprocess"
  ? new InProcessExecutor()
  : new SandboxExecutor();
const bench = await openBenchEngine(dir, { executor, concurrency: Number(values.concurrency) });
const { engine, backend, registry } = bench;
const run = prepareRun({
  pipeline: Pipeline.parse(parse(yaml)),
  yaml,
  file: "bench.yaml",
  registry,
  inputs: {},
  inputFile: input,
  trigger: { kind: "cli" },
  defaults: DEFAULT_STAGE,
});
const t0 = performance.now();
await engine.createRun(run);
const done = await engine.waitForRun(run.id);
const ms = performance.now() - t0;
const counters = await backend.store.counters(run.id, run.stages.length);
const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
await bench.close();
await Deno.remove(dir, { recursive: true });
if (done.state !== "succeeded") console.error(done.error);
console.log(JSON.stringify({
  executor: values.executor,
  items: n,
  state: done.state,
  out: counters[4].out,
  seconds: +(ms / 1000).toFixed(2),
  itemsPerSecond: Math.round(n / (ms / 1000)),
  peakRssMb: Math.round(hwm),
}));
