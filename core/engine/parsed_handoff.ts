/**
 * The parsed items of chunks this engine has just committed, handed to the next stage when it
 * continues with the chunk at once in this process and has to parse its input anyway (a `when`
 * or a rate limit: the host works on items). That stage takes them instead of decoding and
 * parsing the stored bytes the commit wrote: the same items, in the same order (a commit's
 * JSON is its items'). In the flagship, the four `when:` stages in a row parsed every chunk again
 * each, one after the other.
 *
 * An entry is taken once, lives at most {@link HANDOFF_MS} and at most {@link HANDOFF_MAX} are
 * kept (the oldest go first): a stage that waits longer for a slot, a retry, or another process
 * handling the message reads the stored chunk as before. Nothing here is needed for correctness.
 * The items are shared, not copied: the engine reads items and never changes them (a plugin gets
 * them serialized; skipped items pass on as they are).
 * @module
 */
import type { Item } from "../../sdk/types.ts";

/** How long an entry waits for the next stage, ms. */
export const HANDOFF_MS = 1000;

/** Entries kept at most (each a chunk's items, parsed). */
export const HANDOFF_MAX = 16;

/** Options of {@link ParsedHandoff}. */
export interface ParsedHandoffOptions {
  /** Monotonic clock, ms; default `performance.now`. */
  now?: () => number;
  /** Default {@link HANDOFF_MS}. */
  maxAgeMs?: number;
  /** Default {@link HANDOFF_MAX}. */
  max?: number;
}

/** Parsed chunk outputs kept for the next stage, by run, stage and chunk. */
export class ParsedHandoff {
  #kept = new Map<string, { runId: string; items: Item[]; at: number }>();
  #now: () => number;
  #maxAgeMs: number;
  #max: number;

  /** A handoff with `opts`' clock and limits. */
  constructor(opts: ParsedHandoffOptions = {}) {
    this.#now = opts.now ?? (() => performance.now());
    this.#maxAgeMs = opts.maxAgeMs ?? HANDOFF_MS;
    this.#max = opts.max ?? HANDOFF_MAX;
  }

  /** Entries held now (for tests and the memory account). */
  get size(): number {
    return this.#kept.size;
  }

  /** Keeps `items`, the committed output of `stage` for `chunk` of run `runId`. */
  keep(runId: string, stage: number, chunk: number, items: Item[]): void {
    const at = this.#now();
    for (const [k, v] of this.#kept) {
      if (at - v.at < this.#maxAgeMs && this.#kept.size < this.#max) break;
      this.#kept.delete(k);
    }
    this.#kept.set(`${runId}/${stage}/${chunk}`, { runId, items, at });
  }

  /**
   * The output of `stage` for `chunk` kept a moment ago, once, when it holds `count` items (the
   * stored chunk's count, when known); else undefined.
   */
  take(runId: string, stage: number, chunk: number, count?: number): Item[] | undefined {
    const key = `${runId}/${stage}/${chunk}`;
    const kept = this.#kept.get(key);
    if (!kept) return undefined;
    this.#kept.delete(key);
    if (this.#now() - kept.at >= this.#maxAgeMs) return undefined;
    if (count !== undefined && count !== kept.items.length) return undefined;
    return kept.items;
  }

  /** Drops the entries of run `runId` (it ended). */
  forgetRun(runId: string): void {
    for (const [k, v] of this.#kept) if (v.runId === runId) this.#kept.delete(k);
  }
}
