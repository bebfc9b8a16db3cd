/**
 * Turns a validated pipeline into a run record: resolves each stage's plugin, applies defaults
 * and snapshots everything the run needs, so later edits of the file do not change a running run.
 * Secrets stay as `${{ secrets.NAME }}` templates in the snapshot; they are resolved at run time.
 * @module
 */
import { durationMs, type Pipeline, type SourceStage, type Stage } from "../pipeline/model.ts";
import {
  type PluginRegistry,
  type ResolvedPlugin,
  resolvePluginRef,
  splitPluginRef,
} from "../plugins/manifest.ts";
import type { RunRecord, StageSnapshot, TriggerInfo } from "../store/store.ts";
import { basename, dataRelative, isAbsolute, resolve } from "../paths.ts";
import { effectivePermissions } from "../plugins/permissions.ts";
import { PluginApprovalError, PluginIntegrityError } from "../plugins/registry.ts";
import { isInside } from "../../sdk/runtime/sandbox_args.ts";
import { pluginDataDir } from "./run_artifacts.ts";
import { asRunKeepsIt } from "./run_manifest.ts";
import { sourceSnapshotPath } from "./source_snapshot.ts";
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
  /** The input file's original name (see `RunRecord.inputName`); kept only with `inputFile`. */
  inputName?: string;
  trigger: TriggerInfo;
  defaults?: StageDefaults;
  id?: string;
  now?: number;
  /**
   * The Sluice data folder: a relative `with.path` of the source names a file in the source
   * plugin's data folder (`<dataDir>/plugin-data/<plugin>/`), as the source plugins document.
   * Without it, such a path is left to the plugin (which reads it from the same folder).
   */
  dataDir?: string;
  /**
   * Whether a run that reads its source's `with.path` file reads a snapshot of it (default
   * true): `inputFile` is then the run's own copy (`runs/<run id>/input/` of `dataDir`, taken by
   * `Engine.createRun`) and `sourceFile` the file. False for a dry run, which reads the file
   * itself and is no run of the store.
   */
  snapshot?: boolean;
}

/** A source's literal `with.path`, resolved: where it points and whether it may be granted. */
export interface SourcePath {
  /** The path as the pipeline gives it. */
  given: string;
  /** The absolute path it names (a relative one in the plugin's data folder). */
  file: string;
  /** The source plugin's data folder. */
  folder: string;
  /** True when `file` lies in `folder`: only then is it granted as the run's input file. */
  inside: boolean;
  /** The source plugin. */
  plugin: ResolvedPlugin;
}

/**
 * Where the source's literal `with.path` points, as a run reads it: a relative path in the source
 * plugin's data folder (`<dataDir>/plugin-data/<plugin>/`). Undefined when the source gives no
 * path, a templated one (`${{ inputs.file }}`), no `dataDir`, or its plugin is not installed.
 */
export function sourcePath(
  pipeline: Pipeline,
  registry: PluginRegistry,
  dataDir: string | undefined,
): SourcePath | undefined {
  const given = pipeline.source.with?.path;
  if (typeof given !== "string" || given === "" || given.includes("${{")) return undefined;
  if (dataDir === undefined) return undefined;
  const plugin = resolvePluginRef(registry, pipeline.source.plugin);
  if (!plugin) return undefined;
  const folder = resolve(pluginDataDir(dataDir, plugin.manifest.name));
  const file = resolve(folder, given);
  return { given, file, folder, inside: file !== folder && isInside(folder, file), plugin };
}

/**
 * The file a source that names it in the pipeline (`with.path`) reads when the run has no input
 * file of its own: the run reads its snapshot of that file as its input file (see
 * {@link prepareRun}), the sandbox grants read of exactly that, as it does for `--input` and
 * uploads, and the CLI and API check the file exists before the run starts. A relative path lies in the source plugin's
 * data folder (never the server's working folder, which differs between `sluice run`, a server
 * and a container). Only a file inside that folder is granted: whoever may edit pipelines must
 * not get a sandbox to read any file of the host (`/proc/1/environ`, the secrets file, the
 * store) with `with.path: /…` or `../..`. A path outside the folder is left to the plugin, which
 * can read it only when its approved `read` permissions cover it. Templated paths are left to
 * the plugin too.
 */
export function sourceInputFile(
  pipeline: Pipeline,
  registry: PluginRegistry,
  dataDir: string | undefined,
): string | undefined {
  const p = sourcePath(pipeline, registry, dataDir);
  return p?.inside ? p.file : undefined;
}

/** True when the source stage's effective `read` permissions cover the file `p` names. */
function readGranted(pipeline: Pipeline, p: SourcePath): boolean {
  const { plugin, folder, file } = p;
  try {
    const { read } = effectivePermissions(
      plugin.approved ?? plugin.manifest.permissions,
      pipeline.source.permissions,
    );
    return read.some((r) => isInside(resolve(folder, r), file));
  } catch {
    return false; // a widening: the run's creation reports it
  }
}

