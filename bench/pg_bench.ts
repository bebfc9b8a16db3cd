/**
 * PostgreSQL backend benchmark (not a test): trivial-chunk jobs/s (one job = one queue message
 * whose chunk is committed) with 1, 2 and 4 worker processes on one throwaway PostgreSQL, the
 * overhead of tracing, and the embedded KV backend beside PostgreSQL with one process. Workers
 * run the engine with the in-process executor so the figures measure queue and store, not
 * plugins; they carry the engine telemetry `sluice worker` has (metrics; spans when tracing).
 *
 * `deno run -A bench/pg_bench.ts [--runs 16] [--items 2000] [--chunk 10] [--workers 1,2,4]
 *   [--pool N] [--tracing-rounds 2] [--tracing-paired N] [--tracing-exporter otlp|deno]
 *   [--tracing-sliced N] [--slice-ms 2000] [--profile]`
 *
 * Tracing overhead: 2 workers with tracing off and on (OTLP/HTTP export to a loopback sink in
 * the bench process), alternating for `--tracing-rounds` rounds, CPU ms per job compared; and
 * `--tracing-paired` clusters whose workers trace by halves, each worker's CPU per job compared
 * with its untraced peers' in the same cluster at the same time. Traced workers export with
 * Sluice's own tracer and OTLP/HTTP exporter (`telemetry.otlpEndpoint`, the default) or, with
 * `--tracing-exporter deno`, with Deno's built-in OpenTelemetry (`OTEL_DENO=true`).
 * `--tracing-sliced` clusters: every worker traces and stops tracing at the same moments (even and
 * odd `--slice-ms` slices of the wall clock), so on- and off-slices share the load, the split of
 * the jobs between the workers and the state of the database; CPU per job of the on-slices
 * against the off-slices.
 * Prints a markdown report; record it in `bench/RESULTS.md`.
 * @module
 */
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { Engine } from "../core/engine/engine.ts";
import { InProcessExecutor } from "../core/engine/in_process_executor.ts";
import { prepareRun } from "../core/engine/prepare.ts";
import { join, ROOT } from "../core/paths.ts";
import { Pipeline } from "../core/pipeline/model.ts";
import { openRegistry } from "../core/plugins/registry.ts";
import { openKvBackend } from "../core/store/kv_backend.ts";
import { connectPg } from "../core/store/pg/connect.ts";
import { openPgBackend } from "../core/store/pg/pg_backend.ts";
import type { Backend, RunRecord } from "../core/store/store.ts";
import { createTelemetry, type Telemetry } from "../core/telemetry/setup.ts";
import { type EngineHooks, EngineTelemetry } from "../core/telemetry/engine_telemetry.ts";
import {
  type Context,
  ProxyTracerProvider,
  type Span,
  type SpanOptions,
  type Tracer,
} from "@opentelemetry/api";
import { startPostgres } from "../testing/postgres.ts";
import { InspectorProfiler, profileMarkdown, summarize } from "./cpu_profile.ts";
import { startSpanSink } from "./span_sink.ts";
import { freePort } from "./webhook_server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "16" },
    items: { type: "string", default: "2000" },
    chunk: { type: "string", default: "10" },
    workers: { type: "string", default: "1,2,4" },
    concurrency: { type: "string", default: "8" },
    // connections per worker process (default: the backend's, concurrency + 4)
    pool: { type: "string" },
    // tracing overhead: rounds of 2 workers with tracing off and on (OTLP to a loopback sink)
    "tracing-rounds": { type: "string", default: "2" },
    "tracing-workers": { type: "string", default: "2" },
    // internal: run as a worker process / a single-process engine; OTLP endpoint of a worker
    worker: { type: "string" },
    otlp: { type: "string" },
    single: { type: "string" },
    // tracing overhead, paired: rounds of one cluster whose workers alternate tracing on and off
    // (the same load, at the same time, for both)
    "tracing-paired": { type: "string", default: "0" },
    // how traced workers export: "otlp" (telemetry.otlpEndpoint, shipped) or "deno" (OTEL_DENO)
    "tracing-exporter": { type: "string", default: "otlp" },
    // tracing overhead, time-sliced: clusters whose workers all switch tracing on and off
    // together every --slice-ms (wall clock), CPU per job of on- and off-slices compared
    "tracing-sliced": { type: "string", default: "0" },
    "slice-ms": { type: "string", default: "2000" },
    // internal: a worker switching its tracing by slices
    sliced: { type: "boolean", default: false },
    // CPU profile of one worker in the last tracing round, off and on (top functions printed)
    profile: { type: "boolean", default: false },
  },
});
const RUNS = Number(values.runs);
const ITEMS = Number(values.items);
const CHUNK = Number(values.chunk);
const CONCURRENCY = Number(values.concurrency);
const POOL = values.pool ? Number(values.pool) : undefined;

