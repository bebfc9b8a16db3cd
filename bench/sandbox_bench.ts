/**
 * Sandbox benchmark: spawn-to-ready of a plugin process, and the warm round trip of a 200-item
 * chunk through the sandbox compared with the same calls in-process (`createPluginInstance`).
 * Run: `deno run -A bench/sandbox_bench.ts [--spawns 10] [--calls 2000] [--items 200]`.
 * Prints a markdown table; `runSandboxBench()` returns the numbers for `bench/run.ts`.
 * @module
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { Item } from "../sdk/types.ts";
import type { PluginDefinition } from "../sdk/plugin.ts";
import { createPluginInstance } from "../sdk/runtime/instance.ts";
import { SandboxProcess } from "../sdk/runtime/sandbox_process.ts";
import { DEFAULT_HOST_CONFIG } from "../core/sandbox/executor.ts";

/** What {@linkcode runSandboxBench} measures. */
export interface SandboxBenchOptions {
  /** Spawns to time (median reported); default 10. */
  spawns?: number;
  /** Warm calls to time; default 2,000. */
  calls?: number;
  /** Items per call; default 200. */
  items?: number;
}

/** The measured numbers, in milliseconds. */
export interface SandboxBenchResult {
  spawnMedianMs: number;
  spawnMinMs: number;
  spawnMaxMs: number;
  sandboxP50Ms: number;
  sandboxP99Ms: number;
  inProcessP50Ms: number;
  inProcessP99Ms: number;
  /** Sandbox p50 minus in-process p50: what the process boundary costs per call. */
  overheadP50Ms: number;
  calls: number;
  items: number;
}

const PLUGIN_DIR = fileURLToPath(
  new URL("../core/sandbox/testdata/passthrough/", import.meta.url),
);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function makeItems(n: number): Item[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `item-${i}.example`,
    name: `Business ${i}`,
    city: "Springfield",
    n: i,
  }));
}

function start(dataDir: string): Promise<SandboxProcess> {
  return SandboxProcess.start({
    pluginDir: PLUGIN_DIR,
    entry: "mod.ts",
    permissions: {},
    memoryMb: 128,
    hostConfig: DEFAULT_HOST_CONFIG,
    init: { config: {}, secrets: {}, inputs: {}, run: { id: "bench", stage: "t1" }, dataDir },
  });
}

async function timeCalls(n: number, call: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(100, n); i++) await call(); // warm up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** Runs the benchmark and returns its numbers. */
export async function runSandboxBench(opts: SandboxBenchOptions = {}): Promise<SandboxBenchResult> {
  const spawns = opts.spawns ?? 10;
  const calls = opts.calls ?? 2_000;
  const items = makeItems(opts.items ?? 200);
  const dataDir = await Deno.makeTempDir({ prefix: "sluice_sandbox_bench_" });
  try {
    const spawnTimes: number[] = [];
    for (let i = 0; i < spawns; i++) {
      const t0 = performance.now();
      const p = await start(dataDir);
      spawnTimes.push(performance.now() - t0);
      await p.close();
    }
    spawnTimes.sort((a, b) => a - b);

    const proc = await start(dataDir);
    const sandbox = await timeCalls(calls, () => proc.process(items, 1));
    await proc.close();

    const mod = await import(new URL("mod.ts", `file://${PLUGIN_DIR}`).href);
    const lifetime = new AbortController();
    const instance = createPluginInstance(
      mod.default as PluginDefinition<Record<string, unknown>, unknown>,
      { config: {}, secrets: {}, inputs: {}, run: { id: "bench", stage: "t1" }, dataDir },
      { log: () => {}, metric: () => {} },
      lifetime.signal,
    );
    const inProcess = await timeCalls(calls, () => instance.process(items, 1, lifetime.signal));
    lifetime.abort();

    const sandboxP50 = quantile(sandbox, 0.5);
    const inProcessP50 = quantile(inProcess, 0.5);
    return {
      spawnMedianMs: quantile(spawnTimes, 0.5),
      spawnMinMs: spawnTimes[0],
      spawnMaxMs: spawnTimes[spawnTimes.length - 1],
      sandboxP50Ms: sandboxP50,
      sandboxP99Ms: quantile(sandbox, 0.99),
      inProcessP50Ms: inProcessP50,
      inProcessP99Ms: quantile(inProcess, 0.99),
      overheadP50Ms: sandboxP50 - inProcessP50,
      calls,
      items: items.length,
    };
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** The result as a small markdown table. */
export function sandboxBenchTable(r: SandboxBenchResult): string {
  const ms = (n: number) => `${n.toFixed(3)} ms`;
  return [
    "| measure | value | goal |",
    "|---|---|---|",
    `| spawn to ready (median of spawns; min ${ms(r.spawnMinMs)}, max ${ms(r.spawnMaxMs)}) | ${
      ms(r.spawnMedianMs)
    } | < 100 ms |`,
    `| sandbox call, ${r.items} items, p50 (${r.calls} calls) | ${ms(r.sandboxP50Ms)} | |`,
    `| sandbox call, ${r.items} items, p99 | ${ms(r.sandboxP99Ms)} | |`,
    `| in-process call, ${r.items} items, p50 | ${ms(r.inProcessP50Ms)} | |`,
    `| in-process call, ${r.items} items, p99 | ${ms(r.inProcessP99Ms)} | |`,
    `| sandbox overhead per call, p50 | ${ms(r.overheadP50Ms)} | < 1 ms |`,
  ].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      spawns: { type: "string", default: "10" },
      calls: { type: "string", default: "2000" },
      items: { type: "string", default: "200" },
    },
  });
  const result = await runSandboxBench({
    spawns: Number(values.spawns),
    calls: Number(values.calls),
    items: Number(values.items),
  });
  console.log(sandboxBenchTable(result));
}
