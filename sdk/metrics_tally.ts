/**
 * Per-item counters summed in memory and reported once per call: a plugin that counts one
 * outcome per item would otherwise send one metric message to the host per item (each a write
 * on the sandbox's stdout and a parse on the host).
 * @module
 */
import type { PluginMetrics } from "./plugin.ts";

/** Counts in memory; {@linkcode MetricTally.flush} reports each counter's total once. */
export class MetricTally {
  #counts = new Map<string, number>();

  /** Adds `value` (default 1) to counter `name`. */
  count(name: string, value = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + value);
  }

  /** The total of counter `name` so far. */
  get(name: string): number {
    return this.#counts.get(name) ?? 0;
  }

  /** Reports every counter's total to `metrics` and starts over. */
  flush(metrics: PluginMetrics): void {
    for (const [name, value] of this.#counts) metrics.count(name, value);
    this.#counts.clear();
  }
}
