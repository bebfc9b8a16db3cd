/**
 * An abortable sleep, injectable where waiting happens (rate limits, backoff), so tests can
 * replace time.
 * @module
 */
import { whenAborted } from "../io/when_aborted.ts";

/** Waits `ms` milliseconds; rejects with the signal's reason when aborted. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** The real {@linkcode Sleep}: a timer that is cleared when `signal` aborts. */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    if (ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      offAbort();
      resolve();
    }, ms);
    const offAbort = whenAborted(signal, onAbort);
  });
