/**
 * Numbers of the dashboard, read from the store within a bounded budget so the page stays fast
 * with 100,000 runs: runs per hour by state over the last 48 hours (at most 500 runs read),
 * items read and items out (counters of the newest 20 runs), queue depth (queued runs plus
 * unfinished chunks of running runs), next schedule fires and recent failures, all from the
 * runs read (the store has no index by state).
 * @module
 */
import type { ScheduleInfo, ScheduleService } from "../core/http/deps.ts";
import type { RunRecord, RunState, Store } from "../core/store/store.ts";

/** States drawn on the chart. */
export const CHART_STATES: readonly RunState[] = [
  "succeeded",
  "failed",
  "cancelled",
  "running",
  "queued",
];

/** What the dashboard shows. */
export interface DashboardData {
  /** Hour starts (epoch seconds), oldest first. */
  hours: number[];
  /** Runs per hour by state (same order as {@link CHART_STATES}). */
  perState: number[][];
  /** Runs created in the window (or `max+` when the read was capped). */
  runsInWindow: number;
  capped: boolean;
  /** Items read by sources and items out of the last stage, over the runs whose counters were read. */
  itemsRead: number;
  itemsOut: number;
  /** Items read per hour (chart). */
  itemsPerHour: number[];
  queuedRuns: number;
  runningRuns: number;
  /** Chunks waiting or in progress in running runs. */
  pendingChunks: number;
  nextFires: { schedule: ScheduleInfo; at: string }[];
  failures: RunRecord[];
  /** The newest succeeded run among those read. */
  lastSucceeded?: RunRecord;
}

/** Options of {@link dashboardData}. */
export interface DashboardOptions {
  store: Store;
  schedules?: ScheduleService;
  now?: number;
  /** Hours shown (default 48). */
  hours?: number;
  /** Most runs read for the chart (default 500). */
  maxRuns?: number;
  /** Most runs whose counters are read (default 20). */
  maxCounters?: number;
}

/** Reads the dashboard's numbers. */
export async function dashboardData(o: DashboardOptions): Promise<DashboardData> {
  const now = o.now ?? Date.now();
  const nHours = o.hours ?? 48;
  const hour = 3_600_000;
  const end = Math.floor(now / hour) * hour + hour;
  const start = end - nHours * hour;
  const hours = Array.from({ length: nHours }, (_, i) => (start + i * hour) / 1000);
  const perState = CHART_STATES.map(() => new Array(nHours).fill(0));
  const itemsPerHour = new Array(nHours).fill(0);
  const maxRuns = o.maxRuns ?? 500;
  const recent: RunRecord[] = [];
  let cursor: string | undefined;
  let capped = false;
  outer: for (;;) {
    const page = await o.store.listRuns({ limit: Math.min(500, maxRuns + 1), cursor });
    for (const r of page.runs) {
      if (r.createdAt < start) break outer;
      if (recent.length >= maxRuns) {
        capped = true;
        break outer;
      }
      recent.push(r);
    }
    if (!page.cursor) break;
    cursor = page.cursor;
  }
  for (const r of recent) {
    const h = Math.floor((r.createdAt - start) / hour);
    const s = CHART_STATES.indexOf(r.state);
    if (h >= 0 && h < nHours && s >= 0) perState[s][h]++;
  }
  const counted = recent.slice(0, o.maxCounters ?? 20);
  const counters = await Promise.all(counted.map((r) => o.store.counters(r.id, r.stages.length)));
  let itemsRead = 0, itemsOut = 0;
  counted.forEach((r, i) => {
    const c = counters[i];
    const read = c[0]?.out ?? 0;
    itemsRead += read;
    itemsOut += c.at(-1)?.out ?? 0;
    const h = Math.floor((r.createdAt - start) / hour);
    if (h >= 0 && h < nHours) itemsPerHour[h] += read;
  });

  // The store has no state index (a state filter scans every run), so states come from the
  // runs already read: the newest `maxRuns` runs of the window.
  const queued = { runs: recent.filter((r) => r.state === "queued") };
  const running = { runs: recent.filter((r) => r.state === "running").slice(0, 100) };
  const failed = { runs: recent.filter((r) => r.state === "failed").slice(0, 5) };
  let pendingChunks = 0;
  await Promise.all(running.runs.map(async (r) => {
    const [c, p] = await Promise.all([
      o.store.counters(r.id, r.stages.length),
      o.store.sourceProgress(r.id),
    ]);
    for (let i = 1; i < c.length; i++) {
      pendingChunks += Math.max(0, p.nextChunk - c[i].chunksDone - c[i].chunksDead);
    }
  }));
  const schedules = o.schedules ? await o.schedules.list().catch(() => []) : [];
  const nextFires = schedules.filter((s) => !s.paused && s.next.length)
    .map((s) => ({ schedule: s, at: s.next[0] }))
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(0, 5);
  return {
    hours,
    perState,
    runsInWindow: recent.length,
    capped,
    itemsRead,
    itemsOut,
    itemsPerHour,
    queuedRuns: queued.runs.length,
    runningRuns: running.runs.length,
    pendingChunks,
    nextFires,
    failures: failed.runs,
    lastSucceeded: recent.find((r) => r.state === "succeeded"),
  };
}

/** Leads (`lead == true` items of the last stage) of a finished run, cached by run id. */
export class LeadCounter {
  #cache = new Map<string, { leads: number; partial: boolean }>();
  #store: Store;
  #maxItems: number;

  /** Counts at most `maxItems` items per run (default 20,000); beyond that the count is partial. */
  constructor(store: Store, opts: { maxItems?: number } = {}) {
    this.#store = store;
    this.#maxItems = opts.maxItems ?? 20_000;
  }

  /** Leads of `run` (a finished run: its items no longer change). */
  async count(run: RunRecord): Promise<{ leads: number; partial: boolean }> {
    const hit = this.#cache.get(run.id);
    if (hit) return hit;
    const stage = run.stages.length - 1;
    let leads = 0, seen = 0, partial = false;
    outer: for (const chunk of await this.#store.doneChunks(run.id, stage)) {
      for (const item of (await this.#store.readChunk(run.id, stage, chunk)) ?? []) {
        if (++seen > this.#maxItems) {
          partial = true;
          break outer;
        }
        if ((item as { lead?: unknown }).lead === true) leads++;
      }
    }
    const out = { leads, partial };
    if (this.#cache.size > 500) this.#cache.clear();
    this.#cache.set(run.id, out);
    return out;
  }
}
