/**
 * `ApiClient`: one external API call with everything an API stage needs: a per-host rate limit,
 * retries with backoff on 429/5xx and network errors (honouring `Retry-After`, which also pauses
 * the host in the limiter), and a circuit breaker. A wait that would not end in time (a
 * `Retry-After` or the host's pause longer than `maxRetryAfterMs`, or ending after the request's
 * `deadline`) is not started: the call fails at once, saying so. The transport is injected
 * ({@linkcode HttpRequester}), so plugins pass one that resolves through `ctx.network` and tests
 * pass a loopback one.
 * @module
 */
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit_breaker.ts";
import { RateLimiter } from "./rate_limit.ts";
import {
  DEFAULT_MAX_RETRY_AFTER_MS,
  HttpStatusError,
  isRetryableStatus,
  parseRetryAfter,
  retry,
} from "./retry.ts";
import type { RetryOptions } from "./retry.ts";
import { type Sleep, sleep as realSleep } from "./sleep.ts";
import { isPermissionError } from "../runtime/protocol.ts";
import type { SharedLimits } from "../plugin.ts";

/** One HTTP request. */
export interface ApiRequest {
  url: string;
  /** Default `GET`. */
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /**
   * When the caller must be done (epoch ms): a plugin passes `ctx.deadline`, when the host
   * kills the call. A `Retry-After`, backoff or pause of the host that would not end before it
   * (less {@linkcode ApiClientOptions.deadlineMarginMs}) fails the call at once, with the reason.
   */
  deadline?: number;
}

/** One HTTP response, body read as text. */
export interface ApiResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
}

/** Sends one request; throws on network failure (connection refused, timeout, TLS...). */
export type HttpRequester = (req: ApiRequest) => Promise<ApiResponse>;

/**
 * Fastest rate (requests per second and host) an {@linkcode ApiClient} shares through
 * `ctx.limits`; a faster one stays the client's own. Each shared request waits for the host's
 * grant of a slot the previous request gives back, a few milliseconds apart on a busy host: in the
 * flagship benchmark, whose fake APIs take 2,000 requests/s, rdap's and search-verify's stages
 * took four times as long (275 s of busy time against 50). Public APIs allow a few per second.
 */
export const SHARED_RATE_MAX = 50;

/** Options of {@linkcode ApiClient}. */
export interface ApiClientOptions {
  /** The transport. */
  request: HttpRequester;
  /** Requests per second per host (default 5). */
  perSecond?: number;
  /** Burst per host (default 1). */
  burst?: number;
  /**
   * The plugin's `ctx.limits`: the per-host rate then holds across all of the plugin's processes
   * and runs in this Sluice process, not only in this client (each request also holds one of
   * `burst` slots of its host, shared through the host, for `burst / perSecond` seconds from
   * when it goes out, so at most `burst` go out in any such span). Without it, or for a rate
   * above {@linkcode SHARED_RATE_MAX}, the rate is this client's.
   */
  shared?: SharedLimits;
  /** Retry policy (attempts, backoff); `sleep`/`signal` are filled in. */
  retry?: Omit<RetryOptions, "sleep" | "signal" | "retryOn">;
  /** Circuit breaker options (threshold, cooldown, name, `onChange`). */
  breaker?: CircuitBreakerOptions;
  /** Hears each wait for the per-host rate limit (ms, host), e.g. `ApiMetrics.wait` (`./api_metrics.ts`). */
  onRateLimitWait?: (ms: number, host: string) => void;
  /** Clock (default `Date.now`). */
  now?: () => number;
  /** How to wait (default real timers). */
  sleep?: Sleep;
  /**
   * Time kept free before a request's `deadline` for the request that follows a wait (default
   * 2000 ms): a wait ending later than `deadline - deadlineMarginMs` is not started.
   */
  deadlineMarginMs?: number;
}

/** Default of {@linkcode ApiClientOptions.deadlineMarginMs}. */
export const DEFAULT_DEADLINE_MARGIN_MS = 2000;

