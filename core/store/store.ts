/**
 * The `Store` interface: runs, chunks, counters, dead letters. Backend-neutral: the Deno KV
 * backend is the embedded default; PostgreSQL implements the same contract for scale-out.
 * A backend pairs a store with its queue so that a chunk commit and the messages it sends are
 * one atomic write (a transactional outbox).
 * @module
 */
import type { Item, Json, Rejected } from "../../sdk/types.ts";
import type { RunTally } from "../../sdk/run_tally.ts";
import type { EngineMessage, Queue } from "../queue/queue.ts";
import type { ResolvedPlugin } from "../plugins/manifest.ts";
import type { ItemIndexPage, ItemIndexQuery, ItemIndexStats } from "./item_index.ts";
import type { NoticeOutbox } from "./notices.ts";

export type {
  IndexCondition,
  IndexValue,
  ItemIndexPage,
  ItemIndexPosition,
  ItemIndexQuery,
  ItemIndexStats,
  ItemRef,
} from "./item_index.ts";

/** Life cycle of a run. */
export type RunState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** States a run never leaves. */
export const FINAL_STATES: readonly RunState[] = ["succeeded", "failed", "cancelled"];

/** What started a run. */
export interface TriggerInfo {
  kind: "cli" | "api" | "ui" | "cron" | "webhook" | "retry";
  /** Trigger id (cron id, hook id, token name…). */
  id?: string;
  /** Free-form details (scheduled time, delivery id). */
  detail?: Record<string, Json>;
}

/** A snapshot of one stage as the run executes it (secrets stay as templates). */
export interface StageSnapshot {
  id: string;
  /** The reference as written (`name@range`). */
  plugin: string;
  /** The resolved plugin: manifest (permissions = what the operator approved) and folder. */
  resolved: ResolvedPlugin;
  with: Record<string, unknown>;
  permissions?: { net?: string[]; read?: string[]; write?: string[]; env?: string[] };
  when?: string;
  concurrency: number;
  chunk: number;
  timeoutMs: number;
  memoryMb: number;
  /** CPU niceness of the stage's plugin processes (0-19; absent: 0), as `nice:` says. */
  nice?: number;
  retry: {
    attempts: number;
    backoff: "fixed" | "exponential";
    delayMs: number;
    maxDelayMs: number;
  };
  rateLimit?: { rate: number; perMs: number; key?: string; burst?: number };
  onError: "fail" | "skip" | "deadLetter";
}

/** A run as stored. */
export interface RunRecord {
  id: string;
  pipeline: string;
  /** The pipeline file's text at run creation. */
  pipelineYaml: string;
  /** Path of the pipeline file, for messages. */
  pipelineFile: string;
  stages: StageSnapshot[];
  inputs: Record<string, unknown>;
  inputFile?: string;
  /**
   * The name the input file had where it came from (an upload's file name, sanitized: a base
   * name, no control characters, bounded length), for messages: `inputFile` is named after the
   * run. For a snapshot of the source's file (`sourceFile`), that file's name. Absent when the
   * input has no such name (a plain body, `sluice run --input PATH`).
   */
  inputName?: string;
  /**
   * The file the source's `with.path` names, when the run reads a snapshot of it: `inputFile` is
   * then the run's own copy (or hard link) of the file, `<dataDir>/runs/<run id>/input/<name>`,
   * taken when the run was created (`core/engine/source_snapshot.ts`), so the run, its retries
   * and resumes read the file as it was then. Absent for runs with an input file of their own.
   */
  sourceFile?: string;
  /**
   * The input file's text when it is small and came with the request that created the run (a
   * webhook body): this record is its durable copy, and the engine writes it to `inputFile`
   * when the source starts. Absent: `inputFile` (if any) was written before the run.
   */
  inputText?: string;
  trigger: TriggerInfo;
  state: RunState;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Why the run failed or was cancelled. */
  error?: string;
  /** Files the run's stages finished for download (sink outputs), recorded at run end. */
  artifacts?: RunArtifact[];
  /**
   * When the engine began calling the stages' `finish` hooks (epoch ms): from then on the run
   * writes its exports and refuses a cancel (see {@link TransitionOptions.unlessFinishing}).
   * Cleared when a failed run is retried.
   */
  finishingAt?: number;
}

