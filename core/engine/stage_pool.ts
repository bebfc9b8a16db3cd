/**
 * Opens and caches one `StageInstance` (a pool of warm plugin instances) per run and stage,
 * resolving the stage's templates and secrets at run time and computing its effective
 * permissions. A run whose input text is kept in its record gets it handed to an executor that
 * takes it (the sandbox), or written to its input file here when the source opens; so does a
 * small UTF-8 input file the server stored (an upload, a webhook body), read here.
 * @module
 */
import { resolveTemplates, secretNamesUsed, TemplateError } from "../pipeline/template.ts";
import { effectivePermissions } from "../plugins/permissions.ts";
import { pluginChangedSince } from "../plugins/run_pin.ts";
import { secretGrantProblem, type SecretGrants } from "../plugins/secret_grants.ts";
import { dirname, inDataDir } from "../paths.ts";
import type { RunRecord } from "../store/store.ts";
import { pluginDataDir } from "./run_artifacts.ts";
import type { NetworkSettings } from "../../sdk/types.ts";
import { PluginError, type StageExecutor, type StageInstance } from "./executor.ts";

/**
 * Writes a run's input file from its record: to a temp file renamed into place, so a reader
 * never sees a partial file. No flush: the run record is the durable copy.
 */
async function writeInput(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Largest input file of an upload or a webhook body (stored by the server, not kept in the run
 * record) that a source still gets as text: a sandbox that takes input text serves it from a warm
 * process's inbox, where a process granted the file itself would start for this run alone.
 */
export const SMALL_INPUT_BYTES = 64 * 1024;

/** Runs whose input file the server stored: uploads by the API or the UI, webhook bodies. */
const STORED_INPUT: ReadonlySet<string> = new Set(["api", "ui", "webhook"]);

/**
 * The text of a stored input file of at most {@link SMALL_INPUT_BYTES} that is UTF-8 (a byte order
 * mark kept: written again, the text gives the same bytes); undefined for anything else (a larger
 * file, another encoding, not a regular file, one that cannot be read), which the source then
 * reads itself.
 */
async function smallInputText(path: string): Promise<string | undefined> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size > SMALL_INPUT_BYTES) return undefined;
    const bytes = await Deno.readFile(path);
    if (bytes.length > SMALL_INPUT_BYTES) return undefined;
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Options of {@link StagePool}. */
export interface StagePoolOptions {
  executor: StageExecutor;
  dataDir: string;
  secrets?: (name: string) => string | undefined;
  /** Secrets plugins get beyond their manifest's `secrets` (`secrets.grants`); default none. */
  secretGrants?: SecretGrants;
  secretValues?: Set<string>;
  signal: AbortSignal;
  network?: NetworkSettings;
}

/** Plugin instances per run and stage. */
export class StagePool {
  #o: StagePoolOptions;
  #open = new Map<string, Promise<StageInstance>>();
  /** Input files written from run records (`RunRecord.inputText`), by run id. */
  #written = new Map<string, string>();
  /** Data folders known to exist. */
  #dirs = new Set<string>();
  /** Runs whose stages were warmed (see {@link warm}). */
  #warmed = new Set<string>();

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
    // A resumed run finishes with the plugins it started with, or stops saying what changed.
    const changed = await pluginChangedSince(plugin, run.id);
    if (changed) {
      throw new PluginError(`stage ${st.id}: ${changed}`, { config: true, hint: "" });
    }
    const secrets: Record<string, string> = {};
    for (const name of secretNamesUsed(st.with)) {
      const refused = secretGrantProblem(plugin.manifest, name, this.#o.secretGrants);
      if (refused) throw new PluginError(`stage ${st.id}: ${refused}`, { retryable: false });
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
    const dataDir = pluginDataDir(this.#o.dataDir, plugin.manifest.name);
    if (!this.#dirs.has(dataDir)) {
      await Deno.mkdir(dataDir, { recursive: true });
      this.#dirs.add(dataDir);
    }
    const inputFile = index === 0 && run.inputFile
      ? inDataDir(this.#o.dataDir, run.inputFile)
      : undefined;
    const inputName = inputFile ? run.inputName : undefined;
    const takesText = this.#o.executor.takesInputText === true;
    let inputText = index === 0 ? run.inputText : undefined;
    if (
      inputFile && inputText === undefined && takesText && STORED_INPUT.has(run.trigger.kind)
    ) {
      inputText = await smallInputText(inputFile);
    }
    const inline = inputText !== undefined && takesText;
    if (inputFile && inputText !== undefined && !inline) {
      await writeInput(inputFile, inputText);
      this.#written.set(run.id, inputFile);
    }
    return await this.#o.executor.open({
      runId: run.id,
      pipeline: run.pipeline,
      startedAt: run.startedAt,
      stageId: st.id,
      stageIndex: index,
      plugin,
      config,
      secrets,
      permissions,
      concurrency: st.concurrency,
      timeoutMs: st.timeoutMs,
      memoryMb: st.memoryMb,
      nice: st.nice,
      inputFile,
      inputName,
      inputText: inline ? inputText : undefined,
      dataDir,
      inputs: run.inputs,
      network: this.#o.network,
    });
  }

  /**
   * Once per run, with an executor that {@link StageExecutor.warms}: opens every stage of `run`
   * after its source and has each take a plugin process now, so that the processes a cold run
   * needs start side by side while the source reads, not one after another as its first chunk
   * reaches each stage. Failures are left to the stages' calls, which report them.
   */
  warm(run: RunRecord): void {
    if (!this.#o.executor.warms || this.#warmed.has(run.id)) return;
    this.#warmed.add(run.id);
    for (let i = 1; i < run.stages.length; i++) {
      this.instance(run, i).then((inst) => inst.warm?.()).catch(() => {});
    }
  }

  /** Whether run `runId` has a stage instance open (or opening) here. */
  holds(runId: string): boolean {
    for (const key of this.#open.keys()) if (key.startsWith(runId + "/")) return true;
    return false;
  }

  /** Ids of the runs with a stage instance open (or opening) here. */
  runIds(): Set<string> {
    const ids = new Set<string>();
    for (const key of this.#open.keys()) ids.add(key.slice(0, key.lastIndexOf("/")));
    return ids;
  }

  /**
   * Closes every instance of a run, and removes an input file written from the run record
   * (the record keeps the text: a resumed run writes it again).
   */
  async closeRun(runId: string): Promise<void> {
    this.#warmed.delete(runId);
    const written = this.#written.get(runId);
    if (written) {
      this.#written.delete(runId);
      await Deno.remove(written).catch(() => {});
    }
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
    this.#warmed.clear();
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map((p) => p.then((i) => i.close(), () => {})));
  }
}
