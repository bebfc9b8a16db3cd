/**
 * Where the flagship pipeline's CPU goes: the same stages on the same generated world, run as a
 * chain without the engine and the store, so that `flagship_bench.ts`'s figure can be split into
 * the plugins' own work, the sandbox's (process boundary, JSON both ways) and the engine's and
 * store's (queue, chunk files, KV commits, index, the run's bookkeeping).
 *
 * - `in-process`: every plugin imported into one process (the test-only `InProcessExecutor`):
 *   items pass between stages as objects. What is left is the plugins' own work: DNS, HTTP and
 *   TLS, parsing, CEL, CSV and Postgres writes. No engine can do with less CPU than this.
 * - `sandbox`: the same chain with each plugin in its sandbox (`SandboxExecutor`, as a run has
 *   it), items as JSON through the protocol; stored JSON is handed on as bytes where the engine
 *   does so too (stages without `when`).
 *
 * The chain runs in a subprocess (this file with `--child`), the world and the fakes in this one
 * (nice -10, as in `flagship_bench.ts`), and the subprocess tree's CPU is sampled from /proc.
 * Chunks go through the stages in order, at most `--inflight` at once, each stage at most its
 * `concurrency` chunks at once; `when` is applied as the engine applies it (`callStage`); sinks'
 * `finish` runs at the end. In-process, every plugin shares one thread, so its rate says little:
 * its CPU per business is the figure. Not a test: run it by hand, or `deno task bench chain`.
 *
 *   deno run -A bench/stage_chain_bench.ts [--size 20000] [--modes in-process,sandbox]
 *     [--inflight 16] [--rounds 1] [--phased] [--profile FILE]
 *
 * `--phased` runs each stage over every chunk before the next stage starts and reports the chain
 * process's CPU per stage; `--profile FILE` writes the chain process's V8 CPU profile (the last
 * mode's, when there are several).
 * @module
 */
import cpuProcess from "node:process";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { LEADS_TABLE, startFlagship } from "../testing/flagship_world.ts";
import { startProfiling } from "./cpu_profile.ts";
import { freePort } from "./webhook_server.ts";
import {
  cpuByGroup,
  newTreeSample,
  niceCommand,
  prioritizeWorld,
  sampleTree,
  treeCpuSeconds,
} from "./proc_tree.ts";
import { openContext } from "../core/cli/context.ts";
import { loadPipelineFile } from "../core/pipeline/parse.ts";
import { resolveInputs } from "../core/pipeline/inputs.ts";
import { compileExpression } from "../core/pipeline/expression.ts";
import { prepareRun } from "../core/engine/prepare.ts";
import { StagePool } from "../core/engine/stage_pool.ts";
import { callStage, callStageJson, type StageOutcome } from "../core/engine/stage_call.ts";
import type { StageExecutor } from "../core/engine/executor.ts";
import { InProcessExecutor } from "../core/engine/in_process_executor.ts";
import { SandboxExecutor } from "../core/sandbox/executor.ts";
import type { Item, Json } from "../sdk/types.ts";
import { Limiter } from "../sdk/net/limiter.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** What the child reports on stdout (one JSON line). */
interface ChainResult {
  items: number;
  leads: number;
  rejected: number;
  seconds: number;
  /** This process's CPU ms per stage, when phased. */
  stageCpuMs: Record<string, number>;
}

