/**
 * A first-in, first-out queue whose `shift` does not move the items behind the first.
 * `Array.prototype.shift` copies the rest of the array whenever V8 cannot move the array's start
 * in place (large arrays, and any array while the garbage collector is marking): the dns plugin's
 * queue of queries waiting for a network slot (hundreds long) spent ~2.5 % of its process's CPU
 * in that copy. {@linkcode Fifo} reads from a head index and drops the consumed part only when it
 * is at least half of the array.
 * @module
 */

/** Consumed slots at least this many before the array is cut (and at least half of it). */
const COMPACT_AT = 1024;

/** A FIFO queue: `push` at the back, `shift` from the front in O(1), `remove` in O(n). */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Number of items queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds `item` at the back. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The front item, left in place (`undefined` when empty). */
  peek(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Takes the front item (`undefined` when empty). */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined; // let it be collected
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes the first queued `item` (by identity); false when it is not queued. */
  remove(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head);
    if (i < 0) return false;
    this.#items.splice(i, 1);
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return true;
  }
}
