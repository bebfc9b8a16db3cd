/**
 * Plugin-side dispatch shared by the sandbox runtime and the test-only in-process executor:
 * builds the contexts, runs `setup` once, and normalizes results.
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import {
  DEFAULT_NETWORK,
  type FinishResult,
  type Item,
  type Json,
  type NetworkSettings,
  type ProcessResult,
  type ReadResult,
} from "../types.ts";
import type {
  CallContext,
  LogLevel,
  PluginDefinition,
  RunInfo,
  SetupContext,
  TraceContext,
} from "../plugin.ts";
import { checkProcessResult, checkReadResult } from "./result_check.ts";
import { SharedSlots } from "../net/limiter.ts";
import { tallyOfPart } from "../run_tally.ts";

/** What the host tells an instance when it starts. */
export interface InstanceInit {
  config: Record<string, unknown>;
  secrets: Record<string, string>;
  inputs: Record<string, unknown>;
  run: RunInfo;
  inputFile?: string;
  /** The input file's original name (see `SetupContext.inputName`). */
  inputName?: string;
  dataDir: string;
  /** Network settings (absent: {@link DEFAULT_NETWORK}). */
  network?: NetworkSettings;
}

/**
 * Receives log lines and metric updates from the plugin, and grants its shared slots
 * (`ctx.limits`; without `acquire`, slots shared within this process: {@linkcode IN_PROCESS_SLOTS}).
 */
export interface InstanceSink {
  log(level: LogLevel, msg: string, data: Json | undefined, chunk: number | undefined): void;
  metric(kind: "count" | "gauge", name: string, value: number): void;
  acquire?(key: string, limit: number, signal?: AbortSignal): Promise<() => void>;
}

/**
 * The slots of `ctx.limits` where no host grants them (the in-process executor, a plugin run
 * directly): shared by every instance in this process, as a host shares them between the
 * sandbox processes of one plugin.
 */
export const IN_PROCESS_SLOTS: SharedSlots = new SharedSlots();

/** Longest key of `ctx.limits.acquire`. */
export const MAX_LIMIT_KEY = 256;

/** Checks the arguments of `ctx.limits.acquire` (the same on both sides of the sandbox). */
export function checkLimitArgs(key: unknown, limit: unknown): void {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_LIMIT_KEY) {
    throw new TypeError(
      `ctx.limits.acquire: the key must be a string of 1 to ${MAX_LIMIT_KEY} characters`,
    );
  }
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
    throw new TypeError("ctx.limits.acquire: the limit must be a whole number of at least 1");
  }
}

/**
 * One live plugin instance, callable by the host side (`traceparent`: the call's trace;
 * `deadline`: when the host ends the call, epoch ms, handed to the plugin as `ctx.deadline`).
 */
export interface PluginInstance {
  read(
    cursor: Json,
    limit: number,
    chunk: number,
    signal: AbortSignal,
    traceparent?: string,
    deadline?: number,
  ): Promise<ReadResult>;
  process(
    items: Item[],
    chunk: number,
    signal: AbortSignal,
    traceparent?: string,
    deadline?: number,
    part?: number,
  ): Promise<ProcessResult>;
  finish(
    signal: AbortSignal,
    traceparent?: string,
    deadline?: number,
  ): Promise<FinishResult | undefined>;
}

/**
 * A plugin's `finish` result, checked and with absolute file paths (relative ones are taken from
 * the data folder); undefined when it named no files.
 */
export function finishResultOf(out: unknown, dataDir: string): FinishResult | undefined {
  if (out === undefined || out === null) return undefined;
  const files = (out as FinishResult).files;
  if (
    typeof out !== "object" || (files !== undefined &&
      (!Array.isArray(files) || files.some((f) => typeof f !== "string" || f === "")))
  ) {
    throw new TypeError(
      `finish() returned ${
        JSON.stringify(out)?.slice(0, 200)
      }; return nothing, or { files: ["<path of a finished file>", ...] }`,
    );
  }
  if (!files?.length) return undefined;
  return { files: files.map((f) => isAbsolute(f) ? resolve(f) : resolve(dataDir, f)) };
}

/**
 * The host called a hook the plugin does not define: its `plugin.json` `kind` and its entry
 * module disagree. No attempt can fix that (every call fails alike), so it is not retried, and
 * it says which of the two to change.
 */
