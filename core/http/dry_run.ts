/**
 * Dry runs: a pipeline's transform stages run on a few posted items, through the same executor
 * (the sandbox) and the same `when`/batching code as real runs, without storing a run. Sinks are
 * not run (they would write exports).
 * @module
 */
import type { SecretGrants } from "../plugins/secret_grants.ts";
import type { Item, Json, NetworkSettings, Rejected } from "../../sdk/types.ts";
import type { StageExecutor } from "../engine/executor.ts";
import { prepareRun, type StageDefaults } from "../engine/prepare.ts";
import { callStage, checkItems } from "../engine/stage_call.ts";
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
  items: Record<string, unknown>[];
  defaults?: StageDefaults;
  secrets?: (name: string) => string | undefined;
  /** Secrets plugins get beyond their manifest's `secrets` (`secrets.grants`). */
  secretGrants?: SecretGrants;
  secretValues?: Set<string>;
  network?: NetworkSettings;
  signal?: AbortSignal;
}

/** Runs the non-sink stages on `items` in order; stops at the first failing stage. */
export async function dryRun(o: DryRunOptions): Promise<{ stages: DryRunStage[]; items: Item[] }> {
  const run = prepareRun({
    pipeline: o.pipeline,
    yaml: o.yaml,
    file: o.file,
    registry: o.registry,
    inputs: o.inputs,
    trigger: { kind: "api", id: "dry-run" },
    defaults: o.defaults,
    id: `dry-${crypto.randomUUID()}`,
  });
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
    o.items.map((it, i) => (typeof it?.key === "string" ? it : { ...it, key: `sample-${i}` })),
    "input",
    rejected0,
  );
  const stages: DryRunStage[] = [];
  try {
    for (let i = 1; i < run.stages.length; i++) {
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
      if (st.resolved.manifest.kind === "sink") {
        row.status = "skipped";
        row.items = items;
        continue;
      }
      const t0 = performance.now();
      try {
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
          log: (level, msg, data) => {
            if (logs.length < 100) logs.push({ level, msg, data });
          },
        });
        row.items = out.items;
        row.rejected = out.rejected;
        row.counters = out.counters;
        items = out.items;
      } catch (e) {
        row.status = "failed";
        row.error = `stage ${st.id}: ${(e as Error).message ?? e}`;
        break;
      } finally {
        row.ms = Math.round(performance.now() - t0);
      }
    }
  } finally {
    stop.abort();
    await pool.closeAll();
  }
  return { stages, items };
}
