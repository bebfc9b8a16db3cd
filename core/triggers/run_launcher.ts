/**
 * Starts runs of catalog pipelines for triggers: resolves inputs against the pipeline's
 * declarations, snapshots the pipeline with {@link prepareRun} and records the run durably
 * through the engine. Shared by the scheduler and the webhook intake.
 * @module
 */
import { basename, dirname } from "../paths.ts";
import type { Engine } from "../engine/engine.ts";
import { prepareRun, type StageDefaults } from "../engine/prepare.ts";
import { resolveInputs } from "../pipeline/inputs.ts";
import type { PluginRegistry, ResolvedPlugin } from "../plugins/manifest.ts";
import {
  FINAL_STATES,
  type RunGuard,
  type RunRecord,
  type Store,
  type TriggerInfo,
} from "../store/store.ts";
import type { CatalogEntry } from "./pipeline_catalog.ts";
import { writeInputFile } from "./webhook_body.ts";

/** Largest input text kept in a run record (a Deno KV value holds at most 64 KiB). */
export const INLINE_INPUT_MAX = 16 * 1024;
/** Largest run record (as JSON, the text counted twice) that takes the text inline. */
const INLINE_RECORD_MAX = 56 * 1024;

/** JSON size of a catalog entry's stage snapshots (they hold the plugin manifests). */
const stagesSize = new WeakMap<CatalogEntry, number>();

/** Whether `text` may go into `run`'s record (the record stays well under the KV limit). */
function fitsInline(entry: CatalogEntry, run: RunRecord, text: string): boolean {
  if (text.length > INLINE_INPUT_MAX) return false;
  let stages = stagesSize.get(entry);
  if (stages === undefined) stagesSize.set(entry, stages = JSON.stringify(run.stages).length);
  // Two bytes per character is what a store's serializer needs at most for a string.
  const size = 2 * (run.pipelineYaml.length + text.length) + stages +
    JSON.stringify(run.inputs).length + JSON.stringify(run.trigger).length + 1024;
  return size <= INLINE_RECORD_MAX;
}

/**
 * Plugin resolutions reused for a short time: resolving checks the lock file (and re-hashes an
 * installed plugin's files) on every call, which a burst of webhooks need not repeat for every
 * run. A plugin installed or removed is seen by new runs at most `ttlMs` later.
 */
class ResolveCache implements PluginRegistry {
  #registry: PluginRegistry;
  #ttlMs: number;
  #hits = new Map<string, { at: number; plugin: ResolvedPlugin }>();

  constructor(registry: PluginRegistry, ttlMs: number) {
    this.#registry = registry;
    this.#ttlMs = ttlMs;
  }

  resolve(name: string, range?: string): ResolvedPlugin | undefined {
    const key = `${name}@${range ?? ""}`;
    const now = performance.now();
    const hit = this.#hits.get(key);
    if (hit && now - hit.at < this.#ttlMs) return hit.plugin;
    const plugin = this.#registry.resolve(name, range);
    if (plugin) this.#hits.set(key, { at: now, plugin });
    else this.#hits.delete(key);
    return plugin;
  }

  list(): ResolvedPlugin[] {
    return this.#registry.list();
  }
}

/** Options of {@link RunLauncher}. */
export interface RunLauncherOptions {
  /** Records runs (`Engine.createRun`). */
  engine: Pick<Engine, "createRun">;
  /** Reads run states (overlap checks); says which guards runs can be created with. */
  store: Pick<Store, "getRun" | "acceptsGuard">;
  registry: PluginRegistry;
  /** Stage defaults from the config. */
  defaults?: StageDefaults;
  /** How long a plugin resolution is reused (default 1,000 ms; 0: resolve every run). */
  resolveCacheMs?: number;
  /** Epoch ms. */
  now?: () => number;
  /**
   * The server's data folder: a run without an input file (a cron run, a `body: inputs` webhook)
   * reads the source's relative `with.path` in the source plugin's data folder
   * (`<dataDir>/plugin-data/<plugin>/`), as the plugins document. Without it the path is left
   * to `prepareRun`.
   */
  dataDir?: string;
}

/** What to start. */
export interface LaunchRequest {
  /** A catalog entry with a good pipeline. */
  entry: CatalogEntry;
  /** Raw inputs (typed or strings); declared defaults fill the rest. */
  inputs?: Record<string, unknown>;
  inputFile?: string;
  /** The input's original file name, sanitized (see `RunRecord.inputName`). */
  inputName?: string;
  /**
   * The text of `inputFile`, not written yet (a webhook body). Small enough, it is kept in the
   * run record (durable with the run, written to `inputFile` when the source starts); else it
   * is written to `inputFile` and flushed to disk before the run is recorded.
   */
  inputText?: string;
  trigger: TriggerInfo;
  /** A chosen run id (webhooks reserve it before the run exists). */
  id?: string;
  /** Create the run only if this guard's check holds, in the same write (see `Store.createRun`). */
  guard?: RunGuard;
}

/** Starts runs for triggers. */
export class RunLauncher {
  #o: RunLauncherOptions;
  #registry: PluginRegistry;

  /** Builds the launcher. */
  constructor(o: RunLauncherOptions) {
    this.#o = o;
    const ttl = o.resolveCacheMs ?? 1_000;
    this.#registry = ttl > 0 ? new ResolveCache(o.registry, ttl) : o.registry;
  }

  /**
   * Records a new run (state `queued`) and returns it.
   * @throws {InputError} for invalid inputs, {@link EngineError} for missing plugins.
   */
  async start(r: LaunchRequest): Promise<RunRecord> {
    const { pipeline, yaml } = r.entry;
    if (!pipeline || yaml === undefined) {
      throw new Error(
        `${r.entry.file}: pipeline ${r.entry.name} has no valid version to run; fix its problems`,
      );
    }
    const inputs = resolveInputs(pipeline.inputs, r.inputs ?? {});
    const run = prepareRun({
      pipeline,
      yaml,
      file: r.entry.file,
      registry: this.#registry,
      inputs,
      inputFile: r.inputFile,
      inputName: r.inputName,
      dataDir: this.#o.dataDir,
      trigger: r.trigger,
      defaults: this.#o.defaults,
      id: r.id,
      now: this.#o.now?.(),
    });
    if (r.inputText !== undefined) {
      if (!r.inputFile) throw new TypeError("inputText needs the inputFile it is written to");
      if (fitsInline(r.entry, run, r.inputText)) run.inputText = r.inputText;
      else await writeInputFile(dirname(r.inputFile), basename(r.inputFile), r.inputText);
    }
    return await this.#o.engine.createRun(run, r.guard);
  }

  /** Whether a run with this id was recorded. */
  async hasRun(id: string): Promise<boolean> {
    return (await this.#o.store.getRun(id)) !== undefined;
  }

  /** Whether {@linkcode RunLauncher.start} can take `guard` (the run store is on its database). */
  acceptsGuard(guard: RunGuard): boolean {
    return this.#o.store.acceptsGuard?.(guard) ?? false;
  }

  /** Whether run `id` exists and has not reached a final state. */
  async isActive(id: string): Promise<boolean> {
    const run = await this.#o.store.getRun(id);
    return !!run && !FINAL_STATES.includes(run.state);
  }
}