/** Options of {@link Store.transitionRun}. */
export interface TransitionOptions {
  /**
   * Refuse (return false) when the run is `running` with `finishingAt` set: it is writing its
   * exports, and a cancel now would leave some export files with this run's rows and others with
   * the previous run's. Checked in the same atomic step as the state.
   */
  unlessFinishing?: boolean;
}

/** A file a stage finished for people to take away (`leads.csv`), served by the API and UI. */
export interface RunArtifact {
  /** The stage that wrote it. */
  stage: string;
  /** Its file name; with `stage`, names it in the run. */
  name: string;
  /** Path relative to the Sluice data folder (`plugin-data/csv-export/runs/<run>/leads.csv`). */
  path: string;
  /** Size in bytes when the run recorded it. */
  bytes: number;
}

/** Counters of one stage. */
export interface StageCounters {
  in: number;
  out: number;
  /** Dropped by the plugin, or not matching a filter. */
  filtered: number;
  /** Passed through unchanged because `when` was false. */
  skipped: number;
  /** Failed items (onError skip) and items of dead-lettered chunks. */
  failed: number;
  /** Refused with a reason (bad rows, invalid items). */
  rejected: number;
  chunksDone: number;
  chunksDead: number;
  /** Total milliseconds spent in the stage's calls. */
  busyMs: number;
}

/** Names of the counters. */
export const COUNTER_NAMES: readonly (keyof StageCounters)[] = [
  "in",
  "out",
  "filtered",
  "skipped",
  "failed",
  "rejected",
  "chunksDone",
  "chunksDead",
  "busyMs",
];

/** Zeroed counters. */
export function emptyCounters(): StageCounters {
  return {
    in: 0,
    out: 0,
    filtered: 0,
    skipped: 0,
    failed: 0,
    rejected: 0,
    chunksDone: 0,
    chunksDead: 0,
    busyMs: 0,
  };
}

/** Where the source stands. */
export interface SourceProgress {
  /** Index of the next chunk to read. */
  nextChunk: number;
  cursor: Json;
  done: boolean;
}

/** A chunk that exhausted its attempts and waits for replay. */
export interface DeadLetter {
  runId: string;
  stage: number;
  stageId: string;
  chunk: number;
  attempts: number;
  error: string;
  at: number;
  /** Items of the chunk, counted as failed while it is parked. */
  items: number;
}

/** Bookkeeping of a chunk's failed attempts. */
export interface ChunkAttempts {
  attempts: number;
  lastError: string;
  /** Earliest time of the next attempt (epoch ms). */
  nextAt: number;
  /** Parked in the dead-letter list: only a replay runs it again. */
  dead?: boolean;
}

/**
 * What the engine checks before it runs a chunk, read at once (see {@link Store.chunkState}).
 */
export interface ChunkState {
  /** Stage > 0: the chunk's output is committed already. */
  done: boolean;
  /** Stage 0: where the source stands (as {@link Store.sourceProgress}). */
  progress?: SourceProgress;
  /** The chunk's failed attempts (as {@link Store.getAttempts}). */
  attempts?: ChunkAttempts;
  /**
   * Stage > 0 and not done: the previous stage's committed output of the chunk (the chunk's
   * input) as stored, or undefined when the backend did not read it (the engine then reads it
   * itself). The engine hands the bytes to a plugin as they are, or parses them when it has
   * item-level work (`when`, rate limits).
   */
  inputRaw?: RawChunk;
}

/** What decides whether a run is settled (see {@link Store.settleState}). */
export interface SettleState {
  /** Where the source stands. */
  progress: SourceProgress;
  /** Chunks done by the run's last stage. */
  lastDone: number;
  /** Distinct chunk indices in the dead-letter list, every stage. */
  deadChunks: number;
  /** A source chunk is in the dead-letter list. */
  sourceDead: boolean;
}

