/**
 * The flagship pipeline's cost: 20,000 domains of a generated world through
 * `pipelines/no-website-leads.yaml` (the real CLI in a subprocess: engine, store, sandboxes), side
 * by side with `bare_probe.ts` making the same DNS and HTTP requests with the same concurrency and
 * no engine. Reports domains/s and peak RSS (the whole process tree: CLI plus plugin sandboxes).
 * Then a streaming check: a 1,000,000-row CSV through a network-free pipeline
 * (csv-source -> normalize), peak RSS of the tree. Not a test: run it by hand.
 *
 *   deno run -A bench/verify_bench.ts [--size 20000] [--rows 1000000] [--seed 7]
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { generateWorld } from "../testing/world.ts";
import { startWorld } from "../testing/world_server.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** One measured subprocess. */
export interface Measured {
  /** What ran. */
  name: string;
  /** Domains (or rows) it handled. */
  count: number;
  seconds: number;
  /** count / seconds. */
  perSecond: number;
  /** Highest sum of VmRSS over the process and its descendants, MiB (sampled every 200 ms). */
  peakRssMiB: number;
  /** Exit code. */
  code: number;
}

/** What {@linkcode runVerifyBench} returns. */
export interface VerifyBenchResult {
  size: number;
  pipeline: Measured;
  bare: Measured;
  streaming: Measured;
  /** Markdown table of the three. */
  table: string;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sum of VmRSS of `root` and all its descendants (Linux /proc), KiB. */
export function treeRssKiB(root: number): number {
  const children = new Map<number, number[]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e.name));
      children.set(ppid, list);
    } catch { /* process gone */ }
  }
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    total += rssKiB(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function measure(
  name: string,
  args: string[],
  env: Record<string, string>,
  count: (stdout: string) => number,
): Promise<Measured> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let peak = 0;
  const timer = setInterval(() => peak = Math.max(peak, treeRssKiB(child.pid)), 200);
  const out = await child.output();
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const stdout = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    console.error(
      `${name} failed (exit ${out.code}):\n${new TextDecoder().decode(out.stderr).slice(-3000)}`,
    );
  }
  const n = count(stdout);
  return {
    name,
    count: n,
    seconds,
    perSecond: n / seconds,
    peakRssMiB: peak / 1024,
    code: out.code,
  };
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  const file = await Deno.open(path);
  for await (const chunk of file.readable) for (const b of chunk) if (b === 10) n++;
  return n;
}

async function writeRows(path: string, rows: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const w = file.writable.getWriter();
  const enc = new TextEncoder();
  await w.write(enc.encode("name,city,website\n"));
  const batch = 10_000;
  for (let i = 0; i < rows; i += batch) {
    let s = "";
    for (let j = i; j < Math.min(rows, i + batch); j++) {
      s += `Business ${j},Springfield,https://www.shop-${j}.com/\n`;
    }
    await w.write(enc.encode(s));
  }
  await w.close();
}

/** Runs the three measurements and returns the numbers (and prints nothing). */
export async function runVerifyBench(
  opts: { size?: number; rows?: number; seed?: number } = {},
): Promise<VerifyBenchResult> {
  const size = opts.size ?? 20_000;
  const rows = opts.rows ?? 1_000_000;
  const dir = await Deno.makeTempDir({ prefix: "sluice_verify_bench_" });
  const world = generateWorld({ size, seed: opts.seed ?? 7 });
  const running = await startWorld(world);
  try {
    const csv = join(dir, "world.csv");
    await Deno.writeTextFile(csv, world.toCsv());
    // Both runs get the same settings; request/connect timeouts shortened from the 30 s/10 s
    // defaults so the few hanging sites of the world do not dominate the wall time.
    const env = (sub: string, net: Record<string, string> = running.env) => ({
      ...Deno.env.toObject(),
      ...net,
      SLUICE_NETWORK_TIMEOUTS_CONNECT: "5s",
      SLUICE_NETWORK_TIMEOUTS_REQUEST: "10s",
      SLUICE_DATA_DIR: join(dir, sub),
      SLUICE_PLUGINS_LOCK: join(dir, `${sub}.lock`),
      SLUICE_LOG_LEVEL: "warn",
    });
    const out = join(dir, "out.jsonl");
    const pipeline = await measure(
      "pipeline (engine + sandboxes)",
      [
        "run",
        "-A",
        "core/cli.ts",
        "run",
        "pipelines/no-website-leads.yaml",
        "--input",
        csv,
        "--out",
        out,
        "--quiet",
      ],
      env("pipeline"),
      () => 0,
    );
    pipeline.count = await countLines(out).catch(() => 0);
    pipeline.perSecond = pipeline.count / pipeline.seconds;
    const bare = await measure(
      "bare script (sdk/net only)",
      ["run", "-A", "bench/bare_probe.ts", "--input", csv],
      env("bare"),
      (s) => JSON.parse(s.trim().split("\n").pop() || "{}").domains ?? 0,
    );
    await running.close();

    const big = join(dir, "rows.csv");
    await writeRows(big, rows);
    const yaml = join(dir, "stream.yaml");
    await Deno.writeTextFile(
      yaml,
      "name: stream-check\nsource:\n  plugin: csv-source@^1\n  chunk: 1000\nstages:\n" +
        "  - id: normalize\n    plugin: normalize@^1\n    chunk: 1000\n    concurrency: 2\n",
    );
    const streamOut = join(dir, "stream.jsonl");
    const streaming = await measure(
      `${rows.toLocaleString("en")}-row CSV, csv-source -> normalize`,
      ["run", "-A", "core/cli.ts", "run", yaml, "--input", big, "--out", streamOut, "--quiet"],
      env("stream", {}),
      () => 0,
    );
    streaming.count = await countLines(streamOut).catch(() => 0);
    streaming.perSecond = streaming.count / streaming.seconds;

    const row = (m: Measured) =>
      `| ${m.name} | ${m.count.toLocaleString("en")} | ${m.seconds.toFixed(1)} | ${
        m.perSecond.toFixed(0)
      } | ${m.peakRssMiB.toFixed(0)} |${m.code === 0 ? "" : ` exit ${m.code}`}`;
    const table = [
      "| run | domains/rows | seconds | per second | peak RSS MiB (tree) |",
      "|---|---:|---:|---:|---:|",
      row(pipeline),
      row(bare),
      row(streaming),
    ].join("\n");
    return { size, pipeline, bare, streaming, table };
  } finally {
    await running.close().catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { size: { type: "string" }, rows: { type: "string" }, seed: { type: "string" } },
  });
  const r = await runVerifyBench({
    size: values.size ? Number(values.size) : undefined,
    rows: values.rows ? Number(values.rows) : undefined,
    seed: values.seed ? Number(values.seed) : undefined,
  });
  console.log(`\n## Flagship pipeline vs bare script (${r.size.toLocaleString("en")} domains)\n`);
  console.log(r.table);
}
