/**
 * The wire protocol between the Sluice host and a sandboxed plugin process: NDJSON over the
 * child's stdin (requests) and stdout (responses, log lines and metrics), with request ids. A
 * process loads its plugin once (`load`) and may serve several runs, one plugin instance each
 * (`open` … calls with the run's handle … `close`), so processes are shared, per-run state not.
 *
 * Every protocol line the child writes starts with {@linkcode FRAME_MARK}, so anything else the
 * plugin prints to stdout can be told apart and kept as a log line.
 * @module
 */
import type { Item, Json } from "../types.ts";
import type { LogLevel } from "../plugin.ts";
import type { InstanceInit } from "./instance.ts";
import { readReusing } from "../io/reused_reads.ts";

/** Starts every protocol line the child writes (ASCII record separator). */
export const FRAME_MARK = "\x1e";

/**
 * The first request: loads the plugin's entry module, once per process; answered with
 * `{ finish: boolean }` (whether the plugin defines `finish()`). A process then serves one or
 * more runs, each opened with {@linkcode OpenRequest} and addressed by its handle.
 */
export interface LoadRequest {
  id: number;
  op: "load";
  /** `file:` URL of the plugin's entry module. */
  entry: string;
}

/**
 * Opens a run in the process: a plugin instance of its own (config, secrets, inputs, run id,
 * `setup()` state), addressed by `run` in later calls until {@linkcode CloseRequest}.
 */
export interface OpenRequest {
  id: number;
  op: "open";
  /** The run's handle, chosen by the host, unique in the process. */
  run: number;
  init: InstanceInit;
}

/** Drops a run's plugin instance (its lifetime signal aborts). */
export interface CloseRequest {
  id: number;
  op: "close";
  run: number;
}

/**
 * A request from the host to the child. `deadline` (epoch ms): when the host kills the process
 * if the call has not answered (the call's timeout), handed to the plugin as `ctx.deadline`.
 */
export type Request =
  | LoadRequest
  | OpenRequest
  | CloseRequest
  | {
    id: number;
    op: "read";
    run: number;
    cursor: Json;
    limit: number;
    chunk: number;
    traceparent?: string;
    deadline?: number;
  }
  | {
    id: number;
    op: "process";
    run: number;
    items: Item[];
    chunk: number;
    /** Which call of the chunk this is, when the stage's `chunk:` splits it (absent: 0). */
    part?: number;
    traceparent?: string;
    deadline?: number;
    /**
     * A sink's call: when the plugin returns the very array it was given, the answer says so
     * (result {@linkcode PassedResult}) instead of sending the items back, and the host passes
     * on the items it sent (see `PASSED_INPUT` in `sdk/raw_items.ts`).
     */
    passOn?: true;
  }
  | { id: number; op: "finish"; run: number; traceparent?: string; deadline?: number }
  | { id: number; op: "shutdown" };

/**
 * A line from the host that answers no call of the child and is not answered: the slot the
 * child asked for with `acquire` (its `lease`) is granted ({@linkcode ChildMessage}).
 */
export interface GrantedLine {
  op: "granted";
  lease: number;
}

/**
 * The result of a `process` call asked to `passOn` whose plugin returned the items it was given
 * (the same array): they are not sent back; `rejected` as the plugin returned it.
 */
export interface PassedResult {
  passed: true;
  rejected?: unknown[];
}

/** An error as carried over the wire. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** True when the error is Deno refusing a permission (NotCapable, PermissionDenied). */
  permission: boolean;
  /** False when the plugin said another attempt cannot help (the SDK's `InputError`). */
  retryable?: false;
  /** True when the stage's configuration is wrong (the SDK's `ConfigError`): never retried. */
  config?: true;
  /** True when the plugin threw the SDK's `InputError`: the input is at fault. */
  input?: true;
  /**
   * How long the other side asked to wait before another attempt (an API's `Retry-After`), in
   * ms: the engine retries the chunk no sooner.
   */
  retryAfterMs?: number;
}

