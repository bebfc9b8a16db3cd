/**
 * `SandboxExecutor`: the production {@linkcode StageExecutor}. Every stage gets a pool of up to
 * `spec.concurrency` warm `deno run` subprocesses holding only the stage's effective permissions;
 * a watchdog kills an instance on timeout, crash, out-of-memory, protocol garbage or abort.
 * @module
 */
import { fileURLToPath } from "node:url";
import { context, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Item, Json, ProcessResult, ReadResult } from "../../sdk/types.ts";
import type { LogLevel } from "../../sdk/plugin.ts";
import {
  type SandboxCallOptions,
  type SandboxLogEntry,
  SandboxProcess,
} from "../../sdk/runtime/sandbox_process.ts";
import { buildSandboxCommand } from "../../sdk/runtime/sandbox_args.ts";
import type { CallContext, StageExecutor, StageInstance, StageSpec } from "../engine/executor.ts";
import { PluginError } from "../engine/executor.ts";
import { InstancePool } from "./pool.ts";
import { describeStage, toPluginError } from "./errors.ts";
import { SandboxError } from "../../sdk/runtime/sandbox_error.ts";
import { activeTraceparent, formatTraceparent } from "../telemetry/tracing.ts";
import type { RawChunk } from "../store/store.ts";

/** A log line from a sandboxed plugin that no call-level `log` took. */
export interface SandboxLogRecord {
  level: LogLevel;
  msg: string;
  data?: Json;
  runId: string;
  stageId: string;
  chunk?: number;
  /** `plugin` (console/SDK logger), `stdout` (stray line) or `stderr`. */
  source: SandboxLogEntry["source"];
  pid: number;
}

/** A metric update from a sandboxed plugin. */
export interface SandboxMetricRecord {
  runId: string;
  stageId: string;
  /** Plugin name from its manifest. */
  plugin: string;
  kind: "count" | "gauge";
  name: string;
  value: number;
}

/**
 * A plugin instance's life: `started` (spawned and loaded), `stopped` (closed or replaced), and
 * `died` when it was killed or crashed during a call (`reason`: timeout, oom, exit, protocol).
 */
export interface SandboxInstanceEvent {
  event: "started" | "stopped" | "died";
  runId: string;
  stageId: string;
  plugin: string;
  reason?: string;
}

/** Options of {@linkcode SandboxExecutor}. */
export interface SandboxExecutorOptions {
  /** The deno binary for plugin processes; defaults to `Deno.execPath()`. */
  denoPath?: string;
  /** DENO_DIR for plugin processes; defaults to the host's. */
  denoDir?: string;
  /** Path of the deno.json whose import map gives `@sluice/sdk`; defaults to the repo's. */
  hostConfig?: string;
  /** npm registry URL for Deno in plugin processes (NPM_CONFIG_REGISTRY); default: the host's. */
  npmRegistry?: string;
  /** Receives log lines that arrive outside a call with its own `log`. */
  log?: (entry: SandboxLogRecord) => void;
  /** Receives plugin metric updates. */
  metric?: (entry: SandboxMetricRecord) => void;
  /** Limit for spawning an instance and loading its entry; default 30 s. */
  startTimeoutMs?: number;
  /**
   * Makes a span per plugin call (a child of the active span, e.g. the engine's chunk span) and
   * hands its `traceparent` to the plugin as `ctx.trace`. Without it the active span's context
   * is handed on.
   */
  tracer?: Tracer;
  /** Receives instance starts, stops and deaths (for metrics). */
  onInstance?: (e: SandboxInstanceEvent) => void;
}

/** The repo's deno.json (it maps `@sluice/sdk`). */
export const DEFAULT_HOST_CONFIG: string = fileURLToPath(
  new URL("../../deno.json", import.meta.url),
);

/** Runs plugin stages in permission-scoped subprocesses. */
export class SandboxExecutor implements StageExecutor {
  #opts: SandboxExecutorOptions;
  #stages = new Set<SandboxStage>();

  constructor(opts: SandboxExecutorOptions = {}) {
    this.#opts = opts;
  }

  /** Checks the stage's permissions, creates its data folder and returns its (lazy) pool. */
  async open(spec: StageSpec): Promise<SandboxStage> {
    const hostConfig = this.#opts.hostConfig ?? DEFAULT_HOST_CONFIG;
    try {
      buildSandboxCommand({
        pluginDir: spec.plugin.dir,
        permissions: spec.permissions,
        dataDir: spec.dataDir,
        inputFile: spec.inputFile,
        memoryMb: spec.memoryMb,
        hostConfig,
      });
      await Deno.mkdir(spec.dataDir, { recursive: true });
    } catch (err) {
      throw toPluginError(err, spec);
    }
    const stage = new SandboxStage(spec, { ...this.#opts, hostConfig }, () => {
      this.#stages.delete(stage);
    });
    this.#stages.add(stage);
    return stage;
  }

