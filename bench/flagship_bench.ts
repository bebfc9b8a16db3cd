/**
 * The full flagship pipeline on 20,000 generated businesses: verification (DNS, HTTP, classify),
 * RDAP, mail, search and LLM verification against loopback fakes, scoring, CSV and Postgres export,
 * with the real CLI in a subprocess (engine, file-backed Deno KV store and queue, plugin
 * sandboxes). Reports businesses/s, peak RSS of the process tree (CLI + plugin processes, sampled),
 * CPU seconds of that tree and of the fakes, and the per-stage busy time. Goal: >= 500
 * businesses/s on 2 cores with the fakes on the same machine. Not a test: run it by hand.
 *
 *   deno run -A bench/flagship_bench.ts [--size 20000] [--seed 11]
 * @module
 */
import cpuProcess from "node:process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { LEADS_TABLE, startFlagship } from "../testing/flagship_world.ts";

/** What {@linkcode runFlagshipBench} returns. */
export interface FlagshipBenchResult {
  /** Businesses (input rows). */
  size: number;
  seconds: number;
  businessesPerSecond: number;
  /** Highest sum of VmRSS over the CLI and its descendants, MiB (sampled every 200 ms). */
  peakRssMiB: number;
  /** CPU seconds (user + system) of the CLI and its plugin processes (sampled). */
  cliCpuSeconds: number;
  /** CPU seconds of this process: the simulated internet, the fakes and Postgres client. */
  fakesCpuSeconds: number;
  /** CPU seconds of the CLI and of each plugin's processes, most first. */
  cpuByProcess: { process: string; cpuSeconds: number; processes: number }[];
  /** Items in the run's output, rows in the CSV and in Postgres. */
  outputs: { items: number; csvRows: number; pgRows: number };
  exitCode: number;
  /** The CLI's run summary (per-stage counters and busy time). */
  summary: string;
  /** Load average before the run. */
  loadBefore: number[];
  /** Markdown report. */
  markdown: string;
}

interface Sample {
  rssKiB: number;
  /** CPU ticks (utime + stime) of the tree's processes seen so far, by pid. */
  ticks: Map<number, number>;
  /** What each pid is: `cli` or the plugin it runs. */
  groups: Map<number, string>;
}

/** `cli`, or the plugin a sandbox process runs (its first read permission is the plugin dir). */
function groupOf(pid: number): string {
  try {
    const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").join(" ");
    return /--allow-read=[^,\s]*\/plugins\/([^,/\s]+)/.exec(cmd)?.[1] ?? "cli";
  } catch {
    return "cli";
  }
}

