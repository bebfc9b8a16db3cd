/**
 * `ApiClient`: one external API call with everything an API stage needs: a per-host rate limit,
 * retries with backoff on 429/5xx and network errors (honouring `Retry-After`, which also pauses
 * the host in the limiter), and a circuit breaker. The transport is injected
 * ({@linkcode HttpRequester}), so plugins pass one that resolves through `ctx.network` and tests
 * pass a loopback one.
 * @module
 */
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit_breaker.ts";
import { RateLimiter } from "./rate_limit.ts";
import { HttpStatusError, isRetryableStatus, parseRetryAfter, retry } from "./retry.ts";
import type { RetryOptions } from "./retry.ts";
import type { Sleep } from "./sleep.ts";
import { isPermissionError } from "../runtime/protocol.ts";

/** One HTTP request. */
export interface ApiRequest {
  url: string;
  /** Default `GET`. */
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
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

/** Options of {@linkcode ApiClient}. */
export interface ApiClientOptions {
  /** The transport. */
  request: HttpRequester;
  /** Requests per second per host (default 5). */
  perSecond?: number;
  /** Burst per host (default 1). */
  burst?: number;
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
}

/** Options of one {@linkcode ApiClient.call}. */
export interface CallOptions {
  /**
   * Checks the final response (status, body shape); throwing counts as a failure of the service
   * for the circuit breaker (e.g. malformed JSON, 401 for a bad key) and is rethrown.
   */
  validate?: (res: ApiResponse) => void;
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

  /** Creates a client; see {@linkcode ApiClientOptions}. */
  constructor(options: ApiClientOptions) {
    this.#request = options.request;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep;
    this.#retry = options.retry;
    this.limiter = new RateLimiter({
      perSecond: options.perSecond ?? 5,
      burst: options.burst,
      now: this.#now,
      sleep: options.sleep,
      onWait: options.onRateLimitWait,
    });
    this.breaker = new CircuitBreaker({ now: this.#now, ...options.breaker });
  }

  /**
   * Sends `req`. Returns any response that is not retryable (2xx, 3xx, 404...) for the caller
   * to judge. Throws `CircuitOpenError` while the circuit is open, `HttpStatusError` when
   * 429/5xx persisted, `ApiNetworkError` when the network failed on every attempt, and a
   * transport error with `retryable: false` (e.g. a refused private address) at once.
   */
  async call(req: ApiRequest, options: CallOptions = {}): Promise<ApiResponse> {
    this.breaker.check();
    const host = hostKey(req.url);
    try {
      const res = await retry(async () => {
        await this.limiter.acquire(host, req.signal);
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
          if (after !== undefined) this.limiter.pause(host, after);
          throw new HttpStatusError(
            `${req.method ?? "GET"} ${redact(req.url)} answered HTTP ${r.status}`,
            { status: r.status, retryAfterMs: after },
          );
        }
        return r;
      }, { ...this.#retry, sleep: this.#sleep, signal: req.signal });
      options.validate?.(res);
      this.breaker.success();
      return res;
    } catch (err) {
      // Neither a cancel nor a refused permission says anything about the service.
      if (!req.signal?.aborted && !isPermissionError(err)) this.breaker.failure(errText(err));
      throw err;
    }
  }
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
