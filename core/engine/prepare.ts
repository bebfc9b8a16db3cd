/**
 * Turns a validated pipeline into a run record: resolves each stage's plugin, applies defaults
 * and snapshots everything the run needs, so later edits of the file do not change a running run.
 * Secrets stay as `${{ secrets.NAME }}` templates in the snapshot; they are resolved at run time.
 * @module
 */
import { durationMs, type Pipeline, type SourceStage, type Stage } from "../pipeline/model.ts";
import { type PluginRegistry, resolvePluginRef, splitPluginRef } from "../plugins/manifest.ts";
import type { RunRecord, StageSnapshot, TriggerInfo } from "../store/store.ts";
import { resolve } from "../paths.ts";
import { EngineError, newRunId } from "./engine.ts";

/** Engine-wide defaults a stage falls back to. */
export interface StageDefaults {
  chunk: number;
  concurrency: number;
  timeoutMs: number;
  memoryMb: number;
  retry: { attempts: number; delayMs: number; maxDelayMs: number };
}

/** Built-in defaults (the config layer overrides them). */
export const DEFAULT_STAGE: StageDefaults = {
  chunk: 200,
  concurrency: 2,
  timeoutMs: 60_000,
  memoryMb: 256,
  retry: { attempts: 3, delayMs: 1000, maxDelayMs: 300_000 },
};

/** Options of {@link prepareRun}. */
export interface PrepareOptions {
  pipeline: Pipeline;
  yaml: string;
  file: string;
  registry: PluginRegistry;
  inputs: Record<string, unknown>;
  inputFile?: string;
  trigger: TriggerInfo;
  defaults?: StageDefaults;
  id?: string;
  now?: number;
}

/**
 * Why a run of `pipeline` without an input file cannot work, or undefined: its source plugin
 * reads the run's input file (its manifest lists the media types it `accepts`) and the pipeline
 * gives it no `with.path`. Checked before a run is created, so the user is asked for the file
 * instead of getting a run that fails.
 */
export function missingInputFile(
  pipeline: Pipeline,
  registry: PluginRegistry,
): string | undefined {
  const source = resolvePluginRef(registry, pipeline.source.plugin)?.manifest;
  const accepts = source?.accepts;
  if (!accepts?.length || pipeline.source.with?.path !== undefined) return undefined;
  return `pipeline ${pipeline.name} reads its items from an input file (its source ${
    source!.name
  } reads ` +
    `${accepts.join(" or ")}) and none was given: pass --input FILE, upload the file with the ` +
    "run, or set the source's with.path";
}

/** Builds the run record (state `queued`). Throws {@link EngineError} for unknown plugins. */
export function prepareRun(o: PrepareOptions): RunRecord {
  const d = o.defaults ?? DEFAULT_STAGE;
  const p = o.pipeline;
  const snap = (st: SourceStage | Stage, isSource: boolean): StageSnapshot => {
    const { name, range } = splitPluginRef(st.plugin);
    const resolved = o.registry.resolve(name, range);
    if (!resolved) {
      throw new EngineError(
        `${o.file}: stage ${st.id}: plugin ${st.plugin} is not installed; ` +
          `see installed plugins with: sluice plugin list`,
      );
    }
    const kind = resolved.manifest.kind;
    if (isSource !== (kind === "source")) {
      throw new EngineError(
        `${o.file}: stage ${st.id}: plugin ${name} is a ${kind}; ` +
          (isSource
            ? "the source needs a source plugin"
            : "only the source may use a source plugin"),
      );
    }
    const retry = st.retry;
    const stage = st as Stage;
    return {
      id: st.id,
      plugin: st.plugin,
      resolved,
      with: st.with ?? {},
      permissions: st.permissions,
      when: isSource ? undefined : stage.when,
      concurrency: isSource ? 1 : st.concurrency ?? p.concurrency ?? d.concurrency,
      chunk: st.chunk ?? p.chunk ?? d.chunk,
      timeoutMs: st.timeout !== undefined ? durationMs(st.timeout) : d.timeoutMs,
      memoryMb: st.memory ?? d.memoryMb,
      retry: {
        attempts: retry?.attempts ?? d.retry.attempts,
        backoff: retry?.backoff ?? "exponential",
        delayMs: retry?.delay !== undefined ? durationMs(retry.delay) : d.retry.delayMs,
        maxDelayMs: retry?.maxDelay !== undefined ? durationMs(retry.maxDelay) : d.retry.maxDelayMs,
      },
      rateLimit: !isSource && stage.rateLimit
        ? {
          rate: stage.rateLimit.rate,
          perMs: durationMs(stage.rateLimit.per ?? "1s"),
          key: stage.rateLimit.key,
          burst: stage.rateLimit.burst,
        }
        : undefined,
      onError: st.onError ?? "deadLetter",
    };
  };
  // A source that names its file in the pipeline reads it as the run's input file: the
  // sandbox grants read of exactly that file, as it does for --input and uploads.
  const srcPath = p.source.with?.path;
  const inputFile = o.inputFile ??
    (typeof srcPath === "string" && !srcPath.includes("${{") ? resolve(srcPath) : undefined);
  const now = o.now ?? Date.now();
  return {
    id: o.id ?? newRunId(now),
    pipeline: p.name,
    pipelineYaml: o.yaml,
    pipelineFile: o.file,
    stages: [snap(p.source, true), ...p.stages.map((s) => snap(s, false))],
    inputs: o.inputs,
    inputFile,
    trigger: o.trigger,
    state: "queued",
    createdAt: now,
  };
}