/** One atomic chunk commit. */
export interface ChunkCommit {
  runId: string;
  stage: number;
  chunk: number;
  /** The items; empty when `count` is given. */
  items: Item[];
  /**
   * How many items the chunk holds when `items` was left empty because they were not parsed: a
   * sink passed on its input as stored, which `itemsBytes` hold (and `itemsJson` when the
   * engine had the text). A store that needs the items themselves (to index them) parses those.
   */
  count?: number;
  /**
   * The JSON text of `items` when the engine has it as a plugin process wrote it: the store keeps
   * those characters instead of serializing `items` again (they parse to `items`).
   */
  itemsJson?: string;
  /**
   * The UTF-8 JSON of `items` (or of the `count` items a sink passed on), in pieces: joined, they
   * decode to `itemsJson` when it is given too. A store that writes bytes keeps these instead of
   * encoding the text again; one that writes text decodes them rather than serializing `items`.
   */
  itemsBytes?: Uint8Array[];
  rejected: Rejected[];
  /** Counter increments for this stage. */
  counters: Partial<StageCounters>;
  /** Source only: progress after this chunk. */
  source?: SourceProgress;
  /** Messages to enqueue atomically with the commit. */
  next: EngineMessage[];
}

/**
 * A chunk's items as stored: the parts, joined, are the UTF-8 JSON of the item array (a part
 * may end inside a multi-byte character); `count` is the number of items.
 */
export interface RawChunk {
  parts: Uint8Array[];
  count: number;
  /** The same JSON as text, when the store has it as text (parsing it skips a decode). */
  text?: string;
}

/**
 * Most lines a run's log keeps: the line that reaches it starts with `(log capped at 5000 lines)`
 * and later lines are dropped. The engine counts its own lines; a store shared by several
 * processes (PostgreSQL) applies the cap to the run as a whole.
 */
export const RUN_LOG_MAX_LINES = 5000;

/**
 * Run-level lines (chunk -1: what the stages' `finish` logs, such as an export's "N row(s)
 * written to …") a run keeps beyond {@linkcode RUN_LOG_MAX_LINES}: a run whose chunks filled its
 * log still tells at its end what its exports wrote.
 */
export const RUN_LOG_RUN_LEVEL_LINES = 500;

/** Most UTF-16 code units a run log line's `msg` keeps (the rest is cut off). */
export const RUN_LOG_MAX_MSG = 2000;

/** The start of the line of a run's log that reached {@linkcode RUN_LOG_MAX_LINES}. */
export const RUN_LOG_CAPPED = `(log capped at ${RUN_LOG_MAX_LINES} lines) `;

/** One line of a run's log (plugin output and engine events), tagged by stage and chunk. */
export interface RunLogEntry {
  /** Epoch ms. */
  at: number;
  level: "debug" | "info" | "warn" | "error";
  stage: string;
  /** Chunk index; -1 for run-level lines (finish). */
  chunk: number;
  msg: string;
  /** What the line adds to a run tally, summed at run end (`sdk/run_tally.ts`). */
  tally?: RunTally;
}

/** Filter for listing runs. */
export interface RunFilter {
  pipeline?: string;
  state?: RunState;
  /**
   * Trigger kind (`cron`, `api`…). Optional for a backend to honour: callers check the kind of
   * the runs they get again. The KV backend skips other kinds in its state index unread.
   */
  trigger?: string;
  limit?: number;
  /** Opaque cursor from a previous page. */
  cursor?: string;
}

/** A page of runs. */
export interface RunPage {
  runs: RunRecord[];
  cursor?: string;
}

/** Run statistics kept by the store (see {@link Store.runStats}). */
export interface RunStats {
  /** One bucket per hour (start in epoch ms), oldest first. */
  hours: {
    start: number;
    /** Runs created in the hour, by their state now. */
    runs: Record<RunState, number>;
    /** Items read by sources (stage 0 output) in chunks committed in the hour. */
    itemsRead: number;
    /** Items out of runs' last stages in chunks committed in the hour. */
    itemsOut: number;
  }[];
  /** Runs per state now (all time; of one pipeline when asked). */
  states: Record<RunState, number>;
}

