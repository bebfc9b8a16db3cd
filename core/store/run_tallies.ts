/**
 * A run's tallies (`sdk/run_tally.ts`): what its stages counted chunk by chunk for a person to
 * see at run end (score's rules that did not evaluate for some items), summed from the run's
 * log. Shared by the CLI's run summary and the API's run detail (the UI's run page).
 * @module
 */
import { RUN_LOG_CAPPED, type RunLogEntry, type RunRecord, type Store } from "./store.ts";

/**
 * How many lines of a run's log what is shown at run end (tallies, export lines) reads at most:
 * more than a run keeps (5,000 of its chunks and its run-level lines).
 */
export const TALLY_LOG_READ = 20_000;

/** The first {@linkcode TALLY_LOG_READ} lines of the run's log; none when the store keeps none. */
export async function readRunEndLog(store: Store, run: RunRecord): Promise<RunLogEntry[]> {
  return store.readRunLog ? await store.readRunLog(run.id, TALLY_LOG_READ) : [];
}

/** One summed tally of one stage. */
export interface RunTallyTotal {
  /** The stage's id. */
  stage: string;
  /** What was counted (the plugin's key). */
  key: string;
  /** The sum over the run's chunks (each chunk once, its last line; each part of a split chunk). */
  count: number;
  /**
   * True when the log may miss lines (read or capped at its limit): `count` is a lower bound.
   */
  partial: boolean;
  /** The first chunk's line with the total in place of `{count}` (`at least 1,234` if partial). */
  text: string;
}

/**
 * The run's tallies, in stage order and then in order of their first chunk, one per stage and
 * key. Each chunk counts once (the last line a chunk logged for the key: a retried chunk logs it
 * again); a chunk that the stage's `chunk:` split into calls counts once per call (`part`). Empty
 * when the store keeps no run log or no stage tallied anything.
 */
export async function runTallies(
  store: Store,
  run: RunRecord,
  limit = TALLY_LOG_READ,
): Promise<RunTallyTotal[]> {
  if (!store.readRunLog) return [];
  return tallyTotals(run, await store.readRunLog(run.id, limit), limit);
}

/**
 * {@linkcode runTallies} from the run's log as read (its first `limit` lines), for a caller
 * that reads the log once for several things.
 */
export function tallyTotals(
  run: RunRecord,
  log: RunLogEntry[],
  limit = TALLY_LOG_READ,
): RunTallyTotal[] {
  const partial = log.length >= limit || log.some((l) => l.msg.startsWith(RUN_LOG_CAPPED));
  const perChunk = new Map<string, { stage: string; key: string; chunk: number; count: number }>();
  const totals = new Map<string, { stage: string; key: string; chunk: number; line: string }>();
  for (const l of log) {
    const t = l.tally;
    if (!t) continue;
    const id = JSON.stringify([l.stage, t.key]);
    // The calls of a chunk split by the stage's `chunk:` each count (`part`).
    perChunk.set(JSON.stringify([l.stage, t.key, l.chunk, t.part ?? 0]), {
      stage: l.stage,
      key: t.key,
      chunk: l.chunk,
      count: t.count,
    });
    const first = totals.get(id);
    if (!first || l.chunk < first.chunk) {
      totals.set(id, { stage: l.stage, key: t.key, chunk: l.chunk, line: t.line });
    }
  }
  const stageAt = (id: string) => run.stages.findIndex((s) => s.id === id);
  const sums = new Map<string, number>();
  for (const c of perChunk.values()) {
    const id = JSON.stringify([c.stage, c.key]);
    sums.set(id, (sums.get(id) ?? 0) + c.count);
  }
  return [...totals.entries()]
    .sort((a, b) => stageAt(a[1].stage) - stageAt(b[1].stage) || a[1].chunk - b[1].chunk)
    .map(([id, t]) => {
      const count = sums.get(id) ?? 0;
      const shown = `${partial ? "at least " : ""}${count.toLocaleString("en-US")}`;
      return {
        stage: t.stage,
        key: t.key,
        count,
        partial,
        text: t.line.replaceAll("{count}", shown),
      };
    });
}
