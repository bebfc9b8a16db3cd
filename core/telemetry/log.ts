/**
 * Structured logs: one JSON object per line (time, level, msg, ids), or a readable line on a TTY.
 * Known secret values are masked before anything is written.
 * @module
 */

/** Log levels, in increasing severity. */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

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
  /** Where lines go (default: stderr). */
  write?: (line: string) => void;
  /** Values that must never appear (secrets, tokens); replaced by `********`. */
  secrets?: () => Iterable<string>;
  clock?: () => Date;
}

/** Creates a logger. */
export function createLogger(opts: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const min = ORDER[opts.level ?? "info"];
  const enc = new TextEncoder();
  const write = opts.write ?? ((line: string) => Deno.stderr.writeSync(enc.encode(line + "\n")));
  const format = opts.format ?? "json";
  const clock = opts.clock ?? (() => new Date());
  const mask = (s: string) => {
    for (const secret of opts.secrets?.() ?? []) {
      if (secret.length >= 4) s = s.split(secret).join("********");
    }
    return s;
  };
  const emit = (level: Level, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const all = { ...bound, ...fields };
    if (format === "json") {
      write(mask(JSON.stringify({ time: clock().toISOString(), level, msg, ...all })));
    } else {
      const tags = Object.entries(all).map(([k, v]) =>
        `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`
      ).join(" ");
      write(
        mask(
          `${clock().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${msg}${
            tags ? "  " + tags : ""
          }`,
        ),
      );
    }
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
