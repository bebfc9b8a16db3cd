/**
 * Concurrency limits for network plugins: a counting {@linkcode Limiter}, a per-key
 * {@linkcode KeyedLimiter} (e.g. at most 4 connections per IP at once), {@linkcode SharedSlots}
 * (per-key slots whose limit each caller gives: what the host shares between a plugin's
 * processes as `ctx.limits`) and {@linkcode mapConcurrent} to process a chunk's items with
 * bounded parallelism.
 * @module
 */
import type { SharedLimits } from "../plugin.ts";
import { whenAborted } from "../io/when_aborted.ts";
import { Fifo } from "../io/fifo.ts";

/** A counting semaphore: at most `limit` holders at once, waiters served in FIFO order. */
export class Limiter {
  #limit: number;
  #active = 0;
  #queue = new Fifo<() => void>();

  /** @param limit maximum concurrent holders (at least 1). */
  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Number of current holders. */
  get active(): number {
    return this.#active;
  }

  /** Number of callers waiting. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Waits for a slot; the returned function releases it (call it exactly once). */
  acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.#active < this.#limit) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        offAbort();
        this.#active++;
        resolve(this.#releaser());
      };
      const onAbort = () => {
        this.#queue.remove(grant);
        reject(signal!.reason);
      };
      const offAbort = whenAborted(signal, onAbort);
      this.#queue.push(grant);
    });
  }

  /** Runs `fn` while holding a slot. */
  async run<T>(fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#active--;
      const next = this.#queue.shift();
      if (next) next();
    };
  }
}

/** Waits for a slot of a key; the returned function gives it back (call it once). */
export interface KeySlots {
  acquire(key: string, signal?: AbortSignal): Promise<() => void>;
}

/**
 * Slots of `ctx.limits` (shared by all of a plugin's processes) as {@linkcode KeySlots}: key
 * `k` is `prefix + k`, with at most `limit` holders (e.g. `sharedKeySlots(ctx.limits, "ip:", 4)`
 * for connections per address).
 */
export function sharedKeySlots(limits: SharedLimits, prefix: string, limit: number): KeySlots {
  return { acquire: (key, signal) => limits.acquire(prefix + key, limit, signal) };
}

/** Runs `fn` while holding a slot of `key` in `slots`. */
export async function withSlot<T>(
  slots: KeySlots,
  key: string,
  fn: () => Promise<T> | T,
  signal?: AbortSignal,
): Promise<T> {
  const release = await slots.acquire(key, signal);
  try {
    return await fn();
  } finally {
    release();
  }
}

interface SlotWaiter {
  limit: number;
  grant: () => void;
}

/** A key's holders and waiters in {@linkcode SharedSlots}. */
interface SlotEntry {
  active: number;
  queue: Fifo<SlotWaiter>;
}

/**
 * Per-key slots where each caller says the key's limit: `acquire(key, limit)` waits until fewer
 * than `limit` hold `key`. Waiters of a key are served in order (one asking a lower limit holds
 * those behind it back, so nobody waits forever). Keys with no holders and no waiters are
 * dropped. The host keeps one per plugin and grants the slots its processes ask for over the
 * sandbox protocol (`ctx.limits`), so a limit holds across all of them.
 */
export class SharedSlots {
  #keys = new Map<string, SlotEntry>();

  /** Number of keys with holders or waiters. */
  get size(): number {
    return this.#keys.size;
  }

  /** Current holders of `key`. */
  active(key: string): number {
    return this.#keys.get(key)?.active ?? 0;
  }

  /**
   * Waits until fewer than `limit` (at least 1) hold `key`; the returned function gives the
   * slot back (later calls do nothing). Rejects with the signal's reason when it aborts first.
   */
  acquire(key: string, limit: number, signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const max = Math.max(1, Math.floor(limit));
    let k = this.#keys.get(key);
    if (!k) this.#keys.set(key, k = { active: 0, queue: new Fifo() });
    const entry = k;
    if (entry.queue.length === 0 && entry.active < max) {
      entry.active++;
      return Promise.resolve(this.#releaser(key, entry));
    }
    return new Promise((resolve, reject) => {
      const waiter: SlotWaiter = {
        limit: max,
        grant: () => {
          offAbort();
          entry.active++;
          resolve(this.#releaser(key, entry));
        },
      };
      const onAbort = () => {
        entry.queue.remove(waiter);
        this.#pump(key, entry);
        reject(signal!.reason);
      };
      const offAbort = whenAborted(signal, onAbort);
      entry.queue.push(waiter);
    });
  }

  #releaser(key: string, entry: SlotEntry): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.active--;
      this.#pump(key, entry);
    };
  }

  /** Grants waiters in order while the first one's limit allows; drops an idle key. */
  #pump(key: string, entry: SlotEntry): void {
    while (entry.queue.length > 0 && entry.active < entry.queue.peek()!.limit) {
      entry.queue.shift()!.grant();
    }
    if (entry.active === 0 && entry.queue.length === 0 && this.#keys.get(key) === entry) {
      this.#keys.delete(key);
    }
  }
}

/**
 * At most `limit` holders per key in this process (keys dropped when idle): {@linkcode SharedSlots}
 * with one limit for every key.
 */
export class KeyedLimiter implements KeySlots {
  #limit: number;
  #slots = new SharedSlots();

  /** @param limit maximum concurrent holders per key (at least 1). */
  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Number of keys with holders or waiters. */
  get size(): number {
    return this.#slots.size;
  }

  /** Current holders for `key`. */
  active(key: string): number {
    return this.#slots.active(key);
  }

  /** Waits for a slot of `key`; the returned function releases it. */
  acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    return this.#slots.acquire(key, this.#limit, signal);
  }

  /** Runs `fn` while holding a slot of `key`. */
  run<T>(key: string, fn: () => Promise<T> | T, signal?: AbortSignal): Promise<T> {
    return withSlot(this, key, fn, signal);
  }
}

/**
 * Maps `items` through `fn` with at most `concurrency` calls in flight; results keep the input
 * order. A rejection of `fn` rejects the whole map (after in-flight calls settle).
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed: { err: unknown } | undefined;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  const n = Math.max(1, Math.min(Math.floor(concurrency) || 1, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  if (failed) throw failed.err;
  return out;
}
