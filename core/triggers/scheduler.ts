/**
 * The cron scheduler. One process at a time leads (a lease in the {@link TriggerStore}, renewed
 * while it runs); the leader ticks on an injected {@link Clock}, plans each trigger's due
 * occurrences (on time, caught up after downtime, or missed), claims each occurrence atomically
 * (so even two leaders during a hand-over fire it once) and applies the overlap policy:
 * `skip` drops an occurrence while this trigger's previous run is unfinished, `queue` keeps at
 * most one waiting and starts it when the previous run finishes, `allow` starts regardless.
 * Pauses are persisted in the store; paused and disabled triggers let their occurrences pass.
 * Catch-up occurrences obey the overlap policy too (use `overlap: allow` with `catchUp: all`).
 * @module
 */
import type { CronTrigger } from "../pipeline/model.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";
import { type Clock, systemClock, type TimerHandle } from "./clock.ts";
import {
  cronJob,
  cronTriggerId,
  nextFireTime,
  nextFireTimes,
  planOccurrences,
} from "./cron_plan.ts";
import { CronFirer, type ScheduledTrigger } from "./cron_fire.ts";
import { isoInZone } from "./zoned_time.ts";
import type { CatalogEntry, CatalogEvent } from "./pipeline_catalog.ts";
import type { RunLauncher } from "./run_launcher.ts";
import type { FireRecord, PauseRecord, TriggerRef, TriggerStore } from "./trigger_store.ts";

/** Where the scheduler finds pipelines (a {@link PipelineCatalog}). */
export interface PipelineSource {
  list(): CatalogEntry[];
  get(name: string): CatalogEntry | undefined;
  subscribe(fn: (e: CatalogEvent) => void): () => void;
}

/** Options of {@link Scheduler}. */
export interface SchedulerOptions {
  catalog: PipelineSource;
  store: TriggerStore;
  runs: Pick<RunLauncher, "start" | "isActive">;
  clock?: Clock;
  /** This process's name in the lease (default: a random id). */
  owner?: string;
  /** Lease time to live (default 30 s); renewed when a third has passed. */
  leaseMs?: number;
  /** Longest time between ticks (default 1 s): lease renewal and queued occurrences. */
  pollMs?: number;
  /** How late an occurrence may be handled and still count as on time (default 60 s). */
  graceMs?: number;
  /** Fire records kept per trigger (default 100). */
  keepFires?: number;
  log?: Logger;
  /** Hears each occurrence as it fires, with how late it is (scheduler lag metrics). */
  onFire?: (e: { pipeline: string; trigger: string; lagMs: number }) => void;
}

/** A cron trigger as scheduled, for the API and UI. */
export interface ScheduleInfo {
  pipeline: string;
  trigger: string;
  cron: string;
  timezone: string;
  overlap: CronTrigger["overlap"];
  catchUp: CronTrigger["catchUp"];
  enabled: boolean;
  paused: boolean;
  /** Next fire times (ISO 8601, UTC). */
  next: string[];
  /** The same times in the schedule's time zone, with its offset (`2026-11-30T06:00:00+01:00`). */
  nextLocal: string[];
  /** The latest occurrence handled: when, what happened (started, skipped, …), its run. */
  lastFire?: FireRecord;
}

/** Thrown for requests about triggers that do not exist. */
export class TriggerError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "TriggerError";
  }
}

const LEASE = "scheduler";
const keyOf = (r: TriggerRef) => `${r.pipeline}\u0000${r.trigger}`;

/** The cron scheduler. Call {@link start} once, {@link stop} at shutdown. */
export class Scheduler {
  #o: SchedulerOptions;
  #clock: Clock;
  #log: Logger;
  #owner: string;
  #leaseMs: number;
  #pollMs: number;
  #triggers = new Map<string, ScheduledTrigger>();
  #leaseUntil = 0;
  #timer?: TimerHandle;
  #ticking?: Promise<void>;
  #running = false;
  #unsubscribe?: () => void;
  #firer: CronFirer;
  /** Pauses as read by the last tick (paused triggers do not wake the scheduler). */
  #lastPaused: PauseRecord[] = [];

