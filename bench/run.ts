/**
 * `deno task bench`: runs every benchmark and prints a markdown report (also written to
 * `bench/out/latest.md`). Record the figures in `bench/RESULTS.md` with the date and machine.
 * `deno task bench engine sandbox recovery verify retained` picks sections (default: all that
 * exist).
 */
import { join, ROOT } from "../core/paths.ts";
import { runRecoveryBench } from "./recovery_bench.ts";
import { runSandboxBench, sandboxBenchTable } from "./sandbox_bench.ts";

const wanted = new Set(
  Deno.args.length ? Deno.args : [
    "engine",
    "sandbox",
    "recovery",
    "retained",
    "verify",
    "flagship",
    "chain",
    "webhook",
    "api",
  ],
);
const out: string[] = [
  `# Sluice benchmarks`,
  "",
  `- date: ${new Date().toISOString()}`,
  `- machine: ${Deno.build.os} ${Deno.build.arch}, ${navigator.hardwareConcurrency} cores, ${
    Math.round(Deno.systemMemoryInfo().total / 2 ** 30)
  } GiB; Deno ${Deno.version.deno}; load average ${
    Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
  }`,
  "",
];
const say = (s: string) => {
  console.log(s);
  out.push(s);
};

/** In-process/sandbox pairs the engine section runs. */
const ENGINE_PAIRS = 3;

/** One line of `bench/engine_bench.ts` output. */
interface EngineRun {
  itemsPerSecond: number;
  seconds: number;
  peakRssMb: number;
}

async function engineRun(executor: string): Promise<EngineRun> {
  const p = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "bench/engine_bench.ts"), "--executor", executor],
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(p.stdout).trim().split("\n").pop()!);
}

if (wanted.has("engine")) {
  say("## Engine: 100,000 items through 4 trivial transform stages (file-backed KV)");
  // Interleaved pairs, so a change in machine load hits both executors alike; the median pair
  // (by ratio) is reported with every pair listed.
  const pairs: { inproc: EngineRun; sandbox: EngineRun; ratio: number }[] = [];
  for (let i = 0; i < ENGINE_PAIRS; i++) {
    const inproc = await engineRun("inprocess");
    const sandbox = await engineRun("sandbox");
    pairs.push({ inproc, sandbox, ratio: sandbox.itemsPerSecond / inproc.itemsPerSecond });
  }
  const { inproc, sandbox } = [...pairs].sort((a, b) => a.ratio - b.ratio)[pairs.length >> 1];
  say("");
  say("| executor | items/s | seconds | peak RSS of the host (MB) | goal |");
  say("|---|---|---|---|---|");
  say(
    `| in-process (test-only) | ${inproc.itemsPerSecond} | ${inproc.seconds} | ${inproc.peakRssMb} | ≥ 20,000 items/s, < 300 MB |`,
  );
  say(
    `| sandbox (shipped) | ${sandbox.itemsPerSecond} | ${sandbox.seconds} | ${sandbox.peakRssMb} | ≥ 0.7 × in-process |`,
  );
  say(
    `\nsandboxed / in-process = ${(sandbox.itemsPerSecond / inproc.itemsPerSecond).toFixed(2)} ` +
      `(median of ${pairs.length} interleaved pairs: ${
        pairs.map((p) =>
          `${p.inproc.itemsPerSecond}/${p.sandbox.itemsPerSecond} = ${p.ratio.toFixed(2)}`
        ).join("; ")
      })\n`,
  );
}
if (wanted.has("sandbox")) {
  say("## Sandbox: spawn and warm round trip");
  say(sandboxBenchTable(await runSandboxBench()));
  say("");
}
if (wanted.has("recovery")) {
  say("## Recovery after SIGKILL (100,000 items, killed after 2 s)");
  const r = await runRecoveryBench();
  say(`\n| first chunk committed after restart | run finished after restart | goal |`);
  say(`|---|---|---|`);
  say(
    `| ${(r.resumeMs / 1000).toFixed(2)} s | ${
      (r.finishMs / 1000).toFixed(2)
    } s | resume < 10 s |\n`,
  );
}
if (wanted.has("retained")) {
  say("## Retained per run: 230 small sandboxed runs on one engine (file-backed KV)");
  const p = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", join(ROOT, "bench/retained_bench.ts")],
    stderr: "inherit",
  }).output();
  const r = JSON.parse(new TextDecoder().decode(p.stdout).trim().split("\n").pop()!);
  say(`\n| runs measured | object heap before → after (MB) | per run | runs held at the end |`);
  say(`|---|---|---|---|`);
  say(
    `| ${r.runs} (after ${r.warm}) | ${r.heapBeforeMb} → ${r.heapAfterMb} | ${r.bytesPerRun} B | ${r.runsHeld} |\n`,
  );
}
for (
  const [name, file, fn] of [
    ["verify", "verify_bench.ts", "runVerifyBench"],
    ["flagship", "flagship_bench.ts", "runFlagshipBench"],
    ["chain", "stage_chain_bench.ts", "runStageChainBench"],
    ["webhook", "webhook_bench.ts", "runWebhookBench"],
    ["api", "api_bench.ts", "runApiBench"],
  ] as const
) {
  if (!wanted.has(name)) continue;
  const path = join(ROOT, "bench", file);
  if (!(await Deno.stat(path).catch(() => null))) continue;
  const mod = await import(new URL(`./${file}`, import.meta.url).href);
  if (typeof mod[fn] !== "function") continue;
  say(`## ${name}`);
  const r = await mod[fn]();
  say(
    typeof r === "string" ? r : (r?.markdown ?? "```json\n" + JSON.stringify(r, null, 2) + "\n```"),
  );
  say("");
}
await Deno.mkdir(join(ROOT, "bench/out"), { recursive: true });
await Deno.writeTextFile(join(ROOT, "bench/out/latest.md"), out.join("\n") + "\n");
