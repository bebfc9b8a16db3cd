/**
 * One sandboxed plugin process seen from the host: spawns `deno run` with the stage's
 * permissions, loads the plugin once, opens runs in it (one plugin instance each), speaks the
 * NDJSON protocol, routes the plugin's output to log callbacks, and kills the process (SIGKILL)
 * on timeout, abort or protocol garbage. Used by `core/sandbox` (pools of
 * these) and by `sdk/testing.ts`.
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { FinishResult, Item, Json, ProcessResult, ReadResult } from "../types.ts";
import type { LogLevel } from "../plugin.ts";
import { checkLimitArgs, type InstanceInit } from "./instance.ts";
import { SharedSlots } from "../net/limiter.ts";
import {
  type ChildMessage,
  FRAME_MARK,
  isChildMessage,
  LineSplitter,
  LineTooLongError,
  type PassedResult,
  readLines,
  type Request,
} from "./protocol.ts";
import { passedInputResult, withRawItems } from "../raw_items.ts";
import { buildSandboxCommand, type SandboxCommandOptions } from "./sandbox_args.ts";
import { setProcessNice } from "./process_nice.ts";
import { SandboxError } from "./sandbox_error.ts";
import {
  describeDeath,
  loadErrorMessage,
  pluginLocation,
  StderrTail,
  stripFlagAdvice,
} from "./death.ts";
import { SecretMasker } from "./secret_mask.ts";
import { hasProc, ResidentMemory } from "./resident_memory.ts";
import { whenAborted } from "../io/when_aborted.ts";
import { readReusing } from "../io/reused_reads.ts";

/** A log line from a sandboxed plugin, with where it came from. */
export interface SandboxLogEntry {
  level: LogLevel;
  msg: string;
  data?: Json;
  /** Chunk the plugin was working on, when known. */
  chunk?: number;
  /**
   * `plugin`: console or SDK logger; `stdout`: stray stdout line; `stderr`: stderr line; `host`:
   * the host's word on the process (a niceness the system refused).
   */
  source: "plugin" | "stdout" | "stderr" | "host";
  /** Process id of the instance. */
  pid: number;
}

/** Options of {@linkcode SandboxProcess.start}. */
export interface StartSandboxOptions extends Omit<SandboxCommandOptions, "dataDir" | "inputFile"> {
  /** The deno binary; defaults to `Deno.execPath()`. */
  denoPath?: string;
  /** Entry module, relative to `pluginDir` (or absolute). */
  entry: string;
  /** The process's data folder (write grants resolve against it); default `init.dataDir`. */
  dataDir?: string;
  /** The input file the process may read; default `init.inputFile`. */
  inputFile?: string;
  /**
   * A run to open at once (config, secrets, inputs, run, inputFile, dataDir): calls without
   * `run` go to it. Without it, open runs with {@linkcode SandboxProcess.openRun}.
   */
  init?: InstanceInit;
  /** Limit for spawning and loading the entry; default 30 s. */
  startTimeoutMs?: number;
  /**
   * CPU niceness of the process (a stage's `nice:`, 0-19), set as it starts; default: the host's.
   * A system that refuses it leaves the process at the host's, with a warning to `onLog`.
   */
  nice?: number;
  /** Receives log lines that arrive outside a call with its own `onLog`. */
  onLog?: (entry: SandboxLogEntry) => void;
  /** Receives the plugin's metric updates. */
  onMetric?: (kind: "count" | "gauge", name: string, value: number) => void;
  /**
   * Grants the plugin's `ctx.limits` slots: pass the same one to every process of a plugin so
   * that its limits hold across them. Default: slots of this process alone.
   */
  slots?: SharedSlots;
  /** Aborting it kills the process. */
  signal?: AbortSignal;
  /**
   * Most bytes of one stdout line (a protocol message, or stray output); default
   * {@linkcode MAX_STDOUT_LINE_BYTES}. A longer line is a protocol error: the process is killed.
   */
  maxLineBytes?: number;
  /** Most bytes kept of one stderr line (the rest is cut); default {@linkcode MAX_STDERR_LINE_BYTES}. */
  maxStderrLineBytes?: number;
  /**
   * Most resident memory of the process, in MB, before the watchdog kills it; default
   * `memoryMb` + {@linkcode RSS_HEADROOM_MB}; 0 turns the watchdog off. The V8 heap cap does not
   * count ArrayBuffers (nor other memory outside the JS heap), so it alone does not bound what a
   * plugin can take from the host. Checked on Linux (`/proc`) every {@linkcode RSS_POLL_MS} ms.
   */
  maxRssMb?: number;
}

