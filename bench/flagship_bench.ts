/**
 * The full flagship pipeline on 20,000 generated businesses: verification (DNS, HTTP, classify),
 * RDAP, mail, search and LLM verification against loopback fakes, scoring, CSV and Postgres export,
 * with the real CLI in a subprocess (engine, file-backed Deno KV store and queue or, with
 * `--backend pg`, PostgreSQL; plugin sandboxes). Reports businesses/s, peak RSS of the process
 * tree (CLI + plugin processes, sampled), CPU seconds of that tree, of the fakes and of the
 * PostgreSQL server, and the per-stage busy time. `--backend kv,pg` runs both back to back in
 * one invocation and compares them. Goal: >= 500
 * businesses/s on 2 cores with the fakes on the same machine. Not a test: run it by hand.
 *
 *   deno run -A bench/flagship_bench.ts [--size 20000] [--seed 11] [--backend kv|pg|kv,pg]
 *     [--profile]   (CPU profile of the CLI process: engine, store, host side of the sandbox)
 * @module
 */
import os from "node:os";
import cpuProcess from "node:process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { LEADS_TABLE, startFlagship } from "../testing/flagship_world.ts";
import { profileMarkdown, readRunStderr, startProfiling } from "./cpu_profile.ts";
import { freePort } from "./webhook_server.ts";
import { startSpanSink } from "./span_sink.ts";
import {
  cpuByGroup,
  newTreeSample,
  prioritizeWorld,
  sampleTree,
  treeCpuSeconds,
} from "./proc_tree.ts";

/** What {@linkcode runFlagshipBench} returns. */
export interface FlagshipBenchResult {
  /** Businesses (input rows). */
  size: number;
  /** Store and queue of the run. */
  backend: "kv" | "pg";
  /** CPU seconds of the PostgreSQL server (the export; with `pg` also the store and queue). */
  pgCpuSeconds: number;
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
  /** Whether the run was traced, and the spans the sink received. */
  tracing: { on: boolean; spans: number };
  /** Markdown report. */
  markdown: string;
}

