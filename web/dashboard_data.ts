/**
 * Numbers of the dashboard. With a store that keeps run statistics (`Store.runStats`, the KV
 * backend does) nothing is scanned: runs per hour by state over the last 48 hours, items read
 * and items out per hour, runs queued and running come from counters kept atomically with every
 * run change and chunk commit; recent failures, the newest succeeded run and the running runs
 * (for queue depth) come from the store's index by state. Without statistics (a backend that
 * has not implemented them), the newest 500 runs of the window are read instead and the
 * numbers are marked capped when there are more.
 * @module
 */
import type { ScheduleInfo, ScheduleService } from "../core/http/deps.ts";
import { countLeads, type LeadCount } from "../core/store/lead_count.ts";
import type { RunRecord, RunState, Store } from "../core/store/store.ts";

export type { LeadCount };

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
  /**
   * Items read by sources and items out of last stages in the window (with run statistics; else
   * over the runs whose counters were read).
   */
  itemsRead: number;
  itemsOut: number;
  /** Items read per hour (chart). */
  itemsPerHour: number[];
  queuedRuns: number;
  runningRuns: number;
  /** Chunks waiting or in progress in running runs. */
  pendingChunks: number;
  nextFires: { schedule: ScheduleInfo; at: string }[];
  /** Cron schedules that are paused, and those whose trigger says `enabled: false`. */
  schedules: { paused: number; disabled: number };
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

const HOUR = 3_600_000;

/** Reads the dashboard's numbers. */
export async function dashboardData(o: DashboardOptions): Promise<DashboardData> {
  const now = o.now ?? Date.now();
  const nHours = o.hours ?? 48;
  const end = Math.floor(now / HOUR) * HOUR + HOUR;
  const start = end - nHours * HOUR;
  if (o.store.runStats) return await fromStats(o, start, end, nHours);
  return await fromScan(o, start, nHours);
}

/** Unfinished chunks of running runs (queue depth). */
async function pendingChunksOf(store: Store, running: RunRecord[]): Promise<number> {
  let pending = 0;
  await Promise.all(running.map(async (r) => {
    const [c, p] = await Promise.all([
      store.counters(r.id, r.stages.length),
      store.sourceProgress(r.id),
    ]);
    for (let i = 1; i < c.length; i++) {
      pending += Math.max(0, p.nextChunk - c[i].chunksDone - c[i].chunksDead);
    }
  }));
  return pending;
}

async function nextFiresOf(schedules?: ScheduleService) {
  const list = schedules ? await schedules.list().catch(() => []) : [];
  const nextFires = list.filter((s) => !s.paused && s.enabled !== false && s.next.length)
    .map((s) => ({ schedule: s, at: s.next[0] }))
    .sort((a, b) => a.at.localeCompare(b.at))
    .slice(0, 5);
  const paused = list.filter((s) => s.paused).length;
  const disabled = list.filter((s) => !s.paused && s.enabled === false).length;
  return { nextFires, schedules: { paused, disabled } };
}

/** The dashboard from the store's statistics and state index: no scan. */
async function fromStats(
  o: DashboardOptions,
  start: number,
  end: number,
  nHours: number,
): Promise<DashboardData> {
  const s = o.store;
  const [stats, running, failed, succeeded, fires] = await Promise.all([
    s.runStats!({ from: start, to: end }),
    s.listRuns({ state: "running", limit: 100 }),
    s.listRuns({ state: "failed", limit: 5 }),
    s.listRuns({ state: "succeeded", limit: 1 }),
    nextFiresOf(o.schedules),
  ]);
  const hours = Array.from({ length: nHours }, (_, i) => (start + i * HOUR) / 1000);
  const byStart = new Map(stats.hours.map((h) => [h.start, h]));
  const at = (i: number) => byStart.get(start + i * HOUR);
  const perState = CHART_STATES.map((st) => hours.map((_, i) => at(i)?.runs[st] ?? 0));
  const itemsPerHour = hours.map((_, i) => at(i)?.itemsRead ?? 0);
  return {
    hours,
    perState,
    runsInWindow: perState.reduce((n, row) => n + row.reduce((a, b) => a + b, 0), 0),
    capped: false,
    itemsRead: itemsPerHour.reduce((a, b) => a + b, 0),
    itemsOut: hours.reduce((n, _, i) => n + (at(i)?.itemsOut ?? 0), 0),
    itemsPerHour,
    queuedRuns: stats.states.queued,
    runningRuns: stats.states.running,
    pendingChunks: await pendingChunksOf(s, running.runs),
    ...fires,
    failures: failed.runs,
    lastSucceeded: succeeded.runs[0],
  };
}

/** The dashboard from the newest runs of the window (stores without statistics). */
async function fromScan(o: DashboardOptions, start: number, nHours: number) {
  const hour = HOUR;
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

  // Without statistics, states come from the runs already read: the newest `maxRuns` runs.
  const queued = { runs: recent.filter((r) => r.state === "queued") };
  const running = { runs: recent.filter((r) => r.state === "running").slice(0, 100) };
  const failed = { runs: recent.filter((r) => r.state === "failed").slice(0, 5) };
  const pendingChunks = await pendingChunksOf(o.store, running.runs);
  const fires = await nextFiresOf(o.schedules);
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
    ...fires,
    failures: failed.runs,
    lastSucceeded: recent.find((r) => r.state === "succeeded"),
  };
}

/** Leads (`lead == true` items of the last stage) of a finished run, cached by run id. */
export class LeadCounter {
  #cache = new Map<string, LeadCount>();
  #store: Store;
  #maxItems: number;

  /** Counts at most `maxItems` items per run (default 20,000); beyond that the count is partial. */
  constructor(store: Store, opts: { maxItems?: number } = {}) {
    this.#store = store;
    this.#maxItems = opts.maxItems ?? 20_000;
  }

  /**
   * Leads of `run` (a finished run: its items no longer change): from the item index's value
   * counts when the store keeps one, else counted over at most `maxItems` items.
   */
  async count(run: RunRecord): Promise<LeadCount> {
    const hit = this.#cache.get(run.id);
    if (hit) return hit;
    return this.#remember(run.id, await countLeads(this.#store, run, this.#maxItems));
  }

  #remember(id: string, out: LeadCount) {
    if (this.#cache.size > 500) this.#cache.clear();
    this.#cache.set(id, out);
    return out;
  }
}
