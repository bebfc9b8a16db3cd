/**
 * Batching of concurrent calls into one statement (one round trip, one transaction): calls made
 * while fewer than `maxInFlight` batches are running go out together on the next turn of the
 * event loop (the driver sends its queries then too, so nothing waits longer than it would
 * have); calls made while the limit is reached wait for a running batch to finish and then go
 * out together. An idle process thus sends each call at once, and a busy one sends fewer, larger
 * statements: on a loaded database the round trips, not the rows, cost the most CPU.
 *
 * When a batch of several calls fails, each call is retried on its own, so one bad call (or a
 * deadlock between two batches, which PostgreSQL breaks by failing one) fails only itself.
 * @module
 */
import { setImmediate } from "node:timers";

/** Options of {@link Batcher}. */
export interface BatcherOptions<I, O> {
  /** Runs a batch; returns one result per input, in order. */
  run(inputs: I[]): Promise<O[]>;
  /** Inputs per batch at most (default 64). */
  maxBatch?: number;
  /** Batches running at once (default 1). */
  maxInFlight?: number;
  /**
   * Whether `next` may join `batch` (default: always). An input refused waits for a later
   * batch; the ones after it may still join this one.
   */
  fits?(batch: readonly I[], next: I): boolean;
}

interface Pending<I, O> {
  input: I;
  resolve(o: O): void;
  reject(e: unknown): void;
}

/** Groups concurrent calls into batches (see the module doc). */
export class Batcher<I, O> {
  #o: BatcherOptions<I, O>;
  #max: number;
  #maxInFlight: number;
  #queue: Pending<I, O>[] = [];
  #inFlight = 0;
  #scheduled = false;
  /**
   * Statements sent, calls they carried, and batches of several calls that failed and were
   * retried one call at a time (tests, benchmarks).
   */
  readonly stats = { batches: 0, calls: 0, retried: 0 };

  constructor(o: BatcherOptions<I, O>) {
    this.#o = o;
    this.#max = Math.max(1, o.maxBatch ?? 64);
    this.#maxInFlight = Math.max(1, o.maxInFlight ?? 1);
  }

  /** Queues `input` for the next batch; resolves with its result. */
  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  #schedule() {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || !this.#queue.length) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#dispatch();
    });
  }

  #dispatch() {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length) {
      const batch: Pending<I, O>[] = [];
      const inputs: I[] = [];
      const rest: Pending<I, O>[] = [];
      for (const p of this.#queue) {
        if (
          batch.length < this.#max && (!batch.length || (this.#o.fits?.(inputs, p.input) ?? true))
        ) {
          batch.push(p);
          inputs.push(p.input);
        } else {
          rest.push(p);
        }
      }
      this.#queue = rest;
      this.#inFlight++;
      void this.#send(batch, inputs).finally(() => {
        this.#inFlight--;
        this.#schedule();
      });
    }
  }

  async #send(batch: Pending<I, O>[], inputs: I[]): Promise<void> {
    this.stats.batches++;
    this.stats.calls += batch.length;
    try {
      const out = await this.#o.run(inputs);
      batch.forEach((p, i) => p.resolve(out[i]));
    } catch (e) {
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
      // One at a time, so only the call at fault fails.
      this.stats.retried++;
      for (const p of batch) {
        try {
          const [o] = await this.#o.run([p.input]);
          p.resolve(o);
        } catch (err) {
          p.reject(err);
        }
      }
    }
  }
}