const yaml = `name: pgbench
source: { plugin: gen-source, with: { count: ${ITEMS} }, chunk: ${CHUNK} }
stages:
  - { id: t, plugin: tag, with: { field: t }, concurrency: 64 }
`;

async function registry(dir: string) {
  return await openRegistry({
    builtinDir: join(ROOT, "core/engine/testdata"),
    installDir: join(dir, "plugins"),
    lockPath: join(dir, "plugins.lock"),
  });
}

async function newRuns(dir: string): Promise<RunRecord[]> {
  const reg = await registry(dir);
  const pipeline = Pipeline.parse(parseYaml(yaml));
  return Array.from({ length: RUNS }, () =>
    prepareRun({
      pipeline,
      yaml,
      file: "pgbench.yaml",
      registry: reg,
      inputs: {},
      trigger: { kind: "cli" },
      defaults: {
        chunk: CHUNK,
        concurrency: 64,
        timeoutMs: 30_000,
        memoryMb: 128,
        retry: { attempts: 3, delayMs: 10, maxDelayMs: 100 },
      },
    }));
}

async function engineOn(
  backend: Backend,
  dir: string,
  telemetry?: Telemetry,
  hooks: EngineHooks | undefined = telemetry?.engine,
) {
  const executor = new InProcessExecutor();
  const engine = new Engine({
    backend,
    executor,
    dataDir: dir,
    concurrency: CONCURRENCY,
    telemetry: hooks,
  });
  await engine.start();
  return {
    engine,
    async close() {
      await engine.close();
      await executor.close();
      await backend.close();
      await telemetry?.close();
    },
  };
}

/** CPU milliseconds (user + system) of process `pid` and of its exited children, from /proc. */
function cpuMs(pid: number | "self", withChildren = false): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
    // Fields 14-17 of stat (utime, stime, cutime, cstime) are f[11..14] here; 100 ticks/s.
    return (f[11] + f[12] + (withChildren ? f[13] + f[14] : 0)) * 10;
  } catch {
    return 0;
  }
}

