/**
 * Run tallies: a count a stage finds in each chunk that a person should see at run end, summed
 * over the run's chunks (score's rules that did not evaluate for some items). A plugin logs one
 * line per chunk and tally with {@linkcode logTally}; the host keeps the tally beside the line
 * in the run's log, and the CLI's run summary, `sluice runs show` and the API's run detail
 * (`notes`, also on the UI's run page) show one line per stage and `key`: the first chunk's
 * `line` with the run's total in place of `{count}`. A chunk that ran twice (a retry) counts
 * once: the last line of each chunk counts.
 * @module
 */
import type { PluginLogger } from "./plugin.ts";

/** A log line's data key that carries a {@linkcode RunTally}. */
export const RUN_TALLY_KEY = "runTally";

/** What one chunk adds to a run tally. */
export interface RunTally {
  /** What is counted: one summary line per stage and key (e.g. `rule:no-website`). */
  key: string;
  /** How many in this chunk. */
  count: number;
  /**
   * The run-end line, with `{count}` where the run's total goes, saying what is wrong and what
   * to do (the first chunk's line is shown, so an example from it reads right).
   */
  line: string;
  /**
   * Which call of the chunk logged it (`ctx.part`), set by the SDK when it is not the first: each
   * call of a chunk the stage's `chunk:` splits counts, not only the last.
   */
  part?: number;
}

/** True for a well-formed {@linkcode RunTally}. */
export function isRunTally(v: unknown): v is RunTally {
  const t = v as RunTally | null;
  return typeof t === "object" && t !== null && typeof t.key === "string" &&
    typeof t.count === "number" && Number.isFinite(t.count) && typeof t.line === "string";
}

/** Logs `msg` for this chunk at `level` (default `warn`), carrying `tally` for the run's end. */
export function logTally(
  log: PluginLogger,
  msg: string,
  tally: RunTally,
  level: "info" | "warn" | "error" = "warn",
): void {
  log[level](msg, { [RUN_TALLY_KEY]: { key: tally.key, count: tally.count, line: tally.line } });
}

/**
 * Log data `data` as a call with part `part` logs it: a {@linkcode RunTally} in it gets `part`
 * when it is above 0 (a copy; other data as it is).
 */
export function tallyOfPart<D>(data: D, part: number): D {
  if (part <= 0 || data === null || typeof data !== "object") return data;
  const tally = (data as Record<string, unknown>)[RUN_TALLY_KEY];
  if (!isRunTally(tally)) return data;
  return { ...data, [RUN_TALLY_KEY]: { ...tally, part } };
}
