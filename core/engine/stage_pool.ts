/**
 * Opens and caches one `StageInstance` (a pool of warm plugin instances) per run and stage,
 * resolving the stage's templates and secrets at run time and computing its effective
 * permissions.
 * @module
 */
import { resolveTemplates, secretNamesUsed, TemplateError } from "../pipeline/template.ts";
import { effectivePermissions } from "../plugins/permissions.ts";
import { join } from "../paths.ts";
import type { RunRecord } from "../store/store.ts";
import type { NetworkSettings } from "../../sdk/types.ts";
import { PluginError, type StageExecutor, type StageInstance } from "./executor.ts";

/** Options of {@link StagePool}. */
export interface StagePoolOptions {
  executor: StageExecutor;
  dataDir: string;
  secrets?: (name: string) => string | undefined;
  secretValues?: Set<string>;
  signal: AbortSignal;
  network?: NetworkSettings;
}

/** Plugin instances per run and stage. */
export class StagePool {
  #o: StagePoolOptions;
  #open = new Map<string, Promise<StageInstance>>();

  constructor(opts: StagePoolOptions) {
    this.#o = opts;
  }

  /** The instance of `stage` for `run`, opened on first use. */
  instance(run: RunRecord, stage: number): Promise<StageInstance> {
    const key = `${run.id}/${stage}`;
    let p = this.#open.get(key);
    if (!p) {
      p = this.#start(run, stage);
      this.#open.set(key, p);
      p.catch(() => this.#open.delete(key));
    }
    return p;
  }

  async #start(run: RunRecord, index: number): Promise<StageInstance> {
    const st = run.stages[index];
    const plugin = st.resolved;
    const secrets: Record<string, string> = {};
    for (const name of secretNamesUsed(st.with)) {
      const value = this.#o.secrets?.(name);
      if (value === undefined) {
        throw new PluginError(
          `stage ${st.id}: secret ${name} is not set; set the environment variable ` +
            `SLUICE_SECRET_${name} or add it to the secrets file`,
          { retryable: false },
        );
      }
      secrets[name] = value;
      this.#o.secretValues?.add(value);
    }
    let config: Record<string, unknown>;
    try {
      config = resolveTemplates(st.with, {
        inputs: run.inputs,
        secrets: (n) => secrets[n],
        run: {
          id: run.id,
          pipeline: run.pipeline,
          trigger: run.trigger.kind,
          startedAt: run.startedAt,
        },
      });
    } catch (e) {
      if (e instanceof TemplateError) {
        throw new PluginError(`stage ${st.id}: ${e.message}`, { retryable: false });
      }
      throw e;
    }
    const permissions = effectivePermissions(
      plugin.approved ?? plugin.manifest.permissions,
      st.permissions,
    );
    const dataDir = join(this.#o.dataDir, "plugin-data", plugin.manifest.name.replace("/", "__"));
    await Deno.mkdir(dataDir, { recursive: true });
    return await this.#o.executor.open({
      runId: run.id,
      stageId: st.id,
      stageIndex: index,
      plugin,
      config,
      secrets,
      permissions,
      concurrency: st.concurrency,
      timeoutMs: st.timeoutMs,
      memoryMb: st.memoryMb,
      inputFile: index === 0 ? run.inputFile : undefined,
      dataDir,
      inputs: run.inputs,
      network: this.#o.network,
    });
  }

  /** Closes every instance of a run. */
  async closeRun(runId: string): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, p] of this.#open) {
      if (key.startsWith(runId + "/")) {
        this.#open.delete(key);
        closing.push(p.then((i) => i.close(), () => {}));
      }
    }
    await Promise.all(closing);
  }

  /** Closes everything. */
  async closeAll(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map((p) => p.then((i) => i.close(), () => {})));
  }
}
