/**
 * Retry delays.
 * @module
 */
import type { StageSnapshot } from "../store/store.ts";

/** Delay before attempt `attempt + 1` after attempt `attempt` (1-based) failed, with ±20% jitter. */
export function backoffDelay(
  policy: StageSnapshot["retry"],
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = policy.backoff === "fixed"
    ? policy.delayMs
    : policy.delayMs * 2 ** Math.max(0, attempt - 1);
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(policy.maxDelayMs, jittered));
}
