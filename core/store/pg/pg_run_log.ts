/**
 * A run's own log on PostgreSQL (`sluice_run_log`, migration 5): the lines the engine keeps for
 * the run page, the API's run log, the CLI's run summary (what the export stages reported at run
 * end) and the run notes (tallies). The same semantics as the embedded store's run log: lines
 * come back oldest first (by `at`, then in the order they were appended), the first `limit` of
 * them; a run keeps at most {@linkcode RUN_LOG_MAX_LINES} lines (the one that reaches the cap
 * says so) and a line's `msg` at most {@linkcode RUN_LOG_MAX_MSG} characters.
 *
 * Several processes (servers, workers on other hosts) append to the same run, each capping only
 * its own lines, so the cap is applied here for the run as a whole: every append counts its
 * lines in `sluice_run_log_lines` (one row per run, locked for the statement, so concurrent
 * appends see each other's counts) and inserts only the lines still under the cap, in ONE
 * statement.
 * @module
 */
import type { RunTally } from "../../../sdk/run_tally.ts";
import { RUN_LOG_CAPPED, RUN_LOG_MAX_LINES, RUN_LOG_MAX_MSG, type RunLogEntry } from "../store.ts";
import type { Sql } from "./connect.ts";

/** Text PostgreSQL takes as `text` and in `jsonb`: no NUL, no lone surrogates. */
function storable(s: string): string {
  return s.toWellFormed().replaceAll("\0", "\uFFFD");
}

function tallyJson(t: RunTally | undefined): string | null {
  if (!t) return null;
  return JSON.stringify({
    key: storable(t.key),
    count: t.count,
    line: storable(t.line),
    ...(t.part ? { part: t.part } : {}),
  });
}

/**
 * Appends `entries` to the run's log in one statement, up to the run's cap (lines past it are
 * dropped; the line that reaches it starts with {@linkcode RUN_LOG_CAPPED}); run-level lines
 * (chunk -1) are kept past it. The run must exist (its lines go with it when it is deleted).
 */
export async function appendPgRunLog(
  sql: Sql,
  runId: string,
  entries: RunLogEntry[],
): Promise<void> {
  if (!entries.length) return;
  // Run-level lines (chunk -1, what `finish` logs) are not counted against the cap: the engine
  // bounds them (RUN_LOG_RUN_LEVEL_LINES per process), so a full log still keeps the run's end.
  // `counted` numbers the other lines 1..k (run-level ones 0); all keep their order.
  let k = 0;
  const counted = entries.map((e) => e.chunk === -1 ? 0 : ++k);
  const col = <T>(f: (e: RunLogEntry) => T) => entries.map(f);
  await sql`
    WITH n AS (
      INSERT INTO sluice_run_log_lines AS c (run_id, lines) VALUES (${runId}, ${k})
      ON CONFLICT (run_id) DO UPDATE SET lines = c.lines + excluded.lines
      RETURNING c.lines - ${k}::bigint AS before
    )
    INSERT INTO sluice_run_log (run_id, at, level, stage, chunk, msg, tally)
    SELECT ${runId}, u.at, u.level, u.stage, u.chunk,
      CASE WHEN u.counted > 0 AND n.before + u.counted = ${RUN_LOG_MAX_LINES}::bigint
          AND NOT starts_with(u.msg, '(log capped at ')
        THEN left(${RUN_LOG_CAPPED}::text || u.msg, ${RUN_LOG_MAX_MSG}::int)
        ELSE u.msg END,
      u.tally::jsonb
    FROM n, unnest(
      ${col((e) => Math.floor(e.at))}::bigint[], ${col((e) => e.level)}::text[],
      ${col((e) => storable(e.stage))}::text[], ${col((e) => Math.trunc(e.chunk))}::int[],
      ${col((e) => storable(e.msg.slice(0, RUN_LOG_MAX_MSG)))}::text[],
      ${col((e) => tallyJson(e.tally))}::text[], ${counted}::bigint[]
    ) WITH ORDINALITY AS u(at, level, stage, chunk, msg, tally, counted, ord)
    WHERE u.counted = 0 OR n.before + u.counted <= ${RUN_LOG_MAX_LINES}::bigint
    ORDER BY u.ord`;
}

interface LogRow {
  at: number;
  level: RunLogEntry["level"];
  stage: string;
  chunk: number;
  msg: string;
  tally: RunTally | null;
}

/** The first `limit` lines of the run's log, oldest first (same `at`: in the order appended). */
export async function readPgRunLog(
  sql: Sql,
  runId: string,
  limit: number,
): Promise<RunLogEntry[]> {
  const n = Math.min(Math.max(0, Math.floor(limit)), Number.MAX_SAFE_INTEGER);
  if (!(n > 0)) return [];
  const rows = await sql<LogRow[]>`
    SELECT at, level, stage, chunk, msg, tally FROM sluice_run_log
    WHERE run_id = ${runId} ORDER BY at, seq LIMIT ${n}::bigint`;
  return rows.map((r) => ({
    at: r.at,
    level: r.level,
    stage: r.stage,
    chunk: r.chunk,
    msg: r.msg,
    ...(r.tally ? { tally: r.tally } : {}),
  }));
}
