/**
 * Server time of every UI page with 100,000 runs and 1,000,000 items in the store (goal: under
 * 300 ms each). The data is written once to `bench/out/ui_bench_<runs>_<items>_v4.kv` and reused
 * (runs in batched atomic writes with their indexes, `KvStore.importRuns`; the big run's chunks
 * through `commitChunk`, four at a time, so its item index is written as the engine writes it);
 * pages are requested in-process (no network), each 20 times after 3 warm-ups, and p50/p95/max
 * are printed as a Markdown table. Not a test: run it by hand.
 *
 *   deno run -A bench/ui_bench.ts [--runs 100000] [--items 1000000] [--requests 20]
 * @module
 */
import { parseArgs } from "node:util";
import { createApp } from "../core/http/app.ts";
import { FilePipelineCatalog } from "../core/http/pipeline_files.ts";
import { Engine } from "../core/engine/engine.ts";
import { InProcessExecutor } from "../core/engine/in_process_executor.ts";
import { join, ROOT } from "../core/paths.ts";
import { openRegistry } from "../core/plugins/registry.ts";
import { KvQueue, KvStore } from "../core/store/kv_backend.ts";
import type { RunRecord, RunState, StageSnapshot } from "../core/store/store.ts";
import { withUi } from "../web/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "100000" },
    items: { type: "string", default: "1000000" },
    requests: { type: "string", default: "20" },
  },
});
const runs = Number(values.runs), items = Number(values.items), requests = Number(values.requests);
const out = join(ROOT, "bench/out");
await Deno.mkdir(out, { recursive: true });
const kv = await Deno.openKv(join(out, `ui_bench_${runs}_${items}_v4.kv`));
const store = new KvStore(kv);
const registry = await openRegistry({
  builtinDir: join(ROOT, "plugins"),
  installDir: join(out, "ui_bench_plugins"),
  lockPath: join(out, "ui_bench_plugins.lock"),
});

function stage(id: string, plugin: string): StageSnapshot {
  const resolved = registry.resolve(plugin)!;
  return {
    id,
    plugin: `${plugin}@^1`,
    resolved,
    with: {},
    concurrency: 1,
    chunk: 200,
    timeoutMs: 1000,
    memoryMb: 128,
    retry: { attempts: 1, backoff: "fixed", delayMs: 0, maxDelayMs: 0 },
    onError: "fail",
  };
}

