/**
 * A pool of warm instances (plugin processes) shared by several users (the stages of several
 * runs of one plugin with the same permissions). Each user holds the instances it has used
 * (its run is open there) and may hold at most `limit` of them, so a run keeps the same number
 * of plugin instances (and `setup()` states) as it would with a pool of its own; a call goes to
 * an instance the user already holds when one is free. Instances no user holds and no call uses
 * are idle: the owner is told (`onIdle`) and may {@link SharedPool.evict} them.
 * @module
 */
import { whenAborted } from "../../sdk/io/when_aborted.ts";

/** One user of the pool (a run's stage). */
export interface PoolUser<T> {
  /** Most instances it may hold at once. */
  readonly limit: number;
  /** Instances it holds now (live ones). */
  readonly held: ReadonlySet<T>;
}

/** How the pool makes, checks and disposes of its instances. */
export interface SharedPoolOptions<T> {
  /** Most instances alive (and being started) at once; see {@link SharedPool.size}. */
  size: number;
  /** Calls one instance serves at once (default 1). */
  callsPerItem?: number;
  /** Starts a new instance; `signal` aborts the start. */
  create(signal?: AbortSignal): Promise<T>;
  /** Stops an instance; resolves once it is gone. */
  destroy(item: T): Promise<void>;
  /** False when an instance may not take calls (it died, or is retiring). */
  healthy(item: T): boolean;
  /** Told when an instance becomes idle (no call, no holder) or stops being idle. */
  onIdle?(item: T, idle: boolean): void;
}

interface Waiter<T> {
  user: PoolUser<T> & { take(item: T): void };
  resolve(item: T): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  /** Takes back the waiter's abort callback. */
  offAbort?: () => void;
}

interface Slot {
  /** Calls in flight. */
  load: number;
  /** Users holding it. */
  holders: number;
  idle: boolean;
}

/** Instances shared by users; see the module doc. */
export class SharedPool<T> {
  #o: SharedPoolOptions<T>;
  #cap: number;
  #size: number;
  #slots = new Map<T, Slot>();
  #creating = 0;
  /** Instances being started, per user (they count toward its limit). */
  #starting = new Map<PoolUser<T>, number>();
  #waiters: Waiter<T>[] = [];
  #pending = new Set<Promise<unknown>>();
  #closed = false;

  constructor(o: SharedPoolOptions<T>) {
    this.#o = o;
    this.#size = Math.max(1, Math.floor(o.size));
    this.#cap = Math.max(1, Math.floor(o.callsPerItem ?? 1));
  }

  /** Most instances alive at once (raising it lets waiting callers start new ones). */
  get size(): number {
    return this.#size;
  }

  set size(n: number) {
    this.#size = Math.max(1, Math.floor(n));
    this.#dispatch();
  }