/** Options of one {@linkcode ApiClient.call}. */
export interface CallOptions {
  /**
   * Checks the final response (status, body shape); throwing counts as a failure of the service
   * for the circuit breaker (e.g. malformed JSON, 401 for a bad key) and is rethrown.
   */
  validate?: (res: ApiResponse) => void;
}

/**
 * Why a wait of `wait` ms is not waited for within a call (`longer than a call waits (2 min)`,
 * `longer than the 12 s left before this call's deadline …`), or undefined when it fits.
 */
function tooLongToWait(
  wait: number,
  now: number,
  deadline: number | undefined,
  maxAfter: number,
): string | undefined {
  if (wait > maxAfter) return `longer than a call waits (${duration(maxAfter)})`;
  if (deadline !== undefined && now + wait >= deadline) {
    return `longer than the ${timeLeft(deadline, now)} left before this call's deadline ` +
      "(the stage's timeout)";
  }
  return undefined;
}

/** A network-level failure (no HTTP answer): retryable. */
export class ApiNetworkError extends Error {
  /** Always true: another attempt may succeed. */
  readonly retryable = true;
  /** Builds the error around the transport's failure. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ApiNetworkError";
  }
}

/** See the module doc. */
export class ApiClient {
  /** The breaker guarding this client's service. */
  readonly breaker: CircuitBreaker;
  /** The per-host limiter. */
  readonly limiter: RateLimiter;
  readonly #request: HttpRequester;
  readonly #retry: ApiClientOptions["retry"];
  readonly #now: () => number;
  readonly #sleep?: Sleep;
  readonly #margin: number;
  readonly #shared?: { limits: SharedLimits; burst: number; holdMs: number };
  /** Per host: the answer that paused it (its `Retry-After`), for calls the pause stops. */
  readonly #pauses = new Map<string, HttpStatusError>();
  /** Errors that are no new answer of the service (a call stopped by an earlier pause). */
  readonly #notService = new WeakSet<object>();