/**
 * Default limit of one stdout line of a plugin process: 64 MiB. The largest answers are a
 * chunk's items: a 200-item chunk of the flagship pipeline after `http-probe` (each item keeps
 * up to 16 KiB of a page's HTML and 4 KiB of its text) is about 4-5 MB, 20 MB if every page
 * were the worst case for JSON escaping; stages may use chunks of up to 100,000 items, so the
 * limit is not tight, only far below what would exhaust the host (a plugin writing without a
 * newline made the host hold the text until V8 refused to make the string, and the host died).
 */
export const MAX_STDOUT_LINE_BYTES = 64 * 1024 * 1024;

/** Most `ctx.limits` slots one plugin process may hold or wait for at once. */
export const MAX_LEASES = 100_000;

/** Default bytes kept of one stderr line of a plugin process (the rest is cut): 64 KiB. */
export const MAX_STDERR_LINE_BYTES = 64 * 1024;

/**
 * Resident memory a plugin process may use beyond its V8 heap cap (`memoryMb`) by default, in
 * MB: Deno itself (about 45 MB) and buffers outside the JS heap (ArrayBuffers, response bodies).
 * Without this limit a plugin allocating ArrayBuffers grew past any heap cap (1.5 GB under a
 * 64 MB cap, measured) until the host's memory ran out.
 */
export const RSS_HEADROOM_MB = 512;

/** How often the memory watchdog reads a plugin process's resident memory (ms). */
export const RSS_POLL_MS = 200;

/** Options of one call. */
export interface SandboxCallOptions {
  /** Kill the process and fail the call after this many ms. */
  timeoutMs?: number;
  /** Aborting it kills the process and fails the call. */
  signal?: AbortSignal;
  /** Receives the log lines written while this call runs. */
  onLog?: (entry: SandboxLogEntry) => void;
  /** W3C trace context handed to the plugin as `ctx.trace`. */
  traceparent?: string;
  /** The run (from {@linkcode SandboxProcess.openRun}); default: the run opened at start. */
  run?: number;
}

/** Where an open run's log lines and metrics go when no call of the run takes them. */
export interface RunSinks {
  onLog?: (entry: SandboxLogEntry) => void;
  onMetric?: (kind: "count" | "gauge", name: string, value: number) => void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: SandboxError): void;
  onLog?: (entry: SandboxLogEntry) => void;
  run?: number;
}

interface OpenRun extends RunSinks {
  secrets: string[];
  /** Why the process refused to open it. */
  failed?: SandboxError;
}

/** The child's answer to `load`. */
interface LoadResult {
  /** Whether the plugin defines `finish()`. */
  finish: boolean;
}

const encoder = new TextEncoder();
/** How long a deferred request (closing a run) waits for a request to go with. */
const LAZY_MS = 100;
/** How plugin log lines show a secret of their runs (secrets of 3 characters and more). */
const SECRET_MASK = { mask: "[secret]", minLength: 3 };
/** Ends a request line whose items were spliced in as bytes. */
const CLOSE_LINE = encoder.encode("}\n");

/** A `process` request without its items (they follow as bytes: {@linkcode itemsLineStart}). */
type ProcessHead = Omit<Extract<Request, { op: "process" }>, "items">;

/** Option of a `process` call: see {@linkcode SandboxProcess.process}. */
export interface PassOnOption {
  /**
   * A sink's call: a plugin that returns the items it was given answers "passed" instead of
   * sending them back (see `passOn` in `protocol.ts`).
   */
  passOn?: boolean;
  /** Which call of the chunk this is (`ctx.part`; default 0). */
  part?: number;
}

/**
 * The start of a `process` request line whose items follow as bytes: `{"id":1,…,"chunk":0}`
 * becomes `{"id":1,…,"chunk":0,"items":`, then the items' JSON, then {@linkcode CLOSE_LINE}.
 */
function itemsLineStart(head: ProcessHead): Uint8Array {
  return encoder.encode(JSON.stringify(head).slice(0, -1) + ',"items":');
}

/** True when a `process` answer is the "passed" of a sink asked to `passOn`. */
function isPassedAnswer(result: unknown): result is PassedResult {
  return result !== null && typeof result === "object" && !Array.isArray(result) &&
    (result as { passed?: unknown }).passed === true &&
    !("items" in (result as Record<string, unknown>));
}

/** Request pieces this large or larger go to the pipe as they are, not copied into one write. */
const FLUSH_JOIN_MAX = 16 * 1024;

const denoDirs = new Map<string, Promise<string | undefined>>();

/**
 * Tells the plugin when the call's timeout (started right after, in `#call`) kills it, so it
 * can fail a wait that would outlast it with its reason instead (`ctx.deadline`).
 */
function setDeadline(req: { deadline?: number }, opts: SandboxCallOptions): void {
  if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
    req.deadline = Date.now() + opts.timeoutMs;
  }
}

