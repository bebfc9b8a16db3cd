/**
 * Keyed token buckets for request rate limits (per token, per client address). Each key has a
 * bucket of `burst` requests refilled at `rate` per `perMs`; a refused request learns how long
 * to wait (`Retry-After`).
 * @module
 */

/** A limit: `rate` requests per `perMs` milliseconds, bursts up to `burst` (default `rate`). */
export interface RateLimit {
  rate: number;
  perMs: number;
  burst?: number;
}

/** Token buckets by key with an injectable clock. */
export class KeyedRateLimiter {
  #limit: Required<RateLimit>;
  #now: () => number;
  #buckets = new Map<string, { tokens: number; at: number }>();
  #maxKeys: number;

  /** `now` returns milliseconds (default `Date.now`); at most `maxKeys` buckets are kept. */
  constructor(limit: RateLimit, opts: { now?: () => number; maxKeys?: number } = {}) {
    this.#limit = { ...limit, burst: limit.burst ?? limit.rate };
    this.#now = opts.now ?? Date.now;
    this.#maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Takes one token for `key`; returns 0 when allowed, else the seconds to wait (>= 1). */
  take(key: string): number {
    const { rate, perMs, burst } = this.#limit;
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#maxKeys) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
      b = { tokens: burst, at: now };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) * rate) / perMs);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    const waitMs = ((1 - b.tokens) * perMs) / rate;
    return Math.max(1, Math.ceil(waitMs / 1000));
  }
}