/**
 * A message from the child to the host. Log lines and metrics carry the handle of the run they
 * belong to when it is known (console output: the run of the call that started last).
 */
export type ChildMessage =
  | {
    id: number;
    ok: true;
    result?: unknown;
    /** The result's `items` come on the next protocol line (see {@linkcode resultLines}). */
    itemsNext?: true;
  }
  | { id: number; ok: false; error: WireError }
  | { op: "log"; level: LogLevel; msg: string; data?: Json; chunk?: number; run?: number }
  | { op: "metric"; kind: "count" | "gauge"; name: string; value: number; run?: number }
  /**
   * `ctx.limits.acquire`: asks the host for a slot of `key` (fewer than `limit` holders); the
   * host writes a {@linkcode GrantedLine} with the same `lease` (a number the child picks, unique
   * per process) when it has one.
   */
  | { op: "acquire"; lease: number; key: string; limit: number }
  /** Gives the slot of `lease` back, or, before it was granted, withdraws the request. */
  | { op: "release"; lease: number };

/**
 * The protocol lines of a successful answer (each with {@linkcode FRAME_MARK} and its newline).
 * A result holding an `items` array (`read`, `process`) is written as two lines: the result
 * without its items, marked `itemsNext`, then the items array alone, so the host parses each
 * line whole and keeps the second's text as the items' JSON (`RAW_ITEMS` in `sdk/raw_items.ts`). Anything
 * else is one line. Throws what `JSON.stringify` throws (a BigInt, a cycle).
 */
export function resultLines(id: number, result: unknown): string {
  const r = result ?? null;
  if (r !== null && typeof r === "object" && !Array.isArray(r)) {
    const { items, ...rest } = r as { items?: unknown };
    if (Array.isArray(items)) {
      const head = JSON.stringify({ id, ok: true, result: rest, itemsNext: true });
      return `${FRAME_MARK}${head}\n${FRAME_MARK}${JSON.stringify(items)}\n`;
    }
  }
  return `${FRAME_MARK}${JSON.stringify({ id, ok: true, result: r })}\n`;
}

const permissionText = /^Requires (\w+ )?(and \w+ )?access|^Deno\.\w+\(\) requires unscoped/;

/** True when `err` (or one of its causes) is Deno refusing a permission. */
export function isPermissionError(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      return true;
    }
    const name = (e as { name?: unknown }).name;
    if (name === "NotCapable" || name === "PermissionDenied") return true;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && permissionText.test(message)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** The `retryAfterMs` an error (or one of its causes) carries: a wait an API asked for. */
