/**
 * Cluster housekeeping on the PostgreSQL backend, done by exactly one process at a time (the
 * holder of the `maintenance` lease; any `serve` or `worker` may take it over when the holder
 * dies): re-enqueue unfinished work of running runs (a safety net for messages whose handler
 * failed on a store error), delete runs past the retention setting, forget idle rate-limit
 * buckets, dead concurrency slots and the `sluice_workers` rows of processes gone for a week
 * ({@link WORKER_ROWS_KEPT_MS}).
 * @module
 */
import { type PurgedRun, removeInputFiles, removeRunFiles } from "../purged_files.ts";
import { type Logger, silentLogger } from "../../telemetry/log.ts";
import type { PgBackend } from "./pg_backend.ts";

/** Name of the maintenance lease. */
export const MAINTENANCE_LEASE = "maintenance";

/**
 * How long the row of a process that stopped or went silent stays in `sluice_workers` (7 days):
 * long enough for `sluice runs show` to name the process an interrupted run was last worked by;
 * a cluster whose workers restart often would otherwise gather rows forever. A row whose process
 * still holds messages of the queue stays.
 */
export const WORKER_ROWS_KEPT_MS = 7 * 86_400_000;

/** Options of {@link startMaintenance}. */
export interface MaintenanceOptions {
  backend: PgBackend;
  /** Re-enqueues unfinished work (the engine's `recover`). */
  recover?: () => Promise<number>;
  /** Delete finished runs older than this (ms); undefined keeps them. */
  retentionMs?: number;
  /**
   * The data folder: a purged run's input file is deleted with it when it lies in the folders
   * Sluice writes input files to (`uploads/` of API uploads, `webhooks/` of webhook bodies); a
   * file given with `sluice run --input` is the user's and stays. Absent: no file is deleted.
   */
  dataDir?: string;
  /** Time between rounds (default 60 s). */
  intervalMs?: number;
  log?: Logger;
  /**
   * This process's clock (epoch ms). Only a backend opened with `callerClock` (tests with
   * synthetic clocks) uses it; otherwise the lease and the retention cut-off are judged by the
   * database clock, so a process whose clock runs fast neither takes the lease from a live
   * holder nor purges runs early.
   */
  now?: () => number;
}

/** Running maintenance. */
export interface Maintenance {
  /** Runs one round now if this process holds (or takes) the lease; true when it did. */
  runOnce(): Promise<boolean>;
  /** Stops and gives the lease up. */
  close(): Promise<void>;
}

/** Starts the maintenance loop (first round after one interval). */
export function startMaintenance(o: MaintenanceOptions): Maintenance {
  const b = o.backend;
  const log = o.log ?? silentLogger;
  const now = o.now ?? Date.now;
  const interval = o.intervalMs ?? 60_000;
  let busy: Promise<boolean> | undefined;
  const round = async (): Promise<boolean> => {
    if (!(await b.limits.acquireLease(MAINTENANCE_LEASE, b.workerId, interval * 3, now()))) {
      return false;
    }
    const requeued = o.recover ? await o.recover() : 0;
    let purged = 0;
    if (o.retentionMs) {
      const age = o.retentionMs;
      for (let n = -1; n !== 0;) {
        const files: string[] = [];
        const runs: PurgedRun[] = [];
        purged += n = b.limits.callerClock
          ? await b.store.purgeFinished(now() - age, 100, files, runs)
          : await b.store.purgeFinishedOlderThan(age, 100, files, runs);
        if (o.dataDir) {
          await removeInputFiles(o.dataDir, files, log);
          await removeRunFiles(o.dataDir, runs, log);
        }
      }
    }
    await b.sql`DELETE FROM sluice_buckets WHERE touched_at < now() - interval '1 hour'`;
    await b.sql`DELETE FROM sluice_slots WHERE expires_at < now() - interval '1 minute'`;
    const gone = await b.sql`
      DELETE FROM sluice_workers w
      WHERE w.seen_at < now() - make_interval(secs => ${WORKER_ROWS_KEPT_MS / 1000})
        AND NOT EXISTS (SELECT 1 FROM sluice_queue q WHERE q.locked_by = w.id)`;
    if (requeued || purged || gone.count) {
      log.info("maintenance", { requeued, purged, workerRowsRemoved: gone.count });
    }
    return true;
  };
  const runOnce = () => {
    busy ??= round().catch((e) => {
      log.warn("maintenance round failed", { error: (e as Error).message });
      return false;
    }).finally(() => busy = undefined);
    return busy;
  };
  const timer = setInterval(() => void runOnce(), interval);
  return {
    runOnce,
    async close() {
      clearInterval(timer);
      await busy;
      await b.limits.releaseLease(MAINTENANCE_LEASE, b.workerId).catch(() => {});
    },
  };
}
