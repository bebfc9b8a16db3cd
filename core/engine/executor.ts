/**
 * The one interface through which the engine runs plugin code. The sandbox
 * (`core/sandbox/`) implements it with permission-scoped subprocesses; an in-process executor
 * exists for tests only.
 * @module
 */
import type {
  FinishResult,
  Item,
  Json,
  NetworkSettings,
  ProcessResult,
  ReadResult,
} from "../../sdk/types.ts";
import type { RunInfo } from "../../sdk/plugin.ts";
import type { ResolvedPlugin } from "../plugins/manifest.ts";
import type { RawChunk } from "../store/store.ts";

/** Effective permissions of one stage: approved ∩ what the stage narrowed them to. */
export interface EffectivePermissions {
  net: string[];
  read: string[];
  write: string[];
  env: string[];
}

/** Everything needed to start instances of one stage's plugin for one run. */
export interface StageSpec {
  runId: string;
  /** The run's pipeline name. */
  pipeline?: string;
  /** When the run started (epoch ms). */
  startedAt?: number;
  /** Stage id from the pipeline (`source` for the source by default). */
  stageId: string;
  /** 0 for the source, 1.. for `stages`. */
  stageIndex: number;
  plugin: ResolvedPlugin;
  /** The stage's `with:` with inputs and secrets resolved. Never stored or logged. */
  config: Record<string, unknown>;
  /** Secrets the stage was granted, by name. Never stored or logged. */
  secrets: Record<string, string>;
  permissions: EffectivePermissions;
  /** Warm instances to keep (the stage's concurrency). */
  concurrency: number;
  /** Per-call timeout in milliseconds. */
  timeoutMs: number;
  /** V8 heap cap in MB. */
  memoryMb: number;
  /**
   * CPU niceness of the stage's plugin processes (0-19; absent: 0): a process started for the
   * stage runs at it, and stages at different values never share a process.
   */
  nice?: number;
  /** Absolute path of the run's input file, when the run has one (sources read it). */
  inputFile?: string;
  /** The input file's original name (an upload's), for the plugin's messages (`ctx.inputName`). */
  inputName?: string;
  /**
   * The input file's text when the run record holds it (small webhook bodies), given only to
   * an executor that {@link StageExecutor.takesInputText}: it places the text where the plugin
   * may read it and tells the plugin that path instead of `inputFile`.
   */
  inputText?: string;
  /** Folder the plugin may write to (its data folder). */
  dataDir: string;
  /** Run inputs after defaults. */
  inputs: Record<string, unknown>;
  /** Network settings handed to the plugin. */
  network?: NetworkSettings;
}

/** What a plugin learns of its run (`ctx.run`) from a stage spec. */
export function runInfo(
  spec: Pick<StageSpec, "runId" | "stageId" | "pipeline" | "startedAt">,
): RunInfo {
  return {
    id: spec.runId,
    stage: spec.stageId,
    ...(spec.pipeline === undefined ? {} : { pipeline: spec.pipeline }),
    ...(spec.startedAt === undefined ? {} : { startedAt: spec.startedAt }),
  };
}

/** Per-call context. */
export interface CallContext {
  /** Chunk index within the run. */
  chunk: number;
  /**
   * Which call of the chunk this is when the stage's `chunk:` splits it into several (0, 1, …;
   * default 0): the plugin's `ctx.part`.
   */
  part?: number;
  /** Aborts the call (timeout, cancel, shutdown). */
  signal: AbortSignal;
  /**
   * Receives the plugin's log lines, already tagged by the caller; `chunk`, when known, is the
   * chunk the plugin was serving when it logged (a process serving several calls of one run
   * may hand a line to another of its calls' loggers).
   */
  log?: (
    level: "debug" | "info" | "warn" | "error",
    msg: string,
    data?: Json,
    chunk?: number,
  ) => void;
}

/** A running stage: a pool of warm plugin instances. */
export interface StageInstance {
  /** Sources: read the chunk after `cursor` (null for the start). */
  read(cursor: Json, limit: number, ctx: CallContext): Promise<ReadResult>;
  /** Transforms and sinks: process a batch of items. */
  process(items: Item[], ctx: CallContext): Promise<ProcessResult>;
  /**
   * Optional: like `process`, for a batch given as stored JSON bytes (a sandbox forwards them
   * to the plugin without parsing and serializing them again).
   */
  processJson?(input: RawChunk, ctx: CallContext): Promise<ProcessResult>;
  /**
   * Called once at run end (sinks finalize here); must be idempotent. Resolves to the files the
   * plugin finished for download, if it names any.
   */
  finish(ctx: Omit<CallContext, "chunk">): Promise<FinishResult | undefined | void>;
  /**
   * Optional: has a plugin process ready for this stage before its first call (one kept from an
   * earlier run, else a new one started) with the run opened there. Rejects when none can be had;
   * the first call then says why.
   */
  warm?(): Promise<void>;
  /** Stops every instance. */
  close(): Promise<void>;
}

/** Starts stage instances. */
export interface StageExecutor {
  open(spec: StageSpec): Promise<StageInstance>;
  /**
   * True when `open` takes a source's input as `StageSpec.inputText` (so that runs with
   * different inputs may share a plugin process); otherwise the caller writes `inputFile`.
   */
  readonly takesInputText?: boolean;
  /**
   * True when its instances start processes that {@link StageInstance.warm} can start early: the
   * engine then opens every stage of a run when its source starts reading.
   */
  readonly warms?: boolean;
  /** Stops everything this executor started. */
  close(): Promise<void>;
}

/** Raised by executors when plugin code fails; `retryable` false means do not retry. */
export class PluginError extends Error {
  /** Whether another attempt may succeed (a crash or timeout may; a config error may not). */
  retryable: boolean;
  /** The least wait before another attempt, when the plugin's error asked for one (ms). */
  retryAfterMs?: number;
  /**
   * True when the stage's configuration is wrong (the plugin threw the SDK's `ConfigError`):
   * the run fails at once, whatever the stage's `onError`, since no retry or replay can help.
   */
  config: boolean;
  /**
   * With `config`: what to do, ending the run's error (default: fix the stage's `with:` and start
   * a new run, `CONFIG_ERROR_HINT` in engine.ts).
   */
  hint?: string;
  /**
   * Set when the plugin threw the SDK's `InputError`: the input is at fault (a CSV without a
   * website column), not the plugin, the sandbox or the server. It is the plugin's own message,
   * without the stage and plugin this error's message names.
   */
  input?: string;
  constructor(
    message: string,
    options?: {
      cause?: unknown;
      retryable?: boolean;
      retryAfterMs?: number;
      config?: boolean;
      hint?: string;
      input?: string;
    },
  ) {
    super(message, { cause: options?.cause });
    this.name = "PluginError";
    this.config = options?.config ?? false;
    if (options?.input !== undefined) this.input = options.input;
    if (options?.hint !== undefined) this.hint = options.hint;
    this.retryable = !this.config && (options?.retryable ?? true);
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
