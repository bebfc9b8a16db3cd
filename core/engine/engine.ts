/**
 * The run engine: creates runs, consumes queue messages (one per run, stage and chunk), runs each
 * chunk through its stage's plugin, commits output atomically, retries with backoff, parks
 * exhausted chunks in the dead-letter list, and settles runs. Every step is idempotent under
 * at-least-once delivery; the store is the source of truth, so `recover()` rebuilds any lost
 * messages after a crash.
 * @module
 */
import type { SecretGrants } from "../plugins/secret_grants.ts";
import type { Item, Json, NetworkSettings } from "../../sdk/types.ts";
import { maskSecrets } from "../../sdk/runtime/secret_mask.ts";
import { isRunTally, RUN_TALLY_KEY, type RunTally } from "../../sdk/run_tally.ts";
import {
  type CompiledExpression,
  compileExpression,
  ExpressionError,
} from "../pipeline/expression.ts";
import { type ChunkMessage, type EngineMessage, messageId } from "../queue/queue.ts";
import {
  type Backend,
  type ClaimResult,
  FINAL_STATES,
  isFinishing,
  type KeyedLimiter,
  type RawChunk,
  RUN_LOG_CAPPED,
  RUN_LOG_MAX_MSG,
  type RunArtifact,
  type RunGuard,
  type RunLogEntry,
  type RunRecord,
  type SourceProgress,
  type StageSnapshot,
  type TriggerInfo,
} from "../store/store.ts";
import { decodeRaw } from "../store/chunk_codec.ts";
import { describeProcess } from "../store/store.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";
import { type ChunkRef, type EngineHooks, noopEngineHooks } from "../telemetry/engine_telemetry.ts";
import { backoffDelay } from "./backoff.ts";
import { PluginError, type StageExecutor, type StageInstance } from "./executor.ts";
import { finishOrder } from "./finish_order.ts";
import { RunLogCap } from "./run_log_cap.ts";
import { RunLocals, type StageFns } from "./run_locals.ts";
import { cacheSet } from "./fresh_cache.ts";
import { RateLimiter, type Timer } from "./rate_limiter.ts";
import { Semaphore } from "./semaphore.ts";
import {
  callStage,
  callStageJson,
  checkItems,
  hostWorksOnItems,
  type StageOutcome,
  takesStoredJson,
} from "./stage_call.ts";
import { StagePool } from "./stage_pool.ts";
import { stageArtifacts } from "./run_artifacts.ts";
import { removeSnapshot, takeSnapshot } from "./source_snapshot.ts";
import { rawItemBytesOf, rawItemsOf } from "../../sdk/raw_items.ts";
import { inputKind, sourceFailureAdvice } from "./input_advice.ts";
import { dirname, inDataDir } from "../paths.ts";
import { syncFolder } from "../../sdk/io/durable_files.ts";
import { ParsedHandoff, type ParsedHandoffOptions } from "./parsed_handoff.ts";

/**
 * The longest wait a plugin's error may ask for before the chunk's next attempt (an API's
 * Retry-After): 15 minutes; a longer ask waits this long.
 */
export const MAX_RETRY_AFTER_MS = 15 * 60_000;

/**
 * A stage's compiled `when:`. One that no longer compiles (a run recorded before validation
 * refused calls that can never work, e.g. `contains(a, b)`) fails for every item, as it did
 * when evaluated: the items skip the stage and the run's log says why, once per stage.
 */
function whenOf(src: string): Pick<CompiledExpression, "evaluateBool"> {
  try {
    return compileExpression(src);
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    const error = new ExpressionError(`expression "${src}" failed: ${e.message}`, {
      expression: src,
      col: e.col,
      cause: e,
    });
    return {
      evaluateBool: () => {
        throw error;
      },
    };
  }
}

/**
 * Ends the error of a run failed by a stage's configuration error (the plugin threw the SDK's
 * `ConfigError`): what to do instead of `sluice runs retry`, which cannot help.
 */
export const CONFIG_ERROR_HINT =
  "Fix the stage's with: in the pipeline file (check it with sluice validate), then start a new " +
  "run: a run keeps the pipeline version it started with, so sluice runs retry cannot help";

/**
 * The run's error for a configuration error `e` (text `error`): the plugin's own hint, none when
 * it gave `""`, else {@linkcode CONFIG_ERROR_HINT}.
 */
function withConfigHint(e: PluginError, error: string): string {
  return e.hint === "" ? error : `${error}. ${e.hint ?? CONFIG_ERROR_HINT}`;
}

/** How long a cached run record is trusted (cancels from other processes take this long). */
const RUN_CACHE_MS = 250;

/** How long who runs a run (run claims) is trusted before it is read again. */
const OWNER_CACHE_MS = 1000;

/** Default of {@link EngineOptions.localsSweepMs}. */
const LOCALS_SWEEP_MS = 60_000;

/**
 * The delay with which a message of a run another live process holds goes back to the queue
 * (Deno KV delivers to any process listening on the file): its holder gets it meanwhile.
 */
export const HAND_BACK_MS = 300;

/**
 * The delay with which an engine that does not adopt runs (a short CLI command) hands back a
 * message of a run whose process is gone: a long-lived process listening takes it over.
 */
export const HAND_BACK_ORPHAN_MS = 1000;

/** Options of {@link Engine}. */
export interface EngineOptions {
  backend: Backend;
  executor: StageExecutor;
  /** Folder under which each plugin gets its data folder. */
  dataDir: string;
  /** Resolves `${{ secrets.NAME }}` at run time. */
  secrets?: (name: string) => string | undefined;
  /** Secrets plugins get beyond their manifest's `secrets` (`secrets.grants`). */
  secretGrants?: SecretGrants;
  /** Every secret value resolved so far is added here (the logger masks them). */
  secretValues?: Set<string>;
  /** Chunks processed at once in this process, all runs together (default 8). */
  concurrency?: number;
  /** Chunks the source may read ahead of the last stage (default: 32, or twice the widest stage). */
  maxSourceAhead?: number;
  /**
   * How often a source held back by `maxSourceAhead` re-reads the run's progress, ms (default
   * 100). Chunks this process finishes wake it at once; the re-read notices other processes'.
   */
  sourceAheadPollMs?: number;
  /**
   * How often, ms, this process checks the store for runs it keeps state for (semaphores,
   * compiled expressions) that have not used it for as long: those that ended are dropped (a run
   * another process finished or cancelled; one a late message took up again after its end).
   * Default 60,000.
   */
  localsSweepMs?: number;
  /**
   * Limits of the parsed chunk outputs kept for a next stage that parses its input (see
   * `parsed_handoff.ts`); default: one second, 16 chunks.
   */
  handoff?: ParsedHandoffOptions;
  log?: Logger;
  /** Network settings handed to every plugin. */
  network?: NetworkSettings;
  /** Epoch milliseconds (injectable). */
  now?: () => number;
  /** Clock and sleep of rate limiters (injectable for tests). */
  timer?: Timer;
  /** Spans, metrics and `onFailure` alerts (`core/telemetry/engine_telemetry.ts`). */
  telemetry?: EngineHooks;
  /**
   * Whether this engine takes up runs that are not its own (default true: `sluice serve`,
   * `sluice worker`, tests): its start re-enqueues the unfinished work of every running run,
   * {@link Engine.adoptOrphans} takes over runs of gone processes, and (with run claims) a queue
   * message of a run whose process is gone takes that run over. False for short CLI commands
   * (`sluice run`, `sluice runs resume|retry`): they work only the run they create or name
   * ({@link Engine.createRun}, {@link Engine.recover} with its id, {@link Engine.retryRun}), and
   * hand other runs' messages back to the queue.
   */
  adopt?: boolean;
}

/** Thrown for engine misuse a person must fix (unknown run, wrong state). */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}

/**
 * The durable run engine. At run end it calls the stages' `finish` hooks in reverse stage order
 * (last stage first, source last; see the README's plugin-author section), then those of the
 * stages whose plugin declares `finishLast` (a stage that records what was delivered): these
 * commit only after every other stage's finish succeeded.
 */