/** Runs the benchmark once. */
export async function runFlagshipBench(
  opts: {
    size?: number;
    seed?: number;
    /** Store and queue: the file-backed Deno KV (default) or the fixture's PostgreSQL. */
    backend?: "kv" | "pg";
    /** CPU-profile the CLI process (engine, store; not the plugin processes). */
    profile?: boolean;
    /** Trace the run: spans exported by OTLP/HTTP to a sink in this process. */
    tracing?: boolean;
  } = {},
): Promise<FlagshipBenchResult> {
  const size = opts.size ?? 20_000;
  const dir = await Deno.makeTempDir({ prefix: "sluice_flagship_bench_" });
  // Certificates issued ahead: a real server has its certificate before the run asks.
  const f = await startFlagship({
    size,
    seed: opts.seed ?? 11,
    dir,
    llm: true,
    issueCertificatesAhead: true,
  });
  // The world and the fakes run in this process: give them priority (see prioritizeWorld; the
  // PostgreSQL server started above keeps nice 0); the CLI starts at nice 0 (fixture.sluice).
  const nice = prioritizeWorld();
  // Tracing: OTLP/HTTP to a sink in this process (its CPU counts with the world's, not the
  // pipeline's: a collector is not part of Sluice).
  const sink = opts.tracing ? startSpanSink() : undefined;
  try {
    const runId = "flagship-bench";
    const out = join(dir, "out.jsonl");
    const loadBefore = Deno.loadavg();
    // The PostgreSQL backend: a database of its own on the server the export writes to.
    const backend = opts.backend ?? "kv";
    const admin = postgres(f.pg!.url, { max: 1, onnotice: () => {} });
    const postmaster = await postmasterOf(admin);
    let storeEnv: Record<string, string> = {};
    if (backend === "pg") {
      await admin.unsafe("CREATE DATABASE sluice_store");
      const u = new URL(f.pg!.url);
      u.pathname = "/sluice_store";
      storeEnv = { SLUICE_DATABASE_URL: u.toString() };
    }
    if (sink) storeEnv.SLUICE_TELEMETRY_OTLP_ENDPOINT = sink.url;
    const pgCpu0 = serverCpuSeconds(postmaster);
    const cpu0 = cpuProcess.cpuUsage();
    const inspectPort = opts.profile ? freePort() : undefined;
    const started = performance.now();
    const child = f.sluice(
      [
        "run",
        f.pipelineFile,
        "--input",
        f.inputFile,
        "--out",
        out,
        "--run-id",
        runId,
        "--quiet",
      ],
      storeEnv,
      { inspectPort },
    );
    const prof = inspectPort ? await startProfiling(inspectPort) : undefined;
    // No PSS: the table gives RSS, and reading PSS costs the measured processes (newTreeSample).
    const sample = newTreeSample({ pssEveryMs: Infinity });
    const req0 = f.running.web.requests;
    const timer = setInterval(() => sampleTree(child.pid, sample), 200);
    const [status, , { text: stderr, profile }] = await Promise.all([
      child.status,
      child.stdout.cancel(),
      readRunStderr(child.stderr, prof),
    ]);
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuProcess.cpuUsage(cpu0);
    const pgCpuSeconds = serverCpuSeconds(postmaster) - pgCpu0;
    await admin.end();
    const httpRequests = f.running.web.requests - req0;
    const cliCpuSeconds = treeCpuSeconds(sample);
    const cpuByProcess = cpuByGroup(sample);
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
      backend,
      pgCpuSeconds,
      seconds,
      businessesPerSecond: size / seconds,
      peakRssMiB: sample.peakRssKiB / 1024,
      cliCpuSeconds,
      fakesCpuSeconds: (cpu.user + cpu.system) / 1e6,
      cpuByProcess,
      outputs: { items, csvRows, pgRows },
      exitCode: status.code,
      summary,
      loadBefore,
      tracing: { on: !!sink, spans: sink?.spans ?? 0 },
    };
    const markdown = [
      `Full flagship pipeline (\`pipelines/no-website-leads.yaml\` + postgres-export; search and ` +
      `LLM on; RDAP, search, LLM against loopback fakes), ${size.toLocaleString("en")} ` +
      `generated businesses, ${
        backend === "pg"
          ? "PostgreSQL store and queue (the fixture's server, a database of its own)"
          : "file-backed Deno KV (store + queue)"
      }, sandboxed plugins; ${
        sink
          ? `traced (OTLP/HTTP to a loopback sink, ${r.tracing.spans.toLocaleString("en")} spans)`
          : "not traced"
      }; ` +
      `shipped stage settings except rdap and search-verify rates (one fake server answers every ` +
      `TLD: 2,000/s instead of 2/s and 1/s); timeouts connect 2 s / request 2.5 s; the world and ` +
      `the fakes at nice ${nice}, the CLI at nice 0; 2-core bound: 2 × businesses / (the two ` +
      `CPU figures), the rate that much CPU allows with both cores busy; ` +
      `load average before: ${loadBefore.map((l) => l.toFixed(2)).join(" ")}.`,
      "",
      "| businesses/s | seconds | peak RSS MiB (CLI + plugins) | CPU s (CLI + plugins; ms per business) | CPU s (world + fakes + PG client; ms per business) | 2-core bound | out / CSV / Postgres rows | goal |",
      "|---:|---:|---:|---:|---:|---:|---|---|",
      `| ${r.businessesPerSecond.toFixed(0)} | ${seconds.toFixed(1)} | ${
        r.peakRssMiB.toFixed(0)
      } | ${cliCpuSeconds.toFixed(1)} (${(1000 * cliCpuSeconds / size).toFixed(2)}) | ${
        r.fakesCpuSeconds.toFixed(1)
      } (${(1000 * r.fakesCpuSeconds / size).toFixed(2)}) | ${
        (2 * size / Math.max(1e-9, cliCpuSeconds + r.fakesCpuSeconds)).toFixed(0)
      }/s | ${items} / ${csvRows} / ${pgRows}${
        status.code === 0 ? "" : ` (exit ${status.code})`
      } | ≥ 500/s on 2 cores |`,
      "",
      `CPU seconds by process (ms per business, processes): ${
        cpuByProcess.map((c) =>
          `${c.process} ${c.cpuSeconds.toFixed(1)} (${
            (1000 * c.cpuSeconds / size).toFixed(2)
          }, ${c.processes})`
        ).join(", ")
      }. HTTP(S) requests answered by the world: ${httpRequests.toLocaleString("en")}. ` +
      `PostgreSQL server CPU s (the export; with \`pg\` also the store and queue): ${
        pgCpuSeconds.toFixed(1)
      } (${(1000 * pgCpuSeconds / size).toFixed(2)} ms per business).`,
      "",
      "```",
      summary.trimEnd(),
      "```",
      ...(profile ? ["", profileMarkdown("CLI CPU profile", profile)] : []),
    ].join("\n");
    return { ...r, markdown };
  } finally {
    await sink?.close();
    if (nice < 0) os.setPriority(0);
    await f.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The PostgreSQL server's postmaster pid (the parent of a backend). */
async function postmasterOf(sql: postgres.Sql): Promise<number> {
  const [{ pid }] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  return Number(/^PPid:\s+(\d+)$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]);
}