/**
 * What a call that ran out of time says: which call, that the stage's `timeout:` was hit, and
 * what to look at. A stage allowed the network (`net`) mostly waits on a remote service that is
 * slow or hung: that is said first, for the operator; else the plugin's own code is the suspect.
 */
function timeoutMessage(op: Request["op"], ms: number, usesNet = false): string {
  if (op === "load") {
    return `loading the plugin timed out after ${ms} ms; the instance was killed. Its ` +
      "module's top-level code must not wait for long (do slow work in setup())";
  }
  const call = ["read", "process", "finish", "open"].includes(op) ? `${op}()` : op;
  const head = `${call} timed out after ${ms} ms (the stage's \`timeout:\` was hit); the ` +
    "instance was killed. ";
  if (usesNet) {
    return head + "This stage calls remote services: a slow or hung remote server is the usual " +
      "cause. If the service is just slow, raise the stage's `timeout:` in the pipeline file " +
      "(e.g. `timeout: 2m`); if it hangs, check that service";
  }
  return head + "Raise the stage's `timeout:` if a call needs longer (`timeoutMs` in " +
    "sdk/testing.ts), or look for a promise that never settles or a loop that never ends";
}

/** The DENO_DIR the given deno binary uses (from `deno info --json`), cached per binary. */
export function hostDenoDir(denoPath: string = Deno.execPath()): Promise<string | undefined> {
  let found = denoDirs.get(denoPath);
  if (!found) {
    found = new Deno.Command(denoPath, {
      args: ["info", "--json"],
      stdout: "piped",
      stderr: "null",
    })
      .output().then((out) => JSON.parse(new TextDecoder().decode(out.stdout)).denoDir as string)
      .catch(() => undefined);
    denoDirs.set(denoPath, found);
  }
  return found;
}

/** A live sandboxed plugin process. */
export class SandboxProcess {
  /** Process id. */
  readonly pid: number;
  /** Resolves once the process has exited and its output was read. */
  readonly exited: Promise<Deno.CommandStatus>;
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #dead = false;
  #killReason?: SandboxError;
  #closing = false;
  #stderr = new StderrTail();
  #opts: StartSandboxOptions;
  /** Secret values of every open run (masked in every log line of the process). */
  #secrets: string[] = [];
  /** Masks {@link #secrets}; rebuilt when they change. */
  #masker = new SecretMasker([], SECRET_MASK);
  #runs = new Map<number, OpenRun>();
  #nextRun = 1;
  /** An answer whose items come on the next protocol line (`itemsNext`). */
  #itemsFor?: Extract<ChildMessage, { ok: true }>;
  #defaultRun?: number;
  /** Set when a call was abandoned while others ran: no new calls, killed once they end. */
  #retiring?: SandboxError;
  /** Ids of abandoned calls whose late answers are ignored. */
  #abandoned = new Set<number>();
  #hasFinish = true;
  /** Request lines written together at the end of the current task (one pipe write). */
  #out: Uint8Array[] = [];
  /** Lines that may wait for the next write (closing a run), and their deadline timer. */
  #lazy: Uint8Array[] = [];
  #lazyTimer?: ReturnType<typeof setTimeout>;
  /** Grants `ctx.limits` (the `slots` option, else slots of this process alone). */
  #slots: SharedSlots;
  /** `ctx.limits` requests of the plugin by lease: waiting (withdraw) or held (release). */
  #leases = new Map<number, { withdraw?: AbortController; release?: () => void }>();