/**
 * A check and a write that must commit in the same atomic write as a new run: the run is created
 * only when the check holds. A webhook's replay claim is one (the signature is recorded with the
 * run, or neither is written), which saves the request a commit of its own. A store applies only
 * guards on its own database ({@linkcode Store.acceptsGuard}).
 */
export interface RunGuard {
  /** The Deno KV handle the guard's keys live in. */
  kv: Deno.Kv;
  /** Adds the guard's checks and mutations to the run's atomic write. */
  apply(op: Deno.AtomicOperation): void;
}

/** {@linkcode Store.createRun} with a guard: the guard's check failed and nothing was written. */
export class GuardFailedError extends Error {
  constructor(runId: string) {
    super(`run ${runId} was not created: its guard's check failed`);
    this.name = "GuardFailedError";
  }
}

/** Whether `options.unlessFinishing` refuses a transition of `run` (see {@link TransitionOptions}). */
export function isFinishing(
  run: Pick<RunRecord, "state" | "finishingAt">,
  options: TransitionOptions,
): boolean {
  return !!options.unlessFinishing && run.state === "running" && run.finishingAt !== undefined;
}

/** Durable state of runs. Every write is idempotent under at-least-once delivery. */
export interface Store {
  /**
   * Records a new run and its first messages in one atomic write; with `guard` (one the store
   * {@linkcode Store.acceptsGuard accepts}) the guard's check and writes are part of it.
   * @throws {GuardFailedError} when the guard's check fails.
   */
  createRun(run: RunRecord, first: EngineMessage[], guard?: RunGuard): Promise<void>;
  /** Optional: whether {@linkcode Store.createRun} can apply `guard` (it is on this database). */
  acceptsGuard?(guard: RunGuard): boolean;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(filter?: RunFilter): Promise<RunPage>;
  /**
   * Changes the state when it is one of `from` (and `options` hold, atomically with it); returns
   * false otherwise.
   */
  transitionRun(
    id: string,
    from: readonly RunState[],
    to: RunState,
    patch?: Partial<RunRecord>,
    options?: TransitionOptions,
  ): Promise<boolean>;
  /**
   * Writes a chunk's output, marks it done, bumps counters and enqueues `next`, atomically and
   * only if the chunk was not already done. Returns false when it was (a duplicate delivery).
   */
  commitChunk(commit: ChunkCommit): Promise<boolean>;
  isChunkDone(runId: string, stage: number, chunk: number): Promise<boolean>;
  /**
   * Indices of done chunks of a stage, ascending. With `from`/`limit`, a backend may return only
   * the first `limit` chunks at or after `from` (callers filter and cut again, so a backend
   * that ignores them stays correct).
   */
  doneChunks(
    runId: string,
    stage: number,
    window?: { from?: number; limit?: number },
  ): Promise<number[]>;
  /** The committed output of a chunk, or undefined when not committed. */
  readChunk(runId: string, stage: number, chunk: number): Promise<Item[] | undefined>;
  /**
   * Optional: the committed output of a chunk as stored (UTF-8 JSON of the item array, in
   * parts) with its item count, or undefined when not committed. The engine hands these bytes
   * to a sandboxed plugin as they are, without parsing and serializing them again.
   */
  readChunkRaw?(runId: string, stage: number, chunk: number): Promise<RawChunk | undefined>;
  /** Rejected items of a run, every stage, in order. */
  readRejected(runId: string): AsyncIterable<Rejected & { stage: number; chunk: number }>;
  sourceProgress(runId: string): Promise<SourceProgress>;
  counters(runId: string, stages: number): Promise<StageCounters[]>;
  getAttempts(runId: string, stage: number, chunk: number): Promise<ChunkAttempts | undefined>;
  setAttempts(runId: string, stage: number, chunk: number, a: ChunkAttempts): Promise<void>;
  /** Parks a chunk (and bumps the stage's failed/dead counters) atomically. */
  addDeadLetter(d: DeadLetter): Promise<boolean>;
  listDeadLetters(runId: string): Promise<DeadLetter[]>;
  /** Removes a dead letter (before its replay), its counters and the chunk's attempt record. */
  removeDeadLetter(runId: string, stage: number, chunk: number): Promise<boolean>;
  deleteRun(id: string): Promise<void>;
  /**
   * Optional: in one read, what the engine checks before running chunk `chunk` of `stage`: for
   * the source its progress, for later stages whether the chunk is done and (when not) its
   * input; and the chunk's attempts. A backend where each read is a network round trip
   * (PostgreSQL) implements it; without it the engine reads each part on its own.
   */
  chunkState?(runId: string, stage: number, chunk: number): Promise<ChunkState>;
  /**
   * Optional: in one read, what decides whether a run is settled: source progress, chunks done
   * by the last stage (`lastStage`), and the dead-letter list's distinct chunks.
   */
  settleState?(runId: string, lastStage: number): Promise<SettleState>;
  /**
   * Optional: throws when the store cannot write (a full disk, a read-only file system), for
   * `/readyz`: reads alone still work then, while every run, chunk and webhook fails.
   */
  checkWritable?(): Promise<void>;
  /** Appends lines to a run's log (optional: a store without it keeps no per-run log). */
  appendRunLog?(runId: string, entries: RunLogEntry[]): Promise<void>;
  /**
   * The first `limit` lines of a run's log, oldest first (by `at`; lines with the same `at` in
   * the order they were appended on PostgreSQL, in no set order on Deno KV).
   */
  readRunLog?(runId: string, limit: number): Promise<RunLogEntry[]>;
  /**
   * Optional: run notices (`onFailure` / `onSuccess`) not delivered when their run ended, kept
   * for resending (`notices.ts`). Without it an undelivered notice is only logged.
   */
  readonly notices?: NoticeOutbox;
  close(): void;

