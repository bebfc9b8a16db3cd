/**
 * The per-process cap of a run's log lines: {@linkcode RUN_LOG_MAX_LINES} lines of its chunks and
 * {@linkcode RUN_LOG_RUN_LEVEL_LINES} run-level lines (chunk -1, what `finish` logs), counted
 * apart so a full log still keeps the run's end. A store shared by processes (PostgreSQL) caps
 * the whole run as well.
 * @module
 */
import { RUN_LOG_MAX_LINES, RUN_LOG_RUN_LEVEL_LINES } from "../store/store.ts";

/** What to do with a line: keep it, keep it as the one that reaches the cap, or drop it. */
export type LineVerdict = "keep" | "last" | "drop";

/** Counts the lines this process logged per run. */
export class RunLogCap {
  #chunkLines = new Map<string, number>();
  #runLines = new Map<string, number>();

  /** Counts a line of `chunk` (-1: run-level) of run `runId`; says whether to keep it. */
  take(runId: string, chunk: number): LineVerdict {
    const runLevel = chunk === -1;
    const counts = runLevel ? this.#runLines : this.#chunkLines;
    const cap = runLevel ? RUN_LOG_RUN_LEVEL_LINES : RUN_LOG_MAX_LINES;
    const n = counts.get(runId) ?? 0;
    if (n >= cap) return "drop";
    counts.set(runId, n + 1);
    return !runLevel && n + 1 === RUN_LOG_MAX_LINES ? "last" : "keep";
  }

  /** Drops a run's counts (it ended: a server would otherwise keep two entries per run forever). */
  forget(runId: string): void {
    this.#chunkLines.delete(runId);
    this.#runLines.delete(runId);
  }

  /** How many runs have counts here. */
  get runs(): number {
    return new Set([...this.#chunkLines.keys(), ...this.#runLines.keys()]).size;
  }
}
