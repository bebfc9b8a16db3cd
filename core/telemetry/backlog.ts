/**
 * Scrape-time gauges read from the store: unfinished runs by state and the chunk backlog (queue
 * depth) per stage, with the age of the oldest run that still waits. They are computed from the
 * store's counters rather than from the queue, so they mean the same on every backend (Deno KV
 * queues cannot be counted) and in every process. The worker autoscaling example scales on
 * `sluice_queue_depth_all`, the unlabelled total over every pipeline and stage (0 when idle).
 *
 * The store is read with a deadline ({@linkcode BacklogOptions.timeoutMs}): when it fails or does
 * not answer in time (database down), the scrape still answers at once with the in-process
 * metrics, `sluice_store_up 0` and no store-derived gauges (absent rather than stale); a read
 * still pending is not started again by the next scrape.
 * @module
 */
import type { SluiceMetrics } from "./sluice_metrics.ts";

/** The stage counters the backlog needs. */
export interface BacklogCounters {
  chunksDone: number;
  chunksDead: number;
}

/** A run as far as the backlog needs it (a `RunRecord` fits). */
export interface BacklogRun {
  id: string;
  pipeline: string;
  createdAt: number;
  stages: { id: string }[];
}

/** The store reads the backlog needs (the `Store` interface fits). */
export interface BacklogStore {
  listRuns(
    filter: { state?: "queued" | "running"; limit?: number; cursor?: string },
  ): Promise<{ runs: BacklogRun[]; cursor?: string }>;
  sourceProgress(runId: string): Promise<{ done: boolean }>;
  counters(runId: string, stages: number): Promise<BacklogCounters[]>;
}

/** Options of {@linkcode backlogCollector}. */
export interface BacklogOptions {
  /** Epoch ms (injectable). */
  now?: () => number;
  /** At most this many unfinished runs are inspected per scrape (default 500). */
  maxRuns?: number;
  /** How long a scrape waits for the store, ms (default {@linkcode STORE_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** Default deadline of the store reads of one scrape, ms. */
export const STORE_TIMEOUT_MS = 1500;

/** What one read of the store found. */
export interface BacklogSnapshot {
  /** Unfinished runs by state. */
  runs: { queued: number; running: number };
  /** Chunks waiting, by pipeline and stage (stages with runs only). */
  depth: { pipeline: string; stage: string; n: number }[];
  /** Creation time (epoch ms) of the oldest run with chunks waiting, if any. */
  oldest?: number;
}

/** Chunks waiting per stage of one run: the source's next read, then what earlier stages left. */
export function runBacklog(sourceDone: boolean, counters: BacklogCounters[]): number[] {
  return counters.map((c, i) => {
    if (i === 0) return sourceDone ? 0 : 1;
    const prev = counters[i - 1].chunksDone;
    return Math.max(0, prev - c.chunksDone - c.chunksDead);
  });
}

/** Reads runs by state and the chunk backlog from `store` (at most `maxRuns` runs inspected). */
export async function readBacklog(store: BacklogStore, maxRuns = 500): Promise<BacklogSnapshot> {
  const depth = new Map<string, { pipeline: string; stage: string; n: number }>();
  const byState = { queued: 0, running: 0 };
  let oldest: number | undefined;
  let seen = 0;
  for (const state of ["queued", "running"] as const) {
    let cursor: string | undefined;
    do {
      const page = await store.listRuns({ state, limit: 100, cursor });
      for (const run of page.runs) {
        byState[state]++;
        if (seen++ >= maxRuns) continue;
        const [p, c] = await Promise.all([
          store.sourceProgress(run.id),
          store.counters(run.id, run.stages.length),
        ]);
        const waiting = runBacklog(p.done, c);
        waiting.forEach((n, i) => {
          const stage = run.stages[i].id;
          const k = `${run.pipeline}\u0000${stage}`;
          const d = depth.get(k) ?? { pipeline: run.pipeline, stage, n: 0 };
          d.n += n;
          depth.set(k, d);
        });
        if (waiting.some((n) => n > 0)) {
          oldest = Math.min(oldest ?? run.createdAt, run.createdAt);
        }
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return { runs: byState, depth: [...depth.values()], oldest };
}

/** Rejects with a `Error` naming `what` when `p` has not settled after `ms`. */
export async function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A collector (for `MetricsRegistry.collect`) that refreshes runs, depth (per stage and the
 * total), oldest age and `sluice_store_up`. It throws (for `onCollectError`) after clearing the
 * store-derived gauges when the store failed or missed the deadline.
 */
export function backlogCollector(
  metrics: SluiceMetrics,
  store: BacklogStore,
  opts: BacklogOptions = {},
): () => Promise<void> {
  const now = opts.now ?? Date.now;
  const max = opts.maxRuns ?? 500;
  const timeoutMs = opts.timeoutMs ?? STORE_TIMEOUT_MS;
  let pending: Promise<BacklogSnapshot> | undefined;
  return async () => {
    // A read that is still hanging is awaited again, not started a second time.
    const read = pending ??= readBacklog(store, max).finally(() => pending = undefined);
    let snap: BacklogSnapshot;
    try {
      snap = await withDeadline(read, timeoutMs, "the store");
    } catch (e) {
      metrics.storeUp.set(undefined, 0);
      metrics.runsActive.reset();
      metrics.queueDepth.reset();
      metrics.queueDepthAll.reset();
      metrics.queueOldestAge.reset();
      throw new Error(
        `queue depth and runs are left out of /metrics (sluice_store_up 0): ${
          (e as Error).message
        }`,
        { cause: e },
      );
    }
    metrics.storeUp.set(undefined, 1);
    metrics.runsActive.reset();
    for (const [state, n] of Object.entries(snap.runs)) metrics.runsActive.set({ state }, n);
    metrics.queueDepth.reset();
    let total = 0;
    for (const d of snap.depth) {
      metrics.queueDepth.set({ pipeline: d.pipeline, stage: d.stage }, d.n);
      total += d.n;
    }
    metrics.queueDepthAll.set(undefined, total);
    metrics.queueOldestAge.set(
      undefined,
      snap.oldest === undefined ? 0 : (now() - snap.oldest) / 1000,
    );
  };
}