  // --- Optional read models (issue 7: UI pages fast at 100,000 runs / 1,000,000 items). A
  // backend without them still works: callers fall back to scanning. A backend with them keeps
  // them in the same transaction as the write they follow (createRun, transitionRun,
  // commitChunk, deleteRun), and `listRuns({state})` reads an index by state.

  /**
   * Run statistics without scanning runs: per hour from `from` (rounded down to the hour) to
   * `to` (exclusive), runs created in the hour by their current state (moved on every
   * transition), and items read (stage 0 `out`) and out of last stages (`out` of the run's last
   * stage) in the hour the chunk was committed; plus runs per state now (of `pipeline` when
   * given, else of all pipelines).
   */
  runStats?(o: { from: number; to: number; pipeline?: string }): Promise<RunStats>;

  /**
   * The committed output of several chunks of a stage at once (undefined for one not
   * committed), in the order asked: one round trip instead of one per chunk.
   */
  readChunks?(
    runId: string,
    stage: number,
    chunks: readonly number[],
  ): Promise<(Item[] | undefined)[]>;

  /**
   * Counts of a run's item index, or undefined when the run has no usable index (run created
   * before the index existed, a chunk too large to index, or `stage` is not the index stage:
   * the last non-sink stage, `itemIndexStage`). The index holds one row per committed item of
   * that stage with its `website.status`, `band`, `lead` and `score` (`ITEM_INDEX_FIELDS`),
   * written atomically with each chunk commit of the stage.
   */
  itemIndexStats?(runId: string, stage: number): Promise<ItemIndexStats | undefined>;

  /**
   * Rows of a run's item index matching every condition, in item order (needs an `=`
   * condition) or sorted by a numeric field, resuming after a position; undefined when the run
   * has no usable index (see {@link Store.itemIndexStats}). Contract in `ItemIndexQuery`.
   */
  queryItemIndex?(q: ItemIndexQuery): Promise<ItemIndexPage | undefined>;
}

/** A rate limiter: `take` waits for a token of `key`'s bucket. */
export interface KeyedLimiter {
  take(key?: string, signal?: AbortSignal): Promise<void>;
}

/**
 * Limits shared by every process on one backend (PostgreSQL). Without them the engine's stage
 * concurrency and rate limits hold per process.
 */
