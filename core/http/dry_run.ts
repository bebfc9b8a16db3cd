/**
 * Dry runs: a pipeline's transform stages run on a few posted items, through the same executor
 * (the sandbox) and the same `when`/batching code as real runs, without storing a run. Sinks are
 * not run (they would write exports). Given a sample input (CSV text, JSON lines) instead of
 * items, the pipeline's own source reads it first, so the sample becomes exactly the items a run
 * over the same file would make (column names, website column, rejected rows). Given neither, a
 * source that reads no input file (a generator, an API, a file its `with.path` names) reads its
 * first items itself: one read of at most {@linkcode DRY_RUN_MAX_ITEMS} items, in its sandbox with
 * the permissions a run would give it (the `with.path` file granted exactly as in a run), so the
 * stages run on what a run of the pipeline would start with. Reading a chunk from the start is
 * what a retried first chunk does, so it has no effect a run would not have.
 * @module
 */
import { join } from "node:path";
import type { SecretGrants } from "../plugins/secret_grants.ts";
import type { Item, Json, NetworkSettings, Rejected } from "../../sdk/types.ts";
import type { StageExecutor } from "../engine/executor.ts";
import { prepareRun, type StageDefaults } from "../engine/prepare.ts";
import { callStage, checkItems } from "../engine/stage_call.ts";
import { readFirstChunk, SAMPLE_MAX_ITEMS } from "../engine/source_preflight.ts";
import { StagePool } from "../engine/stage_pool.ts";
import { compileExpression } from "../pipeline/expression.ts";
import type { Pipeline } from "../pipeline/model.ts";
import type { PluginRegistry } from "../plugins/manifest.ts";
import type { StageCounters } from "../store/store.ts";

/** What one stage did to the sample. */
export interface DryRunStage {
  id: string;
  plugin: string;
  /** `ran`, `skipped` (sinks are not run) or `failed`. */
  status: "ran" | "skipped" | "failed";
  counters: Partial<StageCounters>;
  /** Items after the stage. */
  items: Item[];
  rejected: Rejected[];
  error?: string;
  ms: number;
  /** Log lines the plugin wrote. */
  logs: { level: string; msg: string; data?: Json }[];
}

/** Options of {@link dryRun}. */
export interface DryRunOptions {
  pipeline: Pipeline;
  yaml: string;
  file: string;
  registry: PluginRegistry;
  executor: StageExecutor;
  dataDir: string;
  inputs: Record<string, unknown>;
  /** Items to start from; or `input`; or neither, to have the source read its first items. */
  items?: Record<string, unknown>[];
  /** A sample input for the pipeline's source to read (at most {@linkcode DRY_RUN_MAX_ITEMS} items). */
  input?: string;
  defaults?: StageDefaults;
  secrets?: (name: string) => string | undefined;
  /** Secrets plugins get beyond their manifest's `secrets` (`secrets.grants`). */
  secretGrants?: SecretGrants;
  secretValues?: Set<string>;
  network?: NetworkSettings;
  signal?: AbortSignal;
}

/** Runs a stage's step, recording its time, and its error as the row's failure; false on failure. */
async function timed(row: DryRunStage, step: () => Promise<void>): Promise<boolean> {
  const t0 = performance.now();
  try {
    await step();
    return true;
  } catch (e) {
    row.status = "failed";
    row.error = `stage ${row.id}: ${(e as Error).message ?? e}`;
    return false;
  } finally {
    row.ms = Math.round(performance.now() - t0);
  }
}

/** Most items a dry run's source reads from a sample input. */
export const DRY_RUN_MAX_ITEMS = SAMPLE_MAX_ITEMS;

/**
 * Runs the non-sink stages on `items` (or on what the source reads of `input`) in order; stops
 * at the first failing stage.
 */
export async function dryRun(o: DryRunOptions): Promise<{ stages: DryRunStage[]; items: Item[] }> {
  const id = `dry-${crypto.randomUUID()}`;
  let inputFile: string | undefined;
  if (o.input !== undefined) {
    // Written where uploads go, so the source's sandbox may read it as it reads an upload.
    const dir = join(o.dataDir, "uploads");
    await Deno.mkdir(dir, { recursive: true });
    inputFile = join(dir, `${id}.${o.input.trimStart().startsWith("{") ? "jsonl" : "csv"}`);
    await Deno.writeTextFile(inputFile, o.input);
  }
  try {
    const result = await dryRunStages(o, id, inputFile);
    // Messages name the sample, not the server's temp file ("sample:4: no domain…").
    return inputFile ? JSON.parse(JSON.stringify(result).replaceAll(inputFile, "sample")) : result;
  } finally {
    if (inputFile) await Deno.remove(inputFile).catch(() => {});
  }
}