  private constructor(child: Deno.ChildProcess, opts: StartSandboxOptions) {
    this.#child = child;
    this.pid = child.pid;
    this.#opts = opts;
    this.#slots = opts.slots ?? new SharedSlots();
    const writer = child.stdin.getWriter();
    this.#writer = writer;
    const out = this.#readStdout();
    const err = this.#readStderr();
    this.exited = (async () => {
      const [status] = await Promise.all([child.status, out, err]);
      this.#dead = true;
      clearTimeout(this.#lazyTimer);
      this.#dropLeases();
      await writer.close().catch(() => {});
      const death = this.#killReason ??
        (this.#closing && !this.#stderr.outOfMemory
          ? new SandboxError("closed", "the plugin instance was shut down during the call")
          : describeDeath(status, this.#stderr, { memoryMb: opts.memoryMb }));
      this.#rejectAll(death);
      return status;
    })();
    this.#watchMemory();
  }

  /**
   * Kills the process when its resident memory passes `maxRssMb` (see
   * {@linkcode StartSandboxOptions.maxRssMb}): the heap cap leaves memory outside the JS heap
   * unbounded.
   */
  #watchMemory(): void {
    const opts = this.#opts;
    const limit = opts.maxRssMb ?? opts.memoryMb + RSS_HEADROOM_MB;
    if (!(limit > 0)) return;
    const memory = new ResidentMemory(this.pid);
    let busy = false;
    const stop = () => {
      clearInterval(timer);
      memory.close();
    };
    const timer = setInterval(async () => {
      if (busy || !this.alive) return;
      const rss = memory.read();
      if (rss === undefined) {
        // No /proc (not Linux) or the process is gone: nothing to watch.
        if (!this.alive || !hasProc()) stop();
        return;
      }
      if (rss <= limit || !this.alive) return;
      busy = true;
      try {
        await this.kill(
          new SandboxError(
            "oom",
            `out of memory: the process used ${Math.round(rss)} MB of resident memory, more ` +
              `than its limit of ${limit} MB (heap cap ${opts.memoryMb} MB plus room for ` +
              "buffers outside the heap); the process was killed; give the stage more memory " +
              "(`memory:` in the pipeline's stage, in MB; `memoryMb` in sdk/testing.ts) or " +
              "smaller chunks (`chunk:`)",
          ),
        );
      } finally {
        busy = false;
      }
    }, RSS_POLL_MS);
    Deno.unrefTimer(timer);
    this.exited.finally(stop).catch(() => {});
  }

  /**
   * Spawns a sandboxed process, loads the plugin's entry (and opens `opts.init`'s run when
   * given), and resolves once it is ready.
   */
  static async start(opts: StartSandboxOptions): Promise<SandboxProcess> {
    const denoPath = opts.denoPath ?? Deno.execPath();
    const denoDir = opts.denoDir ?? Deno.env.get("DENO_DIR") ?? await hostDenoDir(denoPath);
    const dataDir = opts.dataDir ?? opts.init?.dataDir;
    if (!dataDir) throw new TypeError("a sandboxed process needs a data folder");
    await Deno.mkdir(dataDir, { recursive: true });
    const cmd = buildSandboxCommand({
      ...opts,
      denoDir,
      dataDir,
      inputFile: opts.inputFile ?? opts.init?.inputFile,
    });
    const child = new Deno.Command(denoPath, {
      args: cmd.args,
      env: cmd.env,
      clearEnv: true,
      cwd: opts.pluginDir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const refused = opts.nice ? setProcessNice(child.pid, opts.nice) : undefined;
    if (refused !== undefined) {
      opts.onLog?.({
        level: "warn",
        msg: `the plugin's process runs at the host's CPU priority: the system refused the ` +
          `stage's nice: ${opts.nice} (${refused})`,
        source: "host",
        pid: child.pid,
      });
    }
    const proc = new SandboxProcess(child, opts);
    const entryPath = isAbsolute(opts.entry) ? opts.entry : join(opts.pluginDir, opts.entry);
    const entry = pathToFileURL(resolve(entryPath)).href;
    const limits = { timeoutMs: opts.startTimeoutMs ?? 30_000, signal: opts.signal };
    try {
      const loaded = await proc.#call({ id: 0, op: "load", entry }, limits) as LoadResult | null;
      proc.#hasFinish = loaded?.finish !== false;
    } catch (err) {
      await proc.kill();
      // A refused read while loading is an import the sandbox does not allow (a file outside
      // the plugin folder): as much a load error as a syntax error, and never retryable.
      if (err instanceof SandboxError && (err.kind === "plugin" || err.kind === "permission")) {
        throw new SandboxError(
          "load",
          loadErrorMessage(err.message, { entry, entryPath, denoDir, opts }),
          {
            cause: err,
            remoteStack: err.remoteStack,
          },
        );
      }
      throw err;
    }
    if (opts.init) proc.#defaultRun = proc.openRun(opts.init);
    return proc;
  }

  /** False once the process died or was killed. */
  get alive(): boolean {
    return !this.#dead && !this.#killReason;
  }

  /** True while it is alive and takes new calls (not retiring after an abandoned call). */
  get usable(): boolean {
    return this.alive && !this.#retiring;
  }

  /** Runs open in the process. */
  get openRuns(): number {
    return this.#runs.size;
  }

  /**
   * Opens a run: the process creates a plugin instance of its own for it (its `setup()` runs
   * on the run's first call). Returns the handle to pass as `run` to calls at once: the
   * request is on its way, and calls sent after it are answered after it (a failed open fails
   * them). The run's secrets are masked in every log line of the process from now on.
   */
  openRun(init: InstanceInit, sinks: RunSinks = {}): number {
    const run = this.#nextRun++;
    const secrets = Object.values(init.secrets).filter((s) => s.length >= 3);
    const entry: OpenRun = { ...sinks, secrets };
    this.#runs.set(run, entry);
    this.#setSecrets([...this.#secrets, ...secrets]);
    this.#call({ id: this.#nextId++, op: "open", run, init }, {}).catch((err) => {
      entry.failed = err instanceof SandboxError
        ? err
        : new SandboxError("closed", `the run could not be opened: ${err}`);
    });
    return run;
  }

  /**
   * Closes a run: the process drops its plugin instance (its calls must have ended). Returns
   * at once; its secrets stay masked until the process confirmed.
   */
  closeRun(run: number): void {
    if (!this.#runs.has(run)) return;
    if (this.#defaultRun === run) this.#defaultRun = undefined;
    if (!this.alive || this.#retiring) return this.#forget(run);
    // Sent with the next request to the process (or soon): one pipe write less per run.
    this.#call({ id: this.#nextId++, op: "close", run }, {}, undefined, true).catch(() => {})
      .finally(() => this.#forget(run));
  }

  /** False when the plugin has no `finish()` (a finish call then does nothing). */
  get hasFinish(): boolean {
    return this.#hasFinish;
  }

  #forget(run: number): void {
    if (!this.#runs.delete(run)) return;
    if (this.#defaultRun === run) this.#defaultRun = undefined;
    this.#setSecrets([...this.#runs.values()].flatMap((r) => r.secrets));
  }

  #setSecrets(secrets: string[]): void {
    this.#secrets = [...new Set(secrets)];
    this.#masker = new SecretMasker(this.#secrets, SECRET_MASK);
  }

  #runOf(opts: SandboxCallOptions): number {
    const run = opts.run ?? this.#defaultRun;
    const open = run === undefined ? undefined : this.#runs.get(run);
    if (!open) {
      throw new SandboxError("closed", `run ${run ?? "(none)"} is not open in this instance`);
    }
    if (open.failed) throw open.failed;
    return run!;
  }

  /** Sources: reads the chunk after `cursor`. */
  async read(
    cursor: Json,
    limit: number,
    chunk: number,
    opts: SandboxCallOptions = {},
  ): Promise<ReadResult> {
    const id = this.#nextId++;
    const req: Request = { id, op: "read", run: this.#runOf(opts), cursor, limit, chunk };
    if (opts.traceparent) req.traceparent = opts.traceparent;
    setDeadline(req, opts);
    return await this.#call(req, opts) as ReadResult;
  }

  /**
   * Transforms and sinks: processes a batch. With `passOn` (a sink's call), a plugin that returns
   * the items it was given does not send them back: the result holds `items` and the JSON text
   * and bytes they were sent as (`RAW_ITEMS`, `RAW_ITEM_BYTES`), as an answer's items would.
   */
  async process(
    items: Item[],
    chunk: number,
    opts: SandboxCallOptions & PassOnOption = {},
  ): Promise<ProcessResult> {
    const id = this.#nextId++;
    const req: Request = { id, op: "process", run: this.#runOf(opts), items, chunk };
    if (opts.part) req.part = opts.part;
    if (opts.traceparent) req.traceparent = opts.traceparent;
    setDeadline(req, opts);
    if (!opts.passOn) return await this.#call(req, opts) as ProcessResult;
    const { items: _, ...rest } = req;
    const head: ProcessHead = { ...rest, passOn: true };
    const text = JSON.stringify(items);
    const bytes = encoder.encode(text);
    const res = await this.#call(head, opts, [itemsLineStart(head), bytes, CLOSE_LINE]);
    if (!isPassedAnswer(res)) return res as ProcessResult;
    const out: Record<string, unknown> = res.rejected === undefined
      ? {}
      : { rejected: res.rejected };
    withRawItems(out, items, text, [bytes]);
    return out as unknown as ProcessResult;
  }

  /**
   * Transforms and sinks: processes a batch given as the UTF-8 JSON of its item array (in parts,
   * joined as they are). The bytes go to the plugin without being parsed here; a part may end
   * inside a multi-byte character.
   */
  async processJson(
    parts: readonly Uint8Array[],
    chunk: number,
    opts: SandboxCallOptions & PassOnOption = {},
  ): Promise<ProcessResult> {
    const id = this.#nextId++;
    const head: ProcessHead = { id, op: "process", run: this.#runOf(opts), chunk };
    if (opts.part) head.part = opts.part;
    if (opts.traceparent) head.traceparent = opts.traceparent;
    setDeadline(head, opts);
    if (opts.passOn) head.passOn = true;
    // Written piece by piece (not copied into one buffer): see itemsLineStart.
    const res = await this.#call(head, opts, [itemsLineStart(head), ...parts, CLOSE_LINE]);
    // The plugin passed its input on: `PASSED_INPUT` tells the caller it has the items.
    return (isPassedAnswer(res) && opts.passOn
      ? passedInputResult(res.rejected)
      : res) as ProcessResult;
  }

  /**
   * Runs the plugin's `finish` (nothing to send when the plugin has none); resolves to the files
   * it names, if any.
   */
  async finish(opts: SandboxCallOptions = {}): Promise<FinishResult | undefined> {
    const run = this.#runOf(opts);
    if (!this.#hasFinish) return undefined;
    const req: Request = { id: this.#nextId++, op: "finish", run };
    if (opts.traceparent) req.traceparent = opts.traceparent;
    setDeadline(req, opts);
    return (await this.#call(req, opts) ?? undefined) as FinishResult | undefined;
  }

  /** Kills the process with SIGKILL and resolves once it is reaped. */
  async kill(reason?: SandboxError): Promise<void> {
    if (!this.#dead) {
      this.#killReason ??= reason ?? new SandboxError("closed", "the plugin instance was closed");
      this.#rejectAll(this.#killReason);
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    await this.exited;
  }

  /** Asks the plugin to shut down, and kills it if it has not exited after `graceMs`. */
  async close(graceMs = 2_000): Promise<void> {
    if (this.alive && !this.#retiring) {
      this.#closing = true;
      const id = this.#nextId++;
      await this.#call({ id, op: "shutdown" }, { timeoutMs: graceMs }).catch(() => {});
      let handle: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        this.exited,
        new Promise((r) => handle = setTimeout(r, graceMs)),
      ]);
      clearTimeout(handle);
    }
    await this.kill();
  }

  /**
   * Sends `req` (or `pieces`, its serialized line, when given) and waits for the answer; a
   * `lazy` request waits (up to {@link LAZY_MS}) to go with the next one.
   */
  #call(
    req: Request | Omit<Extract<Request, { op: "process" }>, "items">,
    opts: SandboxCallOptions,
    pieces?: readonly Uint8Array[],
    lazy = false,
  ): Promise<unknown> {
    if (!this.alive) {
      return Promise.reject(
        this.#killReason ?? new SandboxError("closed", "the plugin instance is not running"),
      );
    }
    if (this.#retiring) return Promise.reject(this.#retiring);
    if (opts.signal?.aborted) {
      // Never sent: the process is untouched.
      const err = new SandboxError("aborted", `call aborted: ${reasonText(opts.signal.reason)}`);
      return Promise.reject(err);
    }
    return new Promise((resolvePromise, rejectPromise) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => {
        this.#abandon(
          req.id,
          new SandboxError("aborted", `call aborted: ${reasonText(opts.signal?.reason)}`),
        );
      };
      const cleanup = () => {
        clearTimeout(timer);
        offAbort();
      };
      this.#pending.set(req.id, {
        resolve: (v) => {
          cleanup();
          resolvePromise(v);
        },
        reject: (e) => {
          cleanup();
          rejectPromise(e);
        },
        onLog: opts.onLog,
        run: "run" in req ? req.run : undefined,
      });
      if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
        const ms = opts.timeoutMs;
        timer = setTimeout(() => {
          void this.kill(
            new SandboxError(
              "timeout",
              timeoutMessage(req.op, ms, (this.#opts.permissions.net?.length ?? 0) > 0),
            ),
          );
        }, ms);
      }
      const offAbort = whenAborted(opts.signal, onAbort);
      this.#write(pieces ?? [encoder.encode(JSON.stringify(req) + "\n")], lazy);
    });
  }

  /**
   * Queues a request line (in pieces); the lines of one task go to the pipe together: small
   * pieces copied into one write, large ones (stored chunks) written as they are.
   */
  #write(line: readonly Uint8Array[], lazy = false): void {
    if (lazy) {
      this.#lazy.push(...line);
      if (this.#lazyTimer === undefined && this.#out.length === 0) {
        this.#lazyTimer = setTimeout(() => this.#flush(), LAZY_MS);
        Deno.unrefTimer(this.#lazyTimer);
      }
      return;
    }
    const first = this.#out.length === 0;
    this.#out.push(...line);
    if (first) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    // Deferred lines were queued first: they go first.
    const lines = this.#lazy.length > 0 ? [...this.#lazy, ...this.#out] : this.#out;
    this.#lazy = [];
    this.#out = [];
    if (lines.length === 0 || this.#dead) return;
    // Runs of small pieces are joined (one write for many short requests); a piece of
    // FLUSH_JOIN_MAX or more is written alone. The stream writes them in this order.
    let run: Uint8Array[] = [];
    let runBytes = 0;
    const write = (data: Uint8Array) =>
      this.#writer.write(data).catch(() => {
        // The process is gone; `exited` rejects the pending calls with the reason.
      });
    const writeRun = () => {
      if (run.length === 1) write(run[0]);
      else if (run.length > 1) {
        const data = new Uint8Array(runBytes);
        let at = 0;
        for (const l of run) {
          data.set(l, at);
          at += l.length;
        }
        write(data);
      }
      run = [];
      runBytes = 0;
    };
    for (const piece of lines) {
      if (piece.length >= FLUSH_JOIN_MAX) {
        writeRun();
        write(piece);
      } else {
        run.push(piece);
        runBytes += piece.length;
      }
    }
    writeRun();
  }

  #rejectAll(err: SandboxError): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(err);
  }

  /**
   * Fails call `id` at once (its caller gave up). The plugin may still be running it, so the
   * process is killed, unless other calls are in flight: then it takes no new calls and is
   * killed when they end, so an abort (a cancelled run) fails no other run's call.
   */
  #abandon(id: number, err: SandboxError): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    this.#abandoned.add(id);
    p.reject(err);
    this.#retiring ??= err;
    this.#retireIfIdle();
  }

  #retireIfIdle(): void {
    if (this.#retiring && this.#pending.size === 0) void this.kill(this.#retiring);
  }

  #log(entry: Omit<SandboxLogEntry, "pid">, run?: number): void {
    const full: SandboxLogEntry = { ...entry, pid: this.pid, msg: this.#redact(entry.msg) };
    if (entry.data !== undefined && !this.#masker.empty) full.data = this.#masker.json(entry.data);
    // The latest call of the line's run (of any run, for lines no run claims) takes it; else
    // the run's own sink; else the process's.
    let sink = (run !== undefined ? this.#runs.get(run)?.onLog : undefined) ?? this.#opts.onLog;
    for (const p of this.#pending.values()) {
      if (run === undefined || p.run === run) sink = p.onLog ?? sink;
    }
    sink?.(full);
  }

  #redact(text: string): string {
    return this.#masker.text(text);
  }

  #protocolError(detail: string, advice?: string): void {
    const text = `protocol error: ${detail}; the instance was killed${advice ? `; ${advice}` : ""}`;
    void this.kill(new SandboxError("protocol", text));
  }

  #onMessage(msg: ChildMessage): void {
    if ("id" in msg) {
      if (this.#abandoned.delete(msg.id)) return; // its caller gave up; see #abandon
      const p = this.#pending.get(msg.id);
      if (!p) return this.#protocolError(`a response for unknown request id ${msg.id}`);
      this.#pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else {
        const e = msg.error;
        // Deno's "run again with the --allow-… flag" does not apply; where it happened does
        // (not for the SDK's InputError and ConfigError: their message is about the input or
        // the pipeline file, for the operator).
        const at = e.retryable === false
          ? undefined
          : pluginLocation(e.stack, this.#opts.pluginDir);
        const text = stripFlagAdvice(e.message) + (at ? ` (at ${at})` : "");
        p.reject(
          new SandboxError(e.permission ? "permission" : e.config ? "config" : "plugin", text, {
            remoteStack: e.stack,
            ...(e.retryable === false ? { retryable: false } : {}),
            // The wire's mark, or (a child of an older SDK) the error's name.
            ...(e.input === true || (e.name === "InputError" && e.retryable === false)
              ? { input: true }
              : {}),
            ...(typeof e.retryAfterMs === "number" ? { retryAfterMs: e.retryAfterMs } : {}),
          }),
        );
      }
      this.#retireIfIdle();
    } else if (msg.op === "acquire") this.#acquire(msg.lease, msg.key, msg.limit);
    else if (msg.op === "release") {
      const lease = this.#leases.get(msg.lease);
      this.#leases.delete(msg.lease);
      lease?.withdraw?.abort();
      lease?.release?.();
    } else if (msg.op === "log") {
      this.#log({
        level: msg.level,
        msg: msg.msg,
        data: msg.data,
        chunk: msg.chunk,
        source: "plugin",
      }, msg.run);
    } else {
      const sink = (msg.run !== undefined ? this.#runs.get(msg.run)?.onMetric : undefined) ??
        this.#opts.onMetric;
      sink?.(msg.kind, msg.name, msg.value);
    }
  }

  /**
   * Reads the child's stdout to its end. Never rejects: a line over the limit, or anything else
   * that goes wrong here, kills the process and fails its calls (see {@linkcode #protocolError}).
   */
  async #readStdout(): Promise<void> {
    const maxLineBytes = this.#opts.maxLineBytes ?? MAX_STDOUT_LINE_BYTES;
    // The lines' bytes are kept too: an items line's go to the store as they came (no encoding).
    const lines = new LineSplitter({ maxLineBytes, keepBytes: true });
    try {
      // One reused read buffer: the splitter copies the bytes it keeps.
      for await (const bytes of readReusing(this.#child.stdout)) {
        for (const line of lines.push(bytes)) this.#onStdoutLine(line, lines.lineBytes()!);
      }
      const last = lines.end();
      if (last !== undefined) this.#onStdoutLine(last, lines.lineBytes()!);
    } catch (err) {
      if (err instanceof LineTooLongError) {
        this.#protocolError(
          `the plugin wrote more than ${byteText(err.limit)} to stdout without a newline (the ` +
            "limit of one protocol message)",
          "if that was the answer to a chunk, give the stage smaller chunks (`chunk`)",
        );
      } else this.#protocolError(`reading the plugin's stdout failed: ${errorText(err)}`);
      await this.#child.stdout.cancel().catch(() => {});
    }
  }

  #onStdoutLine(line: string, bytes: Uint8Array[]): void {
    const mark = line.indexOf(FRAME_MARK);
    const stray = mark < 0 ? line : line.slice(0, mark);
    if (stray.trim() !== "") this.#log({ level: "info", msg: stray, source: "stdout" });
    if (mark < 0) return;
    const body = line.slice(mark + 1);
    const head = this.#itemsFor;
    if (head) {
      // The items line of an answer whose result came on the line before (see resultLines).
      this.#itemsFor = undefined;
      let items: unknown;
      try {
        items = JSON.parse(body);
      } catch {
        items = undefined;
      }
      if (!Array.isArray(items)) {
        return this.#protocolError(
          `the plugin wrote a broken items line after the answer to call ${head.id}: ` +
            body.slice(0, 120),
        );
      }
      withRawItems(head.result as Record<string, unknown>, items, body, afterMark(bytes));
      return this.#onMessage(head);
    }
    let msg: unknown;
    try {
      msg = JSON.parse(body);
    } catch {
      return this.#protocolError(`the plugin wrote a broken protocol line: ${line.slice(0, 120)}`);
    }
    if (!isChildMessage(msg)) {
      return this.#protocolError(`the plugin wrote an unknown message: ${line.slice(0, 120)}`);
    }
    if ("ok" in msg && msg.ok && msg.itemsNext === true) {
      if (msg.result === null || typeof msg.result !== "object" || Array.isArray(msg.result)) {
        return this.#protocolError(`the plugin wrote an unknown message: ${line.slice(0, 120)}`);
      }
      this.#itemsFor = msg;
      return;
    }
    this.#onMessage(msg);
  }

