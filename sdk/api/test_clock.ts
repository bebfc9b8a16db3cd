/**
 * A manual clock for tests of time-based code: `sleep` advances the clock instead of waiting.
 * @module
 */
import type { Sleep } from "./sleep.ts";

/** A clock whose time only moves when something sleeps on it or `advance` is called. */
export interface ManualClock {
  now: () => number;
  sleep: Sleep;
  advance(ms: number): void;
  /** Every sleep requested, in ms. */
  sleeps: number[];
}

/** Creates a {@linkcode ManualClock} starting at `start` ms. */
export function manualClock(start = 1_700_000_000_000): ManualClock {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleeps,
    advance(ms) {
      t += ms;
    },
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      sleeps.push(ms);
      t += Math.max(0, ms);
      return Promise.resolve();
    },
  };
}