export interface ClusterLimits {
  /** Waits for one of `permits` slots of `scope`; returns the function that frees it. */
  acquire(scope: string, permits: number, signal?: AbortSignal): Promise<() => Promise<void>>;
  /** A token-bucket limiter named `name` (buckets per key) shared by every process. */
  rateLimiter(
    name: string,
    o: {
      rate: number;
      perMs: number;
      burst?: number;
      /** Clock and sleep (tests); default: epoch time and real sleeps. */
      timer?: { now(): number; sleep(ms: number): Promise<void> };
    },
  ): KeyedLimiter;
}

/** A store with the queue that commits atomically with it. */
/** A Sluice process, as a claim names it. */
export interface ProcessInfo {
  pid: number;
  host: string;
  /** What it runs (`sluice serve`, `sluice run pipelines/x.yaml`). */
  command: string;
  /** When it started, ms since the epoch. */
  since: number;
}

/** What {@linkcode RunClaims.claim} found. */
export type ClaimResult = { held: ProcessInfo } | { taken: boolean };

/**
 * Who runs a run ({@linkcode RunClaims.owner}): this process, a live other one (`held`), or
 * nobody (`free`: no claim, or its process is gone).
 */
export type RunOwner = "mine" | "free" | { held: ProcessInfo };

/** A process as a message names it: `pid 4242 ("sluice serve") on host-1 since 2026-11-30 03:12:05 UTC`. */
export function describeProcess(p: ProcessInfo): string {
  const since = new Date(p.since).toISOString().replace("T", " ").slice(0, 19);
  return `pid ${p.pid} ("${p.command}") on ${p.host} since ${since} UTC`;
}

/**
 * Who works an unfinished run and whether that process is alive, as `sluice runs show` and
 * `sluice runs list` report it. On the embedded store it is the holder of the run's claim
 * (`kv_run_claims.ts`); on PostgreSQL, where any worker on any host may take any run's chunks, it
 * comes from the workers' heartbeats and the run's queue rows in the database
 * (`pg/pg_run_holder.ts`).
 */
export interface RunHolder {
  /**
   * The process: the claim's holder (embedded store); on PostgreSQL the live process that has
   * some of the run's work in hand, else a live one that may take it, else the last one that had
   * it (or was seen). Absent when no process ever worked the store's queue.
   */
  process?: ProcessInfo;
  /** False when the run has no live process to go on with it: resume it (`sluice runs resume`). */
  alive: boolean;
  /**
   * PostgreSQL only: true when `process` has some of the run's chunks in hand right now (false:
   * the run's chunks wait in the queue for whichever live process takes them first).
   */
  working?: boolean;
  /** PostgreSQL only: live processes consuming the database's queue (any may take the run's work). */
  workers?: number;
}

/**
 * Which process runs a run, where each process works only its own runs (the embedded KV store,
 * whose queue delivers a message to any process listening on the file): see `kv_run_claims.ts`.
 */
export interface RunClaims {
  /**
   * Takes `runId` for this process unless a live other process holds it: `{ held }` names that
   * one; else `{ taken }`, true when the run was not this process's before (new, or its holder is
   * gone).
   */
  claim(runId: string): Promise<ClaimResult>;
  /** Who runs `runId`, without taking it (one read; see {@link RunOwner}). */
  owner(runId: string): Promise<RunOwner>;
  /** Forgets this process's claim of a run that reached a final state. */
  release(runId: string): Promise<void>;
}

export interface Backend {
  store: Store;
  queue: Queue;
  /**
   * Run claims, when processes of one data folder must leave each other's runs alone (the KV
   * backend as the CLI opens it); absent where any process may work any run (PostgreSQL).
   */
  runClaims?: RunClaims;
  /** The Deno KV handle, for the KV backend: other KV-backed stores (triggers, sessions) share it. */
  kv?: Deno.Kv;
  /** Cluster-wide concurrency and rate limits, when the backend is shared by processes. */
  limits?: ClusterLimits;
  /** Closes the backend (the PostgreSQL one returns a promise: await it). */
  close(): void | Promise<void>;
}
