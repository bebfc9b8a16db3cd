/**
 * Retention on the embedded Deno KV store: every interval, finished runs older than
 * `store.retention` are deleted with their items, chunk files and log (a 20,000-business flagship
 * run keeps about 500 MB of stage outputs beside the KV file until then), the input files Sluice
 * wrote for them, and what their stages wrote for them alone (`plugin-data/<plugin>/runs/<run
 * id>/`, artifacts named after the run; see `purged_files.ts`). The PostgreSQL store deletes the
 * runs and input files in its cluster maintenance.
 *
 * The KV file does not shrink: SQLite keeps the freed pages and reuses them for new runs, so the
 * file stays near its largest size (see README "Deploying" for compacting it).
 * @module
 */
import { type Logger, silentLogger } from "../telemetry/log.ts";
import type { KvStore } from "./kv_backend.ts";
import { removeInputFiles, removeRunFiles } from "./purged_files.ts";
import type { RunRecord } from "./store.ts";

/** Options of {@linkcode startKvRetention}. */
export interface KvRetentionOptions {
  store: KvStore;
  /** Delete finished runs this long (ms) after they finished. */
  retentionMs: number;
  /**
   * The data folder, for the input files Sluice wrote and the runs' files in plugin folders
   * (absent: no file is deleted).
   */
  dataDir?: string;
  /** Time between rounds (default 60 s; the first round runs after one interval). */
  intervalMs?: number;
  log?: Logger;
  /** Epoch ms. */
  now?: () => number;
}

/** Running retention. */
export interface KvRetention {
  /** Runs one round now; resolves to the runs deleted. */
  runOnce(): Promise<number>;
  /** Stops (waits for a round in progress). */
  close(): Promise<void>;
}

/** Starts deleting finished runs past the retention, once per interval. */
export function startKvRetention(o: KvRetentionOptions): KvRetention {
  const log = o.log ?? silentLogger;
  const now = o.now ?? Date.now;
  let busy: Promise<number> | undefined;
  const round = async (): Promise<number> => {
    let purged = 0;
    const before = now() - o.retentionMs;
    for (let n = -1; n !== 0;) {
      const files: string[] = [];
      const runs: RunRecord[] = [];
      purged += n = await o.store.purgeFinished(before, 100, files, runs);
      if (o.dataDir) {
        await removeInputFiles(o.dataDir, files, log);
        await removeRunFiles(o.dataDir, runs, log);
      }
    }
    if (purged) log.info("retention", { purged });
    return purged;
  };
  const runOnce = () =>
    busy ??= round().catch((e) => {
      log.warn("retention round failed", { error: (e as Error).message });
      return 0;
    }).finally(() => busy = undefined);
  const timer = setInterval(() => void runOnce(), o.intervalMs ?? 60_000);
  return {
    runOnce,
    async close() {
      clearInterval(timer);
      await busy;
    },
  };
}