  /** Closes every stage this executor opened. */
  async close(): Promise<void> {
    await Promise.all([...this.#stages].map((s) => s.close()));
  }
}

/** One stage's pool of sandboxed plugin instances. */
export class SandboxStage implements StageInstance {
  #spec: StageSpec;
  #opts: SandboxExecutorOptions;
  #pool: InstancePool<SandboxProcess>;
  #onClose: () => void;

  constructor(
    spec: StageSpec,
    opts: SandboxExecutorOptions & { hostConfig: string },
    onClose: () => void,
  ) {
    this.#spec = spec;
    this.#onClose = onClose;
    const tag = { runId: spec.runId, stageId: spec.stageId, plugin: spec.plugin.manifest.name };
    this.#opts = opts;
    // An I/O-bound plugin may serve several chunks per process (manifest `callsPerInstance`):
    // the stage's concurrency is then met by fewer processes.
    const perInstance = Math.max(1, spec.plugin.manifest.callsPerInstance ?? 1);
    this.#pool = new InstancePool<SandboxProcess>({
      size: Math.ceil(spec.concurrency / perInstance),
      callsPerItem: perInstance,
      healthy: (p) => p.alive,
      destroy: (p) => {
        opts.onInstance?.({ ...tag, event: "stopped" });
        return p.close();
      },
      create: (signal) =>
        SandboxProcess.start({
          denoPath: opts.denoPath,
          denoDir: opts.denoDir,
          npmRegistry: opts.npmRegistry,
          hostConfig: opts.hostConfig,
          pluginDir: spec.plugin.dir,
          entry: spec.plugin.manifest.entry,
          permissions: spec.permissions,
          memoryMb: spec.memoryMb,
          startTimeoutMs: opts.startTimeoutMs,
          signal,
          init: {
            config: spec.config,
            secrets: spec.secrets,
            inputs: spec.inputs,
            run: { id: spec.runId, stage: spec.stageId },
            inputFile: spec.inputFile,
            dataDir: spec.dataDir,
            network: spec.network,
          },
          onLog: (e) => opts.log?.({ ...e, runId: tag.runId, stageId: tag.stageId }),
          onMetric: (kind, name, value) => opts.metric?.({ ...tag, kind, name, value }),
        }).then((p) => {
          opts.onInstance?.({ ...tag, event: "started" });
          return p;
        }),
    });
  }

  /** Process ids of the live instances (for tests and diagnostics). */
  pids(): number[] {
    return this.#pool.items().map((p) => p.pid);
  }

  /** Sources: reads the chunk after `cursor`. */
  read(cursor: Json, limit: number, ctx: CallContext): Promise<ReadResult> {
    return this.#call(ctx, (p, o) => p.read(cursor, limit, ctx.chunk, o), "read");
  }

  /** Transforms and sinks: processes a batch. */
  process(items: Item[], ctx: CallContext): Promise<ProcessResult> {
    return this.#call(ctx, (p, o) => p.process(items, ctx.chunk, o), "process", items.length);
  }

  /** Transforms and sinks: processes a batch given as stored JSON bytes, forwarded as they are. */
  processJson(input: RawChunk, ctx: CallContext): Promise<ProcessResult> {
    return this.#call(
      ctx,
      (p, o) => p.processJson(input.parts, ctx.chunk, o),
      "process",
      input.count,
    );
  }

  /** Runs the plugin's `finish` on one instance. */
  finish(ctx: Omit<CallContext, "chunk">): Promise<void> {
    return this.#call(ctx, (p, o) => p.finish(o), "finish");
  }

  /** Stops every instance of this stage. */
  async close(): Promise<void> {
    await this.#pool.close();
    this.#onClose();
  }

  async #call<R>(
    ctx: Omit<CallContext, "chunk"> & { chunk?: number },
    fn: (p: SandboxProcess, opts: SandboxCallOptions) => Promise<R>,
    op: string,
    items?: number,
  ): Promise<R> {
    const where = describeStage(this.#spec);
    if (ctx.signal.aborted) {
      throw new PluginError(`sandbox: ${where}: call aborted before it started`, {
        cause: ctx.signal.reason,
      });
    }
    let proc: SandboxProcess;
    try {
      proc = await this.#pool.acquire(ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted && err === ctx.signal.reason) {
        throw new PluginError(`sandbox: ${where}: call aborted while waiting for an instance`, {
          cause: err,
        });
      }
      throw toPluginError(err, this.#spec);
    }
    const log = ctx.log;
    const span = this.#opts.tracer?.startSpan(`plugin ${op}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        "sluice.run.id": this.#spec.runId,
        "sluice.stage.id": this.#spec.stageId,
        "sluice.plugin": this.#spec.plugin.manifest.name,
        "sluice.plugin.version": this.#spec.plugin.manifest.version,
        "sluice.chunk": ctx.chunk ?? -1,
        "sluice.items.in": items ?? 0,
        "process.pid": proc.pid,
      },
    }, context.active());
    try {
      return await fn(proc, {
        timeoutMs: this.#spec.timeoutMs,
        signal: ctx.signal,
        onLog: log ? (e) => log(e.level, e.msg, e.data) : undefined,
        traceparent: span ? formatTraceparent(span.spanContext()) : activeTraceparent(),
      });
    } catch (err) {
      const e = toPluginError(err, this.#spec);
      if (span) {
        let message = e.message;
        for (const v of Object.values(this.#spec.secrets)) {
          if (v.length >= 3) message = message.replaceAll(v, "[secret]");
        }
        span.setStatus({ code: SpanStatusCode.ERROR, message });
      }
      if (!proc.alive) {
        this.#opts.onInstance?.({
          event: "died",
          runId: this.#spec.runId,
          stageId: this.#spec.stageId,
          plugin: this.#spec.plugin.manifest.name,
          reason: err instanceof SandboxError ? err.kind : "exit",
        });
      }
      throw e;
    } finally {
      span?.end();
      this.#pool.release(proc);
    }
  }
}
