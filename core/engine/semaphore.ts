/**
 * A counting semaphore bounding how many chunks run at once (per stage and globally).
 * @module
 */

/** Async counting semaphore. */
export class Semaphore {
  #permits: number;
  #free: number;
  #waiters: (() => void)[] = [];
  /** Creates a semaphore with `permits` permits. */
  constructor(permits: number) {
    if (!(permits >= 1)) throw new RangeError(`semaphore needs at least 1 permit, got ${permits}`);
    this.#permits = this.#free = permits;
  }
  /** True when no permit is held and nobody waits. */
  get idle(): boolean {
    return this.#free === this.#permits && this.#waiters.length === 0;
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
