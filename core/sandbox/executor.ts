/**
 * `SandboxExecutor`: the production {@linkcode StageExecutor}. Plugin code runs in warm
 * `deno run` subprocesses holding only the stage's effective permissions. A process is shared
 * by the runs of one plugin (same version, effective permissions, memory cap, data folder and
 * input file): it loads the plugin once and holds one plugin instance per run (its own config,
 * secrets, inputs, run id and `setup()` state), so a new run reuses a warm process instead of
 * spawning one. A run's stage uses at most `ceil(concurrency / callsPerInstance)` processes, as
 * with a pool of its own; processes serving no run are closed after `idleMs`, and at most
 * `maxIdle` are kept (those that read webhook bodies and uploads on the request's path are closed
 * last). A watchdog kills a process on timeout, crash, out-of-memory or protocol
 * garbage (the calls of every run in it fail and are retried); an aborted call (a cancelled run)
 * kills its process only when no other call is running there.
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { context, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { FinishResult, Item, Json, ProcessResult, ReadResult } from "../../sdk/types.ts";
import type { LogLevel } from "../../sdk/plugin.ts";
import {
  type SandboxCallOptions,
  type SandboxLogEntry,
  SandboxProcess,
} from "../../sdk/runtime/sandbox_process.ts";
import { buildSandboxCommand } from "../../sdk/runtime/sandbox_args.ts";
import { maskSecrets } from "../../sdk/runtime/secret_mask.ts";
import { SharedSlots } from "../../sdk/net/limiter.ts";
import type { CallContext, StageExecutor, StageInstance, StageSpec } from "../engine/executor.ts";
import { PluginError, runInfo } from "../engine/executor.ts";
import { type PoolUser, SharedPool } from "./pool.ts";
import { describeStage, toPluginError } from "./errors.ts";
import { SandboxError } from "../../sdk/runtime/sandbox_error.ts";
import { isNotCached } from "../../sdk/runtime/death.ts";
import { ensureCached } from "./ensure_cached.ts";
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
  /**
   * How long a plugin process that serves no run is kept for the next run of the same plugin
   * with the same permissions (default 30,000 ms; 0 closes it at once).
   */
  idleMs?: number;
  /**
   * Most plugin processes kept while serving no run, over all plugins (default
   * {@linkcode DEFAULT_MAX_IDLE}). Over it the oldest are closed, source processes with an inbox
   * (webhook bodies, upload preflights) last.
   */
  maxIdle?: number;
  /**
   * Processes of one plugin (with the same permissions) that concurrent runs may share in all,
   * when their stages' concurrency adds up to more (default: the number of CPU cores). A run's
   * own stage never gets fewer than its concurrency allows.
   */
  sharedProcesses?: number;
  /**
   * Most bytes of one line a plugin process writes to stdout (one protocol message); a longer
   * line kills the process and fails its calls (retryable). Default 64 MiB
   * (`MAX_STDOUT_LINE_BYTES` in `sdk/runtime/sandbox_process.ts`).
   */
  maxLineBytes?: number;
  /**
   * Most resident memory of one plugin process in MB before it is killed (retryable); default
   * the stage's `memoryMb` + 512 (`RSS_HEADROOM_MB` in `sdk/runtime/sandbox_process.ts`): the V8
   * heap cap does not count ArrayBuffers.
   */
  maxRssMb?: number;
}

/**
 * Plugin processes kept at most while they serve no run, unless told otherwise
 * (`engine.sandboxMaxIdle`): more than the flagship pipeline has alive (14: 13 for its 10 stages,
 * http-probe's four among them, and the source's warm process that checks uploads), so its next run,
 * by webhook or upload, starts none of them again. Measured on 2 cores (bench/RESULTS.md,
 * 2026-12-02): a one-business flagship run right after another took 0.30-0.35 s and 0.25 s of CPU
 * with them all kept, 1.0-1.1 s and 1.0 s with 4 kept (0.15-0.22 s and 0.13-0.18 s once its
 * upload, too, went to the warm source process). They are the processes the last runs had
 * alive anyway, kept `idleMs` longer: 17-35 MiB PSS each.
 */
export const DEFAULT_MAX_IDLE = 16;