/** Walks /proc once: RSS of `root` and its descendants, and their CPU ticks. */
function sampleTree(root: number, s: Sample): number {
  const into = s.ticks;
  const children = new Map<number, number[]>();
  const stats = new Map<number, string[]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(e.name);
      stats.set(pid, f);
      const ppid = Number(f[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch { /* process gone */ }
  }
  let rssPages = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const f = stats.get(pid);
    if (f) {
      // Fields after the command: state=0, ppid=1, ... utime=11, stime=12, rss=21 (pages).
      rssPages += Number(f[21]);
      if (!s.groups.has(pid)) s.groups.set(pid, groupOf(pid));
      into.set(pid, Math.max(into.get(pid) ?? 0, Number(f[11]) + Number(f[12])));
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return (rssPages * 4096) / 1024;
}

/** Runs the benchmark once. */
export async function runFlagshipBench(
  opts: { size?: number; seed?: number } = {},
): Promise<FlagshipBenchResult> {
  const size = opts.size ?? 20_000;
  const dir = await Deno.makeTempDir({ prefix: "sluice_flagship_bench_" });
  const f = await startFlagship({ size, seed: opts.seed ?? 11, dir, llm: true });
  try {
    const runId = "flagship-bench";
    const out = join(dir, "out.jsonl");
    const loadBefore = Deno.loadavg();
    const cpu0 = cpuProcess.cpuUsage();
    const started = performance.now();
    const child = f.sluice([
      "run",
      f.pipelineFile,
      "--input",
      f.inputFile,
      "--out",
      out,
      "--run-id",
      runId,
      "--quiet",
    ]);
    const sample: Sample = { rssKiB: 0, ticks: new Map(), groups: new Map() };
    const timer = setInterval(() => {
      sample.rssKiB = Math.max(sample.rssKiB, sampleTree(child.pid, sample));
    }, 200);
    const [status, , stderr] = await Promise.all([
      child.status,
      child.stdout.cancel(),
      new Response(child.stderr).text(),
    ]);
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuProcess.cpuUsage(cpu0);
    const ticksPerSecond = 100; // USER_HZ on Linux
    const cliCpuSeconds = [...sample.ticks.values()].reduce((a, b) => a + b, 0) / ticksPerSecond;
    const byGroup = new Map<string, { cpu: number; processes: number }>();
    for (const [pid, t] of sample.ticks) {
      const g = sample.groups.get(pid) ?? "cli";
      const e = byGroup.get(g) ?? { cpu: 0, processes: 0 };
      e.cpu += t / ticksPerSecond;
      e.processes++;
      byGroup.set(g, e);
    }
    const cpuByProcess = [...byGroup].sort((a, b) => b[1].cpu - a[1].cpu)
      .map(([g, e]) => ({ process: g, cpuSeconds: e.cpu, processes: e.processes }));
    const summary = /run \S+ \w+ in [\s\S]*?(?=\nwrote|\n*$)/.exec(stderr)?.[0] ??
      stderr.slice(-3000);

    const items = status.code === 0
      ? (await Deno.readTextFile(out)).split("\n").filter(Boolean).length
      : 0;
    const csvRows = status.code === 0
      ? Math.max(0, (await Deno.readTextFile(f.csvPath(runId))).trimEnd().split("\r\n").length - 1)
      : 0;
    const sql = postgres(f.pg!.url, { max: 1, onnotice: () => {} });
    let pgRows = 0;
    try {
      pgRows = Number((await sql.unsafe(`SELECT count(*) AS n FROM ${LEADS_TABLE}`))[0].n);
    } catch { /* no table: the export never ran */ }
    await sql.end();

    const r = {
      size,
      seconds,
      businessesPerSecond: size / seconds,
      peakRssMiB: sample.rssKiB / 1024,
      cliCpuSeconds,
      fakesCpuSeconds: (cpu.user + cpu.system) / 1e6,
      cpuByProcess,
      outputs: { items, csvRows, pgRows },
      exitCode: status.code,
      summary,
      loadBefore,
    };
    const markdown = [
      `Full flagship pipeline (\`pipelines/no-website-leads.yaml\` + postgres-export; search and ` +
      `LLM on; RDAP, search, LLM against loopback fakes), ${size.toLocaleString("en")} ` +
      `generated businesses, file-backed Deno KV (store + queue), sandboxed plugins; ` +
      `shipped stage settings except rdap and search-verify rates (one fake server answers every ` +
      `TLD: 2,000/s instead of 2/s and 1/s); timeouts connect 2 s / request 2.5 s; ` +
      `load average before: ${loadBefore.map((l) => l.toFixed(2)).join(" ")}.`,
      "",
      "| businesses/s | seconds | peak RSS MiB (CLI + plugins) | CPU s (CLI + plugins) | CPU s (fakes) | out / CSV / Postgres rows | goal |",
      "|---:|---:|---:|---:|---:|---|---|",
      `| ${r.businessesPerSecond.toFixed(0)} | ${seconds.toFixed(1)} | ${
        r.peakRssMiB.toFixed(0)
      } | ${cliCpuSeconds.toFixed(1)} | ${
        r.fakesCpuSeconds.toFixed(1)
      } | ${items} / ${csvRows} / ${pgRows}${
        status.code === 0 ? "" : ` (exit ${status.code})`
      } | ≥ 500/s on 2 cores |`,
      "",
      `CPU seconds by process: ${
        cpuByProcess.map((c) => `${c.process} ${c.cpuSeconds.toFixed(1)} (${c.processes})`)
          .join(", ")
      }.`,
      "",
      "```",
      summary.trimEnd(),
      "```",
    ].join("\n");
    return { ...r, markdown };
  } finally {
    await f.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { size: { type: "string" }, seed: { type: "string" } },
  });
  const r = await runFlagshipBench({
    size: values.size ? Number(values.size) : undefined,
    seed: values.seed ? Number(values.seed) : undefined,
  });
  console.log(r.markdown);
}