export class Engine {
  #o: EngineOptions;
  #log: Logger;
  #now: () => number;
  #global: Semaphore;
  /** Per run: the stages' semaphores, compiled expressions, warnings given (dropped at its end). */
  #locals = new RunLocals();
  /** When {@link #sweepLocals} last looked for the state of runs that ended elsewhere. */
  #sweptAt = performance.now();
  #limiters = new Map<string, KeyedLimiter>();
  #inFlight = new Set<string>();
  #pool: StagePool;
  #stop = new AbortController();
  #listening?: Promise<void>;
  #waiters = new Map<string, Set<() => void>>();
  #runCache = new Map<string, { run: RunRecord; at: number }>();
  /** Per run: undefined when this engine may run its messages, else the hand-back delay. */
  #owners = new Map<string, { delay: Promise<number | undefined>; at: number }>();
  /** Chunks done or dead-lettered past each run's source, as last read (`#sourceTooFarAhead`). */
  #lastDoneSeen = new Map<string, number>();
  /** Chunk outputs just committed, parsed, for a next stage that parses its input. */
  #handoff: ParsedHandoff;
  /** Sources held back by `#sourceTooFarAhead`, by run: woken when a chunk leaves the run. */
  #sourceWaiters = new Map<string, Set<() => void>>();
  #logBuffer = new Map<string, RunLogEntry[]>();
  /** Message handlers in flight in this process. */
  #running = new Set<Promise<void>>();
  /** Lines this process logged per run, capped (a store shared by processes caps the run). */
  #logCap = new RunLogCap();
  #logTimer?: ReturnType<typeof setTimeout>;
  /** The log write under way (flushes run one after another). */
  #logFlush: Promise<void> = Promise.resolve();
  #tel: EngineHooks; // telemetry