function kindMismatch(hook: "read" | "process"): Error {
  const err = new TypeError(
    hook === "read"
      ? 'plugin.json says kind "source", so the engine calls read(), but the entry module\'s ' +
        'definePlugin({...}) has no read(cursor, limit, ctx): fix "kind" in plugin.json ' +
        '("transform" or "sink" for a plugin with process()), or add read()'
      : 'plugin.json says kind "transform" or "sink", so the engine calls process(), but the ' +
        'entry module\'s definePlugin({...}) has no process(items, ctx): fix "kind" in ' +
        'plugin.json ("source" for a plugin with read()), or add process()',
  );
  (err as TypeError & { retryable: boolean }).retryable = false;
  return err;
}

/** The trace context in a W3C `traceparent`, or undefined when absent or malformed. */
export function traceContextOf(traceparent: string | undefined): TraceContext | undefined {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent ?? "");
  return m ? { traceparent: m[0], traceId: m[1], spanId: m[2] } : undefined;
}

/**
 * Creates an instance of `def`; `setup` runs lazily on the first call, once (again at the next
 * call when it failed).
 */
export function createPluginInstance(
  def: PluginDefinition<Record<string, unknown>, unknown>,
  init: InstanceInit,
  sink: InstanceSink,
  lifetime: AbortSignal,
): PluginInstance {
  const limits = {
    acquire(key: string, limit: number, signal?: AbortSignal): Promise<() => void> {
      try {
        checkLimitArgs(key, limit);
      } catch (e) {
        return Promise.reject(e);
      }
      return sink.acquire
        ? sink.acquire(key, limit, signal)
        : IN_PROCESS_SLOTS.acquire(key, limit, signal);
    },
  };
  const base = (chunk: number | undefined, signal: AbortSignal, part = 0): SetupContext<
    Record<string, unknown>
  > => ({
    config: init.config,
    secrets: Object.freeze({ ...init.secrets }),
    inputs: Object.freeze({ ...init.inputs }),
    run: init.run,
    inputFile: init.inputFile,
    ...(init.inputFile && init.inputName ? { inputName: init.inputName } : {}),
    dataDir: init.dataDir,
    network: init.network ?? DEFAULT_NETWORK,
    signal,
    log: {
      debug: (m, d) => sink.log("debug", m, tallyOfPart(d, part), chunk),
      info: (m, d) => sink.log("info", m, tallyOfPart(d, part), chunk),
      warn: (m, d) => sink.log("warn", m, tallyOfPart(d, part), chunk),
      error: (m, d) => sink.log("error", m, tallyOfPart(d, part), chunk),
    },
    metrics: {
      count: (name, value = 1) => sink.metric("count", name, value),
      gauge: (name, value) => sink.metric("gauge", name, value),
    },
    limits,
  });
  let state: Promise<unknown> | undefined;
  // A setup that failed runs again at the next call (a database not reachable yet may be by
  // then): a rejected promise kept here would fail every retry of the instance alike.
  const ready = (): Promise<unknown> => {
    if (state) return state;
    const started = (async () => await def.setup?.(base(undefined, lifetime)))();
    state = started;
    started.catch(() => {
      if (state === started) state = undefined;
    });
    return started;
  };
  const ctx = async (
    chunk: number,
    signal: AbortSignal,
    traceparent?: string,
    deadline?: number,
    part = 0,
  ): Promise<CallContext<Record<string, unknown>, unknown>> => ({
    ...base(chunk, signal, part),
    state: await ready(),
    chunk,
    part,
    trace: traceContextOf(traceparent),
    deadline,
  });
  return {
    async read(cursor, limit, chunk, signal, traceparent, deadline) {
      if (!def.read) throw kindMismatch("read");
      return checkReadResult(
        await def.read(cursor, limit, await ctx(chunk, signal, traceparent, deadline)),
        cursor,
      );
    },
    async process(items, chunk, signal, traceparent, deadline, part) {
      if (!def.process) throw kindMismatch("process");
      return checkProcessResult(
        await def.process(items, await ctx(chunk, signal, traceparent, deadline, part)),
      );
    },
    async finish(signal, traceparent, deadline) {
      if (!def.finish) return undefined;
      return finishResultOf(
        await def.finish(await ctx(-1, signal, traceparent, deadline)),
        init.dataDir,
      );
    },
  };
}
