/**
 * `sluice runs log RUN`: the lines a run's stages logged (the plugins' info, warn and error
 * lines and the engine's), as the run page shows them, from the store; filtered by stage and
 * least level, the last N.
 * @module
 */
import type { RunLogEntry, RunRecord, Store } from "../store/store.ts";
import { EngineError } from "../engine/engine.ts";
import { readRunEndLog } from "../store/run_tallies.ts";
import type { CliIO } from "./run_command.ts";

const LEVELS: RunLogEntry["level"][] = ["debug", "info", "warn", "error"];

/** Options of {@link showRunLog}. */
export interface RunLogOptions {
  /** Only this stage's lines. */
  stage?: string;
  /** Only lines of this level and above (`info`, `warn`, `error`). */
  level?: string;
  /** Only the last N lines (after the filters). */
  limit?: number;
  /** One JSON object per line instead of text. */
  json?: boolean;
}

/** One log line as text: `time level stage chunk: message` (`run` for run-level lines). */
export function formatLogLine(l: RunLogEntry): string {
  const where = l.chunk === -1 ? `${l.stage} (run)` : `${l.stage} chunk ${l.chunk}`;
  const msg = l.msg.replace(/[\r\n]+/g, " ");
  return `${new Date(l.at).toISOString()} ${l.level.padEnd(5)} ${where}: ${msg}`;
}

/** Writes the run's stored log lines to `io.out`; throws an {@link EngineError} on bad options. */
export async function showRunLog(
  store: Store,
  run: RunRecord,
  io: CliIO,
  o: RunLogOptions = {},
): Promise<void> {
  // Debug lines are never kept in a run's log: the least level worth asking for is info.
  if (o.level !== undefined && !LEVELS.slice(1).includes(o.level as RunLogEntry["level"])) {
    throw new EngineError(`--level ${o.level}: give one of info, warn, error`);
  }
  const stages = run.stages.map((s) => s.id);
  if (o.stage !== undefined && !stages.includes(o.stage)) {
    throw new EngineError(
      `--stage ${o.stage}: run ${run.id} has no such stage; its stages: ${stages.join(", ")}`,
    );
  }
  if (!store.readRunLog) {
    throw new EngineError("this store keeps no run logs");
  }
  const least = LEVELS.indexOf((o.level ?? "debug") as RunLogEntry["level"]);
  let lines = (await readRunEndLog(store, run)).filter((l) =>
    (o.stage === undefined || l.stage === o.stage) && LEVELS.indexOf(l.level) >= least
  );
  const total = lines.length;
  if (o.limit !== undefined) lines = lines.slice(-o.limit);
  for (const l of lines) {
    if (o.json) {
      const { tally: _tally, ...line } = l;
      io.out(JSON.stringify({ ...line, at: new Date(l.at).toISOString() }) + "\n");
    } else io.out(formatLogLine(l) + "\n");
  }
  if (o.json) return;
  if (!total) {
    io.err(
      `run ${run.id} logged nothing${o.stage || o.level ? " that matches" : ""} ` +
        "(debug lines are not kept)\n",
    );
  } else if (lines.length < total) {
    io.err(`(the last ${lines.length} of ${total} line(s); all of them: drop --limit)\n`);
  }
}
