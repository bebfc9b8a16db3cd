/**
 * A bounded pool of warm, reusable instances (plugin processes): spawned lazily up to `size`,
 * each handed to up to `callsPerItem` callers at once (1 for CPU-bound plugins; I/O-bound
 * plugins that wait on the network declare more), replaced when they break.
 * @module
 */

/** How the pool makes, checks and disposes of its instances. */
export interface PoolOptions<T> {
  /** Most instances alive at once (at least 1). */
  size: number;
  /** Callers one instance serves at once (default 1). */
  callsPerItem?: number;
  /** Starts a new instance; `signal` aborts the start. */
  create(signal?: AbortSignal): Promise<T>;
  /** Stops an instance; resolves once it is gone. */
  destroy(item: T): Promise<void>;
  /** False when an instance may not be reused (it died or was killed). */
  healthy(item: T): boolean;
}

interface Waiter<T> {
  resolve(item: T): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** A pool of up to `size` instances; callers wait for an idle one when all are busy. */
export class InstancePool<T> {
  #opts: PoolOptions<T>;
  #idle: T[] = [];
  /** Instances serving at least one caller, with how many. */
  #busy = new Map<T, number>();
  #cap: number;
  #creating = 0;
  #waiters: Waiter<T>[] = [];
  #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(opts: PoolOptions<T>) {
    this.#opts = { ...opts, size: Math.max(1, Math.floor(opts.size)) };
    this.#cap = Math.max(1, Math.floor(opts.callsPerItem ?? 1));
  }

  /** Every instance alive now, idle or busy. */
  items(): T[] {
    return [...this.#idle, ...this.#busy.keys()];
  }

  /** An idle instance, a new one if there is room, else the next one released. */
  acquire(signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("the pool is closed"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) {
            this.#waiters.splice(i, 1);
            reject(signal.reason);
          }
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#dispatch();
    });
  }

  /** Gives an instance back; a broken one is destroyed and replaced on demand. */
  release(item: T): void {
    const load = this.#busy.get(item);
    if (load === undefined) return;
    if (load > 1) {
      this.#busy.set(item, load - 1);
      if (!this.#opts.healthy(item)) this.#busy.delete(item) && this.#destroy(item);
    } else {
      this.#busy.delete(item);
      if (this.#closed || !this.#opts.healthy(item)) this.#destroy(item);
      else this.#idle.push(item);
    }
    this.#dispatch();
  }

  /** Runs `fn` with an instance and releases it afterwards. */
  async use<R>(fn: (item: T) => Promise<R>, signal?: AbortSignal): Promise<R> {
    const item = await this.acquire(signal);
    try {
      return await fn(item);
    } finally {
      this.release(item);
    }
  }

  /** Stops every instance (busy ones too) and fails callers still waiting. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) this.#settle(w, new Error("the pool was closed"));
    for (const item of [...this.#idle.splice(0), ...this.#busy.keys()]) this.#destroy(item);
    this.#busy.clear();
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #settle(w: Waiter<T>, err: unknown, item?: T): void {
    if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
    if (err === undefined) w.resolve(item as T);
    else w.reject(err);
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p)).catch(() => {});
  }

  #destroy(item: T): void {
    this.#track(this.#opts.destroy(item).catch(() => {}));
  }

  #dispatch(): void {
    while (this.#waiters.length > 0 && !this.#closed) {
      let item: T | undefined;
      while (this.#idle.length > 0 && item === undefined) {
        const candidate = this.#idle.shift()!;
        if (this.#opts.healthy(candidate)) item = candidate;
        else this.#destroy(candidate);
      }
      if (item !== undefined) {
        const w = this.#waiters.shift()!;
        this.#busy.set(item, 1);
        this.#settle(w, undefined, item);
        continue;
      }
      // Room for a new instance: spread work over processes before sharing one.
      if (this.#idle.length + this.#busy.size + this.#creating < this.#opts.size) {
        this.#spawnFor(this.#waiters.shift()!);
        continue;
      }
      // All instances busy: share the least loaded one that has room for another call.
      let best: T | undefined;
      let bestLoad = this.#cap;
      for (const [candidate, load] of this.#busy) {
        if (load < bestLoad && this.#opts.healthy(candidate)) {
          best = candidate;
          bestLoad = load;
        }
      }
      if (best === undefined) return;
      this.#busy.set(best, bestLoad + 1);
      this.#settle(this.#waiters.shift()!, undefined, best);
    }
  }

  #spawnFor(w: Waiter<T>): void {
    this.#creating++;
    const started = this.#opts.create(w.signal).then(
      (item) => {
        this.#creating--;
        if (this.#closed) {
          this.#destroy(item);
          this.#settle(w, new Error("the pool was closed"));
        } else {
          this.#busy.set(item, 1);
          this.#settle(w, undefined, item);
        }
        this.#dispatch();
      },
      (err) => {
        this.#creating--;
        this.#settle(w, err);
        this.#dispatch();
      },
    );
    this.#track(started);
  }
}