  /** Asks the plugin's slots for `key` on the child's behalf; writes `granted` when it has one. */
  #acquire(lease: number, key: string, limit: number): void {
    try {
      checkLimitArgs(key, limit);
    } catch (e) {
      return this.#protocolError(`the plugin asked for a shared slot wrongly: ${errorText(e)}`);
    }
    if (this.#leases.has(lease)) {
      return this.#protocolError(`the plugin asked for shared slot lease ${lease} twice`);
    }
    if (this.#leases.size >= MAX_LEASES) {
      return this.#protocolError(
        `the plugin holds or waits for more than ${MAX_LEASES} shared slots (ctx.limits) at once`,
        "give each slot back (call the function acquire returned, in a finally)",
      );
    }
    const withdraw = new AbortController();
    const entry: { withdraw?: AbortController; release?: () => void } = { withdraw };
    this.#leases.set(lease, entry);
    this.#slots.acquire(key, limit, withdraw.signal).then((release) => {
      if (this.#leases.get(lease) !== entry || this.#dead) return release();
      entry.withdraw = undefined;
      entry.release = release;
      this.#write([encoder.encode(JSON.stringify({ op: "granted", lease }) + "\n")]);
    }, () => {/* withdrawn: the child gave up or is gone */});
  }

  /** Gives back every slot the child held and withdraws its requests (it is gone). */
  #dropLeases(): void {
    const leases = [...this.#leases.values()];
    this.#leases.clear();
    for (const l of leases) {
      l.withdraw?.abort();
      l.release?.();
    }
  }

  /** Reads the child's stderr to its end (long lines cut). Never rejects, like stdout's reader. */
  async #readStderr(): Promise<void> {
    const maxLineBytes = this.#opts.maxStderrLineBytes ?? MAX_STDERR_LINE_BYTES;
    try {
      for await (
        const line of readLines(this.#child.stderr, { maxLineBytes, overflow: "truncate" })
      ) {
        this.#stderr.push(line);
        if (line.trim() !== "") this.#log({ level: "warn", msg: line, source: "stderr" });
      }
    } catch (err) {
      this.#protocolError(`reading the plugin's stderr failed: ${errorText(err)}`);
      await this.#child.stderr.cancel().catch(() => {});
    }
  }
}

/**
 * The pieces of a protocol line's bytes after its {@linkcode FRAME_MARK}: one byte (ASCII),
 * never inside a character, so what follows it is the body's UTF-8.
 */
function afterMark(pieces: Uint8Array[]): Uint8Array[] {
  const mark = FRAME_MARK.charCodeAt(0);
  for (let i = 0; i < pieces.length; i++) {
    const at = pieces[i].indexOf(mark);
    if (at < 0) continue;
    const rest = pieces.slice(i + 1);
    return at + 1 < pieces[i].length ? [pieces[i].subarray(at + 1), ...rest] : rest;
  }
  return [];
}

/** `64 MiB`, `64 KiB` or `1000 bytes`. */
function byteText(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason ?? "aborted");
}
