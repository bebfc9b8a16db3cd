/**
 * Background writer of webhook delivery records. Recording deliveries (a write plus pruning the
 * hook's history to its newest `keep`) is diagnosis, not part of accepting a request, so it is
 * kept off the answer's path: one writer per hook, records that arrive while it writes are
 * written in the next round, a round in one write, and of a round only the newest `keep` are
 * written (older ones would be pruned at once). One writer per hook also stops concurrent prunes from
 * deleting the same records over and over (measured: 12 records/s with 32 requests at once
 * before, one prune per round now).
 * @module
 */
import { type Logger, silentLogger } from "../telemetry/log.ts";
import type { DeliveryRecord, TriggerStore } from "./trigger_store.ts";

interface HookLog {
  pipeline: string;
  hook: string;
  pending: DeliveryRecord[];
  writing?: Promise<void>;
}

/** Writes delivery records per hook in the background; see the module doc. */
export class DeliveryHistory {
  #store: Pick<TriggerStore, "recordDeliveries">;
  #keep: number;
  #log: Logger;
  #hooks = new Map<string, HookLog>();

  /** Writes through `store`, keeping the newest `keep` records per hook. */
  constructor(store: Pick<TriggerStore, "recordDeliveries">, keep: number, log?: Logger) {
    this.#store = store;
    this.#keep = Math.max(1, keep);
    this.#log = log ?? silentLogger;
  }

  /** Queues a record; it is written soon (see {@link DeliveryHistory.settled}). */
  add(pipeline: string, hook: string, rec: DeliveryRecord): void {
    const key = `${pipeline}/${hook}`;
    let h = this.#hooks.get(key);
    if (!h) this.#hooks.set(key, h = { pipeline, hook, pending: [] });
    h.pending.push(rec);
    h.writing ??= this.#drain(key, h);
  }

  /** Resolves when every record queued so far for the hook (or for all hooks) is written. */
  async settled(pipeline?: string, hook?: string): Promise<void> {
    for (;;) {
      const hooks = pipeline === undefined
        ? [...this.#hooks.values()]
        : [this.#hooks.get(`${pipeline}/${hook}`)];
      const writing = hooks.map((h) => h?.writing).filter((p) => p !== undefined);
      if (writing.length === 0) return;
      await Promise.all(writing);
    }
  }

  async #drain(key: string, h: HookLog): Promise<void> {
    try {
      while (h.pending.length > 0) {
        const round = h.pending.splice(0).sort((a, b) => a.at - b.at).slice(-this.#keep);
        await this.#store.recordDeliveries(h.pipeline, h.hook, round, this.#keep).catch((e) =>
          this.#log.error("recording a delivery failed", {
            pipeline: h.pipeline,
            hook: h.hook,
            records: round.length,
            error: String(e),
          })
        );
      }
    } finally {
      h.writing = undefined;
      if (h.pending.length === 0) this.#hooks.delete(key);
    }
  }
}
