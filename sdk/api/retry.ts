/**
 * Retries with exponential backoff and full jitter, honouring a server's `Retry-After`.
 * @module
 */
import { type Sleep, sleep as realSleep } from "./sleep.ts";
import { isPermissionError } from "../runtime/protocol.ts";

/** An HTTP answer that was an error; `retryable` for 408/425/429/5xx. */
export class HttpStatusError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The server's `Retry-After`, in ms, when it sent one. */
  readonly retryAfterMs?: number;
  /** Whether another attempt may succeed. */
  readonly retryable: boolean;
  /** The body of the answer, when known (callers show an excerpt). */
  readonly body?: string;
  /** Builds the error; `message` says what was asked and what came back. */
  constructor(
    message: string,
    options: { status: number; retryAfterMs?: number; body?: string; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpStatusError";
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.body = options.body;
    this.retryable = isRetryableStatus(options.status);
  }
}

/** True for statuses worth another attempt: 408, 425, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Parses `Retry-After` (seconds or an HTTP date) into milliseconds from `nowMs`; undefined when
 * absent or unreadable; never negative.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** The longest `Retry-After` {@linkcode retry} waits for by default (2 minutes). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 120_000;

/** Options of {@linkcode retry}. */
export interface RetryOptions {
  /** Total attempts including the first (default 4). */
  attempts?: number;
  /** First backoff, ms (default 500). */
  baseMs?: number;
  /** Backoff cap, ms (default 30 000). */
  maxMs?: number;
  /** A `Retry-After` longer than this stops retrying (default {@linkcode DEFAULT_MAX_RETRY_AFTER_MS}). */
  maxRetryAfterMs?: number;
  /** Random in [0,1) for jitter (default `Math.random`). */
  random?: () => number;
  /** How to wait (default a real timer). */
  sleep?: Sleep;
  /** Cancels waiting and further attempts. */
  signal?: AbortSignal;
  /**
   * When the caller must be done (epoch ms, e.g. the plugin call's `ctx.deadline`): a wait that
   * would not end before it is not started; the last error is rethrown at once instead.
   */
  deadline?: number;
  /** Clock for `deadline` (default `Date.now`). */
  now?: () => number;
  /**
   * Which errors to retry (default: `retryable: true` errors, and errors without that field,
   * except a refused permission and an abort).
   */
  retryOn?: (err: unknown) => boolean;
  /** Called before each wait (for logs/metrics). */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** Backoff before attempt `attempt + 1` (attempt counts from 1): full jitter, capped. */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const base = options.baseMs ?? 500;
  const cap = options.maxMs ?? 30_000;
  const ceiling = Math.min(cap, base * 2 ** (attempt - 1));
  const r = (options.random ?? Math.random)();
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}

const defaultRetryOn = (err: unknown): boolean => {
  // Deno refusing a permission refuses it again on every attempt.
  if (isPermissionError(err)) return false;
  if (err && typeof err === "object" && "retryable" in err) {
    return (err as { retryable: unknown }).retryable === true;
  }
  return !(err instanceof DOMException && err.name === "AbortError");
};

/**
 * Runs `fn` until it succeeds, the error is not retryable, attempts run out, a `Retry-After` is
 * longer than `maxRetryAfterMs` or a wait would not end before `deadline`; then rethrows the
 * last error. An error carrying `retryAfterMs` waits at least that long.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts ?? 4));
  const retryOn = options.retryOn ?? defaultRetryOn;
  const wait = options.sleep ?? realSleep;
  const maxAfter = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  for (let attempt = 1;; attempt++) {
    if (options.signal?.aborted) throw options.signal.reason;
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || options.signal?.aborted || !retryOn(err)) throw err;
      const after = (err as { retryAfterMs?: number }).retryAfterMs;
      if (after !== undefined && after > maxAfter) throw err;
      const delayMs = Math.max(backoffDelay(attempt, options), after ?? 0);
      const now = options.now ?? Date.now;
      if (options.deadline !== undefined && now() + delayMs >= options.deadline) throw err;
      options.onRetry?.({ attempt, delayMs, error: err });
      await wait(delayMs, options.signal);
    }
  }
}
