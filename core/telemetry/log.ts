/**
 * Structured logs: one JSON object per line (time, level, msg, ids), or a readable line on a TTY.
 * Known secret values are masked before anything is written, also where JSON escaped them.
 * @module
 */
import { SecretMasker } from "../../sdk/runtime/secret_mask.ts";

/** Log levels, in increasing severity. */
export type Level = "debug" | "info" | "warn" | "error";
/** Log levels by increasing severity, to compare them. */
export const LEVEL_ORDER: Readonly<Record<Level, number>> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
};

/** Fields attached to a log line (run, stage, chunk ids, correlation id…). */
export type LogFields = Record<string, unknown>;

/** A logger with bound fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: Level;
  format?: "json" | "pretty";
  /** Where lines go (default: stderr, buffered for one turn of the event loop; see {@linkcode flushLogs}). */
  write?: (line: string) => void;
  /**
   * Values that must never appear (secrets, tokens); replaced by `********`, as they are and
   * JSON-escaped (a secret with `"` or `\` is escaped in a JSON line). Values shorter than 4
   * characters are left alone.
   */
  secrets?: () => Iterable<string>;
  clock?: () => Date;
}

const enc = new TextEncoder();
let pending = "";
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let exitHooked = false;

/** Writes the buffered lines to stderr now. */
export function flushLogs(): void {
  if (flushTimer !== undefined) clearTimeout(flushTimer);
  flushTimer = undefined;
  if (!pending) return;
  const bytes = enc.encode(pending);
  pending = "";
  for (let off = 0; off < bytes.length;) off += Deno.stderr.writeSync(bytes.subarray(off));
}

/**
 * The default sink: lines go to stderr together, once per turn of the event loop, instead of
 * one system call per line (a busy server writes thousands a second). Warnings and errors, and
 * whatever waits before them, go at once; the rest at exit, on an uncaught error, and on an
 * unhandled rejection.
 */
function stderrLine(line: string, now: boolean): void {
  pending += line + "\n";
  if (now || pending.length > 64 * 1024) return flushLogs();
  if (!exitHooked) {
    exitHooked = true;
    for (const ev of ["unload", "error", "unhandledrejection"]) {
      globalThis.addEventListener(ev, flushLogs);
    }
  }
  if (flushTimer === undefined) {
    const timer = setTimeout(flushLogs, 0);
    Deno.unrefTimer(timer);
    flushTimer = timer;
  }
}

/** Creates a logger. */
export function createLogger(opts: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const min = LEVEL_ORDER[opts.level ?? "info"];
  const format = opts.format ?? "json";
  const clock = opts.clock ?? (() => new Date());
  const mask = (s: string) => opts.secrets ? new SecretMasker(opts.secrets()).text(s) : s;
  const emit = (level: Level, msg: string, fields?: LogFields) => {
    if (LEVEL_ORDER[level] < min) return;
    const all = { ...bound, ...fields };
    let line: string;
    if (format === "json") {
      line = mask(JSON.stringify({ time: clock().toISOString(), level, msg, ...all }));
    } else {
      const tags = Object.entries(all).map(([k, v]) =>
        `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
      ).join(" ");
      line = mask(
        `${clock().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${
          tags ? "  " + tags : ""
        }`,
      );
    }
    if (opts.write) opts.write(line);
    else stderrLine(line, LEVEL_ORDER[level] >= LEVEL_ORDER.warn);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
