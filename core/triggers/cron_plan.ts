/**
 * Cron arithmetic for the scheduler, on top of `croner` (mode `5-or-6-parts`: seconds optional):
 * stable trigger ids, next fire times in the trigger's time zone, and which occurrences to fire
 * after a pause in ticking (on time, caught up, or missed) according to `catchUp`.
 * @module
 */
import { Cron } from "croner";
import type { CronTrigger } from "../pipeline/model.ts";

/** The id of a cron trigger: its `id`, else `cron-` and a hash of pattern and time zone. */
export function cronTriggerId(t: Pick<CronTrigger, "id" | "cron" | "timezone">): string {
  if (t.id) return t.id;
  let h = 0x811c9dc5;
  for (const ch of `${t.cron.trim()}|${t.timezone ?? "UTC"}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return `cron-${h.toString(16).padStart(8, "0")}`;
}

/** A paused croner job used only for date arithmetic (it never runs anything). */
export function cronJob(t: Pick<CronTrigger, "cron" | "timezone">): Cron {
  return new Cron(t.cron, { timezone: t.timezone ?? "UTC", paused: true, mode: "5-or-6-parts" });
}

/** The next `count` fire times strictly after `after` (epoch ms). */
export function nextFireTimes(job: Cron, after: number, count: number): number[] {
  const out: number[] = [];
  let from = after;
  while (out.length < count) {
    const d = job.nextRun(new Date(from));
    if (!d) break;
    out.push(d.getTime());
    from = d.getTime();
  }
  return out;
}

/** The first fire time strictly after `after`, if the pattern ever fires again. */
export function nextFireTime(job: Cron, after: number): number | undefined {
  return job.nextRun(new Date(after))?.getTime();
}

/** The most recent `max` occurrences in `(after, until]`, oldest first. */
export function recentOccurrences(job: Cron, after: number, until: number, max: number): number[] {
  if (until <= after || max <= 0) return [];
  // previousRuns is exclusive of its reference second; occurrences fall on whole seconds.
  const ref = new Date(Math.floor(until / 1000) * 1000 + 1000);
  return job.previousRuns(max, ref).map((d) => d.getTime())
    .filter((t) => t > after && t <= until)
    .sort((a, b) => a - b);
}

/** One occurrence to handle. */
export interface PlannedOccurrence {
  at: number;
  /** `fire`: start a run (subject to overlap); `missed`: record only. */
  action: "fire" | "missed";
  /** Late: fired or missed because ticking stopped (downtime). */
  late: boolean;
}

/** Options of {@link planOccurrences}. */
export interface PlanOptions {
  job: Cron;
  catchUp: CronTrigger["catchUp"];
  catchUpLimit: number;
  /** Occurrences up to this instant were handled. */
  after: number;
  now: number;
  /** An occurrence at most this late still counts as on time. */
  graceMs: number;
  /**
   * Ticking was interrupted before `now`: the cursor comes from the store (a start, a restart or
   * a new leader), not from this process's last tick. Then only the latest occurrence within
   * `graceMs` counts as on time (a quick restart does not miss it); earlier ones fell in the
   * downtime and follow `catchUp` like any late occurrence.
   */
  resumed?: boolean;
}

/**
 * Which occurrences in `(after, now]` to fire. On-time ones (within `graceMs`; after downtime,
 * see {@link PlanOptions.resumed}, only the latest of those) always fire.
 * Late ones follow `catchUp`: `none` fires none, `last` fires the latest one when nothing is on
 * time, `all` fires the latest `catchUpLimit`. Only the latest `catchUpLimit` late occurrences
 * are listed (as `missed` when not fired); older ones are skipped silently.
 */
export function planOccurrences(o: PlanOptions): PlannedOccurrence[] {
  const limit = Math.max(1, o.catchUpLimit);
  const onTimeFrom = Math.max(o.after, o.now - o.graceMs);
  let onTime: number[] = [];
  for (let t = nextFireTime(o.job, onTimeFrom); t !== undefined && t <= o.now;) {
    onTime.push(t);
    if (onTime.length >= 1000) break;
    t = nextFireTime(o.job, t);
  }
  let lateUntil = onTimeFrom;
  if (o.resumed && onTime.length > 1) {
    // Several occurrences of a frequent pattern fell within the grace period of a restart: the
    // scheduler was down for all but the latest, so they are late (catchUp, catchUpLimit).
    lateUntil = onTime[onTime.length - 2];
    onTime = onTime.slice(-1);
  }
  const late = recentOccurrences(o.job, o.after, lateUntil, limit);
  const fireLate = new Set<number>(
    o.catchUp === "all"
      ? late
      : o.catchUp === "last" && onTime.length === 0 && late.length > 0
      ? [late[late.length - 1]]
      : [],
  );
  return [
    ...late.map((at): PlannedOccurrence => ({
      at,
      action: fireLate.has(at) ? "fire" : "missed",
      late: true,
    })),
    ...onTime.map((at): PlannedOccurrence => ({ at, action: "fire", late: false })),
  ];
}
