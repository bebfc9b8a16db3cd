/**
 * `definePlugin`: how a plugin author declares what a plugin does. The same definition runs in
 * the sandbox (production) and in `sdk/testing.ts` (tests run it in the real sandbox too).
 * @module
 */
import type {
  FinishResult,
  Item,
  Json,
  NetworkSettings,
  ProcessResult,
  ReadResult,
} from "./types.ts";

/** Log levels accepted by the plugin logger. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Logger handed to plugins; lines go to the run's log tagged with run, stage and chunk. */
export interface PluginLogger {
  debug(msg: string, data?: Json): void;
  info(msg: string, data?: Json): void;
  warn(msg: string, data?: Json): void;
  error(msg: string, data?: Json): void;
}

/**
 * Counters and gauges a plugin reports. The server's `/metrics` shows them as
 * `sluice_plugin_events_total{plugin,stage,name}` (counters) and
 * `sluice_plugin_gauge{plugin,stage,name}` (gauges); they are not kept with the run (its
 * counters, `sluice runs show`, are the engine's: items in/out, rejected, failed). In tests,
 * `runPlugin` and `openPlugin` of `sdk/testing.ts` return them as `metrics`.
 */
export interface PluginMetrics {
  /** Adds `value` (default 1) to counter `name`. */
  count(name: string, value?: number): void;
  /** Sets gauge `name`. */
  gauge(name: string, value: number): void;
}

/**
 * The W3C trace context of one call: the host's span for this plugin call. Pass `traceparent`
 * on outgoing requests (header `traceparent`) to continue the run's trace in other services.
 */
export interface TraceContext {
  /** `00-<trace id>-<span id>-<flags>`. */
  traceparent: string;
  /** 32 hex characters. */
  traceId: string;
  /** 16 hex characters: the host's plugin-call span. */
  spanId: string;
}

/**
 * Slots shared by every process of a plugin that one Sluice process runs: a stage that runs
 * several sandbox processes of the plugin (`concurrency` above the manifest's
 * `callsPerInstance`) and other runs using the same plugin at once all count against the same
 * limit. For politeness limits that must hold in total, e.g. connections per IP address.
 * `sdk/testing.ts` and the in-process executor share them within the process.
 */
export interface SharedLimits {
  /**
   * Waits until fewer than `limit` hold `key` (a string the plugin chooses, e.g. `ip:192.0.2.1`;
   * at most 256 characters); the returned function gives the slot back (call it once, in a
   * `finally`). A slot still held when the process ends is given back by the host. Rejects with
   * the signal's reason when it aborts first.
   */
  acquire(key: string, limit: number, signal?: AbortSignal): Promise<() => void>;
}

/** What every plugin hook receives. */
export interface SetupContext<C> {
  /**
   * The stage's `with:` after inputs and secrets were resolved, validated by the manifest schema
   * (`sluice validate`; a value from a `${{ inputs.NAME }}` template is not checked). The
   * schema's `default`s are not filled in: apply your own (`config.field ?? "checked"`).
   */
  config: C;
  /** Secrets granted to this stage, by name. */
  secrets: Readonly<Record<string, string>>;
  /** Run inputs after defaults. */
  inputs: Readonly<Record<string, unknown>>;
  /** Run, stage and plugin identity. */
  run: RunInfo;
  /** The run's input file (sources), when the run has one. */
  inputFile?: string;
  /**
   * The name the person who started the run knows `inputFile` by, when it differs from the
   * file's own: an upload's original file name (`businesses.csv`), as the web UI, a multipart
   * upload or a webhook's `Content-Disposition: attachment; filename=…` gave it. The host
   * sanitizes it (a base name without folders or control characters, at most 120 characters).
   * A webhook body without a name is named as its stored file (`<run id>.csv`): the plugin
   * reads it from a temporary folder whose path means nothing to the user. Absent when the run
   * has no input file or an upload stored as a file had no name, and for
   * `sluice run --input PATH` (the path is the name the user gave). Use it in messages about
   * the file (`businesses.csv:12: …`, see `sourceLabel` in `@sluice/sdk/io/source_file.ts`);
   * read the file at `inputFile`.
   */
  inputName?: string;
  /** The plugin's writable data folder (absolute). */
  dataDir: string;
  /** The operator's network settings (DNS servers, ports, CA, private-address policy). */
  network: NetworkSettings;
  log: PluginLogger;
  metrics: PluginMetrics;
  /** Limits shared with the plugin's other processes (see {@linkcode SharedLimits}). */
  limits: SharedLimits;
  /** Aborted when the host shuts the instance down. */
  signal: AbortSignal;
}

