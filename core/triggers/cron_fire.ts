/**
 * What happens to one claimed cron occurrence: the overlap policy (`skip`, `queue` with one
 * waiting slot, `allow`), starting the run through the {@link RunLauncher}, and the fire record
 * the UI shows. Used by the {@link Scheduler}, which decides which occurrences are due.
 * @module
 */
import type { Cron } from "croner";
import type { CronTrigger } from "../pipeline/model.ts";
import type { Logger } from "../telemetry/log.ts";
import type { CatalogEntry } from "./pipeline_catalog.ts";
import type { RunLauncher } from "./run_launcher.ts";
import type { FireRecord, TriggerRef, TriggerStore } from "./trigger_store.ts";

/** A cron trigger as the scheduler holds it. */
export interface ScheduledTrigger {
  ref: TriggerRef;
  trigger: CronTrigger;
  job: Cron;
  /** Occurrences up to here were handled (loaded from the store when undefined). */
  cursor?: number;
}

/** Options of {@link CronFirer}. */
export interface CronFirerOptions {
  catalog: { get(name: string): CatalogEntry | undefined };
  store: TriggerStore;
  runs: Pick<RunLauncher, "start" | "isActive">;
  log: Logger;
  /** Fire records kept per trigger. */
  keepFires: number;
}

/** Starts runs for claimed occurrences. */
export class CronFirer {
  #o: CronFirerOptions;

  /** Builds the firer. */
  constructor(o: CronFirerOptions) {
    this.#o = o;
  }

  /** Applies the overlap policy to a claimed occurrence and starts its run. */
  async fire(s: ScheduledTrigger, at: number, now: number, late: boolean): Promise<void> {
    const overlap = s.trigger.overlap;
    if (overlap !== "allow") {
      const active = await this.#o.store.activeRun(s.ref);
      if (active && await this.#o.runs.isActive(active)) {
        if (overlap === "queue" && await this.#o.store.enqueueOccurrence(s.ref, at)) {
          await this.record(s, { at, now }, "queued", {
            reason: `waits for run ${active} to finish`,
            catchUp: late || undefined,
          });
        } else {
          await this.record(s, { at, now }, "skipped", {
            reason: overlap === "queue"
              ? `run ${active} is still running and another occurrence is already waiting`
              : `run ${active} of this trigger is still running (overlap: skip)`,
            catchUp: late || undefined,
          });
        }
        return;
      }
    }
    await this.start(s, at, now, { catchUp: late });
  }

  /** Starts the occurrence waiting in the queue slot once the previous run has finished. */
  async startQueued(s: ScheduledTrigger, now: number, paused: boolean): Promise<void> {
    const store = this.#o.store;
    const at = await store.queuedOccurrence(s.ref);
    if (at === undefined || !s.trigger.enabled || paused) return;
    const active = await store.activeRun(s.ref);
    if (active && await this.#o.runs.isActive(active)) return;
    if (await store.takeQueuedOccurrence(s.ref, at)) {
      await this.start(s, at, now, { queued: true });
    }
  }

  /** Starts a run for occurrence `at` and records the outcome. */
  async start(
    s: ScheduledTrigger,
    at: number,
    now: number,
    how: { catchUp?: boolean; queued?: boolean },
  ): Promise<void> {
    const entry = this.#o.catalog.get(s.ref.pipeline);
    const detail: Record<string, string | boolean> = { scheduledAt: new Date(at).toISOString() };
    if (how.catchUp) detail.catchUp = true;
    if (how.queued) detail.queued = true;
    try {
      if (!entry) throw new Error(`pipeline ${s.ref.pipeline} is no longer in the catalog`);
      const run = await this.#o.runs.start({
        entry,
        inputs: s.trigger.inputs,
        trigger: { kind: "cron", id: s.ref.trigger, detail },
      });
      await this.#o.store.setActiveRun(s.ref, run.id);
      await this.record(s, { at, now }, "started", { runId: run.id, catchUp: how.catchUp });
      this.#o.log.info("cron run started", {
        ...s.ref,
        run: run.id,
        scheduledAt: detail.scheduledAt,
      });
    } catch (e) {
      const reason = (e as Error).message;
      await this.record(s, { at, now }, "failed", { reason, catchUp: how.catchUp });
      this.#o.log.error("cron run could not start", { ...s.ref, error: reason });
    }
  }

  /** Writes the fire record of occurrence `when.at`. */
  async record(
    s: ScheduledTrigger,
    when: { at: number; now: number },
    outcome: FireRecord["outcome"],
    extra: Pick<FireRecord, "runId" | "reason" | "catchUp"> = {},
  ): Promise<void> {
    const rec: FireRecord = { scheduledAt: when.at, firedAt: when.now, outcome };
    if (extra.runId) rec.runId = extra.runId;
    if (extra.reason) rec.reason = extra.reason;
    if (extra.catchUp) rec.catchUp = true;
    await this.#o.store.recordFire(s.ref, rec, this.#o.keepFires);
  }
}
