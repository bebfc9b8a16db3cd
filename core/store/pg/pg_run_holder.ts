/**
 * Who works an unfinished run on the PostgreSQL backend, and whether it is alive. There are no
 * run claims there: any `sluice serve`, `sluice worker` or `sluice run` on any host takes any
 * run's chunks from the shared queue. So liveness comes from the database, never from a local
 * pid check: each process consuming the queue renews its `sluice_workers` row (`seen_at`) every
 * third of the visibility timeout, and a chunk in hand is a `sluice_queue` row of the run locked
 * by that process (`locked_by`, until `ready_at`). A process is alive while its row was renewed
 * within the visibility timeout (by the database clock) and it did not stop; a run is alive while
 * some live process consumes the queue, since that process takes the run's chunks (a killed
 * holder's locks run out after the same timeout).
 * @module
 */
import type { RunHolder } from "../store.ts";
import type { Sql } from "./connect.ts";

/** Options of {@linkcode pgRunHolder}. */
export interface PgRunHolderOptions {
  /**
   * A process whose heartbeat is older than this is gone: the cluster's visibility timeout
   * (`store.visibilityTimeout`, default 30 s), after which its chunks go to other processes.
   */
  staleMs?: number;
}

interface Row {
  id: string;
  host: string | null;
  pid: number | null;
  command: string | null;
  since: number;
  alive: boolean;
  holds: boolean;
  live: number;
}

/** Host and pid from a default worker id (`host:pid:suffix`), for rows of older processes. */
function fromId(id: string): { host: string; pid: number } {
  const m = /^(.*):(\d+):[^:]*$/.exec(id);
  return m ? { host: m[1], pid: Number(m[2]) } : { host: id, pid: 0 };
}

/**
 * The process that works `runId` and whether it is alive (see the module doc): the live process
 * with some of the run's chunks in hand, else a live process that may take them, else the last
 * process that had them in hand or was seen (gone). `process` is absent when no process ever
 * consumed the queue. Only unfinished runs are worth asking about.
 */
export async function pgRunHolder(
  sql: Sql,
  runId: string,
  o: PgRunHolderOptions = {},
): Promise<RunHolder> {
  const staleSecs = (o.staleMs ?? 30_000) / 1000;
  const rows = await sql<Row[]>`
    WITH m AS (
      SELECT locked_by, bool_or(ready_at > now()) AS now_held
      FROM sluice_queue WHERE run_id = ${runId} AND locked_by IS NOT NULL
      GROUP BY locked_by
    ), w AS (
      SELECT w.id, w.host, w.pid, w.command, w.seen_at,
        (extract(epoch FROM w.started_at) * 1000)::float8 AS since,
        (NOT w.stopped AND w.seen_at > now() - make_interval(secs => ${staleSecs})) AS alive,
        coalesce(m.now_held, false) AS holds, m.locked_by IS NOT NULL AS held
      FROM sluice_workers w LEFT JOIN m ON m.locked_by = w.id
    )
    SELECT id, host, pid, command, since, alive, holds,
      (SELECT count(*)::int FROM w WHERE alive) AS live
    FROM w
    ORDER BY (alive AND holds) DESC, alive DESC, held DESC, seen_at DESC
    LIMIT 1`;
  const r = rows[0];
  if (!r) return { alive: false, working: false, workers: 0 };
  const parsed = fromId(r.id);
  return {
    process: {
      pid: r.pid ?? parsed.pid,
      host: r.host ?? parsed.host,
      command: r.command ?? "sluice",
      since: Math.round(r.since),
    },
    alive: r.alive,
    working: r.alive && r.holds,
    workers: r.live,
  };
}
