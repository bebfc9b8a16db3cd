/**
 * Plugin-side dispatch shared by the sandbox runtime and the test-only in-process executor:
 * builds the contexts, runs `setup` once, and normalizes results.
 * @module
 */
import {
  DEFAULT_NETWORK,
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
  SetupContext,
  TraceContext,
} from "../plugin.ts";

/** What the host tells an instance when it starts. */
export interface InstanceInit {
  config: Record<string, unknown>;
  secrets: Record<string, string>;
  inputs: Record<string, unknown>;
  run: { id: string; stage: string };
  inputFile?: string;
  dataDir: string;
  /** Network settings (absent: {@link DEFAULT_NETWORK}). */
  network?: NetworkSettings;
}

/** Receives log lines and metric updates from the plugin. */
export interface InstanceSink {
  log(level: LogLevel, msg: string, data: Json | undefined, chunk: number | undefined): void;
  metric(kind: "count" | "gauge", name: string, value: number): void;
}

/** One live plugin instance, callable by the host side (`traceparent`: the call's trace). */
export interface PluginInstance {
  read(
    cursor: Json,
    limit: number,
    chunk: number,
    signal: AbortSignal,
    traceparent?: string,
  ): Promise<ReadResult>;
  process(
    items: Item[],
    chunk: number,
    signal: AbortSignal,
    traceparent?: string,
  ): Promise<ProcessResult>;
  finish(signal: AbortSignal, traceparent?: string): Promise<void>;
}

/** The trace context in a W3C `traceparent`, or undefined when absent or malformed. */
export function traceContextOf(traceparent: string | undefined): TraceContext | undefined {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent ?? "");
  return m ? { traceparent: m[0], traceId: m[1], spanId: m[2] } : undefined;
}

/** Creates an instance of `def`; `setup` runs lazily on the first call, once. */
export function createPluginInstance(
  def: PluginDefinition<Record<string, unknown>, unknown>,
  init: InstanceInit,
  sink: InstanceSink,
  lifetime: AbortSignal,
): PluginInstance {
  const base = (chunk: number | undefined, signal: AbortSignal): SetupContext<
    Record<string, unknown>
  > => ({
    config: init.config,
    secrets: Object.freeze({ ...init.secrets }),
    inputs: Object.freeze({ ...init.inputs }),
    run: init.run,
    inputFile: init.inputFile,
    dataDir: init.dataDir,
    network: init.network ?? DEFAULT_NETWORK,
    signal,
    log: {
      debug: (m, d) => sink.log("debug", m, d, chunk),
      info: (m, d) => sink.log("info", m, d, chunk),
      warn: (m, d) => sink.log("warn", m, d, chunk),
      error: (m, d) => sink.log("error", m, d, chunk),
    },
    metrics: {
      count: (name, value = 1) => sink.metric("count", name, value),
      gauge: (name, value) => sink.metric("gauge", name, value),
    },
  });
  let state: Promise<unknown> | undefined;
  const ready = () => state ??= Promise.resolve(def.setup?.(base(undefined, lifetime)));
  const ctx = async (
    chunk: number,
    signal: AbortSignal,
    traceparent?: string,
  ): Promise<CallContext<Record<string, unknown>, unknown>> => ({
    ...base(chunk, signal),
    state: await ready(),
    chunk,
    trace: traceContextOf(traceparent),
  });
  return {
    async read(cursor, limit, chunk, signal, traceparent) {
      if (!def.read) throw new TypeError("this plugin is not a source: it has no read()");
      return await def.read(cursor, limit, await ctx(chunk, signal, traceparent));
    },
    async process(items, chunk, signal, traceparent) {
      if (!def.process) throw new TypeError("this plugin is a source: it has no process()");
      const out = await def.process(items, await ctx(chunk, signal, traceparent));
      return Array.isArray(out) ? { items: out } : out;
    },
    async finish(signal, traceparent) {
      if (def.finish) await def.finish(await ctx(-1, signal, traceparent));
    },
  };
}
