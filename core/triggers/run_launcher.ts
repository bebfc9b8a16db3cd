/**
 * Starts runs of catalog pipelines for triggers: resolves inputs against the pipeline's
 * declarations, snapshots the pipeline with {@link prepareRun} and records the run durably
 * through the engine. Shared by the scheduler and the webhook intake.
 * @module
 */
import type { Engine } from "../engine/engine.ts";
import { prepareRun, type StageDefaults } from "../engine/prepare.ts";
import { resolveInputs } from "../pipeline/inputs.ts";
import type { PluginRegistry } from "../plugins/manifest.ts";
import { FINAL_STATES, type RunRecord, type Store, type TriggerInfo } from "../store/store.ts";
import type { CatalogEntry } from "./pipeline_catalog.ts";

/** Options of {@link RunLauncher}. */
export interface RunLauncherOptions {
  /** Records runs (`Engine.createRun`). */
  engine: Pick<Engine, "createRun">;
  /** Reads run states (overlap checks). */
  store: Pick<Store, "getRun">;
  registry: PluginRegistry;
  /** Stage defaults from the config. */
  defaults?: StageDefaults;
  /** Epoch ms. */
  now?: () => number;
}

/** What to start. */
export interface LaunchRequest {
  /** A catalog entry with a good pipeline. */
  entry: CatalogEntry;
  /** Raw inputs (typed or strings); declared defaults fill the rest. */
  inputs?: Record<string, unknown>;
  inputFile?: string;
  trigger: TriggerInfo;
  /** A chosen run id (webhooks reserve it before the run exists). */
  id?: string;
}

/** Starts runs for triggers. */
export class RunLauncher {
  #o: RunLauncherOptions;

  /** Builds the launcher. */
  constructor(o: RunLauncherOptions) {
    this.#o = o;
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
      registry: this.#o.registry,
      inputs,
      inputFile: r.inputFile,
      trigger: r.trigger,
      defaults: this.#o.defaults,
      id: r.id,
      now: this.#o.now?.(),
    });
    return await this.#o.engine.createRun(run);
  }

  /** Whether run `id` exists and has not reached a final state. */
  async isActive(id: string): Promise<boolean> {
    const run = await this.#o.store.getRun(id);
    return !!run && !FINAL_STATES.includes(run.state);
  }
}