/**
 * Why a run of `pipeline` without an input file cannot read the file its source names in
 * `with.path`, or undefined: the file is not there, or it lies outside the plugin's data folder
 * and the paths approved for its plugin. Checked before a run is created.
 */
export async function missingSourceFile(
  pipeline: Pipeline,
  registry: PluginRegistry,
  dataDir: string,
): Promise<string | undefined> {
  const p = sourcePath(pipeline, registry, dataDir);
  if (p === undefined) return undefined;
  if (!p.inside) {
    // Decided without looking at the file: the answer must not tell whether a host path exists.
    if (readGranted(pipeline, p)) return undefined;
    return `the source (${pipeline.source.plugin}) reads with.path ${JSON.stringify(p.given)}, ` +
      `which is outside the plugin's data folder ${p.folder}: a source may read only files in ` +
      "that folder and the paths approved for its plugin; put the file in the folder and give " +
      "its path relative to it, or pass --input FILE (an upload in the API)";
  }
  try {
    if ((await Deno.stat(p.file)).isFile) return undefined;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return `the source (${pipeline.source.plugin}) reads with.path ${JSON.stringify(p.given)}, ` +
    `which is ${p.file}${
      isAbsolute(p.given) ? "" : " (relative paths are in the plugin's data folder)"
    }` +
    `, and no file is there: put the file there (or upload it on the pipeline's page, Source ` +
    `file, or with PUT /api/v1/pipelines/${pipeline.name}/source-file), or pass --input FILE ` +
    "(an upload in the API)";
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

/**
 * Builds the run record (state `queued`). Throws {@link EngineError} for unknown plugins. A run
 * without an input file whose source reads a file in its data folder ({@link sourceInputFile})
 * gets that file as `sourceFile` and its own snapshot of it as `inputFile`
 * (`<dataDir>/runs/<run id>/input/<name>`, see `source_snapshot.ts`), which
 * `Engine.createRun` takes: a file replaced or edited later never reaches the run, its retries
 * or its resumes.
 */
export function prepareRun(o: PrepareOptions): RunRecord {
  const d = o.defaults ?? DEFAULT_STAGE;
  const p = o.pipeline;
  const snap = (st: SourceStage | Stage, isSource: boolean): StageSnapshot => {
    const { name, range } = splitPluginRef(st.plugin);
    let resolved;
    try {
      resolved = o.registry.resolve(name, range);
    } catch (e) {
      // Files changed since install, or more asked for than approved: the caller's error (the
      // API answers 422 with this), not ours.
      if (e instanceof PluginIntegrityError || e instanceof PluginApprovalError) {
        throw new EngineError(`${o.file}: stage ${st.id}: ${e.message}`);
      }
      throw e;
    }
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
      resolved: asRunKeepsIt(resolved),
      with: st.with ?? {},
      permissions: st.permissions,
      when: isSource ? undefined : stage.when,
      concurrency: isSource ? 1 : st.concurrency ?? p.concurrency ?? d.concurrency,
      // A stage without its own `chunk:` takes the source's chunks whole (one call each) unless
      // the pipeline's `chunk:` says otherwise: a chunk split into calls costs a call per part.
      chunk: st.chunk ?? p.chunk ?? p.source.chunk ?? d.chunk,
      timeoutMs: st.timeout !== undefined ? durationMs(st.timeout) : d.timeoutMs,
      memoryMb: st.memory ?? d.memoryMb,
      ...(st.nice ? { nice: st.nice } : {}),
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
  // Plugins are resolved (and checked against the lock) before anything else reads them.
  const stages = [snap(p.source, true), ...p.stages.map((s) => snap(s, false))];
  const now = o.now ?? Date.now();
  const id = o.id ?? newRunId(now);
  const sourceFile = o.inputFile === undefined
    ? sourceInputFile(o.pipeline, o.registry, o.dataDir)
    : undefined;
  const snapshot = sourceFile !== undefined && o.snapshot !== false;
  const inputFile = snapshot
    ? sourceSnapshotPath(o.dataDir!, id, sourceFile)
    : o.inputFile ?? sourceFile;
  // Files in the data folder are kept relative to it (`dataRelative`), read with `inDataDir`.
  const kept = (f: string) => dataRelative(o.dataDir, f);
  return {
    id,
    pipeline: p.name,
    pipelineYaml: o.yaml,
    pipelineFile: o.file,
    stages,
    inputs: o.inputs,
    inputFile: inputFile === undefined ? undefined : kept(inputFile),
    // A snapshot is named as its file is (`crm-export.csv:12: …` in messages).
    ...(snapshot
      ? { inputName: basename(sourceFile), sourceFile: kept(sourceFile) }
      : o.inputFile && o.inputName
      ? { inputName: o.inputName }
      : {}),
    trigger: o.trigger,
    state: "queued",
    createdAt: now,
  };
}