  /** Builds a scheduler (nothing runs before {@link start}). */
  constructor(o: SchedulerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#log = o.log ?? silentLogger;
    this.#owner = o.owner ?? `sched-${crypto.randomUUID()}`;
    this.#leaseMs = o.leaseMs ?? 30_000;
    this.#pollMs = o.pollMs ?? 1000;
    this.#firer = new CronFirer({
      catalog: o.catalog,
      store: o.store,
      runs: o.runs,
      log: this.#log,
      keepFires: o.keepFires ?? 100,
    });
  }

  /** Whether this process currently holds the scheduler lease. */
  get isLeader(): boolean {
    return this.#leaseUntil > this.#clock.now();
  }

  /** Loads the catalog's cron triggers, follows its changes and ticks once right away. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#sync();
    this.#unsubscribe = this.#o.catalog.subscribe(() => this.#sync());
    await this.tick();
  }

  /** Stops ticking, waits for a tick in progress and gives up the lease. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#unsubscribe?.();
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
    if (this.#leaseUntil > 0) await this.#o.store.releaseLease(LEASE, this.#owner);
    this.#leaseUntil = 0;
  }

  /** Rebuilds the trigger set from the catalog, keeping cursors of unchanged triggers. */
  #sync() {
    const next = new Map<string, ScheduledTrigger>();
    for (const entry of this.#o.catalog.list()) {
      for (const t of entry.pipeline?.triggers ?? []) {
        if (!("cron" in t)) continue;
        const ref = { pipeline: entry.pipeline!.name, trigger: cronTriggerId(t) };
        const k = keyOf(ref);
        const old = this.#triggers.get(k);
        try {
          const same = old && old.trigger.cron === t.cron && old.trigger.timezone === t.timezone;
          next.set(k, { ref, trigger: t, job: same ? old.job : cronJob(t), cursor: old?.cursor });
        } catch (e) {
          this.#log.error("invalid cron trigger", { ...ref, error: (e as Error).message });
        }
      }
    }
    this.#triggers = next;
  }

  /** Runs one tick now (also what the timer calls): lease, due occurrences, queued runs. */
  tick(): Promise<void> {
    if (this.#ticking) return this.#ticking;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#ticking = this.#tick().finally(() => {
      this.#ticking = undefined;
      this.#arm();
    });
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    const now = this.#clock.now();
    try {
      if (!(await this.#lead(now))) return;
      const paused = await this.#o.store.listPaused();
      this.#lastPaused = paused;
      for (const s of [...this.#triggers.values()]) {
        try {
          await this.#handleDue(s, now, paused);
          if (s.trigger.overlap === "queue") {
            await this.#firer.startQueued(s, now, this.#paused(s.ref, paused));
          }
        } catch (e) {
          this.#log.error("cron trigger failed", { ...s.ref, error: (e as Error).message });
        }
      }
    } catch (e) {
      this.#log.error("scheduler tick failed", { error: (e as Error).message });
    }
  }

  #arm() {
    if (!this.#running || this.#timer !== undefined) return;
    const now = this.#clock.now();
    let at = now + this.#pollMs;
    if (this.isLeader) {
      for (const s of this.#triggers.values()) {
        if (!s.trigger.enabled || this.#paused(s.ref, this.#lastPaused)) continue;
        const next = nextFireTime(s.job, s.cursor ?? now);
        if (next !== undefined && next < at) at = next;
      }
    }
    this.#timer = this.#clock.setTimer(() => this.tick(), Math.max(0, at - now));
  }

  /** Takes or renews the lease; on gaining it, cursors are reloaded from the store. */
  async #lead(now: number): Promise<boolean> {
    if (this.#leaseUntil - now > (this.#leaseMs * 2) / 3) return true;
    const wasLeader = this.#leaseUntil > now;
    const ok = await this.#o.store.acquireLease(LEASE, this.#owner, this.#leaseMs, now);
    this.#leaseUntil = ok ? now + this.#leaseMs : 0;
    if (ok && !wasLeader) {
      for (const s of this.#triggers.values()) s.cursor = undefined;
      this.#log.info("scheduler leads", { owner: this.#owner });
    }
    return ok;
  }

  async #handleDue(s: ScheduledTrigger, now: number, paused: PauseRecord[]): Promise<void> {
    const store = this.#o.store;
    // A cursor not held in memory means ticking was interrupted (start, restart, new leader).
    const resumed = s.cursor === undefined;
    if (s.cursor === undefined) {
      s.cursor = await store.lastOccurrence(s.ref);
      if (s.cursor === undefined) {
        // A new trigger starts from now: there is nothing to catch up.
        await store.advanceLastOccurrence(s.ref, now);
        s.cursor = now;
      } else if (s.cursor > now) {
        // A leader whose clock ran fast handled occurrences ahead of time and moved the stored
        // cursor into the future: start from now, or nothing would fire until that time.
        // (Occurrences it claimed stay claimed: they are not fired twice.)
        this.#log.warn("cron cursor is in the future (a leader's clock ran fast): using now", {
          ...s.ref,
          cursor: new Date(s.cursor).toISOString(),
          aheadMs: s.cursor - now,
        });
        s.cursor = now;
      }
    }
    const t = s.trigger;
    const plan = planOccurrences({
      job: s.job,
      catchUp: t.catchUp,
      catchUpLimit: t.catchUpLimit,
      after: s.cursor,
      now,
      graceMs: this.#o.graceMs ?? 60_000,
      resumed,
    });
    if (plan.length === 0) return;
    const last = plan[plan.length - 1].at;
    const isPaused = this.#paused(s.ref, paused);
    if (!t.enabled || isPaused) {
      // Occurrences pass while paused or disabled: resuming must not replay them.
      for (const p of plan.filter((p) => !p.late)) {
        if (!(await store.claimOccurrence(s.ref, p.at, now))) continue;
        if (isPaused) {
          await this.#firer.record(s, { at: p.at, now }, "skipped", { reason: "paused" });
        }
      }
      await store.advanceLastOccurrence(s.ref, last);
      s.cursor = last;
      return;
    }
    for (const p of plan) {
      if (!(await store.claimOccurrence(s.ref, p.at, now))) continue;
      if (p.action === "missed") {
        await this.#firer.record(s, { at: p.at, now }, "missed", {
          reason: `the scheduler was not running (catchUp: ${t.catchUp})`,
          catchUp: true,
        });
      } else {
        this.#o.onFire?.({ pipeline: s.ref.pipeline, trigger: s.ref.trigger, lagMs: now - p.at });
        await this.#firer.fire(s, p.at, now, p.late);
      }
    }
    await store.advanceLastOccurrence(s.ref, last);
    s.cursor = last;
  }

  #paused(ref: TriggerRef, paused: PauseRecord[]): boolean {
    return paused.some((p) =>
      p.pipeline === ref.pipeline && (p.trigger === undefined || p.trigger === ref.trigger)
    );
  }

  /** Cron triggers with their next fire times (`count` each, default 5). */
  async schedules(opts: { pipeline?: string; count?: number } = {}): Promise<ScheduleInfo[]> {
    const paused = await this.#o.store.listPaused();
    const now = this.#clock.now();
    const out: ScheduleInfo[] = [];
    for (const s of this.#triggers.values()) {
      if (opts.pipeline && s.ref.pipeline !== opts.pipeline) continue;
      const t = s.trigger;
      const next = nextFireTimes(s.job, now, opts.count ?? 5);
      const [lastFire] = await this.#o.store.listFires(s.ref, 1);
      out.push({
        ...s.ref,
        cron: t.cron,
        timezone: t.timezone,
        overlap: t.overlap,
        catchUp: t.catchUp,
        enabled: t.enabled,
        paused: this.#paused(s.ref, paused),
        next: next.map((ms) => new Date(ms).toISOString()),
        nextLocal: next.map((ms) => isoInZone(ms, t.timezone)),
        ...(lastFire ? { lastFire } : {}),
      });
    }
    return out.sort((a, b) =>
      a.pipeline.localeCompare(b.pipeline) || a.trigger.localeCompare(b.trigger)
    );
  }

  /** Recent fire records of a trigger, newest first. */
  async fires(pipeline: string, trigger: string, limit = 20): Promise<FireRecord[]> {
    this.#check(pipeline, trigger);
    return await this.#o.store.listFires({ pipeline, trigger }, limit);
  }

  /** Pauses a pipeline's cron triggers, or one of them. Persisted; applies to every process. */
  async pause(pipeline: string, trigger?: string): Promise<void> {
    this.#check(pipeline, trigger);
    await this.#o.store.setPaused(pipeline, trigger, true, this.#clock.now());
  }

  /**
   * Resumes a pipeline's cron triggers (every one of them, however they were paused) or one
   * trigger: a trigger paused with its whole pipeline is resumed alone, its siblings stay paused.
   * Occurrences during the pause are not replayed.
   */
  async resume(pipeline: string, trigger?: string): Promise<void> {
    this.#check(pipeline, trigger);
    const store = this.#o.store;
    const now = this.#clock.now();
    const paused = (await store.listPaused()).filter((p) => p.pipeline === pipeline);
    if (trigger === undefined) {
      for (const p of paused) await store.setPaused(pipeline, p.trigger, false, now);
      return;
    }
    if (paused.some((p) => p.trigger === undefined)) {
      // Split the pipeline's pause: its other triggers keep theirs (written first, so a failure
      // in between leaves them paused).
      const siblings = [...this.#triggers.values()]
        .filter((s) => s.ref.pipeline === pipeline && s.ref.trigger !== trigger)
        .map((s) => s.ref.trigger);
      for (const t of siblings) {
        if (!paused.some((p) => p.trigger === t)) await store.setPaused(pipeline, t, true, now);
      }
      await store.setPaused(pipeline, undefined, false, now);
    }
    await store.setPaused(pipeline, trigger, false, now);
  }

  #check(pipeline: string, trigger?: string) {
    const ids = [...this.#triggers.values()].filter((s) => s.ref.pipeline === pipeline)
      .map((s) => s.ref.trigger);
    if (ids.length === 0) {
      throw new TriggerError(
        this.#o.catalog.get(pipeline)
          ? `pipeline ${pipeline} has no cron triggers`
          : `no pipeline ${pipeline}; list pipelines with: sluice pipelines list`,
      );
    }
    if (trigger !== undefined && !ids.includes(trigger)) {
      throw new TriggerError(
        `pipeline ${pipeline} has no cron trigger "${trigger}"; its cron triggers: ${
          ids.join(", ")
        }`,
      );
    }
  }
}