  /** Every instance alive now. */
  items(): T[] {
    return [...this.#slots.keys()];
  }

  /** True while no instance is alive or starting and nobody waits. */
  get empty(): boolean {
    return this.#slots.size === 0 && this.#creating === 0 && this.#waiters.length === 0;
  }

  /**
   * An instance for one call of `user`: one it holds when free, else (below its limit) a free
   * one it does not hold yet or a new one; `user.take(item)` is called for an instance it did
   * not hold, before the promise resolves.
   */
  acquire(user: PoolUser<T> & { take(item: T): void }, signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("the pool is closed"));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = { user, resolve, reject, signal };
      if (signal) {
        w.offAbort = whenAborted(signal, () => {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) {
            this.#waiters.splice(i, 1);
            reject(signal.reason);
          }
        });
      }
      this.#waiters.push(w);
      this.#dispatch();
    });
  }

  /** Ends one call on `item`; a broken instance is destroyed. */
  release(item: T): void {
    const s = this.#slots.get(item);
    if (!s) return;
    s.load = Math.max(0, s.load - 1);
    if (!this.#o.healthy(item)) this.#drop(item);
    else this.#checkIdle(item, s);
    this.#dispatch();
  }

  /** A user no longer holds `item` (its run was closed there). */
  unhold(item: T): void {
    const s = this.#slots.get(item);
    if (!s) return;
    s.holders = Math.max(0, s.holders - 1);
    this.#checkIdle(item, s);
    this.#dispatch();
  }

  /** Destroys `item` if it is idle; true when it was. */
  evict(item: T): boolean {
    const s = this.#slots.get(item);
    if (!s || !s.idle) return false;
    this.#drop(item);
    return true;
  }

  /** Stops every instance (busy ones too) and fails callers still waiting. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) this.#settle(w, new Error("the pool was closed"));
    for (const item of [...this.#slots.keys()]) this.#drop(item);
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #checkIdle(item: T, s: Slot): void {
    const idle = s.load === 0 && s.holders === 0;
    if (idle !== s.idle) {
      s.idle = idle;
      this.#o.onIdle?.(item, idle);
    }
  }

  #drop(item: T): void {
    const s = this.#slots.get(item);
    if (!s) return;
    this.#slots.delete(item);
    if (s.idle) this.#o.onIdle?.(item, false);
    this.#track(this.#o.destroy(item).catch(() => {}));
  }

  #settle(w: Waiter<T>, err: unknown, item?: T): void {
    w.offAbort?.();
    if (err === undefined) w.resolve(item as T);
    else w.reject(err);
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p)).catch(() => {});
  }

  #give(w: Waiter<T>, item: T): void {
    const s = this.#slots.get(item)!;
    s.load++;
    if (!w.user.held.has(item)) {
      s.holders++;
      w.user.take(item);
    }
    this.#checkIdle(item, s);
    this.#settle(w, undefined, item);
  }

  /**
   * The best instance for `w` with a load below `maxLoad` (its own first, then the least
   * loaded, then the one fewest users hold), or undefined.
   */
  #pick(w: Waiter<T>, maxLoad: number): T | undefined {
    const { user } = w;
    const full = this.#owned(user) >= user.limit;
    let best: T | undefined;
    let bestScore = Infinity;
    for (const [item, s] of this.#slots) {
      if (s.load >= maxLoad || !this.#o.healthy(item)) continue;
      const mine = user.held.has(item);
      if (full && !mine) continue;
      const score = (mine ? 0 : 1_000_000) + s.load * 1_000 + s.holders;
      if (score < bestScore) {
        best = item;
        bestScore = score;
      }
    }
    return best;
  }

  /** Live instances `user` holds, and those being started for it. */
  #owned(user: PoolUser<T>): number {
    let n = this.#starting.get(user) ?? 0;
    for (const item of user.held) if (this.#slots.has(item) && this.#o.healthy(item)) n++;
    return n;
  }

  #dispatch(): void {
    if (this.#waiters.length === 0) return;
    // Instances that died while no call used them leave now (they count toward `size`).
    for (const [item, s] of this.#slots) {
      if (s.load === 0 && !this.#o.healthy(item)) this.#drop(item);
    }
    for (let i = 0; i < this.#waiters.length && !this.#closed;) {
      const w = this.#waiters[i];
      // A free instance; else a new one (spread calls over processes before sharing one);
      // else a share of a busy one that serves several calls at once.
      let item = this.#pick(w, 1);
      if (item === undefined) {
        if (this.#owned(w.user) < w.user.limit && this.#slots.size + this.#creating < this.#size) {
          this.#waiters.splice(i, 1);
          this.#spawnFor(w);
          continue;
        }
        if (this.#cap > 1) item = this.#pick(w, this.#cap);
      }
      if (item === undefined) {
        i++;
        continue;
      }
      this.#waiters.splice(i, 1);
      this.#give(w, item);
    }
  }

  #spawnFor(w: Waiter<T>): void {
    this.#creating++;
    this.#starting.set(w.user, (this.#starting.get(w.user) ?? 0) + 1);
    const done = () => {
      this.#creating--;
      const n = (this.#starting.get(w.user) ?? 1) - 1;
      if (n > 0) this.#starting.set(w.user, n);
      else this.#starting.delete(w.user);
    };
    const started = this.#o.create(w.signal).then(
      (item) => {
        done();
        if (this.#closed) {
          this.#track(this.#o.destroy(item).catch(() => {}));
          this.#settle(w, new Error("the pool was closed"));
        } else {
          this.#slots.set(item, { load: 0, holders: 0, idle: false });
          this.#give(w, item);
        }
        this.#dispatch();
      },
      (err) => {
        done();
        this.#settle(w, err);
        this.#dispatch();
      },
    );
    this.#track(started);
  }
}
