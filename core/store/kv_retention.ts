/**
 * Retention on the embedded Deno KV store: every interval, finished runs older than
 * `store.retention` are deleted with their items, chunk files and log (a 20,000-business flagship
 * run keeps about 500 MB of stage outputs beside the KV file until then), and the input files
 * Sluice wrote for them. The PostgreSQL store does the same in its cluster maintenance.
 * @module
 */
import { type Logger, silentLogger } from "../telemetry/log.ts";
import type { KvStore } from "./kv_backend.ts";
import { removeInputFiles } from "./purged_files.ts";

/** Options of {@linkcode startKvRetention}. */
export interface KvRetentionOptions {
  store: KvStore;
  /** Delete finished runs this long (ms) after they finished. */
  retentionMs: number;
  /** The data folder, for the input files Sluice wrote (absent: no file is deleted). */
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
    const files: string[] = [];
    let purged = 0;
    const before = now() - o.retentionMs;
    for (let n = -1; n !== 0;) purged += n = await o.store.purgeFinished(before, 100, files);
    if (o.dataDir) await removeInputFiles(o.dataDir, files, log);
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