/** CPU ms of a PostgreSQL server: the postmaster, its live backends and its exited ones. */
function serverCpuMs(postmaster: number): number {
  let total = cpuMs(postmaster, true);
  const parent = new RegExp(`^PPid:\\s+${postmaster}$`, "m");
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      if (parent.test(Deno.readTextFileSync(`/proc/${e.name}/status`))) {
        total += cpuMs(Number(e.name));
      }
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** A tracer whose spans are real while `on`, else the API's non-recording ones. */
class SwitchTracer implements Tracer {
  on = false;
  #real: Tracer;
  #off = new ProxyTracerProvider().getTracer("off");
  constructor(real: Tracer) {
    this.#real = real;
  }
  startSpan(name: string, options?: SpanOptions, ctx?: Context): Span {
    return (this.on ? this.#real : this.#off).startSpan(name, options, ctx);
  }
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: unknown[]
  ): ReturnType<F> {
    const t = this.on ? this.#real : this.#off;
    return (t.startActiveSpan as (n: string, ...r: unknown[]) => ReturnType<F>)(name, ...rest);
  }
}

/**
 * One slice of a `--sliced` worker: whether it traced, its CPU ms, the jobs it committed and the
 * commit statements that carried them.
 */
interface Slice {
  on: boolean;
  cpuMs: number;
  jobs: number;
  statements: number;
}

/**
 * Switches `tracer` on in even and off in odd slices of `sliceMs` of the wall clock (so every
 * worker switches at the same moment) until `stopped`, recording each slice. An on-slice ends
 * once the spans it made are exported (`flush`), so their export is counted in it.
 */
async function recordSlices(
  tracer: SwitchTracer,
  sliceMs: number,
  stopped: Promise<void>,
  flush: () => Promise<void>,
  commits: () => { calls: number; batches: number },
): Promise<Slice[]> {
  const slices: Slice[] = [];
  let done = false;
  stopped.then(() => done = true);
  let cpu = cpuMs("self"), before = { ...commits() };
  while (!done) {
    const now = Date.now();
    tracer.on = Math.floor(now / sliceMs) % 2 === 0;
    const on = tracer.on;
    await Promise.race([
      new Promise((r) => setTimeout(r, sliceMs - (now % sliceMs))),
      stopped,
    ]);
    if (on) {
      tracer.on = false;
      await flush();
    }
    const c = cpuMs("self"), now2 = { ...commits() };
    slices.push({
      on,
      cpuMs: c - cpu,
      jobs: now2.calls - before.calls,
      statements: now2.batches - before.batches,
    });
    cpu = c;
    before = now2;
  }
  return slices;
}

/** Worker mode: an engine on the database until SIGTERM; prints its CPU ms meanwhile. */
async function worker(url: string) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-pgbench-w-" });
  const backend = await openPgBackend({
    url,
    concurrency: CONCURRENCY,
    poolSize: POOL,
    migrate: false,
  });
  // Engine telemetry as `sluice worker` has it (metrics, alerts); spans only with --otlp.
  const tel = createTelemetry({ role: "worker", otlpEndpoint: values.otlp });
  // --sliced: the engine's spans go through a switch, on in even slices of the wall clock.
  const tracer = values.sliced ? new SwitchTracer(tel.tracing.tracer) : undefined;
  const hooks = tracer
    ? new EngineTelemetry({
      tracer,
      withRunIds: tel.tracing.withRunIds,
      metrics: tel.metrics,
    })
    : tel.engine;
  const e = await engineOn(backend, dir, tel, hooks);
  const cpu0 = cpuMs("self");
  console.log("ready");
  const stopped = new Promise<void>((r) => Deno.addSignalListener("SIGTERM", () => r()));
  const slices = tracer
    ? recordSlices(
      tracer,
      Number(values["slice-ms"]),
      stopped,
      () => tel.tracing.flush(),
      () => backend.store.batchStats.commits,
    )
    : Promise.resolve([]);
  await stopped;
  await tel.tracing.flush(); // spans still buffered are part of the cost
  console.log(JSON.stringify({
    cpuMs: cpuMs("self") - cpu0,
    batches: backend.store.batchStats,
    slices: await slices,
  }));
  await e.close();
  await Deno.remove(dir, { recursive: true });
  Deno.exit(0);
}

/** Single mode: one process, create the runs and wait for them; prints jobs/s. */
async function single(kind: string, url?: string) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-pgbench-s-" });
  const backend = kind === "kv"
    ? await openKvBackend(join(dir, "bench.kv"))
    : await openPgBackend({ url: url!, concurrency: CONCURRENCY, poolSize: POOL });
  const e = await engineOn(backend, dir);
  const runs = await newRuns(dir);
  const t0 = performance.now();
  for (const r of runs) await e.engine.createRun(r);
  for (const r of runs) await e.engine.waitForRun(r.id);
  const secs = (performance.now() - t0) / 1000;
  let jobs = 0;
  for (const r of runs) {
    const c = await backend.store.counters(r.id, 2);
    jobs += c[0].chunksDone + c[1].chunksDone;
  }
  await e.close();
  await Deno.remove(dir, { recursive: true });
  console.log(JSON.stringify({ jobs, secs, jobsPerSecond: Math.round(jobs / secs) }));
}

