/**
 * The flagship pipeline's cost: 20,000 domains of a generated world through the verification
 * stages of `pipelines/no-website-leads.yaml` (csv-source, normalize, dns, http-probe, classify
 * with their shipped settings; `--full` for every stage) with the real CLI in a subprocess
 * (engine, store, sandboxes), side
 * by side with `bare_probe.ts` making the same DNS and HTTP requests with the same concurrency and
 * no engine. Reports domains/s, peak RSS (the whole process tree: CLI plus plugin sandboxes) and
 * CPU seconds per process group (from /proc), and the CPU the simulated internet (this process)
 * spent meanwhile. Then a streaming check: a 1,000,000-row CSV through a network-free pipeline
 * (csv-source -> normalize), peak RSS of the tree. Not a test: run it by hand.
 *
 *   deno run -A bench/verify_bench.ts [--size 20000] [--rows 1000000] [--seed 7]
 *     [--connect 2000] [--request 2500] [--only pipeline,bare,stream] [--stream-yaml FILE] [--full]
 *     [--profile]   (CPU profile of the pipeline's CLI process, and of the bare script)
 * @module
 */
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parseDocument, type YAMLSeq } from "yaml";
import { generateWorld } from "../testing/world.ts";
import { cliDenoArgs } from "../core/cli/launch.ts";
import { profileMarkdown, readRunStderr, startProfiling, summarize } from "./cpu_profile.ts";
import { freePort } from "./webhook_server.ts";
import { type RunningWorld, startWorld } from "../testing/world_server.ts";
import {
  cpuByGroup,
  newTreeSample,
  niceCommand,
  prioritizeWorld,
  sampleTree,
  selfCpuSeconds,
  treeCpuSeconds,
} from "./proc_tree.ts";

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
  /** Highest sum of RSS over the process and its descendants, MiB (sampled every 200 ms). */
  peakRssMiB: number;
  /**
   * Highest sum of PSS over the same processes, MiB: the memory they take together, shared pages
   * (the `deno` binary's) counted once instead of once per process; read once a second (reading
   * it costs the measured processes: `newTreeSample`).
   */
  peakPssMiB: number;
  /** CPU seconds of the process tree (sampled every 200 ms). */
  cpuSeconds: number;
  /** CPU seconds by process group (`cli`/`bare`, or the plugin a sandbox runs), most first. */
  cpuByProcess: { process: string; cpuSeconds: number; processes: number }[];
  /** CPU seconds of this process meanwhile: the simulated internet (DNS, HTTP, HTTPS). */
  worldCpuSeconds: number;
  /** Load average when it started. */
  loadBefore: number[];
  /** HTTP(S) requests the simulated web servers answered and DNS queries they got meanwhile. */
  world?: { httpRequests: number; dnsQueries: number };
  /** Share of domains whose `website.status` equals the world's label (pipeline runs). */
  accuracy?: number;
  /** The CLI's run summary (per-stage counters and busy time), for pipeline runs. */
  summary?: string;
  /** CPU profile of the CLI process or the bare script (`profile` option). */
  profile?: ReturnType<typeof summarize>;
  /** Exit code. */
  code: number;
}

/** What {@linkcode runVerifyBench} returns. */
export interface VerifyBenchResult {
  size: number;
  pipeline?: Measured;
  bare?: Measured;
  streaming?: Measured;
  /** Markdown table of the measurements. */
  table: string;
  /** Table plus CPU breakdown. */
  markdown: string;
}

/** Sum of RSS of `root` and all its descendants (Linux /proc), KiB. */
export function treeRssKiB(root: number): number {
  return sampleTree(root, newTreeSample());
}

