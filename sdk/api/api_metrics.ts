/**
 * The metrics of an API stage, under the names the alert rules and the README use: the gauge
 * `circuit_open` (1 while any of the stage's circuit breakers is open, 0 once they all closed
 * again; `/metrics` shows it as `sluice_plugin_gauge{name="circuit_open"}`) and the counter
 * `rate_limit_wait_ms` (ms spent waiting for the per-host rate limit;
 * `sluice_plugin_events_total{name="rate_limit_wait_ms"}`).
 *
 * ```ts
 * setup(ctx) {
 *   const api = new ApiMetrics(ctx.metrics);
 *   const client = new ApiClient({
 *     request,
 *     breaker: { name: "search API", onChange: api.breaker("search") },
 *     onRateLimitWait: api.wait,
 *   });
 *   return { client, api };
 * },
 * async process(items, { state, metrics }) {
 *   try { ... } finally { state.api.flush(metrics); }
 * },
 * ```
 * @module
 */
import type { PluginMetrics } from "../plugin.ts";

/** Gauge name: 1 while a circuit breaker of the stage is open. */
export const CIRCUIT_OPEN = "circuit_open";
/** Counter name: milliseconds spent waiting for a per-host rate limit. */
export const RATE_LIMIT_WAIT_MS = "rate_limit_wait_ms";

/** Reports breaker states and rate-limit waits of one plugin instance. */
export class ApiMetrics {
  readonly #metrics: PluginMetrics;
  readonly #open = new Set<string>();
  #waitMs = 0;

  /** Reports to `metrics` (the setup context's). */
  constructor(metrics: PluginMetrics) {
    this.#metrics = metrics;
  }

  /** The `onChange` hook of the breaker `name`; reports `circuit_open` on every change. */
  breaker(name: string): (open: boolean) => void {
    return (open) => {
      if (open) this.#open.add(name);
      else this.#open.delete(name);
      this.#metrics.gauge(CIRCUIT_OPEN, this.#open.size > 0 ? 1 : 0);
    };
  }

  /** The `onRateLimitWait` hook of `ApiClient`: adds the wait up until {@linkcode flush}. */
  readonly wait = (ms: number): void => {
    this.#waitMs += ms;
  };

  /** Names of the breakers that are open now. */
  get open(): string[] {
    return [...this.#open];
  }

  /** Reports the waits added up since the last flush as `rate_limit_wait_ms` (once per call). */
  flush(metrics: PluginMetrics = this.#metrics): void {
    const ms = Math.round(this.#waitMs);
    this.#waitMs = 0;
    if (ms > 0) metrics.count(RATE_LIMIT_WAIT_MS, ms);
  }
}
