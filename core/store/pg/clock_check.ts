/**
 * The start-up clock check of the PostgreSQL backend: leases, rate limits, retention and the
 * queue are judged by the database clock, but a process still stamps records (run times, cron
 * occurrences) with its own. A `serve` or `worker` whose clock is far off the database's refuses
 * to start, and one somewhat off warns.
 * @module
 */
import { type Logger, silentLogger } from "../../telemetry/log.ts";
import type { Sql } from "./connect.ts";

/** Default skew (ms) above which a process refuses to start. */
export const MAX_CLOCK_SKEW_MS = 5000;
/** Default skew (ms) above which a process warns at start. */
export const WARN_CLOCK_SKEW_MS = 1000;

/** Options of {@link checkClockSkew}. */
export interface ClockCheckOptions {
  /** This process's clock (epoch ms; default `Date.now`). */
  now?: () => number;
  /** Refuse above this skew (ms; default {@link MAX_CLOCK_SKEW_MS}). */
  maxMs?: number;
  /** Warn above this skew (ms; default {@link WARN_CLOCK_SKEW_MS}). */
  warnMs?: number;
  log?: Logger;
}

/** Thrown when this process's clock is too far off the database's. */
export class ClockSkewError extends Error {
  /** Builds the error. */
  constructor(message: string, readonly skewMs: number) {
    super(message);
    this.name = "ClockSkewError";
  }
}

/**
 * Compares this process's clock with the database's `now()` (the midpoint of the round trip);
 * returns the skew in ms (positive: this clock is ahead). Throws {@link ClockSkewError} above
 * `maxMs`, logs a warning above `warnMs`.
 */
export async function checkClockSkew(sql: Sql, o: ClockCheckOptions = {}): Promise<number> {
  const now = o.now ?? Date.now;
  const maxMs = o.maxMs ?? MAX_CLOCK_SKEW_MS;
  const warnMs = o.warnMs ?? WARN_CLOCK_SKEW_MS;
  const before = now();
  const [r] = await sql<{ ms: number }[]>`
    SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms`;
  const after = now();
  const skew = Math.round((before + after) / 2 - r.ms);
  const what = `this machine's clock is ${Math.abs(skew)} ms ${
    skew > 0 ? "ahead of" : "behind"
  } the PostgreSQL server's`;
  if (Math.abs(skew) > maxMs) {
    throw new ClockSkewError(
      `${what} (more than ${maxMs} ms allowed): leases, cron times and run times would be ` +
        `wrong. Synchronize the clocks (NTP: chrony or systemd-timesyncd) and start again`,
      skew,
    );
  }
  if (Math.abs(skew) > warnMs) {
    (o.log ?? silentLogger).warn(`${what}; synchronize the clocks (NTP)`, { skewMs: skew });
  }
  return skew;
}
