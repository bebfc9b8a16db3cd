/**
 * Token buckets per key: a stage's `rateLimit` (rate per period, per host or any key).
 * @module
 */

/** Clock and sleep, injectable for tests. */
export interface Timer {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Real time. */
export const realTimer: Timer = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

interface Bucket {
  tokens: number;
  at: number;
}

/** Keyed token-bucket rate limiter. */
export class RateLimiter {
  #rate: number;
  #perMs: number;
  #burst: number;
  #timer: Timer;
  #buckets = new Map<string, Bucket>();
  /** Total milliseconds callers waited, for metrics. */
  waitedMs = 0;

  /** `rate` tokens per `perMs`, bucket size `burst` (default `rate`). */
  constructor(opts: { rate: number; perMs: number; burst?: number; timer?: Timer }) {
    this.#rate = opts.rate;
    this.#perMs = opts.perMs;
    this.#burst = Math.max(1, opts.burst ?? Math.ceil(opts.rate));
    this.#timer = opts.timer ?? realTimer;
  }

  /** Waits until a token for `key` is available and takes it. */
  async take(key = "", signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#timer.now();
      const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) * this.#rate) / this.#perMs);
      b.at = now;
      this.#buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return;
      }
      const wait = Math.ceil(((1 - b.tokens) * this.#perMs) / this.#rate);
      this.waitedMs += wait;
      await this.#timer.sleep(wait);
    }
  }
}
