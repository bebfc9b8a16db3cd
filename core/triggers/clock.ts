/**
 * Time as the triggers see it: the current instant and one-shot timers. The scheduler and the
 * webhook intake take a {@link Clock} so tests can drive time by hand ({@link ManualClock})
 * instead of waiting.
 * @module
 */

/** A timer callback; a returned promise is awaited by {@link ManualClock.advance}. */
export type TimerCallback = () => void | Promise<void>;

/** An opaque timer handle. */
export type TimerHandle = number;

/** Current time and one-shot timers. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(fn: TimerCallback, ms: number): TimerHandle;
  /** Cancels a timer (no-op when it already fired). */
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: `Date.now` and `setTimeout`. Errors of a callback are reported, not thrown. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const id = setTimeout(() => {
      Promise.resolve().then(fn).catch((e) => console.error("timer callback failed:", e));
    }, Math.max(0, ms));
    return id as unknown as number;
  },
  clearTimer: (handle) => clearTimeout(handle),
};

interface ManualTimer {
  id: number;
  at: number;
  fn: TimerCallback;
}

/**
 * A clock that only moves when told to. {@link advance} fires due timers in time order, each at
 * its own instant, and awaits what they return, so work a timer starts is finished when
 * `advance` resolves. Meant for tests.
 */
export class ManualClock implements Clock {
  #now: number;
  #timers: ManualTimer[] = [];
  #seq = 0;

  /** Starts at `start` (epoch ms or a date). */
  constructor(start: number | Date | string = 0) {
    this.#now = typeof start === "number" ? start : new Date(start).getTime();
  }

  /** Epoch milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now() + ms`. */
  setTimer(fn: TimerCallback, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.push({ id, at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  /** Cancels a timer. */
  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `target` (epoch ms or date), firing due timers in order. */
  async advanceTo(target: number | Date | string): Promise<void> {
    const end = typeof target === "number" ? target : new Date(target).getTime();
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.#timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) {
          next = t;
        }
      }
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      await next.fn();
    }
    this.#now = Math.max(this.#now, end);
  }

  /** Jumps to `target` without firing timers (a process that was not running meanwhile). */
  jumpTo(target: number | Date | string): void {
    this.#now = typeof target === "number" ? target : new Date(target).getTime();
  }
}