/** The repo's deno.json (it maps `@sluice/sdk`). */
export const DEFAULT_HOST_CONFIG: string = fileURLToPath(
  new URL("../../deno.json", import.meta.url),
);

type Options = SandboxExecutorOptions & { hostConfig: string };

/** Who a process's own log lines (stderr, stray stdout) are attributed to: its latest run. */
interface ProcessTag {
  runId: string;
  stageId: string;
}

/** Runs plugin stages in permission-scoped subprocesses. */
export class SandboxExecutor implements StageExecutor {
  /** A source's input held by the run record is written to its process's inbox. */
  readonly takesInputText = true;
  /** A stage can start its process before its first call (`SandboxStage.warm`). */
  readonly warms = true;
  #opts: SandboxExecutorOptions;
  #groups = new Map<string, ProcessGroup>();
  #stages = new Set<SandboxStage>();
  /** Processes serving no run, oldest first, with their idle timers. */
  #idle = new Map<SandboxProcess, IdleEntry>();
  #closed = false;
  #draining = new Set<Promise<void>>();
  /** Data folders known to exist. */
  #dirs = new Set<string>();
  /** The folder of every process's inbox (see ProcessGroup), made on first use. */
  #inboxRoot?: Promise<string>;
  /** Host-side `deno cache` of a plugin folder's npm dependencies, at most one at a time each. */
  #caching = new Map<string, Promise<void>>();
  /** `ctx.limits` of each plugin (by name), shared by all its processes (see `SharedLimits`). */
  #slots = new Map<string, SharedSlots>();

  constructor(opts: SandboxExecutorOptions = {}) {
    this.#opts = opts;
  }