  /** Creates a client; see {@linkcode ApiClientOptions}. */
  constructor(options: ApiClientOptions) {
    this.#request = options.request;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep;
    this.#retry = options.retry;
    this.#margin = options.deadlineMarginMs ?? DEFAULT_DEADLINE_MARGIN_MS;
    this.limiter = new RateLimiter({
      perSecond: options.perSecond ?? 5,
      burst: options.burst,
      now: this.#now,
      sleep: options.sleep,
      onWait: options.onRateLimitWait,
    });
    this.breaker = new CircuitBreaker({ now: this.#now, ...options.breaker });
    if (options.shared && (options.perSecond ?? 5) <= SHARED_RATE_MAX) {
      const burst = Math.max(1, Math.floor(options.burst ?? 1));
      this.#shared = {
        limits: options.shared,
        burst,
        holdMs: (1000 * burst) / (options.perSecond ?? 5),
      };
    }
  }

  /** Takes one of the host's shared slots (see `shared`), given back after the hold. */
  async #sharedTurn(host: string, signal?: AbortSignal): Promise<void> {
    const s = this.#shared!;
    const release = await s.limits.acquire(`rate:${host}`, s.burst, signal);
    (this.#sleep ?? realSleep)(s.holdMs).then(release, release);
  }

  /**
   * Sends `req`. Returns any response that is not retryable (2xx, 3xx, 404...) for the caller
   * to judge. Throws `CircuitOpenError` while the circuit is open, `HttpStatusError` when
   * 429/5xx persisted or asked for a wait that would not end in time (also when an earlier
   * answer paused the host that long: its status, `Retry-After` and body), `ApiNetworkError`
   * when the network failed on every attempt, and a transport error with `retryable: false`
   * (e.g. a refused private address) at once.
   */
  async call(req: ApiRequest, options: CallOptions = {}): Promise<ApiResponse> {
    this.breaker.check();
    const host = hostKey(req.url);
    const maxAfter = this.#retry?.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    const deadline = req.deadline === undefined ? undefined : req.deadline - this.#margin;
    try {
      const res = await retry(async () => {
        this.#checkPause(host, req, deadline, maxAfter);
        await this.limiter.acquire(host, req.signal);
        if (this.#shared) await this.#sharedTurn(host, req.signal);
        let r: ApiResponse;
        try {
          r = await this.#request(req);
        } catch (err) {
          if (req.signal?.aborted) throw err;
          if ((err as { retryable?: unknown })?.retryable === false) throw err;
          // Deno refused the connection (the stage lacks the net permission): as it is.
          if (isPermissionError(err)) throw err;
          throw new ApiNetworkError(`${req.method ?? "GET"} ${redact(req.url)}: ${errText(err)}`, {
            cause: err,
          });
        }
        if (isRetryableStatus(r.status)) {
          const after = parseRetryAfter(r.headers["retry-after"], this.#now());
          const err = new HttpStatusError(
            `${req.method ?? "GET"} ${redact(req.url)} answered HTTP ${r.status}`,
            { status: r.status, retryAfterMs: after, body: r.body },
          );
          if (after !== undefined) {
            this.limiter.pause(host, after);
            this.#pauses.set(host, err);
          }
          throw err;
        }
        return r;
      }, { ...this.#retry, sleep: this.#sleep, signal: req.signal, deadline, now: this.#now });
      options.validate?.(res);
      this.breaker.success();
      return res;
    } catch (err) {
      // Neither a cancel, a refused permission nor an earlier answer's pause says anything new
      // about the service.
      if (
        !req.signal?.aborted && !isPermissionError(err) &&
        !(err && typeof err === "object" && this.#notService.has(err))
      ) this.breaker.failure(errText(err));
      throw this.#explain(err, deadline, maxAfter);
    }
  }

  /**
   * Throws when `host` is paused (an earlier answer's `Retry-After`) for longer than a call
   * waits or than `deadline` allows: the error carries that answer's status and body.
   */
  #checkPause(host: string, req: ApiRequest, deadline: number | undefined, maxAfter: number) {
    const now = this.#now();
    const left = this.limiter.pausedUntil(host) - now;
    if (left <= 0) return;
    const tooLong = tooLongToWait(left, now, deadline, maxAfter);
    if (!tooLong) return;
    const cause = this.#pauses.get(host);
    const status = cause?.status ?? 429;
    const asked = cause?.retryAfterMs !== undefined
      ? `it asked to wait ${duration(cause.retryAfterMs)} (Retry-After) and `
      : "";
    const err = new HttpStatusError(
      `${req.method ?? "GET"} ${redact(req.url)} not sent: an earlier request to ${host} was ` +
        `answered HTTP ${status}; ${asked}${duration(left)} of that pause are left, ${tooLong}`,
      { status, retryAfterMs: left, body: cause?.body, cause },
    );
    this.#notService.add(err);
    throw err;
  }

  /** Says why a 429/5xx with a `Retry-After` was not waited for, when that is why it failed. */
  #explain(err: unknown, deadline: number | undefined, maxAfter: number): unknown {
    if (!(err instanceof HttpStatusError) || err.retryAfterMs === undefined) return err;
    if (this.#notService.has(err)) return err;
    const after = err.retryAfterMs;
    const tooLong = tooLongToWait(after, this.#now(), deadline, maxAfter);
    if (!tooLong) return err;
    return new HttpStatusError(
      `${err.message}; it asked to wait ${duration(after)} (Retry-After), ${tooLong}`,
      { status: err.status, retryAfterMs: after, body: err.body, cause: err },
    );
  }
}

/** `90 s`. */
function duration(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`;
}

/** What is left before `deadline` (already less the margin), never negative. */
function timeLeft(deadline: number, now: number): string {
  return `${Math.max(0, Math.floor((deadline - now) / 1000))} s`;
}

function hostKey(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return url;
  }
}

/** Drops query strings (they may carry API keys) from URLs shown in errors. */
export function redact(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
