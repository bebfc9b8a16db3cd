/**
 * A counting semaphore bounding how many chunks run at once (per stage and globally).
 * @module
 */

/** Async counting semaphore. */
export class Semaphore {
  #free: number;
  #waiters: (() => void)[] = [];
  /** Creates a semaphore with `permits` permits. */
  constructor(permits: number) {
    if (!(permits >= 1)) throw new RangeError(`semaphore needs at least 1 permit, got ${permits}`);
    this.#free = permits;
  }
  /** Number of callers waiting. */
  get waiting(): number {
    return this.#waiters.length;
  }
  /** Waits for a permit; returns the function that releases it (call it exactly once). */
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiters.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiters.shift();
      if (next) next();
      else this.#free++;
    };
  }
}
