/**
 * A circuit breaker for API stages: after `failureThreshold` failures in a row it opens and
 * refuses calls for `cooldownMs`, then lets one probe through (half-open); a success closes it.
 * While open, a stage passes items through marked `unknown` with {@linkcode CircuitBreaker.reason}
 * instead of burning the whole list against a failing service.
 * @module
 */

/** Breaker state. */
export type CircuitState = "closed" | "open" | "half_open";

/** Options of {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 5). */
  failureThreshold?: number;
  /** How long it stays open before a probe, ms (default 60 000). */
  cooldownMs?: number;
  /** Clock in ms (default `Date.now`). */
  now?: () => number;
  /** Name shown in reasons, e.g. the service (default "service"). */
  name?: string;
  /**
   * Hears the breaker open (`true`) and close again after a success (`false`), e.g. to report
   * the `circuit_open` gauge (`ApiMetrics` in `./api_metrics.ts` does).
   */
  onChange?: (open: boolean) => void;
}

/** Thrown by callers when the circuit refuses a call. */
export class CircuitOpenError extends Error {
  /** When the next probe is allowed (ms since epoch). */
  readonly retryAt: number;
  /** Builds the error with a message saying why and until when. */
  constructor(message: string, retryAt: number) {
    super(message);
    this.name = "CircuitOpenError";
    this.retryAt = retryAt;
  }
}

/** See the module doc. */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldown: number;
  readonly #now: () => number;
  readonly #name: string;
  readonly #onChange?: (open: boolean) => void;
  #state: CircuitState = "closed";
  #failures = 0;
  #openedAt = 0;
  #lastError = "";
  #probing = false;

  /** Creates a closed breaker. */
  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = Math.max(1, Math.floor(options.failureThreshold ?? 5));
    this.#cooldown = Math.max(0, options.cooldownMs ?? 60_000);
    this.#now = options.now ?? Date.now;
    this.#name = options.name ?? "service";
    this.#onChange = options.onChange;
  }

  /** Current state (an open breaker whose cooldown passed reports `half_open`). */
  get state(): CircuitState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#cooldown) {
      return "half_open";
    }
    return this.#state;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Why calls are refused, for the items passed through `unknown`. */
  get reason(): string {
    const until = new Date(this.#openedAt + this.#cooldown).toISOString();
    return `${this.#name} paused after ${this.#failures} failures in a row (last: ${
      this.#lastError || "unknown error"
    }); retrying after ${until}`;
  }

  /** True when a call may go out now (in half-open state: only one probe at a time). */
  allow(): boolean {
    const s = this.state;
    if (s === "closed") return true;
    if (s === "open") return false;
    if (this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** Throws {@linkcode CircuitOpenError} unless {@linkcode allow} says yes. */
  check(): void {
    if (!this.allow()) {
      throw new CircuitOpenError(this.reason, this.#openedAt + this.#cooldown);
    }
  }

  /** Records a successful call: closes the circuit. */
  success(): void {
    const wasOpen = this.#state === "open";
    this.#state = "closed";
    this.#failures = 0;
    this.#probing = false;
    if (wasOpen) this.#onChange?.(false);
  }

  /** Records a failed call; opens the circuit at the threshold (or when a probe fails). */
  failure(reason: string): void {
    this.#failures++;
    this.#lastError = reason;
    const probeFailed = this.#probing;
    this.#probing = false;
    if (probeFailed || this.#failures >= this.#threshold) {
      const wasOpen = this.#state === "open";
      this.#state = "open";
      this.#openedAt = this.#now();
      if (!wasOpen) this.#onChange?.(true);
    }
  }
}
