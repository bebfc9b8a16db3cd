/**
 * Scrape-time gauges read from the store: unfinished runs by state and the chunk backlog (queue
 * depth) per stage, with the age of the oldest run that still waits. They are computed from the
 * store's counters rather than from the queue, so they mean the same on every backend (Deno KV
 * queues cannot be counted) and in every process. The worker autoscaling example scales on
 * `sluice_queue_depth`.
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
}

/** Chunks waiting per stage of one run: the source's next read, then what earlier stages left. */
export function runBacklog(sourceDone: boolean, counters: BacklogCounters[]): number[] {
  return counters.map((c, i) => {
    if (i === 0) return sourceDone ? 0 : 1;
    const prev = counters[i - 1].chunksDone;
    return Math.max(0, prev - c.chunksDone - c.chunksDead);
  });
}

/** A collector (for `MetricsRegistry.collect`) that refreshes runs, depth and oldest age. */
export function backlogCollector(
  metrics: SluiceMetrics,
  store: BacklogStore,
  opts: BacklogOptions = {},
): () => Promise<void> {
  const now = opts.now ?? Date.now;
  const max = opts.maxRuns ?? 500;
  return async () => {
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
          if (seen++ >= max) continue;
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
    metrics.runsActive.reset();
    for (const [state, n] of Object.entries(byState)) metrics.runsActive.set({ state }, n);
    metrics.queueDepth.reset();
    for (const d of depth.values()) {
      metrics.queueDepth.set({ pipeline: d.pipeline, stage: d.stage }, d.n);
    }
    metrics.queueOldestAge.set(undefined, oldest === undefined ? 0 : (now() - oldest) / 1000);
  };
}
