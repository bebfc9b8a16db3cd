/**
 * Executes one chunk of one stage against its plugin instance: `when` filtering, rate limits,
 * sub-batches, and output validation. Pure of storage: the engine commits what this returns.
 * @module
 */
import type { Item, Rejected } from "../../sdk/types.ts";
import type { StageCounters, StageSnapshot } from "../store/store.ts";
import type { CallContext, StageInstance } from "./executor.ts";
import type { KeyedLimiter } from "../store/store.ts";

/** A compiled predicate/key function over an item. */
export type ItemFn = (item: Item) => unknown;

/** What a stage call produced. */
export interface StageOutcome {
  items: Item[];
  rejected: Rejected[];
  counters: Partial<StageCounters>;
}

/** Keeps only well-formed items; others become rejected rows naming the stage. */
export function checkItems(
  items: unknown[],
  stageId: string,
  rejected: Rejected[],
): Item[] {
  const ok: Item[] = [];
  items.forEach((item, i) => {
    if (item && typeof item === "object" && !Array.isArray(item)) {
      const key = (item as Item).key;
      if (typeof key === "string" && key.length > 0) {
        ok.push(item as Item);
        return;
      }
    }
    rejected.push({
      key: `${stageId}#${i}`,
      reason:
        `stage ${stageId} produced an item without a string "key" field; every item needs one`,
      raw: item,
    });
  });
  return ok;
}

/** Options of {@link callStage}. */
export interface StageCallOptions {
  stage: StageSnapshot;
  instance: StageInstance;
  input: Item[];
  chunk: number;
  signal: AbortSignal;
  when?: ItemFn;
  onWhenError?: (item: Item, error: unknown) => void;
  limiter?: KeyedLimiter;
  limitKey?: ItemFn;
  log?: CallContext["log"];
}

/** Runs a transform or sink stage on one chunk. Throws what the plugin threw. */
export async function callStage(o: StageCallOptions): Promise<StageOutcome> {
  const match: Item[] = [];
  const skipped: Item[] = [];
  for (const item of o.input) {
    let pass = true;
    if (o.when) {
      try {
        pass = o.when(item) === true;
      } catch (e) {
        pass = false;
        o.onWhenError?.(item, e);
      }
    }
    (pass ? match : skipped).push(item);
  }
  const out: Item[] = [];
  const rejected: Rejected[] = [];
  const size = Math.max(1, o.stage.chunk);
  for (let i = 0; i < match.length; i += size) {
    const batch = match.slice(i, i + size);
    if (o.limiter) {
      for (const item of batch) {
        await o.limiter.take(String(o.limitKey?.(item) ?? ""), o.signal);
      }
    }
    const res = await o.instance.process(batch, { chunk: o.chunk, signal: o.signal, log: o.log });
    if (!res || !Array.isArray(res.items)) {
      throw new TypeError(`stage ${o.stage.id}: process() must return items (an array)`);
    }
    out.push(...checkItems(res.items, o.stage.id, rejected));
    if (res.rejected) rejected.push(...res.rejected);
  }
  const pluginRejected = rejected.length;
  return {
    items: out.concat(skipped),
    rejected,
    counters: {
      in: o.input.length,
      out: out.length + skipped.length,
      skipped: skipped.length,
      filtered: Math.max(0, match.length - out.length - pluginRejected),
      rejected: pluginRejected,
    },
  };
}