  #slotsOf(plugin: string): SharedSlots {
    let slots = this.#slots.get(plugin);
    if (!slots) this.#slots.set(plugin, slots = new SharedSlots());
    return slots;
  }

  /** Checks the stage's permissions, creates its data folder and returns it (processes start lazily). */
  async open(spec: StageSpec): Promise<SandboxStage> {
    const hostConfig = this.#opts.hostConfig ?? DEFAULT_HOST_CONFIG;
    try {
      buildSandboxCommand({
        pluginDir: spec.plugin.dir,
        permissions: spec.permissions,
        dataDir: spec.dataDir,
        inputFile: spec.inputText === undefined ? spec.inputFile : undefined,
        memoryMb: spec.memoryMb,
        hostConfig,
      });
      if (!this.#dirs.has(spec.dataDir)) {
        await Deno.mkdir(spec.dataDir, { recursive: true });
        this.#dirs.add(spec.dataDir);
      }
    } catch (err) {
      throw toPluginError(err, spec);
    }
    if (this.#closed) throw toPluginError(new Error("the sandbox executor is closed"), spec);
    const key = processKey(spec);
    let group = this.#groups.get(key);
    if (!group) {
      group = new ProcessGroup(
        spec,
        { ...this.#opts, hostConfig },
        (proc, idle) => this.#onIdle(group!, proc, idle),
        () => this.#inboxRoot ??= makeInboxRoot(),
        () => this.#cacheDependencies(spec, hostConfig),
        this.#slotsOf(spec.plugin.manifest.name),
      );
      this.#groups.set(key, group);
    }
    const g = group;
    const stage = new SandboxStage(spec, { ...this.#opts, hostConfig }, g, () => {
      this.#stages.delete(stage);
      g.remove(stage, this.#opts.sharedProcesses);
      this.#forgetIfEmpty(key, g);
    });
    this.#stages.add(stage);
    g.add(stage, this.#opts.sharedProcesses);
    return stage;
  }

  /** Process ids of every plugin process alive now (for tests and diagnostics). */
  pids(): number[] {
    return [...this.#groups.values()].flatMap((g) => g.pool.items().map((p) => p.pid));
  }

  /** Closes every stage this executor opened and stops every process. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const e of this.#idle.values()) clearTimeout(e.timer);
    this.#idle.clear();
    // Processes first (calls in flight fail as shut down), then the stages' bookkeeping.
    await Promise.all([...this.#groups.values()].map((g) => g.close()));
    await Promise.all([...this.#stages].map((s) => s.close()));
    this.#groups.clear();
    while (this.#draining.size > 0) await Promise.allSettled([...this.#draining]);
    const root = await this.#inboxRoot?.catch(() => undefined);
    if (root) await Deno.remove(root, { recursive: true }).catch(() => {});
    this.#inboxRoot = undefined;
  }

  /**
   * Fills the Deno cache with what the plugin's entry imports, on the host (the sandbox never
   * downloads). Called when a process could not load because a dependency was not cached: a
   * first-party plugin on a fresh machine (`deno install` caches the repo's pinned packages but
   * not every registry record a sandbox resolving without the lockfile needs), or a cache that
   * was cleared after an install. Runs no plugin code.
   */
  #cacheDependencies(spec: StageSpec, hostConfig: string): Promise<void> {
    const key = spec.plugin.dir;
    let job = this.#caching.get(key);
    if (!job) {
      const { name, version } = spec.plugin.manifest;
      this.#opts.log?.({
        level: "info",
        msg: `caching the npm dependencies of plugin ${name}@${version} (first use here)`,
        runId: spec.runId,
        stageId: spec.stageId,
        source: "plugin",
        pid: 0,
      });
      job = ensureCached(spec.plugin, {
        denoPath: this.#opts.denoPath,
        denoDir: this.#opts.denoDir,
        hostConfig,
        npmRegistry: this.#opts.npmRegistry,
      }).finally(() => this.#caching.delete(key));
      this.#caching.set(key, job);
    }
    return job;
  }

  #onIdle(group: ProcessGroup, proc: SandboxProcess, idle: boolean): void {
    const known = this.#idle.get(proc);
    if (!idle) {
      if (known) {
        clearTimeout(known.timer);
        this.#idle.delete(proc);
      }
      return;
    }
    if (known || this.#closed) return;
    // A process whose permissions name a run's input file serves only runs of that file
    // (usually one): it is not kept.
    const ms = group.inputFile ? 0 : this.#opts.idleMs ?? 30_000;
    const entry: IdleEntry = { group, closing: ms === 0 };
    this.#idle.set(proc, entry);
    if (entry.closing) {
      // Closed at once, so it does not count against maxIdle: no kept process is closed to make
      // room for it.
      queueMicrotask(() => this.#evict(proc));
      return;
    }
    const timer = setTimeout(() => this.#evict(proc), ms);
    Deno.unrefTimer(timer);
    entry.timer = timer;
    // Over maxIdle, the oldest go first; those with an inbox (the source processes that read
    // webhook bodies and check uploads before their runs are recorded, on the request's path)
    // only after every other.
    const kept = [...this.#idle].filter(([, e]) => !e.closing);
    kept.sort(([, a], [, b]) => Number(a.group.inbox) - Number(b.group.inbox));
    let excess = kept.length - Math.max(0, this.#opts.maxIdle ?? DEFAULT_MAX_IDLE);
    for (const [oldest, e] of kept) {
      if (excess-- <= 0) break;
      e.closing = true;
      queueMicrotask(() => this.#evict(oldest));
    }
  }

  #evict(proc: SandboxProcess): void {
    const e = this.#idle.get(proc);
    if (!e) return;
    clearTimeout(e.timer);
    this.#idle.delete(proc);
    e.group.pool.evict(proc);
    for (const [key, g] of this.#groups) if (g === e.group) this.#forgetIfEmpty(key, g);
  }

  #forgetIfEmpty(key: string, g: ProcessGroup): void {
    if (g.stages.size === 0 && g.pool.empty && this.#groups.get(key) === g) {
      this.#groups.delete(key);
      // Processes it is still stopping are awaited by close().
      const p = g.close();
      this.#draining.add(p);
      p.finally(() => this.#draining.delete(p));
    }
  }
}

/**
 * Makes this process's inbox root in the temp folder, named with its pid, and removes roots left
 * by processes that are gone (killed before they could clean up; Linux, where `/proc` tells).
 */
async function makeInboxRoot(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: `sluice-inbox-${Deno.pid}-` });
  const tmp = dirname(root);
  try {
    for await (const e of Deno.readDir(tmp)) {
      const pid = /^sluice-inbox-(\d+)-/.exec(e.name)?.[1];
      if (!e.isDirectory || !pid || Number(pid) === Deno.pid) continue;
      const alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
      if (!alive && await Deno.stat("/proc/self").then(() => true, () => false)) {
        await Deno.remove(join(tmp, e.name), { recursive: true }).catch(() => {});
      }
    }
  } catch { /* best effort */ }
  return root;
}

/** What makes two stages able to share a process: the same command line, niceness and plugin. */
function processKey(spec: StageSpec): string {
  const p = spec.permissions;
  const set = (a: string[] | undefined) => [...new Set(a ?? [])].sort();
  const m = spec.plugin.manifest;
  return JSON.stringify([
    spec.plugin.dir,
    m.name,
    m.version,
    m.entry,
    spec.plugin.integrity ?? "",
    set(p.net),
    set(p.read),
    set(p.write),
    set(p.env),
    spec.memoryMb,
    spec.nice ?? 0,
    spec.network?.allowPrivate === true,
    spec.dataDir,
    // Inputs held by run records go through the process's inbox: any such run may share it.
    spec.inputText !== undefined ? "(inbox)" : spec.inputFile ?? "",
    // Runs granted different secrets never share a process (a plugin's memory holds every
    // run it serves); only a digest of them is kept here.
    secretsDigest(spec.secrets),
  ]);
}

function secretsDigest(secrets: Record<string, string>): string {
  const names = Object.keys(secrets).sort();
  if (names.length === 0) return "";
  const h = createHash("sha256");
  for (const n of names) h.update(`${n}\0${secrets[n]}\0`);
  return h.digest("base64");
}

/** A process serving no run: its group, its idle timer, and whether it is being closed. */
interface IdleEntry {
  group: ProcessGroup;
  timer?: ReturnType<typeof setTimeout>;
  /** Closed at the next microtask (no input-file reuse, or over `maxIdle`). */
  closing: boolean;
}

/** The shared processes of one plugin with one set of permissions, and the stages using them. */
class ProcessGroup {
  readonly pool: SharedPool<SandboxProcess>;
  readonly stages = new Set<SandboxStage>();
  readonly perInstance: number;
  /** The input file its processes may read, if any. */
  readonly inputFile?: string;
  /** Whether its processes get an inbox for the input files of the runs they serve. */
  readonly inbox: boolean;
  /** Each process's inbox folder. */
  readonly inboxes = new WeakMap<SandboxProcess, string>();
  /** Whether the plugin defines `finish()`, once a process has loaded it. */
  hasFinish?: boolean;
  /** The run each process served last (its own log lines are attributed to it). */
  readonly tags = new WeakMap<SandboxProcess, ProcessTag>();
  #all = new Set<SandboxProcess>();

  constructor(
    spec: StageSpec,
    opts: Options,
    onIdle: (proc: SandboxProcess, idle: boolean) => void,
    inboxRoot: () => Promise<string>,
    cacheDependencies: () => Promise<void>,
    slots: SharedSlots,
  ) {
    const plugin = spec.plugin.manifest.name;
    this.inbox = spec.inputText !== undefined;
    this.inputFile = this.inbox ? undefined : spec.inputFile;
    // An I/O-bound plugin may serve several calls per process (manifest `callsPerInstance`).
    this.perInstance = Math.max(1, spec.plugin.manifest.callsPerInstance ?? 1);
    this.pool = new SharedPool<SandboxProcess>({
      size: 1,
      callsPerItem: this.perInstance,
      healthy: (p) => p.usable,
      onIdle,
      destroy: (p) => {
        const tag = this.tags.get(p);
        opts.onInstance?.({
          runId: tag?.runId ?? spec.runId,
          stageId: tag?.stageId ?? spec.stageId,
          plugin,
          event: "stopped",
        });
        // A retiring process kills itself once its last call ends (see SandboxProcess).
        return p.alive && !p.usable ? p.exited.then(() => {}) : p.close();
      },
      create: async (signal) => {
        // The stage that needs the process first; later runs take over its own log lines.
        const first = [...this.stages].find((s) => s.wantsProcess) ?? undefined;
        const tag: ProcessTag = {
          runId: first?.runId ?? spec.runId,
          stageId: first?.stageId ?? spec.stageId,
        };
        // Log lines can arrive while the process loads, before it is known here.
        const holder: { tag: ProcessTag; proc?: SandboxProcess } = { tag };
        // Readable by this process only; it holds the input files of the runs it serves.
        const inbox = this.inbox
          ? await Deno.makeTempDir({ dir: await inboxRoot(), prefix: "p-" })
          : undefined;
        const removeInbox = () =>
          inbox ? Deno.remove(inbox, { recursive: true }).catch(() => {}) : Promise.resolve();
        const tagOf = () => (holder.proc && this.tags.get(holder.proc)) ?? holder.tag;
        const start = () =>
          SandboxProcess.start({
            denoPath: opts.denoPath,
            denoDir: opts.denoDir,
            npmRegistry: opts.npmRegistry,
            hostConfig: opts.hostConfig,
            pluginDir: spec.plugin.dir,
            entry: spec.plugin.manifest.entry,
            permissions: spec.permissions,
            memoryMb: spec.memoryMb,
            nice: spec.nice,
            dataDir: spec.dataDir,
            inputFile: this.inputFile,
            inputDir: inbox,
            startTimeoutMs: opts.startTimeoutMs,
            maxLineBytes: opts.maxLineBytes,
            maxRssMb: opts.maxRssMb,
            allowPrivate: spec.network?.allowPrivate,
            slots,
            signal,
            onLog: (e) => {
              const t = tagOf();
              opts.log?.({ ...e, runId: t.runId, stageId: t.stageId });
            },
            onMetric: (kind, name, value) => {
              const t = tagOf();
              opts.metric?.({ runId: t.runId, stageId: t.stageId, plugin, kind, name, value });
            },
          });
        const started: SandboxProcess = await start().catch(async (err) => {
          if (!isNotCached(err)) throw err;
          // The host fills the cache (the sandbox never downloads), then the process starts again.
          try {
            await cacheDependencies();
          } catch (cacheErr) {
            throw new SandboxError(
              "load",
              `${(err as Error).message}. Sluice tried to cache them and could not: ` +
                (cacheErr as Error).message,
              { cause: cacheErr },
            );
          }
          return await start();
        }).catch(async (err) => {
          await removeInbox();
          throw err;
        });
        holder.proc = started;
        this.tags.set(started, tag);
        this.hasFinish = started.hasFinish;
        if (inbox) this.inboxes.set(started, inbox);
        this.#all.add(started);
        started.exited.finally(() => {
          this.#all.delete(started);
          return removeInbox();
        });
        opts.onInstance?.({ ...tag, plugin, event: "started" });
        return started;
      },
    });
  }

  /** Adds a stage and sizes the pool for the stages now open. */
  add(stage: SandboxStage, shared?: number): void {
    this.stages.add(stage);
    this.#resize(shared);
  }

  /** Removes a closed stage. */
  remove(stage: SandboxStage, shared?: number): void {
    this.stages.delete(stage);
    this.#resize(shared);
  }

  /**
   * Room for the largest stage's own processes, and for the stages together up to `shared`
   * processes (CPU cores by default): more processes than cores only queue for the CPU.
   */
  #resize(shared = navigator.hardwareConcurrency || 1): void {
    let sum = 0, max = 1;
    for (const s of this.stages) {
      sum += s.limit;
      max = Math.max(max, s.limit);
    }
    this.pool.size = Math.max(max, Math.min(sum, shared));
  }

  /** Stops every process, also those retiring after an abandoned call. */
  async close(): Promise<void> {
    // Retiring processes are killed (their pool entry waits for that); the others shut down.
    const retiring = [...this.#all].filter((p) => p.alive && !p.usable);
    await Promise.all([this.pool.close(), ...retiring.map((p) => p.kill())]);
    await Promise.all([...this.#all].map((p) => p.kill()));
  }
}

/**
 * One run's stage: its calls go to the processes of its plugin's {@link ProcessGroup}, in each
 * of which its run is opened once (a plugin instance of its own).
 */
export class SandboxStage implements StageInstance, PoolUser<SandboxProcess> {
  /** Most processes this stage uses at once. */
  readonly limit: number;
  /** Processes where this stage's run is open (or being opened). */
  readonly held = new Set<SandboxProcess>();
  #spec: StageSpec;
  #opts: Options;
  #group: ProcessGroup;
  #handles = new Map<SandboxProcess, number>();
  /** Input files this stage's run put in process inboxes. */
  #inboxFiles = new Map<SandboxProcess, string>();
  #closed = new AbortController();
  #waiting = 0;
  /** The warm-up under way ({@link warm}). */
  #warming?: Promise<void>;
  #onClose: () => void;

  constructor(spec: StageSpec, opts: Options, group: ProcessGroup, onClose: () => void) {
    this.#spec = spec;
    this.#opts = opts;
    this.#group = group;
    this.#onClose = onClose;
    this.limit = Math.ceil(spec.concurrency / group.perInstance);
  }

  /** The run id (for process tags). */
  get runId(): string {
    return this.#spec.runId;
  }

  /** The stage id (for process tags). */
  get stageId(): string {
    return this.#spec.stageId;
  }

  /** True while a call of this stage waits for a process. */
  get wantsProcess(): boolean {
    return this.#waiting > 0;
  }

  /** Called by the pool when it hands this stage a process it did not use yet. */
  take(proc: SandboxProcess): void {
    this.held.add(proc);
  }

  /** Process ids of the live processes where this stage's run is open (tests, diagnostics). */
  pids(): number[] {
    return [...this.held].filter((p) => p.alive).map((p) => p.pid);
  }

  /**
   * Takes a process for this stage before its first call (a warm one, else a new one starts) and
   * opens the run there, so that call does not wait for a process to start; a call made meanwhile
   * waits for this one's process instead of starting another.
   */
  warm(): Promise<void> {
    // Nothing to do once the stage holds a process, or a call of it is getting one.
    if (this.held.size > 0 || this.#waiting > 0 || this.#closed.signal.aborted) {
      return Promise.resolve();
    }
    return this.#warming ??= this.#warmUp().finally(() => this.#warming = undefined);
  }

  async #warmUp(): Promise<void> {
    this.#waiting++;
    let proc: SandboxProcess;
    try {
      proc = await this.#group.pool.acquire(this, this.#closed.signal);
    } finally {
      this.#waiting--;
    }
    try {
      this.#open(proc);
    } finally {
      this.#group.pool.release(proc);
    }
  }

  /** Sources: reads the chunk after `cursor`. */
  read(cursor: Json, limit: number, ctx: CallContext): Promise<ReadResult> {
    return this.#call(ctx, (p, o) => p.read(cursor, limit, ctx.chunk, o), "read");
  }

  /**
   * Transforms and sinks: processes a batch. A sink that returns the items it was given does not
   * send them back (`passOn`): the result holds them as they were sent.
   */
  process(items: Item[], ctx: CallContext): Promise<ProcessResult> {
    return this.#call(
      ctx,
      (p, o) => p.process(items, ctx.chunk, { ...o, passOn: this.#sink, part: ctx.part }),
      "process",
      items.length,
    );
  }

  /**
   * Transforms and sinks: processes a batch given as stored JSON bytes, forwarded as they are. A
   * sink that returns the items it was given does not send them back: the result is marked
   * `PASSED_INPUT` (`sdk/raw_items.ts`) and the input is the output.
   */
  processJson(input: RawChunk, ctx: CallContext): Promise<ProcessResult> {
    return this.#call(
      ctx,
      (p, o) => p.processJson(input.parts, ctx.chunk, { ...o, passOn: this.#sink }),
      "process",
      input.count,
    );
  }

  /** A sink's items pass on as it got them (`kind: "sink"` in its manifest). */
  get #sink(): boolean {
    return this.#spec.plugin.manifest.kind === "sink";
  }

  /**
   * Runs the plugin's `finish` on one instance (nothing to do when the plugin has none); resolves
   * to the files it names.
   */
  finish(ctx: Omit<CallContext, "chunk">): Promise<FinishResult | undefined> {
    if (this.#group.hasFinish === false) return Promise.resolve(undefined);
    return this.#call(ctx, (p, o) => p.finish(o), "finish");
  }

  /**
   * Closes this stage's run in every process that serves it (they stay warm for other runs).
   * Calls still running are failed (aborted).
   */
  close(): Promise<void> {
    if (this.#closed.signal.aborted) return Promise.resolve();
    this.#closed.abort(new Error("the stage was closed"));
    for (const [proc, run] of this.#handles) proc.closeRun(run);
    this.#handles.clear();
    for (const f of this.#inboxFiles.values()) {
      try {
        Deno.removeSync(f);
      } catch { /* gone with its process */ }
    }
    this.#inboxFiles.clear();
    for (const p of this.held) this.#group.pool.unhold(p);
    this.held.clear();
    this.#onClose();
    return Promise.resolve();
  }

  /** This run's handle in `proc`, opening the run there on first use. */
  #open(proc: SandboxProcess): number {
    let h = this.#handles.get(proc);
    if (h === undefined) {
      h = this.#openIn(proc);
      this.#handles.set(proc, h);
    }
    return h;
  }

  #openIn(proc: SandboxProcess): number {
    const spec = this.#spec;
    let inputFile = spec.inputFile;
    let inputName = spec.inputName;
    if (spec.inputText !== undefined) {
      // The run's input goes to the process's own inbox (removed when the run closes).
      const inbox = this.#group.inboxes.get(proc);
      if (!inbox) throw new Error("the plugin process has no inbox for the run's input");
      const stored = basename(spec.inputFile ?? `${spec.runId}.input`);
      inputFile = join(inbox, stored);
      // The inbox is a temporary folder of this process, which means nothing to the user:
      // messages name the input by its own name, else by the stored file's (the run's id).
      inputName ??= stored;
      this.#inboxFiles.set(proc, inputFile);
      // Small (a run record holds it): a synchronous write costs less than an async one.
      Deno.writeTextFileSync(inputFile, spec.inputText);
    }
    const tag = { runId: spec.runId, stageId: spec.stageId, plugin: spec.plugin.manifest.name };
    return proc.openRun({
      config: spec.config,
      secrets: spec.secrets,
      inputs: spec.inputs,
      run: runInfo(spec),
      inputFile,
      ...(inputFile && inputName ? { inputName } : {}),
      dataDir: spec.dataDir,
      network: spec.network,
    }, {
      onLog: (e) => this.#opts.log?.({ ...e, runId: tag.runId, stageId: tag.stageId }),
      onMetric: (kind, name, value) => this.#opts.metric?.({ ...tag, kind, name, value }),
    });
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
    if (this.#closed.signal.aborted) {
      throw new PluginError(`sandbox: ${where}: the stage was closed`, { retryable: true });
    }
    // A warm-up under way is getting this stage its first process: wait for it rather than
    // start another one beside it.
    if (this.#warming) await this.#warming.catch(() => {});
    const signal = AbortSignal.any([ctx.signal, this.#closed.signal]);
    let proc: SandboxProcess;
    this.#waiting++;
    try {
      proc = await this.#group.pool.acquire(this, signal);
    } catch (err) {
      if (signal.aborted && err === signal.reason) {
        throw new PluginError(`sandbox: ${where}: call aborted while waiting for an instance`, {
          cause: err,
        });
      }
      throw toPluginError(err, this.#spec);
    } finally {
      this.#waiting--;
    }
    this.#group.tags.set(proc, { runId: this.#spec.runId, stageId: this.#spec.stageId });
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
      const run = this.#open(proc);
      return await fn(proc, {
        timeoutMs: this.#spec.timeoutMs,
        signal,
        onLog: log ? (e) => log(e.level, e.msg, e.data, e.chunk) : undefined,
        traceparent: span ? formatTraceparent(span.spanContext()) : activeTraceparent(),
        run,
      });
    } catch (err) {
      const e = toPluginError(err, this.#spec);
      if (span) {
        const message = maskSecrets(e.message, Object.values(this.#spec.secrets), {
          mask: "[secret]",
          minLength: 3,
        });
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
      if (!proc.alive) {
        this.held.delete(proc);
        this.#handles.delete(proc);
      }
      this.#group.pool.release(proc);
    }
  }
}