/** CPU seconds of a PostgreSQL server: the postmaster, its live and its exited children. */
function serverCpuSeconds(postmaster: number): number {
  const ticks = (pid: number, children: boolean) => {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
      return f[11] + f[12] + (children ? f[13] + f[14] : 0);
    } catch {
      return 0;
    }
  };
  let total = ticks(postmaster, true);
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const status = Deno.readTextFileSync(`/proc/${e.name}/status`);
      if (new RegExp(`^PPid:\\s+${postmaster}$`, "m").test(status)) {
        total += ticks(Number(e.name), false);
      }
    } catch { /* gone meanwhile */ }
  }
  return total / 100;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    // --backend kv,pg runs both back to back (same world, same machine state) and compares.
    // --tracing off,on runs untraced and traced runs alternately, --rounds times (the order
    // flips each round), and reports the tracing overhead on the pipeline's CPU.
    options: {
      size: { type: "string" },
      seed: { type: "string" },
      backend: { type: "string", default: "kv" },
      profile: { type: "boolean", default: false },
      tracing: { type: "string", default: "off" },
      rounds: { type: "string", default: "1" },
      pause: { type: "string", default: "30" },
    },
  });
  const modes = values.tracing!.split(",").map((m) => m === "on");
  const rounds = Number(values.rounds);
  const results: FlagshipBenchResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...modes].reverse() : modes;
    for (const backend of values.backend!.split(",") as ("kv" | "pg")[]) {
      for (const tracing of order) {
        if (results.length) await new Promise((r) => setTimeout(r, 1000 * Number(values.pause)));
        const r = await runFlagshipBench({
          size: values.size ? Number(values.size) : undefined,
          seed: values.seed ? Number(values.seed) : undefined,
          backend,
          profile: values.profile,
          tracing,
        });
        results.push(r);
        console.log(
          `### backend: ${backend}, tracing ${tracing ? "on" : "off"}, ${
            new Date().toISOString().slice(11, 16)
          } UTC\n\n${r.markdown}\n`,
        );
      }
    }
  }
  if (results.length > 1) {
    const ms = (s: number, r: FlagshipBenchResult) => (1000 * s / r.size).toFixed(2);
    const cli = (r: FlagshipBenchResult) =>
      r.cpuByProcess.find((c) => c.process === "cli")?.cpuSeconds ?? 0;
    console.log(
      "| backend | tracing | spans | businesses/s | seconds | CPU ms/business: CLI + plugins | CLI | world + fakes | PostgreSQL |",
    );
    console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of results) {
      console.log(
        `| ${r.backend} | ${r.tracing.on ? "on" : "off"} | ${r.tracing.spans} | ${
          r.businessesPerSecond.toFixed(0)
        } | ${r.seconds.toFixed(1)} | ${ms(r.cliCpuSeconds, r)} | ${ms(cli(r), r)} | ${
          ms(r.fakesCpuSeconds, r)
        } | ${ms(r.pgCpuSeconds, r)} |`,
      );
    }
    if (modes.length === 2 && modes[0] !== modes[1]) {
      // Pooled over every run: the rise of the pipeline's CPU per business with tracing on.
      const sum = (on: boolean, f: (r: FlagshipBenchResult) => number) =>
        results.filter((r) => r.tracing.on === on).reduce((a, r) => a + f(r), 0);
      const cpu = (on: boolean) => sum(on, (r) => r.cliCpuSeconds) / sum(on, (r) => r.size);
      const rate = (on: boolean) => sum(on, (r) => r.size) / sum(on, (r) => r.seconds);
      console.log(
        `\nTracing overhead, pooled: pipeline CPU per business ${
          (100 * (cpu(true) / cpu(false) - 1)).toFixed(1)
        } %, businesses/s ${(100 * (rate(true) / rate(false) - 1)).toFixed(1)} %.`,
      );
    }
  }
}