export function retryAfterOf(err: unknown): number | undefined {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    const after = (e as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof after === "number" && Number.isFinite(after) && after > 0) return after;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when `err` is the SDK's `ConfigError` (by its mark: it may come from another copy of the SDK). */
export function isConfigError(err: unknown): boolean {
  return (err as { configError?: unknown } | null)?.configError === true;
}

/**
 * True when `err` is the SDK's `InputError` (by its name and its `retryable: false`: it may come
 * from another copy of the SDK).
 */
export function isInputError(err: unknown): boolean {
  const e = err as { name?: unknown; retryable?: unknown } | null;
  return e?.name === "InputError" && e.retryable === false;
}

/** Turns anything thrown into a {@linkcode WireError}. */
export function toWireError(err: unknown): WireError {
  const permission = isPermissionError(err);
  if (err instanceof Error) {
    const wire: WireError = { name: err.name, message: err.message, stack: err.stack, permission };
    if ((err as { retryable?: unknown }).retryable === false) wire.retryable = false;
    if (isInputError(err)) wire.input = true;
    if (isConfigError(err)) {
      wire.config = true;
      wire.retryable = false;
    }
    const after = retryAfterOf(err);
    if (after !== undefined) wire.retryAfterMs = after;
    return wire;
  }
  return { name: "Error", message: String(err), permission };
}

/** Checks that a parsed line is a well-formed {@linkcode ChildMessage}. */
export function isChildMessage(value: unknown): value is ChildMessage {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  if (typeof v.id === "number") {
    if (v.ok === true) return true;
    const e = v.error as Record<string, unknown> | undefined;
    return v.ok === false && !!e && typeof e.message === "string";
  }
  if (v.op === "log") return typeof v.level === "string" && typeof v.msg === "string";
  if (v.op === "metric") return typeof v.name === "string" && typeof v.value === "number";
  if (v.op === "acquire") {
    return Number.isSafeInteger(v.lease) && typeof v.key === "string" &&
      typeof v.limit === "number";
  }
  if (v.op === "release") return Number.isSafeInteger(v.lease);
  return false;
}

/** Options of {@linkcode LineSplitter} and {@linkcode readLines}. */
export interface LineSplitterOptions {
  /**
   * Most bytes one line may have (without its newline); default: no limit. It bounds what a
   * writer that never ends its line makes the reader hold.
   */
  maxLineBytes?: number;
  /**
   * What a longer line does: `"error"` (default) throws {@linkcode LineTooLongError} as soon as
   * the limit is passed, before the text is kept; `"truncate"` keeps about the first
   * `maxLineBytes` bytes, drops the rest up to the newline and ends the line with
   * {@linkcode CUT_MARK}.
   */
  overflow?: "error" | "truncate";
  /**
   * Keep each line's bytes as they came (without the newline): {@linkcode LineSplitter.lineBytes}
   * gives those of the line last returned, in the pieces they came in (copied), so a reader that
   * stores a line need not encode its text again. Not with `overflow: "truncate"`.
   */
  keepBytes?: boolean;
}

/** Ends a line that {@linkcode LineSplitter} cut at its limit (`overflow: "truncate"`). */
export const CUT_MARK = " … [line cut: too long]";

/** A line passed the limit of a {@linkcode LineSplitter} with `overflow: "error"`. */
export class LineTooLongError extends RangeError {
  /** The limit, in bytes. */
  readonly limit: number;

  /** Builds the error for a line longer than `limit` bytes. */
  constructor(limit: number) {
    super(`a line is longer than ${limit} bytes without a newline`);
    this.name = "LineTooLongError";
    this.limit = limit;
  }
}

/**
 * Splits bytes into UTF-8 text lines at `\n` (without it), for the host's and the child's
 * readers. Each piece is decoded as it comes (a character cut between two pieces is decoded when
 * it is whole) and only the new text is searched for newlines, so a long line in many small
 * pieces costs one pass, not one per piece (measured, lines of 270 KB in 64 KiB pieces, parse
 * included: 0.18 ms a line; searching all the text gathered so far 0.27; finding newlines in the
 * bytes and decoding whole lines 0.63). With a `maxLineBytes` limit, a line's bytes are counted
 * too (a `\n` byte is always a newline in UTF-8, so the bytes' and the text's newlines pair up),
 * and with `keepBytes` kept (copied: the caller may reuse what it pushed).
 */
export class LineSplitter {
  #decoder = new TextDecoder();
  /** Text of the line begun, in pieces without a newline. */
  #pending: string[] = [];
  /** Bytes of the line begun (counted with a limit only). */
  #pendingBytes = 0;
  /** True while the rest of the line begun is dropped (it was cut at the limit). */
  #cut = false;
  #max: number;
  #truncate: boolean;
  /** Bytes of the line begun, in copied pieces (`keepBytes` only). */
  #bytePieces: Uint8Array[] | undefined;
  /** Bytes of the line last returned, in pieces (`keepBytes` only). */
  #lineBytes: Uint8Array[] | undefined;

  /** A splitter; without options, lines may be of any length. */
  constructor(options: LineSplitterOptions = {}) {
    this.#max = options.maxLineBytes ?? Infinity;
    this.#truncate = options.overflow === "truncate";
    if (options.keepBytes) {
      if (this.#truncate) throw new TypeError("keepBytes does not go with overflow: truncate");
      this.#bytePieces = [];
    }
  }

  /**
   * The lines `bytes` completes; the rest waits for the next bytes. `bytes` may be reused.
   * @throws {LineTooLongError} when a line passes the limit (`overflow: "error"`).
   */
  *push(bytes: Uint8Array): Generator<string> {
    const text = this.#decoder.decode(bytes, { stream: true });
    if (this.#max === Infinity && !this.#bytePieces) {
      let start = 0;
      for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
        let line = text.slice(start, nl);
        if (this.#pending.length > 0) {
          line = this.#pending.join("") + line;
          this.#pending = [];
        }
        start = nl + 1;
        yield line;
      }
      if (start < text.length) this.#pending.push(start === 0 ? text : text.slice(start));
      return;
    }
    let start = 0, byteStart = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      const byteNl = bytes.indexOf(10, byteStart);
      const size = this.#pendingBytes + byteNl - byteStart;
      let line: string;
      if (this.#cut) line = this.#pending.join("") + CUT_MARK;
      else if (size > this.#max) {
        if (!this.#truncate) throw new LineTooLongError(this.#max);
        const room = this.#max - this.#pendingBytes;
        const kept = text.slice(start, Math.min(nl, start + room));
        line = this.#pending.join("") + kept + CUT_MARK;
      } else line = this.#pending.join("") + text.slice(start, nl);
      if (this.#bytePieces) {
        if (byteNl > byteStart) this.#bytePieces.push(bytes.slice(byteStart, byteNl));
        this.#lineBytes = this.#bytePieces;
        this.#bytePieces = [];
      }
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#cut = false;
      start = nl + 1;
      byteStart = byteNl + 1;
      yield line;
    }
    if (this.#cut) return;
    const restBytes = bytes.length - byteStart;
    if (this.#pendingBytes + restBytes > this.#max) {
      if (!this.#truncate) throw new LineTooLongError(this.#max);
      const room = this.#max - this.#pendingBytes;
      if (room > 0) this.#pending.push(text.slice(start, start + room));
      this.#pendingBytes = this.#max;
      this.#cut = true;
      return;
    }
    this.#pendingBytes += restBytes;
    if (start < text.length) this.#pending.push(start === 0 ? text : text.slice(start));
    if (this.#bytePieces && restBytes > 0) this.#bytePieces.push(bytes.slice(byteStart));
  }

  /**
   * The bytes of the line last returned by {@linkcode push} or {@linkcode end}, as they came (they
   * decode to its text), in pieces (none for an empty line); undefined without `keepBytes`.
   */
  lineBytes(): Uint8Array[] | undefined {
    return this.#lineBytes;
  }

  /** The last line, when the bytes did not end with a newline. */
  end(): string | undefined {
    if (this.#bytePieces) {
      this.#lineBytes = this.#bytePieces;
      this.#bytePieces = [];
    }
    let last = this.#pending.join("");
    // A character cut off at the very end decodes as U+FFFD: it counts only while not cut.
    if (!this.#cut) last += this.#decoder.decode();
    else {
      this.#decoder.decode();
      last += CUT_MARK;
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#cut = false;
    return last.length > 0 ? last : undefined;
  }
}

/**
 * Splits a byte stream into text lines (without the newline). A last line without a newline is
 * yielded at the end of the stream.
 * @throws {LineTooLongError} when a line passes `options.maxLineBytes` (`overflow: "error"`).
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
  options?: LineSplitterOptions,
): AsyncGenerator<string> {
  const lines = new LineSplitter(options);
  // One reused read buffer: the splitter decodes, or copies, what it is given.
  for await (const bytes of readReusing(stream)) yield* lines.push(bytes);
  const last = lines.end();
  if (last !== undefined) yield last;
}