  constructor(opts: EngineOptions) {
    this.#o = opts;
    this.#tel = opts.telemetry ?? noopEngineHooks; // telemetry
    this.#log = opts.log ?? silentLogger;
    this.#now = opts.now ?? Date.now;
    this.#handoff = new ParsedHandoff(opts.handoff);
    this.#global = new Semaphore(opts.concurrency ?? 8);
    this.#pool = new StagePool({
      executor: opts.executor,
      dataDir: opts.dataDir,
      secrets: opts.secrets,
      secretGrants: opts.secretGrants,
      secretValues: opts.secretValues,
      signal: this.#stop.signal,
      network: opts.network,
    });
  }

  get #store() {
    return this.#o.backend.store;
  }
  get #queue() {
    return this.#o.backend.queue;
  }

  /**
   * Takes over the running runs whose process is gone (run claims: the embedded store), as the
   * start's recovery pass does; a server calls it now and then, so a `sluice run` killed beside it
   * does not leave its run orphaned. Returns how many chunks it re-enqueued (none when this
   * engine does not {@link adopts adopt} runs).
   */
  adoptOrphans(): Promise<number> {
    if (!this.#o.backend.runClaims || this.#stop.signal.aborted || !this.adopts) {
      return Promise.resolve(0);
    }
    return this.recover(undefined, { orphansOnly: true });
  }

  /**
   * How many runs this engine holds state for in memory (stage semaphores, compiled expressions,
   * callers of {@link waitForRun}, open plugin instances): the runs it runs or waits on now. A
   * run's is dropped when it ends, so the number does not grow with the runs a server has run.
   */
  get runsHeld(): number {
    return new Set([...this.#locals.runIds(), ...this.#waiters.keys(), ...this.#pool.runIds()])
      .size;
  }

  /** Whether this engine takes up runs that are not its own ({@link EngineOptions.adopt}). */
  get adopts(): boolean {
    return this.#o.adopt ?? true;
  }

  /**
   * Starts consuming the queue; an engine that {@link adopts} also re-enqueues the unfinished work
   * of running runs (those another live process holds excepted).
   */
  async start(): Promise<void> {
    this.#listening ??= this.#queue.listen((m) => this.#handle(m), this.#stop.signal);
    if (this.adopts) await this.recover();
  }

  /** Stops consuming, aborts calls in flight and closes plugin instances. */
  async close(): Promise<void> {
    this.#stop.abort();
    // Let handlers in flight see the abort and settle (bounded), so nothing touches the store or
    // the data folder after close; what they did not commit is redone by the next process.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise((r) => timer = setTimeout(r, 5_000)),
    ]);
    clearTimeout(timer);
    await this.#pool.closeAll();
    await this.#flushLogs();
    await this.#tel.close(); // telemetry: alerts still being sent
  }

  /**
   * Records a run durably and enqueues its first chunk; with `guard` (see `Store.createRun`)
   * only when the guard's check holds. A run that reads its source's file (`sourceFile`) gets its
   * snapshot of it first (`source_snapshot.ts`), deleted again when the run is not recorded.
   */
  async createRun(run: RunRecord, guard?: RunGuard): Promise<RunRecord> {
    // This process runs it, claimed before the run exists: another process starting on the same
    // data folder (its recovery pass) never sees it unclaimed.
    const claim = await this.#o.backend.runClaims?.claim(run.id);
    if (claim && "held" in claim) {
      throw new EngineError(
        `run ${run.id} is being run by another Sluice process (${describeProcess(claim.held)})`,
      );
    }
    const snapshot = await this.#snapshotSource(run);
    try {
      await this.#store.createRun(run, [{
        kind: "chunk",
        runId: run.id,
        stage: 0,
        chunk: 0,
        attempt: 1,
      }], guard);
    } catch (e) {
      if (snapshot) await removeSnapshot(snapshot);
      throw e;
    }
    this.#tel.runCreated(run); // telemetry
    this.#log.info("run created", {
      run: run.id,
      pipeline: run.pipeline,
      trigger: run.trigger.kind,
    });
    // A started engine begins the run here at once; the queued message stays the durable copy
    // (its delivery after this is a no-op duplicate).
    if (this.#listening && !this.#queue.claimLocal) {
      // Only where delivery is slow (Deno KV); a shared queue wakes its workers itself.
      this.#continue({ kind: "chunk", runId: run.id, stage: 0, chunk: 0, attempt: 1 });
    }
    return run;
  }

  /**
   * Takes the run's snapshot of its source file (`RunRecord.sourceFile`) at its `inputFile`;
   * returns that path, or undefined for a run without one. With no file there, the run reads the
   * path itself, as runs did before snapshots: it fails as a run without its file does (a cron
   * run's `onFailure` alert says so), and its retry reads the file put there meanwhile.
   */
  async #snapshotSource(run: RunRecord): Promise<string | undefined> {
    if (!run.sourceFile || !run.inputFile) return undefined;
    const snapshot = inDataDir(this.#o.dataDir, run.inputFile);
    try {
      const earlier = await this.#earlierSnapshots(run);
      const kind = await takeSnapshot(inDataDir(this.#o.dataDir, run.sourceFile), snapshot, {
        earlier,
      });
      if (kind === "shared") {
        this.#log.debug("source file unchanged: the run shares an earlier run's snapshot", {
          run: run.id,
          file: run.sourceFile,
        });
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        run.inputFile = run.sourceFile;
        delete run.sourceFile;
        delete run.inputName;
        return undefined;
      }
      if (e instanceof Deno.errors.AlreadyExists) {
        throw new EngineError(
          `run ${run.id}: its input file ${snapshot} is there already (the run exists, or ` +
            "its creation was interrupted): give another run id, or delete that file",
        );
      }
      throw e;
    }
    return snapshot;
  }

  /**
   * The snapshots of the same source file taken by the pipeline's latest runs, newest first (see
   * `takeSnapshot`'s `earlier`): the file unchanged since, a new run shares one.
   */
  async #earlierSnapshots(run: RunRecord): Promise<string[]> {
    const { runs } = await this.#store.listRuns({ pipeline: run.pipeline, limit: 3 });
    return runs
      .filter((r) =>
        r.id !== run.id && r.sourceFile === run.sourceFile && r.inputFile !== undefined &&
        r.inputFile !== r.sourceFile
      )
      .map((r) => inDataDir(this.#o.dataDir, r.inputFile!));
  }

  /**
   * Cancels a run that has not finished. Refused (an {@link EngineError}) once the run writes its
   * exports (its stages' `finish` began): a cancel then would leave some export files with this
   * run's rows and others with the previous run's.
   */
  async cancelRun(id: string, reason = "cancelled by request"): Promise<void> {
    const ok = await this.#store.transitionRun(id, ["queued", "running", "failed"], "cancelled", {
      finishedAt: this.#now(),
      error: reason,
    }, { unlessFinishing: true });
    if (!ok) {
      const run = await this.#store.getRun(id);
      if (!run) throw new EngineError(`no run ${id}; list runs with: sluice runs list`);
      if (isFinishing(run, { unlessFinishing: true })) {
        // The embedded store knows whether a process still writes them; with none left, waiting
        // would never end: resuming finishes them (a cancel now would leave some files replaced).
        if (await this.#o.backend.runClaims?.owner(id) === "free") {
          throw new EngineError(
            `run ${id} was writing its exports (finish) when its process stopped: finish it with ` +
              `sluice runs resume ${id} (a cancel now would leave some export files replaced ` +
              `and others not)`,
          );
        }
        throw new EngineError(
          `run ${id} is writing its exports (finish); it cannot be cancelled now: wait for it ` +
            `to end (sluice runs show ${id})`,
        );
      }
      throw new EngineError(`run ${id} is ${run.state} and cannot be cancelled`);
    }
    await this.#pool.closeRun(id);
    this.#logCap.forget(id);
    this.#forgetRun(id);
    this.#notify(id);
    await this.#settled(id); // telemetry
  }

  /**
   * Replays a run's dead letters and resumes it (a failed run becomes running again).
   * Returns how many chunks were replayed.
   */
  async retryRun(id: string): Promise<number> {
    const run = await this.#store.getRun(id);
    if (!run) throw new EngineError(`no run ${id}; list runs with: sluice runs list`);
    if (run.state === "succeeded" || run.state === "cancelled") {
      throw new EngineError(
        `run ${id} is ${run.state}; only failed or running runs can be retried`,
      );
    }
    await this.#refuseFutileRetry(run);
    // This process runs the replayed chunks (with run claims: before they are queued, so
    // another process on the data folder hands them back instead of running them).
    await this.#take(id);
    const dead = await this.#store.listDeadLetters(id);
    if (
      run.sourceFile && dead.some((d) => d.stage === 0 && d.chunk === 0) &&
      (await this.#store.sourceProgress(id)).nextChunk === 0
    ) {
      await this.#renewSnapshot(run);
    }
    await this.#store.transitionRun(id, ["failed"], "running", {
      error: undefined,
      finishedAt: undefined,
      finishingAt: undefined,
    });
    this.#runCache.delete(id);
    for (const d of dead) {
      if (await this.#store.removeDeadLetter(id, d.stage, d.chunk)) {
        await this.#queue.enqueue({
          kind: "chunk",
          runId: id,
          stage: d.stage,
          chunk: d.chunk,
          attempt: 1,
        });
      }
    }
    await this.recover(id);
    this.#log.info("run retried", { run: id, replayed: dead.length });
    return dead.length;
  }

  /**
   * Refuses the retry of a run whose source refused its input for good (the SDK's `InputError`:
   * its dead letter has fewer attempts than the stage allows) when that input is an upload or a
   * webhook body: kept with the run as it came, it would fail the same way again. The error says
   * how to start a new run with a corrected file instead.
   */
  async #refuseFutileRetry(run: RunRecord): Promise<void> {
    const kind = inputKind(run, this.#o.dataDir);
    if (kind !== "upload" && kind !== "webhook") return;
    const src = (await this.#store.listDeadLetters(run.id)).find((d) => d.stage === 0);
    if (!src || src.attempts >= run.stages[0].retry.attempts) return;
    const advice = sourceFailureAdvice(run, this.#o.dataDir, { final: true, readNothing: false });
    throw new EngineError(
      `run ${run.id} cannot be retried: its source refused its ` +
        `${kind === "upload" ? "uploaded file" : "webhook body"} (${src.error}), which a retry ` +
        `would read again as it came; ${advice}`,
    );
  }

  /**
   * Replaces the snapshot of a run that read none of it (its source failed on its first chunk:
   * a file without a header, without a website column) with a new one of its source's file, so
   * a retry after the user fixed the file reads the fixed file, as `runs retry` promises; no
   * chunk of the old snapshot was read, so the run reads one file throughout. Without the file
   * there, the old snapshot stays.
   */
  async #renewSnapshot(run: RunRecord): Promise<void> {
    if (!run.sourceFile || !run.inputFile) return;
    const snapshot = inDataDir(this.#o.dataDir, run.inputFile);
    const fresh = `${snapshot}.retry`;
    await Deno.remove(fresh).catch(() => {}); // left by an interrupted retry
    try {
      await takeSnapshot(inDataDir(this.#o.dataDir, run.sourceFile), fresh);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      throw e;
    }
    await Deno.rename(fresh, snapshot);
    await syncFolder(dirname(snapshot));
    this.#log.info("retry: a new snapshot of the run's source file", {
      run: run.id,
      file: run.sourceFile,
    });
  }

  /** Resolves when the run reaches a final state. */
  async waitForRun(id: string, signal?: AbortSignal): Promise<RunRecord> {
    for (;;) {
      const run = await this.#store.getRun(id);
      if (!run) throw new EngineError(`no run ${id}`);
      if (FINAL_STATES.includes(run.state)) return run;
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const set = this.#waiters.get(id) ?? new Set();
        this.#waiters.set(id, set);
        const done = () => {
          clearTimeout(t);
          set.delete(done);
          if (set.size === 0 && this.#waiters.get(id) === set) this.#waiters.delete(id);
          resolve();
        };
        const t = setTimeout(done, 1000);
        set.add(done);
      });
    }
  }

  #notify(id: string) {
    this.#runCache.delete(id);
    for (const f of this.#waiters.get(id) ?? []) f();
  }

  /**
   * Re-enqueues every ready, unfinished chunk of running runs (or of one run). Safe to call at
   * any time: duplicates are dropped by the idempotent commit. With run claims (the embedded
   * store), runs a live other process holds are left alone; for one run, that is an error.
   */
  async recover(runId?: string, options: { orphansOnly?: boolean } = {}): Promise<number> {
    const runs: RunRecord[] = [];
    if (runId) {
      const r = await this.#store.getRun(runId);
      if (r && (r.state === "running" || r.state === "queued")) runs.push(r);
    } else {
      for (const state of ["running", "queued"] as const) {
        let cursor: string | undefined;
        do {
          const page = await this.#store.listRuns({ state, limit: 500, cursor });
          runs.push(...page.runs);
          cursor = page.cursor;
        } while (cursor);
      }
    }
    let n = 0;
    for (const run of runs) {
      // A run another live process is running stays its own (its messages are handed back to
      // it, see #handBackDelay): taking it over would run its chunks twice.
      const claim = runId
        ? await this.#take(runId)
        : await this.#o.backend.runClaims?.claim(run.id);
      this.#owners.delete(run.id);
      if (claim && "held" in claim) {
        if (!options.orphansOnly) {
          this.#log.info("run left alone: another process runs it", {
            run: run.id,
            process: describeProcess(claim.held),
          });
        }
        continue;
      }
      // Looking for orphans: this process's own runs are in hand already.
      if (options.orphansOnly && claim && !claim.taken) continue;
      if (options.orphansOnly) {
        this.#log.info("run taken over: the process that ran it is gone", { run: run.id });
      }
      n += await this.#recoverRun(run);
    }
    return n;
  }

  /** Claims run `id` for this process (run claims); throws when a live other process holds it. */
  async #take(id: string): Promise<ClaimResult | undefined> {
    const claim = await this.#o.backend.runClaims?.claim(id);
    this.#owners.delete(id);
    if (claim && "held" in claim) {
      throw new EngineError(
        `run ${id} is being run by another Sluice process (${
          describeProcess(claim.held)
        }); wait for it to finish, or stop that process first (its unfinished runs resume ` +
          "where it left off)",
      );
    }
    return claim;
  }

  async #recoverRun(run: RunRecord): Promise<number> {
    const s = this.#store;
    const msgs: ChunkMessage[] = [];
    const progress = await s.sourceProgress(run.id);
    if (!progress.done) {
      msgs.push({ kind: "chunk", runId: run.id, stage: 0, chunk: progress.nextChunk, attempt: 1 });
    }
    let prev = new Set(await s.doneChunks(run.id, 0));
    for (let stage = 1; stage < run.stages.length; stage++) {
      const done = await s.doneChunks(run.id, stage);
      const doneSet = new Set(done);
      for (const c of prev) {
        if (!doneSet.has(c)) {
          msgs.push({ kind: "chunk", runId: run.id, stage, chunk: c, attempt: 1 });
        }
      }
      prev = doneSet;
    }
    let n = 0;
    for (const m of msgs) {
      const a = await s.getAttempts(run.id, m.stage, m.chunk);
      if (a?.dead) continue;
      const delayMs = a ? Math.max(0, a.nextAt - this.#now()) : 0;
      await this.#queue.enqueue({ ...m, attempt: (a?.attempts ?? 0) + 1 }, { delayMs });
      n++;
    }
    await this.#checkSettled(run);
    if (n) this.#log.info("run recovered", { run: run.id, requeued: n });
    return n;
  }

  #handle(m: EngineMessage): Promise<void> {
    const p = this.#handleOne(m);
    this.#running.add(p);
    return p.finally(() => this.#running.delete(p));
  }

  async #handleOne(m: EngineMessage): Promise<void> {
    const id = messageId(m);
    if (this.#inFlight.has(id)) return;
    this.#inFlight.add(id);
    try {
      const handBack = await this.#handBackDelay(m.runId);
      if (handBack !== undefined) {
        // Not this process's run: its holder (or a process that adopts it) gets it meanwhile.
        await this.#queue.enqueue(m, { delayMs: handBack });
        return;
      }
      if (m.kind === "finalize") await this.#finalize(m.runId, m.attempt);
      else await this.#chunk(m);
    } catch (e) {
      // Store failures and bugs: log; `recover()` re-enqueues whatever did not commit.
      this.#log.error("message failed", { message: id, error: this.#errText(e) });
    } finally {
      this.#inFlight.delete(id);
    }
  }

  /**
   * Undefined when this engine may run the messages of `runId`, else the delay with which to hand
   * them back to the queue: with run claims (the embedded store, whose queue delivers to every
   * process listening on the file), a run another live process holds is that one's; a run whose
   * process is gone is taken over here only by an engine that {@link adopts}. Cached per run for
   * {@link OWNER_CACHE_MS} (one read per run and second on the hot path).
   */
  #handBackDelay(runId: string): Promise<number | undefined> {
    const claims = this.#o.backend.runClaims;
    if (!claims) return Promise.resolve(undefined);
    const now = performance.now();
    const hit = this.#owners.get(runId);
    if (hit && now - hit.at < OWNER_CACHE_MS) return hit.delay;
    const delay = (async () => {
      const owner = await claims.owner(runId);
      if (owner === "mine") return undefined;
      if (owner !== "free") {
        this.#log.debug("message handed back: another process runs the run", {
          run: runId,
          process: describeProcess(owner.held),
        });
        return HAND_BACK_MS;
      }
      const run = await this.#getRun(runId);
      // A finished run's message is a no-op wherever it is handled.
      if (!run || FINAL_STATES.includes(run.state)) return undefined;
      if (!this.adopts) return HAND_BACK_ORPHAN_MS;
      const c = await claims.claim(runId);
      if ("held" in c) return HAND_BACK_MS;
      if (c.taken) {
        // As the adoption pass does: every unfinished chunk of the run is queued again (not
        // awaited here: its settling may handle a message of this run, which waits for this).
        this.#log.info("run taken over: the process that ran it is gone", { run: runId });
        const p = this.#recoverRun(run).then(
          () => {},
          (e) =>
            this.#log.error("taking over a run failed", { run: runId, error: this.#errText(e) }),
        );
        this.#running.add(p);
        p.finally(() => this.#running.delete(p));
      }
      return undefined;
    })();
    cacheSet(this.#owners, runId, { delay, at: now }, OWNER_CACHE_MS);
    // A failed read is not cached: the next message asks again.
    delay.catch(() => this.#owners.delete(runId));
    return delay;
  }

  /** The run, from a short-lived cache (a state change elsewhere is seen within the TTL). */
  async #getRun(id: string): Promise<RunRecord | undefined> {
    const hit = this.#runCache.get(id);
    const now = performance.now();
    if (hit && now - hit.at < RUN_CACHE_MS) return hit.run;
    const run = await this.#store.getRun(id);
    if (run) cacheSet(this.#runCache, id, { run, at: now }, RUN_CACHE_MS);
    return run;
  }

  async #activeRun(id: string): Promise<RunRecord | undefined> {
    const run = await this.#getRun(id);
    if (!run || FINAL_STATES.includes(run.state)) return undefined;
    if (run.state === "queued") {
      await this.#store.transitionRun(id, ["queued"], "running", { startedAt: this.#now() });
      this.#runCache.delete(id);
      return await this.#getRun(id);
    }
    return run;
  }

  async #chunk(m: ChunkMessage): Promise<void> {
    const run = await this.#activeRun(m.runId);
    if (!run) return await this.#dropEnded(m.runId);
    const stage = run.stages[m.stage];
    if (!stage) throw new Error(`run ${run.id} has no stage ${m.stage}`);
    const s = this.#store;
    // One read where the backend offers it (PostgreSQL: one round trip), else one per part.
    const pre = await s.chunkState?.(run.id, m.stage, m.chunk);
    let progress: SourceProgress | undefined;
    if (m.stage === 0) {
      progress = pre?.progress ?? await s.sourceProgress(run.id);
      if (progress.done || progress.nextChunk !== m.chunk) return;
      // Every copy of the message waits here (this process's continuation, the queue's
      // delivery; the second to come is dropped as a duplicate while the first waits).
      while (await this.#sourceTooFarAhead(run, m.chunk)) {
        if (this.#stop.signal.aborted) return;
        await this.#chunkLeft(run.id, this.#o.sourceAheadPollMs ?? 100);
        if (!(await this.#activeRun(run.id))) return; // cancelled or failed meanwhile
      }
    } else if (pre ? pre.done : await s.isChunkDone(run.id, m.stage, m.chunk)) return;
    const att = pre ? pre.attempts : await s.getAttempts(run.id, m.stage, m.chunk);
    if (att?.dead) return;
    if (att && att.nextAt > this.#now() + 20) {
      await this.#queue.enqueue(m, { delayMs: att.nextAt - this.#now() });
      return;
    }
    const slotted = this.#tel.waitingForSlot(this.#ref(run, m)); // telemetry
    const releaseStage = await this.#acquireStage(run, m.stage);
    // On a shared backend (PostgreSQL) the stage's concurrency holds across processes too.
    const releaseCluster = await this.#o.backend.limits?.acquire(
      `${run.id}/${m.stage}`,
      stage.concurrency,
      this.#stop.signal,
    ).catch((e) => {
      releaseStage();
      throw e;
    });
    const releaseGlobal = await this.#global.acquire();
    slotted(); // telemetry
    if (!(await this.#activeRun(run.id))) {
      // Cancelled or failed while this chunk waited for a slot.
      releaseGlobal();
      await releaseCluster?.().catch(() => {});
      releaseStage();
      return await this.#dropEnded(run.id);
    }
    const started = performance.now();
    let inputCount = 0;
    let committed: boolean | "last" = false;
    try {
      committed = await this.#tel.chunk(this.#ref(run, m), async () => { // telemetry: chunk span
        try {
          if (m.stage === 0) return await this.#readSource(run, stage, m, progress);
          const inst = await this.#pool.instance(run, m.stage);
          // Stored bytes go to a sandboxed plugin as they are when the host has no item-level
          // work to do; otherwise the items are parsed here.
          const stored = pre?.inputRaw;
          const raw = takesStoredJson(stage, inst)
            ? stored ?? await s.readChunkRaw?.(run.id, m.stage - 1, m.chunk)
            : undefined;
          const input = raw
            ? undefined
            : this.#handoff.take(run.id, m.stage - 1, m.chunk, stored?.count) ??
              (stored
                ? decodeRaw<Item[]>(stored)
                : await s.readChunk(run.id, m.stage - 1, m.chunk));
          if (!raw && !input) throw new Error(`input of ${stage.id} chunk ${m.chunk} is missing`);
          inputCount = raw?.count ?? input!.length;
          return await this.#runStage(run, stage, m, inst, raw ?? input!, started);
        } catch (e) {
          await this.#failed(run, stage, m, e, inputCount);
          return false;
        }
      });
    } finally {
      releaseGlobal();
      await releaseCluster?.().catch(() => {}); // an unreleased slot expires on its own
      releaseStage();
      // The run ended here while this chunk ran (its state went with the last permit): a plugin
      // instance opened for this chunk after the run's instances were closed goes too.
      if (!this.#locals.has(run.id) && this.#pool.holds(run.id)) {
        await this.#pool.closeRun(run.id);
      }
    }
    if (!committed) return;
    // The next stage's message was enqueued with the commit; continue here at once instead of
    // waiting for its delivery (a duplicate delivery is dropped by the idempotent commit).
    if (m.stage + 1 < run.stages.length) {
      this.#continue({
        kind: "chunk",
        runId: run.id,
        stage: m.stage + 1,
        chunk: m.chunk,
        attempt: 1,
      });
    }
    if (m.stage === 0 && committed !== "last") {
      // Waits in its handler while the source is too far ahead (see #chunk).
      this.#continue({ ...m, chunk: m.chunk + 1, attempt: 1 });
    }
  }

  /** Handles `m` now, in this process, without waiting for the queue. */
  #continue(m: ChunkMessage) {
    if (this.#stop.signal.aborted) return;
    // A shared queue may leave the message to another process (no reservation here).
    const claim = this.#queue.claimLocal ? this.#queue.claimLocal(m) : () => {};
    if (!claim) return;
    queueMicrotask(() => void this.#handle(m).finally(claim));
  }

  async #sourceTooFarAhead(run: RunRecord, chunk: number): Promise<boolean> {
    // Enough chunks ahead to keep the widest stage busy (I/O stages run many chunks at once).
    const limit = this.#o.maxSourceAhead ??
      Math.max(32, 2 * Math.max(...run.stages.map((s) => s.concurrency)));
    if (run.stages.length < 2 || chunk < limit) return false;
    // The count of chunks out of the pipeline only grows: while the one seen last keeps the
    // source within the limit, no read is needed.
    if (chunk - (this.#lastDoneSeen.get(run.id) ?? 0) <= limit) return false;
    const c = await this.#store.counters(run.id, run.stages.length);
    // A chunk is out when the last stage is done with it or it waits in the dead-letter list at
    // any stage (it goes no further until replayed).
    const out = c[c.length - 1].chunksDone + c.reduce((n, s) => n + s.chunksDead, 0);
    this.#lastDoneSeen.set(run.id, out);
    if (this.#lastDoneSeen.size > 1000) {
      this.#lastDoneSeen.delete(this.#lastDoneSeen.keys().next().value!);
    }
    return chunk - out > limit;
  }

  /**
   * Resolves when this process moves a chunk of the run out of the pipeline (last stage done, or
   * dead-lettered), after `ms` (other processes' progress is only seen by reading), or at close.
   */
  #chunkLeft(runId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#sourceWaiters.get(runId);
      if (!set) this.#sourceWaiters.set(runId, set = new Set());
      const waiters = set;
      const signal = this.#stop.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        waiters.delete(done);
        if (waiters.size === 0 && this.#sourceWaiters.get(runId) === waiters) {
          this.#sourceWaiters.delete(runId);
        }
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      waiters.add(done);
    });
  }

  /** Wakes the run's held-back source (see {@link #chunkLeft}). */
  #wakeSource(runId: string): void {
    const set = this.#sourceWaiters.get(runId);
    if (set) { for (const f of [...set]) f(); }
  }

  async #readSource(
    run: RunRecord,
    stage: StageSnapshot,
    m: ChunkMessage,
    progress?: SourceProgress,
  ): Promise<boolean | "last"> {
    // The progress read before the chunk started is enough: if another process read this chunk
    // meanwhile, the commit below finds it done and changes nothing.
    const p = progress ?? await this.#store.sourceProgress(run.id);
    const inst = await this.#pool.instance(run, 0);
    this.#pool.warm(run);
    const started = performance.now();
    const signal = this.#stop.signal;
    const res = await inst.read(p.cursor, stage.chunk, {
      chunk: m.chunk,
      signal,
      log: this.#pluginLog(run, stage, m.chunk),
    });
    const rejected = [...(res.rejected ?? [])];
    const items = checkItems(res.items ?? [], stage.id, rejected);
    // The source's own JSON of its items, when every one of them is kept (see StageOutcome).
    const itemsJson = items.length === (res.items ?? []).length ? rawItemsOf(res) : undefined;
    const itemsBytes = itemsJson !== undefined ? rawItemBytesOf(res) : undefined;
    const next: EngineMessage[] = [];
    if (run.stages.length > 1) {
      next.push({ kind: "chunk", runId: run.id, stage: 1, chunk: m.chunk, attempt: 1 });
    }
    if (!res.done) {
      next.push({ kind: "chunk", runId: run.id, stage: 0, chunk: m.chunk + 1, attempt: 1 });
    }
    const ok = await this.#store.commitChunk({
      runId: run.id,
      stage: 0,
      chunk: m.chunk,
      items,
      ...(itemsJson !== undefined ? { itemsJson } : {}),
      ...(itemsBytes !== undefined ? { itemsBytes } : {}),
      rejected,
      counters: {
        out: items.length,
        rejected: rejected.length,
        chunksDone: 1,
        busyMs: performance.now() - started,
      },
      source: { nextChunk: m.chunk + 1, cursor: res.cursor as Json, done: !!res.done },
      next,
    });
    // telemetry
    if (ok) {
      this.#tel.chunkCommitted(this.#ref(run, m), { out: items.length, rejected: rejected.length });
    }
    if (ok && res.done) await this.#checkSettled(run);
    return ok && (res.done ? "last" : true);
  }

  async #runStage(
    run: RunRecord,
    stage: StageSnapshot,
    m: ChunkMessage,
    inst: StageInstance,
    input: Item[] | RawChunk,
    started: number,
  ): Promise<boolean> {
    const log = this.#pluginLog(run, stage, m.chunk);
    const signal = this.#stop.signal;
    let outcome: StageOutcome;
    // Stored bytes (see #chunk) go as they are when they fit one batch; else they are parsed.
    if (!Array.isArray(input) && input.count <= Math.max(1, stage.chunk)) {
      outcome = await callStageJson({ stage, instance: inst, input, chunk: m.chunk, signal, log });
    } else {
      const fns = this.#stageFns(run, m.stage);
      let failed: { count: number; key: string; error: string } | undefined;
      outcome = await callStage({
        stage,
        instance: inst,
        input: Array.isArray(input) ? input : decodeRaw<Item[]>(input),
        chunk: m.chunk,
        signal,
        when: fns.when,
        onWhenError: (item, e) => {
          const error = this.#errText(e);
          failed ??= { count: 0, key: item.key, error };
          failed.count++;
          this.#warnOnce(run, stage, `when: ${error}`, item.key);
        },
        limiter: this.#limiter(run, m.stage),
        limitKey: fns.key,
        log,
      });
      if (failed) this.#whenFailed(run, stage, m.chunk, failed);
    }
    const last = m.stage === run.stages.length - 1;
    const ok = await this.#store.commitChunk({
      runId: run.id,
      stage: m.stage,
      chunk: m.chunk,
      items: outcome.items,
      ...(outcome.count !== undefined ? { count: outcome.count } : {}),
      ...(outcome.itemsJson !== undefined ? { itemsJson: outcome.itemsJson } : {}),
      ...(outcome.itemsBytes !== undefined ? { itemsBytes: outcome.itemsBytes } : {}),
      rejected: outcome.rejected,
      counters: { ...outcome.counters, chunksDone: 1, busyMs: performance.now() - started },
      next: last
        ? []
        : [{ kind: "chunk", runId: run.id, stage: m.stage + 1, chunk: m.chunk, attempt: 1 }],
    });
    if (ok) this.#tel.chunkCommitted(this.#ref(run, m), outcome.counters); // telemetry
    const next = run.stages[m.stage + 1];
    if (ok && next && hostWorksOnItems(next) && outcome.count === undefined) {
      this.#handoff.keep(run.id, m.stage, m.chunk, outcome.items);
    }
    if (ok && last) {
      this.#wakeSource(run.id);
      await this.#checkSettled(run);
    }
    return ok;
  }

  async #failed(run: RunRecord, stage: StageSnapshot, m: ChunkMessage, e: unknown, items: number) {
    const s = this.#store;
    const error = this.#errText(e);
    const prev = await s.getAttempts(run.id, m.stage, m.chunk);
    const attempts = (prev?.attempts ?? 0) + 1;
    const retryable = !(e instanceof PluginError && !e.retryable) && !this.#stop.signal.aborted;
    const where = { run: run.id, stage: stage.id, chunk: m.chunk, attempt: attempts };
    if (this.#stop.signal.aborted) return; // shutting down: the next process resumes the chunk
    if (retryable && attempts < stage.retry.attempts) {
      // No sooner than a wait the plugin's error asked for (an API's Retry-After), at most
      // MAX_RETRY_AFTER_MS.
      const asked = e instanceof PluginError ? e.retryAfterMs ?? 0 : 0;
      const delayMs = Math.max(
        backoffDelay(stage.retry, attempts),
        Math.min(Math.ceil(asked), MAX_RETRY_AFTER_MS),
      );
      await s.setAttempts(run.id, m.stage, m.chunk, {
        attempts,
        lastError: error,
        nextAt: this.#now() + delayMs,
      });
      // A wait asked for beyond the cap is said, so nobody expects the retry that late.
      const capped = asked > MAX_RETRY_AFTER_MS
        ? ` (the error asked to wait ${Math.round(asked / 1000)} s; waits are capped at ${
          MAX_RETRY_AFTER_MS / 60_000
        } min)`
        : "";
      this.#log.warn(`chunk failed, retrying in ${delayMs} ms${capped}`, { ...where, error });
      this.#record(
        run.id,
        stage.id,
        m.chunk,
        "warn",
        `attempt ${attempts} failed, retrying in ${delayMs} ms${capped}: ${error}`,
      );
      this.#tel.chunkFailed(this.#ref(run, m), "retry", error); // telemetry
      await this.#queue.enqueue({ ...m, attempt: attempts + 1 }, { delayMs });
      return;
    }
    if (e instanceof PluginError && e.config) {
      // The pipeline file is wrong: every chunk would fail alike, and a run keeps the pipeline
      // version it started with, so neither a retry, a skip nor a replay can help.
      await s.setAttempts(run.id, m.stage, m.chunk, { attempts, lastError: error, nextAt: 0 });
      this.#log.error("stage configuration error: the run fails", { ...where, error });
      this.#record(run.id, stage.id, m.chunk, "error", `configuration error: ${error}`);
      this.#tel.chunkFailed(this.#ref(run, m), "dead", error); // telemetry
      await this.#failRun(run.id, withConfigHint(e, error));
      return;
    }
    const policy = m.stage === 0 && stage.onError === "skip" ? "deadLetter" : stage.onError;
    const msg = `stage ${stage.id} chunk ${m.chunk} failed after ${attempts} attempt(s): ${error}`;
    if (policy === "skip") {
      const input = (await s.readChunk(run.id, m.stage - 1, m.chunk)) ?? [];
      await s.setAttempts(run.id, m.stage, m.chunk, { attempts, lastError: error, nextAt: 0 });
      const last = m.stage === run.stages.length - 1;
      this.#log.warn("chunk skipped after its last attempt (onError: skip)", { ...where, error });
      this.#record(
        run.id,
        stage.id,
        m.chunk,
        "warn",
        `skipped after ${attempts} attempt(s) (onError: skip): ${error}`,
      );
      this.#tel.chunkFailed(this.#ref(run, m), "skipped", error); // telemetry
      const ok = await s.commitChunk({
        runId: run.id,
        stage: m.stage,
        chunk: m.chunk,
        items: [],
        rejected: input.map((item) => ({ key: item.key, reason: msg, raw: item })),
        counters: { in: input.length, failed: input.length, chunksDone: 1 },
        next: last
          ? []
          : [{ kind: "chunk", runId: run.id, stage: m.stage + 1, chunk: m.chunk, attempt: 1 }],
      });
      if (ok && last) {
        this.#wakeSource(run.id);
        await this.#checkSettled(run);
      }
      return;
    }
    await s.setAttempts(run.id, m.stage, m.chunk, {
      attempts,
      lastError: error,
      nextAt: 0,
      dead: true,
    });
    await s.addDeadLetter({
      runId: run.id,
      stage: m.stage,
      stageId: stage.id,
      chunk: m.chunk,
      attempts,
      error,
      at: this.#now(),
      items,
    });
    this.#log.error("chunk moved to the dead-letter list", { ...where, error });
    this.#wakeSource(run.id);
    this.#record(
      run.id,
      stage.id,
      m.chunk,
      "error",
      `moved to the dead-letter list after ${attempts} attempt(s): ${error}`,
    );
    this.#tel.chunkFailed(this.#ref(run, m), "dead", error); // telemetry
    if (policy === "fail") {
      // A source's advice depends on its input (an upload cannot be fixed in place).
      const advice = m.stage === 0
        ? sourceFailureAdvice(run, this.#o.dataDir, { final: !retryable, readNothing: !m.chunk })
        : `fix the cause, then replay with: sluice runs retry ${run.id}`;
      await this.#failRun(run.id, `${msg}. ${advice[0].toUpperCase()}${advice.slice(1)}`);
    } else {
      await this.#checkSettled(run);
    }
  }

  async #failRun(id: string, error: string) {
    await this.#flushLogs(); // as a run that succeeds: its log is complete when it ends
    if (
      await this.#store.transitionRun(id, ["running", "queued"], "failed", {
        error,
        finishedAt: this.#now(),
      })
    ) {
      this.#log.error("run failed", { run: id, error });
      await this.#pool.closeRun(id);
      this.#forgetRun(id);
      this.#notify(id);
      await this.#settled(id); // telemetry: run span, metrics, onFailure alert
    }
  }

  /** Enqueues the run's finalization when every chunk is done, or fails it when only dead letters remain. */
  async #checkSettled(run: RunRecord) {
    const s = this.#store;
    // One read decides the common cases where the backend offers it (PostgreSQL); the rare
    // ones (a dead letter to report) take the reads below.
    const q = await s.settleState?.(run.id, run.stages.length - 1);
    if (q) {
      const p = q.progress;
      if (!p.done && !q.sourceDead) return;
      if (p.done && q.lastDone + q.deadChunks < p.nextChunk) return;
      if (p.done && !q.deadChunks) {
        await this.#handle({ kind: "finalize", runId: run.id, attempt: 1 });
        return;
      }
    }
    const p = await s.sourceProgress(run.id);
    if (!p.done) {
      const dead = await s.listDeadLetters(run.id);
      const src = dead.find((d) => d.stage === 0);
      const c = src ? await s.counters(run.id, run.stages.length) : [];
      const blocked = new Set(dead.filter((d) => d.stage > 0).map((d) => d.chunk)).size;
      const last = run.stages.length > 1 ? c[run.stages.length - 1]?.chunksDone ?? 0 : p.nextChunk;
      if (src && last + blocked >= p.nextChunk) {
        // The source cannot go on and nothing else is in flight: the run waits for a replay.
        // Fewer attempts than the stage allows: its error ruled out retries (an InputError).
        const advice = sourceFailureAdvice(run, this.#o.dataDir, {
          final: src.attempts < run.stages[0].retry.attempts,
          readNothing: src.chunk === 0,
        });
        await this.#failRun(
          run.id,
          `the source failed after ${src.attempts} attempt(s) at chunk ${src.chunk}: ${src.error}. ` +
            `${dead.length} chunk(s) are in the dead-letter list; ${advice}`,
        );
      }
      return;
    }
    const total = p.nextChunk;
    const last = run.stages.length - 1;
    const c = await s.counters(run.id, run.stages.length);
    const dead = await s.listDeadLetters(run.id);
    const blocked = new Set(dead.map((d) => d.chunk)).size;
    if (c[last].chunksDone + blocked < total) return;
    if (dead.length) {
      await this.#failRun(
        run.id,
        `${dead.length} chunk(s) are in the dead-letter list (first: stage ${
          dead[0].stageId
        } chunk ${dead[0].chunk}: ${dead[0].error}). Replay them with: sluice runs retry ${run.id}`,
      );
      return;
    }
    await this.#handle({ kind: "finalize", runId: run.id, attempt: 1 });
  }

  /**
   * Ends a run whose chunks are all done: calls every stage's `finish` in REVERSE stage order
   * (the last stage, the export closest to the receiver, first; the source last), except the
   * stages whose plugin declares `finishLast` (seen-before, whose finish commits its ledger of
   * delivered leads): those run after all the others ({@link finishOrder}). Then it marks the
   * run succeeded with the files the stages finished. A failed finish stops the round, so a
   * `finishLast` stage commits only when every other stage's finish succeeded, wherever it
   * stands; the next attempt (or a resumed or retried run) starts the round again (finish hooks
   * are idempotent). A failed finish is retried twice, then fails the run. Before the first
   * finish the run records `finishingAt`: from then on {@link cancelRun} refuses it.
   */
  async #finalize(runId: string, attempt: number) {
    const run = await this.#activeRun(runId);
    if (!run) return;
    // From here on the run refuses a cancel (atomically: a cancel that came first wins, and then
    // no finish starts).
    const marked = await this.#store.transitionRun(runId, ["running"], "running", {
      finishingAt: run.finishingAt ?? this.#now(),
    });
    if (!marked) return;
    this.#runCache.delete(runId);
    // Per stage, so the run lists its files in stage order whatever order finish ran in.
    const byStage: RunArtifact[][] = run.stages.map(() => []);
    try {
      for (const i of finishOrder(run.stages)) {
        const inst = await this.#pool.instance(run, i);
        const log = this.#pluginLog(run, run.stages[i], -1);
        const done = await inst.finish({ signal: this.#stop.signal, log });
        byStage[i] = await stageArtifacts(
          this.#o.dataDir,
          run.stages[i],
          done,
          (m) => log("warn", m),
          byStage.flat(),
        );
      }
    } catch (e) {
      if (this.#stop.signal.aborted) return;
      if (e instanceof PluginError && e.config) {
        // Another attempt meets the same configuration (or changed plugin): fail now.
        const error = this.#errText(e);
        await this.#failRun(runId, `finishing the run failed: ${withConfigHint(e, error)}`);
        return;
      }
      if (attempt < 3) {
        this.#log.warn("finalize failed, retrying", { run: runId, error: this.#errText(e) });
        await this.#queue.enqueue({ kind: "finalize", runId, attempt: attempt + 1 }, {
          delayMs: 1000 * attempt,
        });
      } else {
        await this.#failRun(runId, `finishing the run failed: ${this.#errText(e)}`);
      }
      return;
    }
    const artifacts = byStage.flat();
    // The run's log is complete before it ends: what reads it at run end (the summary's run
    // tallies and export lines) must not miss the last lines, buffered for up to 100 ms.
    await this.#flushLogs();
    if (
      await this.#store.transitionRun(runId, ["running"], "succeeded", {
        finishedAt: this.#now(),
        ...(artifacts.length ? { artifacts } : {}),
      })
    ) {
      this.#log.info("run succeeded", { run: runId });
      await this.#settled(runId); // telemetry
    }
    await this.#pool.closeRun(runId);
    // A failed run keeps its counts (a retry goes on with its log); an ended one drops them.
    this.#logCap.forget(runId);
    this.#forgetRun(runId);
    this.#notify(runId);
  }

  /** Waits for a permit of the run's stage (its concurrency); returns the release. */
  #acquireStage(run: RunRecord, stage: number): Promise<() => void> {
    const sweepMs = this.#o.localsSweepMs ?? LOCALS_SWEEP_MS;
    if (this.#locals.size > 0 && performance.now() - this.#sweptAt > sweepMs) {
      this.#sweptAt = performance.now();
      const p = this.#sweepLocals();
      this.#running.add(p);
      p.finally(() => this.#running.delete(p));
    }
    return this.#locals.acquire(run.id, stage, run.stages[stage].concurrency);
  }

  /**
   * Drops what this process kept for run `id` (it ended), as far as no chunk of it still runs;
   * returns whether its state went at once (else with its last permit: see `RunLocals.forget`).
   */
  #forgetRun(id: string): boolean {
    const dropped = this.#locals.forget(id);
    // This process's own messages of the run see its end at once, not when the cache expires.
    this.#runCache.delete(id);
    this.#owners.delete(id);
    this.#lastDoneSeen.delete(id);
    this.#handoff.forgetRun(id);
    return dropped;
  }

  /**
   * Drops what this process holds for run `id`, which a message of it found ended (another
   * process ended it, or it ended while the message waited for a slot): its state at once when no
   * chunk of it holds or awaits a permit here, and then its plugin instances; else the last such
   * message does (or, when a chunk still runs, {@link #sweepLocals}).
   */
  async #dropEnded(id: string): Promise<void> {
    if (!this.#locals.has(id) && !this.#pool.holds(id)) return;
    if (this.#forgetRun(id)) await this.#pool.closeRun(id);
  }

  /**
   * Drops the state of runs unused here for a while that have ended: those a process sharing the
   * store finished (no message of theirs comes here again), and those a late message of took up
   * again after their end.
   */
  async #sweepLocals(): Promise<void> {
    const ids = new Set(this.#locals.idleRuns(this.#o.localsSweepMs ?? LOCALS_SWEEP_MS));
    // Plugin instances of a run with no state here (opened by the warm-up as the run ended).
    for (const id of this.#pool.runIds()) if (!this.#locals.has(id)) ids.add(id);
    for (const id of ids) {
      const run = await this.#store.getRun(id).catch(() => null);
      if (run === null) continue; // the store did not answer: next sweep
      if (!run || FINAL_STATES.includes(run.state)) {
        this.#forgetRun(id);
        // Its plugin instances too: they hold their processes, which would never go idle.
        await this.#pool.closeRun(id);
      }
    }
  }

  #limiter(run: RunRecord, stage: number): KeyedLimiter | undefined {
    const rl = run.stages[stage].rateLimit;
    if (!rl) return undefined;
    const key = `${run.pipeline}/${run.stages[stage].id}`;
    let l = this.#limiters.get(key);
    if (!l) {
      const timer = this.#tel.limiterTimer(this.#o.timer, { run, stage }); // telemetry: wait time
      const cluster = this.#o.backend.limits;
      this.#limiters.set(
        key,
        // On a shared backend the buckets live there, so the limit holds across processes
        // (time is epoch time then, unless a test injects its clock).
        l = cluster
          ? cluster.rateLimiter(key, {
            rate: rl.rate,
            perMs: rl.perMs,
            burst: rl.burst,
            timer: {
              now: this.#o.timer ? () => timer.now() : Date.now,
              sleep: (ms) => timer.sleep(ms),
            },
          })
          : new RateLimiter({ rate: rl.rate, perMs: rl.perMs, burst: rl.burst, timer }),
      );
    }
    return l;
  }

  #stageFns(run: RunRecord, stage: number): StageFns {
    return this.#locals.stageFns(run.id, stage, () => {
      const st = run.stages[stage];
      const vars = { inputs: run.inputs, run: { id: run.id, pipeline: run.pipeline } };
      const when = st.when ? whenOf(st.when) : undefined;
      const k = st.rateLimit?.key ? compileExpression(st.rateLimit.key) : undefined;
      return {
        when: when && ((item) => when.evaluateBool({ ...vars, item })),
        key: k && ((item) => k.evaluate({ ...vars, item })),
      };
    });
  }

  #pluginLog(run: RunRecord, stage: StageSnapshot, chunk: number) {
    const log = this.#log.child({ run: run.id, stage: stage.id, chunk });
    return (level: "debug" | "info" | "warn" | "error", msg: string, data?: Json, at?: number) => {
      log[level](msg, data === undefined ? undefined : { data });
      if (level !== "debug") {
        // A run tally is kept beside the line, for the run's end (not written into its text),
        // under the chunk the plugin served when it logged (each chunk counts once).
        const tally = (data as Record<string, unknown> | undefined)?.[RUN_TALLY_KEY];
        if (isRunTally(tally)) {
          const c = chunk >= 0 && typeof at === "number" && at >= 0 ? at : chunk;
          this.#record(run.id, stage.id, c, level, msg, {
            key: tally.key.slice(0, 200),
            count: tally.count,
            line: this.#errText(tally.line).slice(0, 2000),
            ...(Number.isInteger(tally.part) && tally.part! > 0 ? { part: tally.part } : {}),
          });
          return;
        }
        const text = data === undefined ? msg : `${msg} ${JSON.stringify(data)}`;
        this.#record(run.id, stage.id, chunk, level, text);
      }
    };
  }

  /** Keeps a line in the run's own log (the UI shows it by stage and chunk), secrets masked. */
  #record(
    runId: string,
    stage: string,
    chunk: number,
    level: RunLogEntry["level"],
    msg: string,
    tally?: RunTally,
  ) {
    if (!this.#store.appendRunLog) return;
    const verdict = this.#logCap.take(runId, chunk);
    if (verdict === "drop") return;
    const text = this.#errText(verdict === "last" ? `${RUN_LOG_CAPPED}${msg}` : msg);
    const list = this.#logBuffer.get(runId) ?? [];
    list.push({
      at: this.#now(),
      level,
      stage,
      chunk,
      msg: text.slice(0, RUN_LOG_MAX_MSG),
      ...(tally ? { tally } : {}),
    });
    this.#logBuffer.set(runId, list);
    this.#logTimer ??= setTimeout(() => void this.#flushLogs(), 100);
  }

  /**
   * Writes the buffered log lines, after any write already under way: who awaits it (a run's
   * end) finds every line logged before the call in the store.
   */
  #flushLogs(): Promise<void> {
    const next = this.#logFlush.then(() => this.#writeLogs());
    this.#logFlush = next.catch(() => {});
    return next;
  }

  async #writeLogs(): Promise<void> {
    clearTimeout(this.#logTimer);
    this.#logTimer = undefined;
    const batches = [...this.#logBuffer];
    this.#logBuffer.clear();
    for (const [runId, entries] of batches) {
      await this.#store.appendRunLog?.(runId, entries).catch((e) =>
        this.#log.warn("could not store run log lines", { run: runId, error: this.#errText(e) })
      );
    }
  }

  /**
   * Keeps one line in the run's log (once per stage and run, in this process) when the stage's
   * `when:` failed for items of a chunk: those items skipped the stage, which a person reading
   * the run (`sluice runs log`, the run page, the run's `notes`) must see, not only the server's
   * log. The line carries a run tally, so the run's notes show it at its end.
   */
  /**
   * A `when:` that failed for items of a chunk: one line in the run's log per such chunk (a retry
   * logs its chunk again; the run's notes count each chunk once, its last line), carrying a run
   * tally, so the run's notes say how many items of the whole run skipped the stage for it.
   */
  #whenFailed(
    run: RunRecord,
    stage: StageSnapshot,
    chunk: number,
    failed: { count: number; key: string; error: string },
  ) {
    const expr = JSON.stringify(stage.when ?? "");
    const advice = "such items skip the stage. Fix the expression or the data (e.g. guard a " +
      "field with has(item.x), convert with int(...) or string(...))";
    const msg = `stage "${stage.id}": when: ${expr} could not be evaluated for ${failed.count} ` +
      `item(s) of chunk ${chunk} (first: ${failed.key}): ${failed.error}; ${advice}`;
    const line = `stage "${stage.id}": when: ${expr} could not be evaluated for {count} item(s) ` +
      `(the first in chunk ${chunk}: ${failed.key}): ${failed.error}; ${advice}`;
    this.#record(run.id, stage.id, chunk, "warn", msg, {
      key: "when-failed",
      count: failed.count,
      line: this.#errText(line).slice(0, 2000),
    });
  }

  #warnOnce(run: RunRecord, stage: StageSnapshot, msg: string, key: string) {
    if (!this.#locals.firstTime(run.id, `${stage.id}/${msg}`)) return;
    this.#log.warn(`${msg}; such items skip the stage (first: ${key})`, {
      run: run.id,
      stage: stage.id,
    });
  }

  // --- telemetry helpers ---
  #ref(run: RunRecord, m: ChunkMessage): ChunkRef {
    return { run, stage: m.stage, chunk: m.chunk, attempt: m.attempt };
  }

  /** Reports a run that reached a final state (span, metrics, `onFailure` alert). */
  async #settled(id: string): Promise<void> {
    const run = await this.#store.getRun(id);
    if (run && FINAL_STATES.includes(run.state)) {
      this.#tel.runSettled(run);
      await this.#o.backend.runClaims?.release(id).catch(() => {});
    }
  }
  // --- end telemetry helpers ---

  /** The text of an error or log line, secrets masked (also where JSON escaped them). */
  #errText(e: unknown): string {
    const text = e instanceof Error ? e.message : String(e);
    return this.#o.secretValues ? maskSecrets(text, this.#o.secretValues) : text;
  }
}