/** The child: runs the pipeline's stages as a chain with the chosen executor. */
async function child(mode: string, pipelineFile: string, inputFile: string, runId: string) {
  const ctx = await openContext({ env: Deno.env.toObject() });
  const parsed = await loadPipelineFile(pipelineFile, {
    registry: ctx.registry,
    secretGrants: ctx.secretGrants,
  });
  if (!parsed.pipeline) throw new Error(JSON.stringify(parsed.problems));
  const run = prepareRun({
    pipeline: parsed.pipeline,
    yaml: await Deno.readTextFile(pipelineFile),
    file: pipelineFile,
    registry: ctx.registry,
    inputs: resolveInputs(parsed.pipeline.inputs, {}),
    inputFile,
    dataDir: ctx.config.dataDir,
    snapshot: false,
    trigger: { kind: "cli" },
    defaults: ctx.defaults,
    id: runId,
  });
  const executor: StageExecutor = mode === "in-process"
    // The plugins' own work: the sinks get their items as they are, not copies.
    ? new InProcessExecutor({ copySinkInput: false })
    : new SandboxExecutor({ idleMs: ctx.config.engine.sandboxIdle });
  const stop = new AbortController();
  const pool = new StagePool({
    executor,
    dataDir: ctx.config.dataDir,
    secrets: ctx.secrets,
    secretGrants: ctx.secretGrants,
    secretValues: ctx.secretValues,
    signal: stop.signal,
    network: ctx.network,
  });
  const vars = { inputs: run.inputs, run: { id: run.id, pipeline: run.pipeline } };
  const whens = run.stages.map((st) => {
    if (!st.when) return undefined;
    const e = compileExpression(st.when);
    return (item: Item) => e.evaluateBool({ ...vars, item });
  });
  const sems = run.stages.map((st) => new Limiter(st.concurrency));
  const inflight = new Limiter(Number(Deno.env.get("CHAIN_INFLIGHT") ?? 16));
  const encoder = new TextEncoder();
  let items = 0, leads = 0, rejected = 0;
  const started = performance.now();
  const cpuMs = () => {
    const c = cpuProcess.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  /** This process's CPU ms per stage (phased: each stage runs over every chunk in turn). */
  const stageCpuMs: Record<string, number> = {};
  const source = await pool.instance(run, 0);
  /** Runs stage `s` on one chunk's outcome. */
  const step = async (
    s: number,
    chunk: number,
    outcome: Pick<StageOutcome, "items" | "itemsJson" | "itemsBytes">,
  ): Promise<Pick<StageOutcome, "items" | "itemsJson" | "itemsBytes">> => {
    const stage = run.stages[s];
    const free = await sems[s].acquire();
    try {
      const instance = await pool.instance(run, s);
      // As the engine: stored JSON goes to a sandbox as bytes when the stage has no `when`.
      const json = mode !== "in-process" && !whens[s] && outcome.itemsJson !== undefined &&
        outcome.items.length <= stage.chunk;
      const next: StageOutcome = json
        ? await callStageJson({
          stage,
          instance,
          input: {
            // The plugin's own bytes when kept (as the store writes them), else encoded here.
            parts: outcome.itemsBytes ?? [encoder.encode(outcome.itemsJson!)],
            count: outcome.items.length,
            text: outcome.itemsJson,
          },
          chunk,
          signal: stop.signal,
        })
        : await callStage({
          stage,
          instance,
          input: outcome.items,
          chunk,
          signal: stop.signal,
          when: whens[s],
        });
      rejected += next.rejected.length;
      // A sink passed its input on (the engine's store keeps the stored bytes): so do we.
      if (next.count !== undefined) return outcome;
      return next;
    } finally {
      free();
    }
  };
  const phased = Deno.env.get("CHAIN_PHASED") === "1";
  const finals: Pick<StageOutcome, "items" | "itemsJson" | "itemsBytes">[] = [];
  const tasks: Promise<void>[] = [];
  let cursor: Json = null;
  const c0 = cpuMs();
  for (let chunk = 0;; chunk++) {
    const done = await inflight.acquire();
    const res = await source.read(cursor, run.stages[0].chunk, { chunk, signal: stop.signal });
    cursor = res.cursor as Json;
    rejected += res.rejected?.length ?? 0;
    const first = { items: res.items ?? [] };
    if (phased) {
      finals.push(first);
      done();
    } else {
      tasks.push((async () => {
        let outcome: Pick<StageOutcome, "items" | "itemsJson" | "itemsBytes"> = first;
        try {
          for (let s = 1; s < run.stages.length; s++) outcome = await step(s, chunk, outcome);
          finals.push(outcome);
        } finally {
          done();
        }
      })());
    }
    if (res.done) break;
  }
  await Promise.all(tasks);
  if (phased) {
    stageCpuMs[run.stages[0].id] = cpuMs() - c0;
    for (let s = 1; s < run.stages.length; s++) {
      const c = cpuMs();
      await Promise.all(finals.map(async (o, chunk) => {
        const done = await inflight.acquire();
        try {
          finals[chunk] = await step(s, chunk, o);
        } finally {
          done();
        }
      }));
      stageCpuMs[run.stages[s].id] = cpuMs() - c;
    }
  }
  for (const o of finals) {
    items += o.items.length;
    leads += o.items.filter((i) => i.lead === true).length;
  }
  for (let s = 1; s < run.stages.length; s++) {
    await (await pool.instance(run, s)).finish({ signal: stop.signal });
  }
  const seconds = (performance.now() - started) / 1000;
  await pool.closeRun(run.id);
  await executor.close();
  console.log(
    JSON.stringify({ items, leads, rejected, seconds, stageCpuMs } satisfies ChainResult),
  );
  if (Deno.env.get("CHAIN_HOLD") === "1") {
    for await (const _ of Deno.stdin.readable) { /* until the parent closes it */ }
  }
}

/** One run of the chain in a subprocess; the subprocess tree's CPU sampled. */
async function measure(
  f: Awaited<ReturnType<typeof startFlagship>>,
  mode: string,
  runId: string,
  size: number,
  inflight: number,
  phased: boolean,
  profileFile?: string,
) {
  const sql = postgres(f.pg!.url, { max: 1, onnotice: () => {} });
  await sql.unsafe(`DROP TABLE IF EXISTS ${LEADS_TABLE}`);
  await sql.end();
  const cpu0 = cpuProcess.cpuUsage();
  const inspectPort = profileFile ? freePort() : undefined;
  const cmd = niceCommand([
    "run",
    "-A",
    ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
    new URL(import.meta.url).pathname,
    "--child",
    "--mode",
    mode,
    "--pipeline",
    f.pipelineFile,
    "--input",
    f.inputFile,
    "--run-id",
    runId,
  ]);
  const proc = new Deno.Command(cmd.command, {
    args: cmd.args,
    cwd: ROOT,
    env: {
      ...f.env,
      // A data folder of its own: the plugins' caches (RDAP answers, search results) start
      // empty in every run, as in the first.
      SLUICE_DATA_DIR: `${f.dataDir}-${runId}`,
      CHAIN_INFLIGHT: String(inflight),
      CHAIN_PHASED: phased ? "1" : "0",
      // Profiled: the child waits for its stdin to close before it exits.
      CHAIN_HOLD: inspectPort ? "1" : "0",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const prof = inspectPort ? await startProfiling(inspectPort) : undefined;
  const sample = newTreeSample({ pssEveryMs: Infinity }); // RSS only: PSS costs the processes
  const timer = setInterval(() => sampleTree(proc.pid, sample, "chain"), 200);
  // The result is the child's one line on stdout.
  let text = "";
  for await (const part of proc.stdout.pipeThrough(new TextDecoderStream())) {
    text += part;
    if (text.includes("\n")) break;
  }
  clearInterval(timer);
  if (prof) {
    await Deno.writeTextFile(profileFile!, JSON.stringify(await prof.stop()));
    await prof.close();
  }
  await proc.stdin.close();
  const status = await proc.status;
  const cpu = cpuProcess.cpuUsage(cpu0);
  if (!status.success) throw new Error(`${mode}: the chain failed (exit ${status.code})`);
  const r = JSON.parse(text.trim().split("\n")[0]) as ChainResult;
  const chainCpu = treeCpuSeconds(sample);
  const world = (cpu.user + cpu.system) / 1e6;
  const ms = (s: number) => (1000 * s / size).toFixed(2);
  const bound = 2 * size / (chainCpu + world);
  return [
    `| ${mode} | ${(size / r.seconds).toFixed(0)} | ${r.seconds.toFixed(1)} | ${
      chainCpu.toFixed(1)
    } (${ms(chainCpu)}) | ${world.toFixed(1)} (${ms(world)}) | ${
      bound.toFixed(0)
    }/s | ${r.items} / ${r.leads} |`,
    `  by process (ms per business): ${
      cpuByGroup(sample).map((c) => `${c.process} ${ms(c.cpuSeconds)}`).join(", ")
    }`,
    ...(phased
      ? [
        `  the chain process by stage (ms per business): ${
          Object.entries(r.stageCpuMs).map(([id, v]) => `${id} ${ms(v / 1000)}`).join(", ")
        }`,
      ]
      : []),
  ];
}

/** Options of {@linkcode runStageChainBench}. */
export interface StageChainBenchOptions {
  /** Businesses of the generated world (default 20,000). */
  size?: number;
  /** `in-process`, `sandbox` or both, in turn (default both). */
  modes?: ("in-process" | "sandbox")[];
  /** Chunks in flight at once (default 16). */
  inflight?: number;
  /** Times each mode runs, alternating (default 1). */
  rounds?: number;
  /** Each stage over every chunk before the next starts; the chain's CPU per stage. */
  phased?: boolean;
  /** Where to write the chain process's V8 CPU profile (of the last run). */
  profile?: string;
}

/** Runs the chain in each mode on one generated world; returns the report as markdown. */
export async function runStageChainBench(
  o: StageChainBenchOptions = {},
): Promise<{ markdown: string }> {
  const size = o.size ?? 20_000;
  const dir = await Deno.makeTempDir({ prefix: "sluice_chain_bench_" });
  const f = await startFlagship({ size, seed: 11, dir, llm: true, issueCertificatesAhead: true });
  const nice = prioritizeWorld();
  const lines = [
    `Stage chain (\`bench/stage_chain_bench.ts\`): the flagship pipeline's stages without engine and ` +
    `store, ${size.toLocaleString("en")} generated businesses, ${
      o.inflight ?? 16
    } chunks in flight${
      o.phased ? ", phased (one stage at a time)" : ""
    }; the world and the fakes at nice ${nice}, the chain at nice 0; ${
      new Date().toISOString().slice(11, 16)
    } UTC. "2-core bound": 2,000 / (chain + world ms per business), the rate this much CPU allows ` +
    "with both cores busy all the time.",
    "",
    "| mode | businesses/s | seconds | CPU s of the chain (ms per business) | CPU s of world + fakes (ms per business) | 2-core bound | items / leads |",
    "|---|---:|---:|---:|---:|---:|---|",
  ];
  try {
    let n = 0;
    for (let round = 0; round < (o.rounds ?? 1); round++) {
      for (const mode of o.modes ?? ["in-process", "sandbox"]) {
        const got = await measure(
          f,
          mode,
          `chain-${mode}-${n++}`,
          size,
          o.inflight ?? 16,
          o.phased ?? false,
          o.profile,
        );
        console.error(got.join("\n"));
        lines.push(...got);
      }
    }
  } finally {
    await f.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  return { markdown: lines.join("\n") };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      child: { type: "boolean", default: false },
      mode: { type: "string" },
      pipeline: { type: "string" },
      input: { type: "string" },
      "run-id": { type: "string" },
      modes: { type: "string", default: "in-process,sandbox" },
      size: { type: "string", default: "20000" },
      inflight: { type: "string", default: "16" },
      rounds: { type: "string", default: "1" },
      phased: { type: "boolean", default: false },
      profile: { type: "string" },
    },
  });
  if (values.child) {
    await child(values.mode!, values.pipeline!, values.input!, values["run-id"]!);
    Deno.exit(0);
  }
  const modes = values.modes!.split(",");
  for (const m of modes) {
    if (m !== "in-process" && m !== "sandbox") throw new Error(`--modes: no mode ${m}`);
  }
  const r = await runStageChainBench({
    size: Number(values.size),
    modes: modes as ("in-process" | "sandbox")[],
    inflight: Number(values.inflight),
    rounds: Number(values.rounds),
    phased: values.phased,
    profile: values.profile,
  });
  console.log(r.markdown);
  Deno.exit(0);
}
