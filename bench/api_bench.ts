/**
 * API benchmark: `GET /api/v1/runs?limit=50` (and filtered variants) with 100,000 runs in the
 * store (goal: p50 < 20 ms). The runs are written once to `bench/out/api_bench.kv` and reused.
 * Prints one JSON line per case with p50/p95 in milliseconds. Not a test.
 *
 *   deno run -A bench/api_bench.ts [--runs 100000] [--requests 200]
 */
import { parseArgs } from "node:util";
import { Engine } from "../core/engine/engine.ts";
import { InProcessExecutor } from "../core/engine/in_process_executor.ts";
import { createApp } from "../core/http/app.ts";
import { FilePipelineCatalog } from "../core/http/pipeline_files.ts";
import { join, ROOT } from "../core/paths.ts";
import { openRegistry } from "../core/plugins/registry.ts";
import { KvQueue, KvStore } from "../core/store/kv_backend.ts";
import type { RunRecord, RunState } from "../core/store/store.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "100000" },
    requests: { type: "string", default: "200" },
  },
});
const total = Number(values.runs);
const out = join(ROOT, "bench/out");
await Deno.mkdir(out, { recursive: true });
const kvPath = join(out, `api_bench_${total}.kv`);
const kv = await Deno.openKv(kvPath);
const store = new KvStore(kv);
const states: RunState[] = ["succeeded", "succeeded", "succeeded", "failed", "cancelled"];
if (!(await kv.get(["bench", "filled"])).value) {
  const t0 = performance.now();
  const base = Date.parse("2026-01-01T00:00:00Z");
  for (let i = 0; i < total; i++) {
    const run: RunRecord = {
      id: `r${String(i).padStart(8, "0")}`,
      pipeline: `p${i % 20}`,
      pipelineYaml: "name: p\nsource: { plugin: gen-source }\n".repeat(10),
      pipelineFile: "p.yaml",
      stages: [],
      inputs: { list: "customers.csv" },
      trigger: { kind: i % 7 === 0 ? "cron" : "api", id: "bench" },
      state: states[i % states.length],
      createdAt: base + i * 1000,
      startedAt: base + i * 1000 + 5,
      finishedAt: base + i * 1000 + 900,
    };
    await store.createRun(run, []);
  }
  await kv.set(["bench", "filled"], true);
  console.error(`wrote ${total} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const registry = await openRegistry({
  builtinDir: join(ROOT, "plugins"),
  installDir: join(out, "api_bench_plugins"),
  lockPath: join(out, "api_bench_plugins.lock"),
});
const executor = new InProcessExecutor();
const backend = { store, queue: new KvQueue(kv), close: () => {} };
const engine = new Engine({ backend, executor, dataDir: out });
const { app, tokens } = createApp({
  engine,
  store,
  kv,
  registry,
  executor,
  pipelines: new FilePipelineCatalog(join(out, "api_bench_pipelines")),
  dataDir: out,
  limits: { perIp: { rate: 1e9, perMs: 1000 }, perPrincipal: { rate: 1e9, perMs: 1000 } },
});
const { token } = await tokens.create({ name: "bench", role: "viewer" });
const headers = { authorization: `Bearer ${token}` };

async function measure(name: string, path: string) {
  const n = Number(values.requests);
  const times: number[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < n + 10; i++) {
    const t0 = performance.now();
    const res = await app.request(path, { headers });
    const body = await res.json();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
    if (i >= 10) times.push(ms);
    cursor = body.cursor;
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => Math.round(times[Math.floor(p * (times.length - 1))] * 100) / 100;
  console.log(
    JSON.stringify({
      bench: "api",
      case: name,
      runs: total,
      requests: n,
      p50_ms: q(0.5),
      p95_ms: q(0.95),
      cursor: !!cursor,
    }),
  );
}

await measure("list 50", "/api/v1/runs?limit=50");
await measure("list 50, one pipeline", "/api/v1/runs?limit=50&pipeline=p3");
await measure("list 50, state failed", "/api/v1/runs?limit=50&state=failed");
await measure("list 50, trigger cron", "/api/v1/runs?limit=50&trigger=cron");
await measure("show one", "/api/v1/runs/r00050000");
kv.close();
await executor.close();