/** What the dry run's source read (a sample input, or its own first items): a row of the result. */
async function readSource(
  row: DryRunStage,
  instance: Awaited<ReturnType<StagePool["instance"]>>,
  o: { sample: boolean; signal: AbortSignal; log: (level: string, msg: string) => void },
): Promise<Item[]> {
  const res = await readFirstChunk(instance, row.id, {
    limit: DRY_RUN_MAX_ITEMS,
    signal: o.signal,
    log: o.log,
  });
  if (!res.done) {
    o.log(
      "info",
      o.sample
        ? `read the first ${DRY_RUN_MAX_ITEMS} items of the sample: a dry run reads no more`
        : `read the source's first ${res.returned} items (one chunk of at most ` +
          `${DRY_RUN_MAX_ITEMS}): a dry run reads no more`,
    );
  }
  const items = res.items;
  row.rejected = res.rejected;
  row.items = items;
  // Rows read: each became an item or a rejected one.
  row.counters = {
    in: items.length + row.rejected.length,
    out: items.length,
    rejected: row.rejected.length,
  };
  return items;
}

async function dryRunStages(
  o: DryRunOptions,
  id: string,
  inputFile: string | undefined,
): Promise<{ stages: DryRunStage[]; items: Item[] }> {
  const run = prepareRun({
    pipeline: o.pipeline,
    yaml: o.yaml,
    file: o.file,
    registry: o.registry,
    inputs: o.inputs,
    inputFile,
    // A source's with.path file is granted to its sandbox as in a run; read as it is now (a
    // dry run is no run of the store: no snapshot of it is kept).
    dataDir: o.dataDir,
    snapshot: false,
    trigger: { kind: "api", id: "dry-run" },
    defaults: o.defaults,
    id,
  });
  // Neither items nor a sample: the source reads its own first items (see the module doc).
  const fromSource = inputFile !== undefined || !o.items?.length;
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const pool = new StagePool({
    executor: o.executor,
    dataDir: o.dataDir,
    secrets: o.secrets,
    secretGrants: o.secretGrants,
    secretValues: o.secretValues,
    signal,
    network: o.network,
  });
  const rejected0: Rejected[] = [];
  let items = checkItems(
    (o.items ?? []).map((
      it,
      i,
    ) => (typeof it?.key === "string" ? it : { ...it, key: `sample-${i}` })),
    "input",
    rejected0,
  );
  const stages: DryRunStage[] = [];
  try {
    for (let i = fromSource ? 0 : 1; i < run.stages.length; i++) {
      const st = run.stages[i];
      const logs: DryRunStage["logs"] = [];
      const row: DryRunStage = {
        id: st.id,
        plugin: st.plugin,
        status: "ran",
        counters: {},
        items: [],
        rejected: [],
        ms: 0,
        logs,
      };
      stages.push(row);
      const log = (level: string, msg: string, data?: Json) => {
        if (logs.length < 100) logs.push({ level, msg, data });
      };
      if (i === 0) {
        // The source reads the sample input as it would read the file of a run (or, without
        // one, its own first items).
        const ok = await timed(row, async () => {
          const instance = await pool.instance(run, 0);
          items = await readSource(row, instance, { sample: !!inputFile, signal, log });
        });
        if (!ok) break;
        continue;
      }
      if (st.resolved.manifest.kind === "sink") {
        row.status = "skipped";
        row.items = items;
        continue;
      }
      const ok = await timed(row, async () => {
        const instance = await pool.instance(run, i);
        const vars = { inputs: run.inputs, run: { id: run.id, pipeline: run.pipeline } };
        const when = st.when ? compileExpression(st.when) : undefined;
        const out = await callStage({
          stage: st,
          instance,
          input: items,
          chunk: 0,
          signal,
          when: when && ((item) => when.evaluateBool({ ...vars, item })),
          log,
        });
        row.items = out.items;
        row.rejected = out.rejected;
        row.counters = out.counters;
        items = out.items;
      });
      if (!ok) break;
    }
  } finally {
    stop.abort();
    await pool.closeAll();
  }
  return { stages, items };
}
