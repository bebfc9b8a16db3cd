/**
 * Per-key (usually per-host) rate limiting for API stages: a GCRA token bucket where each
 * caller reserves its slot synchronously, so concurrent callers queue fairly, plus `pause()`
 * to honour a server's `Retry-After`.
 * @module
 */
import { type Sleep, sleep as realSleep } from "./sleep.ts";

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Requests per second per key (must be > 0). */
  perSecond: number;
  /** Requests allowed back to back before spacing applies (default 1). */
  burst?: number;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** How to wait (default a real timer). */
  sleep?: Sleep;
  /** Hears every wait of {@linkcode RateLimiter.acquire} longer than 0 (ms, key). */
  onWait?: (ms: number, key: string) => void;
}

interface KeyState {
  /** Theoretical arrival time of the next request. */
  tat: number;
  /** No request before this time (a server asked us to wait). */
  pausedUntil: number;
}

/** Spaces requests per key; see {@linkcode RateLimiterOptions}. */
export class RateLimiter {
  readonly #interval: number;
  readonly #tolerance: number;
  readonly #now: () => number;
  readonly #sleep: Sleep;
  readonly #onWait?: (ms: number, key: string) => void;
  readonly #keys = new Map<string, KeyState>();

  /** Creates a limiter; throws a RangeError for a rate that is not positive. */
  constructor(options: RateLimiterOptions) {
    if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) {
      throw new RangeError(
        `rate limit: perSecond must be a positive number, got ${options.perSecond}`,
      );
    }
    const burst = Math.max(1, Math.floor(options.burst ?? 1));
    this.#interval = 1000 / options.perSecond;
    this.#tolerance = this.#interval * (burst - 1);
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? realSleep;
    this.#onWait = options.onWait;
  }

  /** Milliseconds the caller must wait for `key`, reserving that slot. */
  reserve(key: string): number {
    const now = this.#now();
    let s = this.#keys.get(key);
    if (!s) {
      s = { tat: now, pausedUntil: 0 };
      this.#keys.set(key, s);
    }
    const paused = s.pausedUntil > now;
    const tat = Math.max(s.tat, now, paused ? s.pausedUntil + this.#tolerance : 0);
    const at = Math.max(now, paused ? s.pausedUntil : 0, tat - this.#tolerance);
    s.tat = tat + this.#interval;
    if (this.#keys.size > 10_000) this.#forgetIdle(now);
    return at - now;
  }

  /** Waits until a request to `key` may go out. */
  async acquire(key: string, signal?: AbortSignal): Promise<void> {
    const wait = this.reserve(key);
    if (wait > 0) {
      this.#onWait?.(wait, key);
      await this.#sleep(wait, signal);
    } else if (signal?.aborted) throw signal.reason;
  }

  /** Holds every request to `key` for `ms` (e.g. a 429's `Retry-After`). */
  pause(key: string, ms: number): void {
    const until = this.#now() + Math.max(0, ms);
    const s = this.#keys.get(key) ?? { tat: 0, pausedUntil: 0 };
    s.pausedUntil = Math.max(s.pausedUntil, until);
    this.#keys.set(key, s);
  }

  /** Until when `key` is paused (ms since epoch), or 0. */
  pausedUntil(key: string): number {
    return this.#keys.get(key)?.pausedUntil ?? 0;
  }

  #forgetIdle(now: number): void {
    for (const [k, s] of this.#keys) {
      if (s.tat < now && s.pausedUntil < now) this.#keys.delete(k);
    }
  }
}