const stages = [
  stage("source", "csv-source"),
  stage("classify", "classify"),
  stage("score", "score"),
];
const now = Date.now();
const states: RunState[] = ["succeeded", "succeeded", "succeeded", "failed", "cancelled"];
const bigId = "rbig";
if (!(await kv.get(["bench", "filled"])).value) {
  const t0 = performance.now();
  const base = now - runs * 1000;
  const batch: RunRecord[] = [];
  for (let i = 0; i < runs; i++) {
    batch.push({
      id: `r${String(i).padStart(8, "0")}`,
      pipeline: `p${i % 20}`,
      pipelineYaml: "name: p\n",
      pipelineFile: "p.yaml",
      stages,
      inputs: {},
      trigger: { kind: i % 7 === 0 ? "cron" : "api", id: "bench" },
      state: states[i % states.length],
      createdAt: base + i * 1000,
      startedAt: base + i * 1000 + 5,
      finishedAt: base + i * 1000 + 900,
    });
    if (batch.length === 2000 || i === runs - 1) await store.importRuns(batch.splice(0));
  }
  console.error(`wrote ${runs} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await store.createRun({
    id: bigId,
    pipeline: "leads",
    pipelineYaml: "name: leads\n",
    pipelineFile: "leads.yaml",
    stages,
    inputs: {},
    trigger: { kind: "api" },
    state: "succeeded",
    createdAt: base - 1000,
  }, []);
  const statuses = ["live", "parked", "for_sale", "no_dns", "placeholder"];
  const commit = async (c: number) => {
    const chunk = Array.from({ length: Math.min(200, items - c * 200) }, (_, k) => {
      const i = c * 200 + k;
      const status = statuses[i % statuses.length];
      return {
        key: `d${i}.example`,
        domain: `d${i}.example`,
        name: `Business ${i}`,
        city: "Springfield",
        website: { status, signals: [{ id: "s", status, evidence: "bench" }] },
        lead: status !== "live",
        score: i % 101,
        band: ["hot", "warm", "cool", "cold"][i % 4],
      };
    });
    await store.commitChunk({
      runId: bigId,
      stage: 2,
      chunk: c,
      items: chunk,
      rejected: [],
      counters: { in: chunk.length, out: chunk.length, chunksDone: 1 },
      next: [],
    });
  };
  const chunks = Math.ceil(items / 200);
  for (let c = 0; c < chunks; c += 4) {
    await Promise.all([0, 1, 2, 3].filter((k) => c + k < chunks).map((k) => commit(c + k)));
  }
  await kv.set(["bench", "filled"], true);
  console.error(
    `wrote ${runs} runs and ${items} items in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

const executor = new InProcessExecutor();
const engine = new Engine({
  backend: { store, queue: new KvQueue(kv), close: () => {} },
  executor,
  dataDir: out,
});
const deps = {
  engine,
  store,
  kv,
  registry,
  executor,
  pipelines: new FilePipelineCatalog(join(ROOT, "pipelines"), { registry }),
  dataDir: out,
  limits: { perIp: { rate: 1e9, perMs: 1000 }, perPrincipal: { rate: 1e9, perMs: 1000 } },
};
const { app, sessions } = createApp(await withUi(deps));
const { id } = await sessions.create({ subject: "bench", role: "admin", provider: "bench" });
const cookie = `__Host-sluice_session=${id}`;

const pages = [
  "/",
  "/pipelines",
  "/pipelines/no-website-leads",
  "/runs",
  "/runs?state=failed&trigger=cron",
  `/runs/${bigId}`,
  `/runs/${bigId}/items`,
  `/runs/${bigId}/items?status=parked&min=50`,
  `/runs/${bigId}/items?sort=-score&status=for_sale`,
  `/runs/${bigId}/items?lead=true&band=hot`,
  `/runs/${bigId}/items?sort=website.status`,
  `/runs/${bigId}/items?lead=true&sort=-band`,
  `/runs/${bigId}/items?q=d777777.example`,
  "/plugins",
  "/triggers",
  "/settings",
];
// Deeper pages: the second page of the sorted table and of a text search, by their next links.
for (
  const first of [
    `/runs/${bigId}/items?sort=-score&status=for_sale`,
    `/runs/${bigId}/items?q=Business%201`,
  ]
) {
  const html = await (await app.request(`http://localhost${first}`, { headers: { cookie } }))
    .text();
  const next = /<a href="([^"]*)" rel="next" id="next-page"/.exec(html)?.[1];
  if (!next) throw new Error(`${first}: no next page link`);
  pages.splice(pages.indexOf("/plugins"), 0, next.replaceAll("&amp;", "&"));
}
const rows = ["| page | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|"];
for (const path of pages) {
  const times: number[] = [];
  for (let i = 0; i < requests + 3; i++) {
    const t0 = performance.now();
    const res = await app.request(`http://localhost${path}`, { headers: { cookie } });
    await res.text();
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    if (i >= 3) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) =>
    times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
  const shown = path.replace(/cursor=[^&]+/, "cursor=…");
  rows.push(`| \`${shown}\` | ${q(0.5)} | ${q(0.95)} | ${times.at(-1)!.toFixed(1)} |`);
}
console.log(`UI pages, ${runs.toLocaleString("en")} runs, ${items.toLocaleString("en")} items\n`);
console.log(rows.join("\n"));
await engine.close();
kv.close();
