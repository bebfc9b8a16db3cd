/**
 * Executes one chunk of one stage against its plugin instance: `when` filtering, rate limits,
 * sub-batches, and output validation. Pure of storage: the engine commits what this returns.
 * @module
 */
import {
  concatJsonArrayBytes,
  concatJsonArrays,
  isPassedInput,
  rawItemBytesOf,
  rawItemsOf,
} from "../../sdk/raw_items.ts";
import type { Item, ProcessResult, Rejected } from "../../sdk/types.ts";
import type { StageCounters, StageSnapshot } from "../store/store.ts";
import type { CallContext, StageInstance } from "./executor.ts";
import type { KeyedLimiter, RawChunk } from "../store/store.ts";

/** A compiled predicate/key function over an item. */
export type ItemFn = (item: Item) => unknown;

/** What a stage call produced. */
export interface StageOutcome {
  /** The items; empty when `count` is given (a sink passed its stored input on, unparsed). */
  items: Item[];
  /**
   * How many items there are when they were not parsed: a sink passed its stored input on, which
   * `itemsBytes` (and `itemsJson` when the store had its text) hold (see `ChunkCommit.count`).
   */
  count?: number;
  /**
   * The JSON text of `items`: the plugin process's own, when its output is kept as it came (one
   * call, no item refused here), followed by the items `when` passed over; the store writes it.
   */
  itemsJson?: string;
  /**
   * The UTF-8 JSON of `items`, in pieces: the bytes `itemsJson` came as, when it is the plugin's
   * text alone; the plugin's bytes joined with the items `when` passed over (then alone, without
   * `itemsJson`); or the stored input a sink passed on (see `ChunkCommit`).
   */
  itemsBytes?: Uint8Array[];
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

/** Whether the host works on a stage's items one by one (a `when`, a rate limit): it parses them. */
export function hostWorksOnItems(stage: StageSnapshot): boolean {
  return !!stage.when || !!stage.rateLimit;
}

/**
 * Whether a stage can take its input as stored JSON bytes: the instance accepts them and the host
 * has no item-level work ({@link hostWorksOnItems}). {@link callStageJson} then runs a chunk that
 * fits one batch (`count <= stage.chunk`).
 */
export function takesStoredJson(stage: StageSnapshot, instance: StageInstance): boolean {
  return !!instance.processJson && !hostWorksOnItems(stage);
}

/** Options of {@link callStageJson}. */
export interface StageJsonCallOptions {
  stage: StageSnapshot;
  instance: StageInstance;
  /** The chunk's input as stored. */
  input: RawChunk;
  chunk: number;
  signal: AbortSignal;
  log?: CallContext["log"];
}

/**
 * Runs a transform or sink stage on one chunk given as stored JSON bytes, in one call (check
 * {@link takesStoredJson} first). The output is checked as {@link callStage} checks it; a sink
 * that passed its input on (`PASSED_INPUT`) has the stored bytes as its output, not parsed here
 * (they were checked when they were stored).
 */
export async function callStageJson(o: StageJsonCallOptions): Promise<StageOutcome> {
  if (!o.instance.processJson) throw new TypeError(`stage ${o.stage.id} takes no JSON input`);
  const res = await o.instance.processJson(o.input, {
    chunk: o.chunk,
    signal: o.signal,
    log: o.log,
  });
  if (isPassedInput(res)) {
    const n = o.input.count;
    const rejected = res.rejected ?? [];
    return {
      items: [],
      count: n,
      ...(o.input.text !== undefined ? { itemsJson: o.input.text } : {}),
      itemsBytes: o.input.parts,
      rejected,
      counters: { in: n, out: n, skipped: 0, filtered: 0, rejected: rejected.length },
    };
  }
  return outcome(o.stage, o.input.count, o.input.count, [res], []);
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
  const results: ProcessResult[] = [];
  const size = Math.max(1, o.stage.chunk);
  for (let i = 0; i < match.length; i += size) {
    const batch = match.slice(i, i + size);
    if (o.limiter) {
      for (const item of batch) {
        await o.limiter.take(String(o.limitKey?.(item) ?? ""), o.signal);
      }
    }
    // Each call of a chunk has its own part number, stable across retries (the input and
    // `when` are), for what the plugin keeps per chunk (ctx.part).
    const part = i / size;
    results.push(
      await o.instance.process(batch, {
        chunk: o.chunk,
        ...(part > 0 ? { part } : {}),
        signal: o.signal,
        log: o.log,
      }),
    );
  }
  return outcome(o.stage, o.input.length, match.length, results, skipped);
}

/** Checks what the plugin returned and counts it (`skipped` items pass through unchanged). */
function outcome(
  stage: StageSnapshot,
  inCount: number,
  matched: number,
  results: ProcessResult[],
  skipped: Item[],
): StageOutcome {
  const out: Item[] = [];
  const rejected: Rejected[] = [];
  for (const res of results) {
    if (!res || !Array.isArray(res.items)) {
      throw new TypeError(`stage ${stage.id}: process() must return items (an array)`);
    }
    out.push(...checkItems(res.items, stage.id, rejected));
    if (res.rejected) rejected.push(...res.rejected);
  }
  const pluginRejected = rejected.length;
  // The plugin's own JSON when its items are kept as they came, followed by the items `when`
  // passed over (serialized here: the plugin never had them). With the plugin's bytes, the
  // join is made of bytes: joining the texts and encoding the whole cost the host more than
  // serializing the items passed over (bench/RESULTS.md, 2026-12-03).
  const asSent = results.length === 1 && out.length === results[0].items.length;
  const raw = asSent ? rawItemsOf(results[0]) : undefined;
  const rawBytes = raw !== undefined ? rawItemBytesOf(results[0]) : undefined;
  let itemsJson: string | undefined;
  let itemsBytes: Uint8Array[] | undefined;
  if (skipped.length === 0) {
    itemsJson = raw;
    itemsBytes = rawBytes;
  } else if (rawBytes) itemsBytes = [concatJsonArrayBytes(rawBytes, JSON.stringify(skipped))];
  else if (raw !== undefined) itemsJson = concatJsonArrays(raw, JSON.stringify(skipped));
  return {
    items: skipped.length ? out.concat(skipped) : out,
    ...(itemsJson !== undefined ? { itemsJson } : {}),
    ...(itemsBytes !== undefined ? { itemsBytes } : {}),
    rejected,
    counters: {
      in: inCount,
      out: out.length + skipped.length,
      skipped: skipped.length,
      filtered: Math.max(0, matched - out.length - pluginRejected),
      rejected: pluginRejected,
    },
  };
}