async function measure(
  name: string,
  args: string[],
  env: Record<string, string>,
  count: (stdout: string) => number,
  rootLabel = "cli",
  world?: RunningWorld,
  profile = false,
): Promise<Measured> {
  const loadBefore = Deno.loadavg();
  const req0 = world?.web.requests ?? 0;
  const q0 = world?.dns.queries ?? 0;
  const cpu0 = selfCpuSeconds();
  const started = performance.now();
  // Children inherit this process's raised priority: put them back at nice 0.
  const inspectPort = profile ? freePort() : undefined;
  const cmd = niceCommand(
    inspectPort ? [args[0], `--inspect=127.0.0.1:${inspectPort}`, ...args.slice(1)] : args,
  );
  const child = new Deno.Command(cmd.command, {
    args: cmd.args,
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const prof = inspectPort ? await startProfiling(inspectPort) : undefined;
  const sample = newTreeSample();
  const timer = setInterval(() => sampleTree(child.pid, sample, rootLabel), 200);
  const [stdout, { text: stderr, profile: cpuProfile }, out] = await Promise.all([
    new Response(child.stdout).text(),
    readRunStderr(child.stderr, prof),
    child.status,
  ]);
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  const worldCpuSeconds = selfCpuSeconds() - cpu0;
  if (out.code !== 0) console.error(`${name} failed (exit ${out.code}):\n${stderr.slice(-3000)}`);
  const summary = /run \S+ \w+ in [\s\S]*?(?=\nwrote|\n*$)/.exec(stderr)?.[0];
  const n = count(stdout);
  return {
    name,
    count: n,
    seconds,
    perSecond: n / seconds,
    peakRssMiB: sample.peakRssKiB / 1024,
    peakPssMiB: sample.peakPssKiB / 1024,
    cpuSeconds: treeCpuSeconds(sample),
    cpuByProcess: cpuByGroup(sample),
    worldCpuSeconds,
    loadBefore,
    summary,
    profile: cpuProfile,
    world: world
      ? { httpRequests: world.web.requests - req0, dnsQueries: world.dns.queries - q0 }
      : undefined,
    code: out.code,
  };
}

/** Share of output items whose `website.status` is the world's label for the domain. */
async function accuracyOf(path: string, labels: Map<string, string>): Promise<number> {
  let right = 0;
  let n = 0;
  const text = await Deno.readTextFile(path);
  for (const line of text.split("\n")) {
    if (!line) continue;
    const item = JSON.parse(line);
    n++;
    if (labels.get(item.domain) === item.website?.status) right++;
  }
  return n ? right / n : 0;
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  const file = await Deno.open(path);
  for await (const chunk of file.readable) for (const b of chunk) if (b === 10) n++;
  return n;
}

/** Writes a CSV of `rows` generated businesses (name, domain) to `path`. */
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

/** The pipeline of the streaming check. */
export const STREAM_YAML = `name: stream-check
source:
  plugin: csv-source@^1
  chunk: 1000
stages:
  - id: normalize
    plugin: normalize@^1
    concurrency: 1
`;

/**
 * `pipelines/no-website-leads.yaml` cut after its `classify` stage (every setting kept): the
 * verification pipeline of issue 4, without the enrichment and export stages of issue 5.
 */
export async function verificationPipeline(): Promise<string> {
  const doc = parseDocument(
    await Deno.readTextFile(join(ROOT, "pipelines/no-website-leads.yaml")),
  );
  const stages = doc.get("stages") as YAMLSeq;
  const at = stages.items.findIndex((s) =>
    String((s as { get(k: string): unknown }).get("id")) === "classify"
  );
  stages.items.splice(at + 1);
  doc.set("name", "no-website-leads-verification");
  return doc.toString({ lineWidth: 0 });
}

/** Options of {@linkcode runVerifyBench}. */
export interface VerifyBenchOptions {
  /** Domains of the generated world (default 20,000). */
  size?: number;
  /** Rows of the streaming check (default 1,000,000). */
  rows?: number;
  seed?: number;
  /** `network.timeouts.connect` of both runs, ms (default 2000). */
  connectMs?: number;
  /** `network.timeouts.request` of both runs, ms (default 2500). */
  requestMs?: number;
  /** Which measurements (default all three). */
  only?: ("pipeline" | "bare" | "stream")[];
  /**
   * Run the whole flagship pipeline (enrichment, scoring, export too) instead of its
   * verification stages (csv-source, normalize, dns, http-probe, classify: issue 4's pipeline,
   * what the bare script's requests compare with). Default false.
   */
  full?: boolean;
  /** Pipeline YAML of the streaming check (default {@linkcode STREAM_YAML}). */
  streamYaml?: string;
  /** Extra environment of the pipeline run (e.g. `SLUICE_ENGINE_CONCURRENCY`). */
  pipelineEnv?: Record<string, string>;
  /**
   * CPU-profile the pipeline's CLI process (engine, store, host side of the sandboxes) and the
   * bare script.
   */
  profile?: boolean;
}

/** Runs the measurements and returns the numbers (and prints nothing). */
export async function runVerifyBench(opts: VerifyBenchOptions = {}): Promise<VerifyBenchResult> {
  const size = opts.size ?? 20_000;
  const rows = opts.rows ?? 1_000_000;
  const only = new Set(opts.only ?? ["pipeline", "bare", "stream"]);
  const connectMs = opts.connectMs ?? 2000;
  const requestMs = opts.requestMs ?? 2500;
  const dir = await Deno.makeTempDir({ prefix: "sluice_verify_bench_" });
  const result: VerifyBenchResult = { size, table: "", markdown: "" };
  const nice = prioritizeWorld();
  try {
    try {
      if (only.has("pipeline") || only.has("bare")) {
        const world = generateWorld({ size, seed: opts.seed ?? 7 });
        // Certificates issued ahead: neither run pays for the simulation's (the first would).
        const running = await startWorld(world, { issueCertificatesAhead: true });
        try {
          const csv = join(dir, "world.csv");
          await Deno.writeTextFile(csv, world.toCsv());
          // Both runs get the same settings. The world's ~1 % hanging sites cost each run one
          // request timeout per URL tried; short timeouts (as the flagship bench) keep them from
          // dominating the wall time of a 20-second run.
          const env = (sub: string) => ({
            ...Deno.env.toObject(),
            ...running.env,
            SLUICE_NETWORK_TIMEOUTS_CONNECT: String(connectMs),
            SLUICE_NETWORK_TIMEOUTS_REQUEST: String(requestMs),
            SLUICE_DATA_DIR: join(dir, sub),
            SLUICE_PLUGINS_LOCK: join(dir, `${sub}.lock`),
            SLUICE_LOG_LEVEL: "warn",
          });
          if (only.has("pipeline")) {
            const out = join(dir, "out.jsonl");
            const file = join(dir, "pipeline.yaml");
            if (opts.full) {
              await Deno.copyFile(join(ROOT, "pipelines/no-website-leads.yaml"), file);
            } else await Deno.writeTextFile(file, await verificationPipeline());
            const m = await measure(
              opts.full
                ? "full flagship pipeline (engine + sandboxes)"
                : "verification pipeline (engine + sandboxes)",
              [
                ...cliDenoArgs("core/cli.ts"),
                "run",
                file,
                "--input",
                csv,
                "--out",
                out,
                "--quiet",
              ],
              { ...env("pipeline"), ...opts.pipelineEnv },
              () => 0,
              "cli",
              running,
              opts.profile,
            );
            m.count = await countLines(out).catch(() => 0);
            m.perSecond = m.count / m.seconds;
            m.accuracy = await accuracyOf(out, world.labels).catch(() => 0);
            result.pipeline = m;
          }
          if (only.has("bare")) {
            result.bare = await measure(
              "bare script (same probe code, no engine)",
              ["run", "-A", "bench/bare_probe.ts", "--input", csv],
              env("bare"),
              (s) => JSON.parse(s.trim().split("\n").pop() || "{}").domains ?? 0,
              "bare",
              running,
              opts.profile,
            );
          }
        } finally {
          await running.close();
        }
      }
      if (only.has("stream")) {
        const big = join(dir, "rows.csv");
        await writeRows(big, rows);
        const yaml = join(dir, "stream.yaml");
        // The flagship's first two stages, network-free: chunks of 1,000 rows, one normalize
        // process (as in pipelines/no-website-leads.yaml).
        await Deno.writeTextFile(yaml, opts.streamYaml ?? STREAM_YAML);
        const streamOut = join(dir, "stream.jsonl");
        const m = await measure(
          `${rows.toLocaleString("en")}-row CSV, csv-source -> normalize`,
          [
            ...cliDenoArgs("core/cli.ts"),
            "run",
            yaml,
            "--input",
            big,
            "--out",
            streamOut,
            "--quiet",
          ],
          {
            ...Deno.env.toObject(),
            SLUICE_DATA_DIR: join(dir, "stream"),
            SLUICE_PLUGINS_LOCK: join(dir, "stream.lock"),
            SLUICE_LOG_LEVEL: "warn",
          },
          () => 0,
        );
        m.count = await countLines(streamOut).catch(() => 0);
        m.perSecond = m.count / m.seconds;
        result.streaming = m;
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  } finally {
    if (nice < 0) os.setPriority(0);
  }
  const measured = [result.pipeline, result.bare, result.streaming].filter((m) => m !== undefined);
  const row = (m: Measured) =>
    `| ${m.name} | ${m.count.toLocaleString("en")} | ${m.seconds.toFixed(1)} | ${
      m.perSecond.toFixed(0)
    } | ${m.peakRssMiB.toFixed(0)} | ${m.peakPssMiB.toFixed(0)} | ${m.cpuSeconds.toFixed(1)} (${
      (1000 * m.cpuSeconds / Math.max(1, m.count)).toFixed(2)
    }) | ${m.worldCpuSeconds.toFixed(1)} | ${
      (2 * m.count / Math.max(1e-9, m.cpuSeconds + m.worldCpuSeconds)).toFixed(0)
    } | ${m.loadBefore.map((l) => l.toFixed(2)).join(" ")} |${
      m.code === 0 ? "" : ` exit ${m.code}`
    }`;
  result.table = [
    "| run | domains/rows | seconds | per second | peak RSS MiB (tree) | peak PSS MiB (tree) | CPU s of the tree (ms per domain) | CPU s of the simulated internet | 2-core bound (per second) | load before |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...measured.map(row),
  ].join("\n");
  const ratio = result.pipeline && result.bare
    ? `\n\npipeline / bare = ${(result.pipeline.perSecond / result.bare.perSecond).toFixed(2)}`
    : "";
  result.markdown = [
    `Timeouts of both runs: connect ${connectMs} ms, request ${requestMs} ms; the simulated ` +
    `internet at nice ${nice}, the runs at nice 0. 2-core bound: 2 × domains / (CPU s of the ` +
    "tree + of the simulated internet), the rate that much CPU allows with both cores busy.",
    "",
    result.table + ratio,
    "",
    ...measured.filter((m) => m.world).map((m) =>
      `${m.name}: ${m.world!.httpRequests.toLocaleString("en")} HTTP(S) requests answered (${
        (m.world!.httpRequests / Math.max(1, m.count)).toFixed(2)
      } per domain), ${m.world!.dnsQueries.toLocaleString("en")} DNS queries (${
        (m.world!.dnsQueries / Math.max(1, m.count)).toFixed(2)
      } per domain)${
        m.accuracy === undefined ? "" : `, accuracy ${(100 * m.accuracy).toFixed(2)} %`
      }.`
    ),
    "",
    ...measured.filter((m) => m.profile).map((m) =>
      profileMarkdown(`${m.name}, CPU profile of its main process`, m.profile!)
    ),
    ...measured.filter((m) => m.summary).map((m) =>
      `${m.name}, the CLI's summary:\n\n\`\`\`\n${m.summary!.trimEnd()}\n\`\`\`\n`
    ),
    ...measured.map((m) =>
      `CPU by process, ${m.name}: ${
        m.cpuByProcess.map((c) =>
          `${c.process} ${c.cpuSeconds.toFixed(1)} s (${
            (1000 * c.cpuSeconds / Math.max(1, m.count)).toFixed(2)
          } ms/domain, ${c.processes} proc)`
        ).join(", ")
      }.`
    ),
  ].join("\n");
  return result;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      size: { type: "string" },
      rows: { type: "string" },
      seed: { type: "string" },
      connect: { type: "string" },
      request: { type: "string" },
      only: { type: "string" },
      "stream-yaml": { type: "string" },
      full: { type: "boolean" },
      profile: { type: "boolean" },
    },
  });
  const r = await runVerifyBench({
    size: values.size ? Number(values.size) : undefined,
    rows: values.rows ? Number(values.rows) : undefined,
    seed: values.seed ? Number(values.seed) : undefined,
    connectMs: values.connect ? Number(values.connect) : undefined,
    requestMs: values.request ? Number(values.request) : undefined,
    only: values.only?.split(",") as VerifyBenchOptions["only"],
    full: values.full,
    profile: values.profile,
    streamYaml: values["stream-yaml"] ? await Deno.readTextFile(values["stream-yaml"]) : undefined,
  });
  console.log(`\n## Flagship pipeline vs bare script (${r.size.toLocaleString("en")} domains)\n`);
  console.log(r.markdown);
}
