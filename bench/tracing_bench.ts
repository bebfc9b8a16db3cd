/**
 * What a chunk span costs the process that runs the chunk, apart from everything else a worker
 * does (not a test). `pg_bench.ts` measures tracing on versus off end to end, where two workers,
 * PostgreSQL and the span sink share two cores and one cluster's CPU per job varies by ±10 %
 * from run to run; this measures the span alone: chunks through `EngineTelemetry.chunk` (the
 * engine's own wrapper: span with its attributes, the active context for the chunk's awaits,
 * item counts on commit) around a job of awaits and a timer, with tracing off, and on with
 * OTLP/HTTP export to a sink in another process, alternating, CPU of this process per chunk.
 *
 *   deno run -A bench/tracing_bench.ts [--chunks 50000] [--rounds 3] [--concurrency 8]
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { EngineTelemetry } from "../core/telemetry/engine_telemetry.ts";
import { setupTracing } from "../core/telemetry/tracing.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    chunks: { type: "string", default: "50000" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "8" },
  },
});
const CHUNKS = Number(values.chunks);

// The sink: its own process, so its CPU is not counted (a collector's is not Sluice's).
const sink = new Deno.Command(Deno.execPath(), {
  args: [
    "eval",
    `let spans = 0;
     Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: (a) => console.log(a.port) },
       async (req) => {
         if (req.method === "GET") return Response.json({ spans });
         spans += (await req.text()).split('"spanId"').length - 1;
         return Response.json({});
       });`,
  ],
  stdout: "piped",
}).spawn();
const reader = sink.stdout.pipeThrough(new TextDecoderStream()).getReader();
let port = "";
while (!port.includes("\n")) port += (await reader.read()).value ?? "";

const tracing = setupTracing({ otlpEndpoint: `http://127.0.0.1:${port.trim()}` });
const run = {
  id: "bench-run",
  pipeline: "bench",
  stages: [{ id: "t", resolved: { manifest: { name: "tag" } } }],
};

/** A stand-in for a chunk's work: awaits (store calls) and one timer turn. */
async function job(): Promise<boolean> {
  for (let i = 0; i < 20; i++) await Promise.resolve(i);
  await new Promise((r) => setTimeout(r, 0));
  return true;
}

async function measure(on: boolean): Promise<number> {
  const tel = new EngineTelemetry({ tracer: on ? tracing.tracer : undefined });
  let next = 0;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: Number(values.concurrency) }, async () => {
      while (next < CHUNKS) {
        // deno-lint-ignore no-explicit-any
        const ref = { run, stage: 0, chunk: next++, attempt: 1 } as any;
        await tel.chunk(ref, job);
        tel.chunkCommitted(ref, { in: 200, out: 200 });
      }
    }),
  );
  if (on) await tracing.flush(); // the export is part of the cost
  const c = process.cpuUsage(cpu0);
  return (c.user + c.system) / 1000 / CHUNKS;
}

await measure(true); // warm up both paths
await measure(false);
const rows: string[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  const off = await measure(false);
  const on = await measure(true);
  rows.push(
    `| ${r + 1} | ${(off * 1000).toFixed(1)} | ${(on * 1000).toFixed(1)} | ${
      ((on - off) * 1000).toFixed(1)
    } |`,
  );
}
await tracing.close();
const { spans } = await (await fetch(`http://127.0.0.1:${port.trim()}/`)).json();
sink.kill();
await sink.status;
console.log(
  `Chunk span cost (${CHUNKS} chunks per measure, ${values.concurrency} at once; OTLP/HTTP to a ` +
    `sink in another process, ${spans} of ${
      (Number(values.rounds) + 1) * CHUNKS
    } spans received; load average ${Deno.loadavg().map((l) => l.toFixed(1)).join(" ")}):\n`,
);
console.log("| round | µs CPU per chunk, off | on | span cost µs |");
console.log("|---|---:|---:|---:|");
for (const r of rows) console.log(r);