/** Context of one call: setup context plus the state `setup` returned and the chunk. */
export interface CallContext<C, S> extends SetupContext<C> {
  /** Whatever `setup` returned (connections, caches). */
  state: S;
  /** Chunk index within the run. */
  chunk: number;
  /**
   * Which call of the chunk this is: 0, unless the stage's `chunk:` (items per call) is smaller
   * than the chunk, which then comes in several calls (0, 1, …; the same on every retry). What a
   * plugin keeps per chunk (a part file, a tally, an idempotency key) is kept per chunk and part,
   * or a later call of the chunk replaces an earlier one's (`writePart`'s and `writeChunkTally`'s
   * `part` option). Sources and `finish`: 0.
   */
  part: number;
  /** Aborted on cancel or shutdown (a call that runs out of time is killed: see `deadline`). */
  signal: AbortSignal;
  /** Trace context of this call, when the host traces (OpenTelemetry). */
  trace?: TraceContext;
  /**
   * When the host ends this call (epoch ms, the stage's `timeout:` from the call's start), or
   * undefined when the host sets no limit. The host kills the instance at that moment (the
   * signal is not aborted first), so a wait that would end after it (a `Retry-After`, a
   * backoff) should fail the call at once with its reason instead: the engine retries the
   * chunk later. `ApiClient` does so when given it (`ApiRequest.deadline`).
   */
  deadline?: number;
}

/** A plugin's hooks. Sources implement `read`; transforms and sinks implement `process`. */
export interface PluginDefinition<C = Record<string, unknown>, S = unknown> {
  /** Runs once per instance before any call. */
  setup?(ctx: SetupContext<C>): S | Promise<S>;
  /** Sources: the next chunk after `cursor` (null at the start), at most `limit` items. */
  read?(cursor: unknown, limit: number, ctx: CallContext<C, S>): ReadResult | Promise<ReadResult>;
  /** Transforms and sinks: process a batch. Returning an array is shorthand for `{ items }`. */
  process?(
    items: Item[],
    ctx: CallContext<C, S>,
  ): ProcessResult | Item[] | Promise<ProcessResult | Item[]>;
  /**
   * Runs once at run end (sinks finalize output here). Must be idempotent. May return the files
   * it finished (`{ files: [path] }`): the run offers them for download as its artifacts.
   */
  finish?(ctx: CallContext<C, S>): void | FinishResult | Promise<void | FinishResult>;
}

/** What a plugin knows of the run it serves (`ctx.run`). */
export interface RunInfo {
  /** The run id. */
  id: string;
  /** The stage's id in the pipeline. */
  stage: string;
  /** The pipeline's name (absent in old hosts and some tests). */
  pipeline?: string;
  /** When the run started (epoch ms), the same for every stage and after a resume. */
  startedAt?: number;
}

/**
 * Declares a plugin. The plugin's entry module must `export default definePlugin({...})`.
 *
 * @example
 * ```ts
 * import { definePlugin } from "@sluice/sdk";
 * export default definePlugin<{ field: string }>({
 *   process(items, { config }) {
 *     return items.map((item) => ({ ...item, [config.field]: true }));
 *   },
 * });
 * ```
 */
export function definePlugin<C = Record<string, unknown>, S = unknown>(
  def: PluginDefinition<C, S>,
): PluginDefinition<C, S> {
  if (!def.read && !def.process) {
    throw new TypeError("definePlugin needs `read` (a source) or `process` (a transform or sink)");
  }
  return def;
}