async function child(
  args: string[],
): Promise<{ jobs: number; secs: number; jobsPerSecond: number }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "bench/pg_bench.ts"), ...args],
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

/** N worker processes on a fresh database; the runs are created from here. */
async function cluster(
  url: string,
  workers: number,
  otlp?: string | ((worker: number) => string | undefined),
  profilePort?: number,
  sliced = false,
) {
  const otlpOf = (i: number) => typeof otlp === "function" ? otlp(i) : otlp;
  const denoOtel = values["tracing-exporter"] === "deno";
  const dir = await Deno.makeTempDir({ prefix: "sluice-pgbench-c-" });
  const setup = await openPgBackend({ url, concurrency: 1 });
  const procs = Array.from({ length: workers }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        ...(profilePort && i === 0 ? [`--inspect=127.0.0.1:${profilePort}`] : []),
        join(ROOT, "bench/pg_bench.ts"),
        "--worker",
        url,
        ...(otlpOf(i) && !denoOtel ? ["--otlp", otlpOf(i)!] : []),
        ...(sliced ? ["--sliced", "--slice-ms", values["slice-ms"]!] : []),
        ...passArgs(),
      ],
      // Deno's built-in OpenTelemetry (`--tracing-exporter deno`): spans leave through Deno's
      // own OTLP exporter instead of Sluice's.
      env: otlpOf(i) && denoOtel
        ? {
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: otlpOf(i)!,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_DENO_CONSOLE: "ignore",
        }
        : {},
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  const readers = procs.map((p) => p.stdout.pipeThrough(new TextDecoderStream()).getReader());
  for (const reader of readers) {
    for (let text = ""; !text.includes("ready");) text += (await reader.read()).value ?? "";
  }
  const [{ pid }] = await setup.sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  const postmaster = Number(
    /^PPid:\s+(\d+)$/m.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1],
  );
  const prof = profilePort ? await InspectorProfiler.connect(profilePort) : undefined;
  await prof?.start();
  const pgCpu0 = serverCpuMs(postmaster);
  const runs = await newRuns(dir);
  const t0 = performance.now();
  for (const r of runs) {
    await setup.store.createRun(r, [{
      kind: "chunk",
      runId: r.id,
      stage: 0,
      chunk: 0,
      attempt: 1,
    }]);
  }
  const sql = setup.sql;
  for (;;) {
    const [{ n }] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM sluice_runs WHERE state IN ('succeeded', 'failed')`;
    if (n >= runs.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const secs = (performance.now() - t0) / 1000;
  const [{ jobs }] = await sql<{ jobs: number }[]>`SELECT count(*)::int AS jobs FROM sluice_chunks`;
  const pgCpu = serverCpuMs(postmaster) - pgCpu0;
  const profile = prof ? summarize(await prof.stop(), 25) : undefined;
  await prof?.close();
  for (const p of procs) p.kill("SIGTERM");
  let workerCpu = 0;
  /** Each worker's CPU ms and chunk commits, and whether it traced. */
  const perWorker: { cpuMs: number; jobs: number; traced: boolean; slices: Slice[] }[] = [];
  const calls = { commits: [0, 0], states: [0, 0], settles: [0, 0] };
  for (const reader of readers) {
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const out = JSON.parse(text.trim().split("\n").pop()!);
    workerCpu += out.cpuMs;
    perWorker.push({
      cpuMs: out.cpuMs,
      jobs: out.batches.commits.calls,
      traced: otlpOf(perWorker.length) !== undefined,
      slices: out.slices ?? [],
    });
    for (const k of ["commits", "states", "settles"] as const) {
      calls[k][0] += out.batches[k].calls;
      calls[k][1] += out.batches[k].batches;
    }
  }
  for (const p of procs) await p.status;
  await setup.close();
  await Deno.remove(dir, { recursive: true });
  const cpuPerJob = (workerCpu + pgCpu) / jobs;
  // Calls per statement of the batched store operations (see core/store/pg/pg_batch.ts).
  const perStatement = Object.entries(calls).map(([k, [c, b]]) =>
    `${k} ${(c / Math.max(1, b)).toFixed(1)}`
  ).join(", ");
  return {
    jobs,
    secs,
    jobsPerSecond: Math.round(jobs / secs),
    cpuPerJob,
    workerCpu,
    pgCpu,
    perStatement,
    profile,
    perWorker,
  };
}

/** Worker CPU and jobs with tracing on and off, and PostgreSQL's CPU, summed over clusters. */
class OnOff {
  on = { cpu: 0, jobs: 0, statements: 0 };
  off = { cpu: 0, jobs: 0, statements: 0 };
  #pg = { cpu: 0, jobs: 0 };
  add(traced: boolean, cpuMs: number, jobs: number, statements = 0) {
    const acc = traced ? this.on : this.off;
    acc.cpu += cpuMs;
    acc.jobs += jobs;
    acc.statements += statements;
  }
  pg(cpuMs: number, jobs: number) {
    this.#pg.cpu += cpuMs;
    this.#pg.jobs += jobs;
  }
  /** (on − off worker CPU per job) / (off worker + PostgreSQL CPU per job). */
  overhead(pgPerJob = this.#pg.cpu / this.#pg.jobs): number {
    const on = this.on.cpu / this.on.jobs, off = this.off.cpu / this.off.jobs;
    return (on - off) / (off + pgPerJob);
  }
  /** The markdown table of both modes and the pooled overhead. */
  print(note?: string) {
    const on = this.on.cpu / this.on.jobs, off = this.off.cpu / this.off.jobs;
    const pg = this.#pg.cpu / this.#pg.jobs;
    console.log("| tracing | worker CPU ms/job | + PostgreSQL ms/job | overhead | goal |");
    console.log("|---|---|---|---|---|");
    console.log(
      `| off | ${off.toFixed(3)} (${this.off.jobs} jobs) | ${(off + pg).toFixed(3)} | | |`,
    );
    console.log(
      `| on | ${on.toFixed(3)} (${this.on.jobs} jobs) | ${(on + pg).toFixed(3)} | ${
        (100 * this.overhead()).toFixed(1)
      } % pooled${note ? `, ${note}` : ""} | < 5 % |`,
    );
  }
}

function percents(ratios: number[]): string {
  return ratios.map((r) => `${(100 * r).toFixed(1)} %`).join(", ");
}

function passArgs(): string[] {
  return [
    "--runs",
    values.runs!,
    "--items",
    values.items!,
    "--chunk",
    values.chunk!,
    "--concurrency",
    values.concurrency!,
    ...(values.pool ? ["--pool", values.pool] : []),
  ];
}

if (values.worker) {
  await worker(values.worker);
} else if (values.single) {
  await single(values.single, Deno.env.get("PGBENCH_URL"));
} else {
  const pg = await startPostgres();
  const admin = connectPg(pg.url, { max: 1 });
  let n = 0;
  const freshDb = async () => {
    const name = `pgbench_${n++}`;
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const u = new URL(pg.url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  try {
    const jobsPerRun = 2 * Math.ceil(ITEMS / CHUNK);
    console.log(`# PostgreSQL backend benchmark\n`);
    console.log(
      `- ${
        new Date().toISOString()
      }; ${navigator.hardwareConcurrency} cores; Deno ${Deno.version.deno}; ` +
        `PostgreSQL from testing/postgres.ts (fsync off); load average ${
          Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
        } (on a shared machine jobs/s follows the load; CPU ms per job does not)`,
    );
    console.log(
      `- workload: ${RUNS} runs × ${ITEMS} items in chunks of ${CHUNK} through a source and one ` +
        `trivial stage = ${
          RUNS * jobsPerRun
        } jobs; engine concurrency ${CONCURRENCY} per process\n`,
    );
    console.log(
      "| worker processes | jobs | seconds | jobs/s | CPU ms/job (workers + PostgreSQL) | " +
        "jobs/s if 2 cores were ours | calls per statement | goal |",
    );
    console.log("|---|---|---|---|---|---|---|---|");
    for (const w of values.workers!.split(",").map(Number)) {
      const r = await cluster(await freshDb(), w);
      const split = `${(r.workerCpu / r.jobs).toFixed(2)} + ${(r.pgCpu / r.jobs).toFixed(2)}`;
      console.log(
        `| ${w} | ${r.jobs} | ${r.secs.toFixed(2)} | ${r.jobsPerSecond} | ` +
          `${r.cpuPerJob.toFixed(2)} (${split}) | ${Math.round(2000 / r.cpuPerJob)} | ` +
          `${r.perStatement} | ${w === 2 ? "≥ 2,000" : ""} |`,
      );
    }
    const rounds = Number(values["tracing-rounds"]);
    const paired = Number(values["tracing-paired"]);
    // OTLP/HTTP to a sink in this process (its CPU is not counted: the collector's is not
    // Sluice's).
    const sink = startSpanSink();
    const otlp = sink.url;
    if (rounds > 0) {
      // Off and on alternate so both see the same load.
      const runs: Record<"off" | "on", { worker: number; pg: number; jobs: number }> = {
        off: { worker: 0, pg: 0, jobs: 0 },
        on: { worker: 0, pg: 0, jobs: 0 },
      };
      // Each round's on/off ratio too: one cluster's CPU per job varies by several percent from
      // run to run (how commits happen to batch), so the median of the rounds is the steadier
      // figure next to the pooled one.
      const tracingWorkers = Number(values["tracing-workers"]);
      const ratios: number[] = [];
      const profiles: string[] = [];
      for (let i = 0; i < rounds; i++) {
        const perJob = { off: 0, on: 0 };
        // Which goes first alternates too: the second cluster of a pair meets the first one's
        // leftovers (PostgreSQL's background writer, autovacuum of the dropped databases).
        const order = i % 2 ? ["on", "off"] as const : ["off", "on"] as const;
        for (const mode of order) {
          const profilePort = values.profile && i === rounds - 1 ? freePort() : undefined;
          const r = await cluster(
            await freshDb(),
            tracingWorkers,
            mode === "on" ? otlp : undefined,
            profilePort,
          );
          if (r.profile) {
            profiles.push(profileMarkdown(`Worker profile, tracing ${mode}`, r.profile));
          }
          runs[mode].worker += r.workerCpu;
          runs[mode].pg += r.pgCpu;
          runs[mode].jobs += r.jobs;
          perJob[mode] = r.cpuPerJob;
        }
        ratios.push(perJob.on / perJob.off);
      }
      ratios.sort((a, b) => a - b);
      const median = ratios.length % 2
        ? ratios[(ratios.length - 1) / 2]
        : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2;
      const per = (m: "off" | "on") => (runs[m].worker + runs[m].pg) / runs[m].jobs;
      const split = (m: "off" | "on") =>
        `${(runs[m].worker / runs[m].jobs).toFixed(3)} + ${(runs[m].pg / runs[m].jobs).toFixed(3)}`;
      const off = per("off");
      const on = per("on");
      console.log(
        `\nTracing (${tracingWorkers} worker(s), ${rounds} round(s) each, alternating; OTLP/HTTP to a loopback ` +
          `sink; ${sink.spans} spans received; load average now ${
            Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
          }):\n`,
      );
      console.log("| tracing | CPU ms/job (workers + PostgreSQL) | overhead | goal |");
      console.log("|---|---|---|---|");
      console.log(`| off | ${off.toFixed(3)} (${split("off")}) | | |`);
      console.log(
        `| on | ${on.toFixed(3)} (${split("on")}) | ${(100 * (on / off - 1)).toFixed(1)} % ` +
          `pooled, ${(100 * (median - 1)).toFixed(1)} % median of the rounds | < 5 % |`,
      );
      console.log(
        `\nOverhead by round (sorted): ${
          ratios.map((r) => `${(100 * (r - 1)).toFixed(1)} %`).join(", ")
        }`,
      );
      for (const p of profiles) console.log(`\n${p}`);
    }
    if (paired > 0) {
      // One cluster per round, half its workers tracing: both modes meet the same load at the
      // same time, so the cluster-to-cluster variance of the rounds above drops out. Which
      // workers trace alternates by round. PostgreSQL does the same for both (tracing adds no
      // SQL), so its CPU per job is shared.
      const workers = Math.max(2, Number(values["tracing-workers"]));
      const total = new OnOff();
      const overheads: number[] = [];
      for (let i = 0; i < paired; i++) {
        const r = await cluster(await freshDb(), workers, (w) => (w + i) % 2 ? otlp : undefined);
        const round = new OnOff();
        for (const w of r.perWorker) {
          for (const acc of [round, total]) acc.add(w.traced, w.cpuMs, w.jobs);
        }
        total.pg(r.pgCpu, r.jobs);
        overheads.push(round.overhead(r.pgCpu / r.jobs));
      }
      overheads.sort((a, b) => a - b);
      const mid = overheads.length % 2
        ? overheads[(overheads.length - 1) / 2]
        : (overheads[overheads.length / 2 - 1] + overheads[overheads.length / 2]) / 2;
      console.log(
        `\nTracing, paired (${paired} cluster(s) of ${workers} workers, half of them tracing; ` +
          `OTLP/HTTP to a loopback sink; ${sink.spans} spans received in all; load average now ${
            Deno.loadavg().map((l) => l.toFixed(1)).join(" ")
          }):\n`,
      );
      total.print(`${(100 * mid).toFixed(1)} % median of the clusters`);
      console.log(`\nOverhead by cluster (sorted): ${percents(overheads)}`);
    }
    const slicedClusters = Number(values["tracing-sliced"]);
    if (slicedClusters > 0) {
      // Every worker of a cluster switches tracing on and off at the same moments, so on- and
      // off-slices meet the same load and the same split of the jobs between the workers. The
      // first and the last slice of each worker with jobs (warm-up, the tail) are left out.
      const workers = Math.max(1, Number(values["tracing-workers"]));
      const total = new OnOff();
      const perCluster: number[] = [];
      let slicesUsed = 0;
      for (let i = 0; i < slicedClusters; i++) {
        const r = await cluster(await freshDb(), workers, otlp, undefined, true);
        const round = new OnOff();
        for (const w of r.perWorker) {
          const busy = w.slices.filter((x) => x.jobs > 0).slice(1, -1);
          slicesUsed += busy.length;
          for (const x of busy) {
            for (const acc of [round, total]) acc.add(x.on, x.cpuMs, x.jobs, x.statements);
          }
        }
        total.pg(r.pgCpu, r.jobs);
        perCluster.push(round.overhead(r.pgCpu / r.jobs));
      }
      console.log(
        `\nTracing, time-sliced (${slicedClusters} cluster(s) of ${workers} worker(s), all ` +
          `switching tracing every ${values["slice-ms"]} ms; ${slicesUsed} worker-slices used; ` +
          `OTLP/HTTP to a loopback sink; ${sink.spans} spans received in all):\n`,
      );
      total.print();
      console.log(
        `\nOverhead by cluster: ${percents(perCluster)}; jobs per commit statement: off ${
          (total.off.jobs / total.off.statements).toFixed(2)
        }, on ${(total.on.jobs / total.on.statements).toFixed(2)}`,
      );
    }
    await sink.close();
    console.log("\n| backend (one process) | jobs | seconds | jobs/s |");
    console.log("|---|---|---|---|");
    const kv = await child(["--single", "kv", ...passArgs()]);
    console.log(`| Deno KV (file) | ${kv.jobs} | ${kv.secs.toFixed(2)} | ${kv.jobsPerSecond} |`);
    Deno.env.set("PGBENCH_URL", await freshDb());
    const pgr = await child(["--single", "pg", ...passArgs()]);
    console.log(`| PostgreSQL | ${pgr.jobs} | ${pgr.secs.toFixed(2)} | ${pgr.jobsPerSecond} |`);
  } finally {
    await admin.end();
    await pg.close();
  }
}