/**
 * What a run id given by a user (`sluice run --run-id ID`) must look like: a letter or digit,
 * then up to 127 letters, digits, `.`, `_` or `-`. It names the run's folder in the data folder
 * and a key in the store, and is typed in commands (`sluice runs show ID`). Generated ids
 * ({@linkcode newRunId}) fit it.
 */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Why `id` cannot be a new run's id (see {@linkcode RUN_ID_PATTERN}), or undefined when it can:
 * what is wrong, the rule and an example.
 */
export function runIdProblem(id: string): string | undefined {
  if (RUN_ID_PATTERN.test(id)) return undefined;
  const what = id === ""
    ? "is empty"
    : id.length > 128
    ? `is ${id.length} characters long`
    : /^[._-]/.test(id)
    ? `starts with ${JSON.stringify(id[0])}`
    : `has ${JSON.stringify(id.replace(/[A-Za-z0-9._-]/g, "")[0])}`;
  return `run id ${id.length > 40 ? JSON.stringify(id.slice(0, 40)) + "…" : JSON.stringify(id)} ` +
    `${what}: a run id is 1 to 128 letters, digits, ".", "_" or "-", starting with a letter ` +
    `or digit (e.g. nightly-2024-05-01)`;
}

/** A new run id: time-ordered, unique; it fits {@linkcode RUN_ID_PATTERN}. */
export function newRunId(now = Date.now()): string {
  if (randomAt + 5 > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomAt = 0;
  }
  let rand = "";
  for (let i = 0; i < 5; i++) rand += randomPool[randomAt++].toString(36).padStart(2, "0");
  return `r${now.toString(36)}${rand}`;
}
// Random bytes for run ids, drawn 4 KiB at a time (one call instead of one per id).
const randomPool = new Uint8Array(4096);
let randomAt = randomPool.length;

/** Builds the trigger info for CLI runs. */
export function cliTrigger(): TriggerInfo {
  return { kind: "cli" };
}
