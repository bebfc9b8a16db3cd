/**
 * A set of strings for the keys of a whole run (the "one row per key" of `--out` and the file
 * exports): each string is held once as its UTF-8 bytes in one growing buffer, found through an
 * open-addressing table of offsets and hashes. Less memory than a `Set<string>` and nothing for the
 * garbage collector to trace (1,000,000 domain keys: 42 MB outside the heap and +68 MB resident,
 * against 53 MB of heap and +94 MB resident; bench/RESULTS.md, 2026-12-01). Exact: strings with
 * the same hash are told apart by their bytes, and a string that is no well-formed UTF-16 (a lone
 * surrogate, which UTF-8 cannot hold) sits in a plain `Set` beside. Add and look up only (no
 * deletion, no iteration).
 * @module
 */

const enc = new TextEncoder();

/** Most bytes the strings of one set may take together (offsets are 31-bit): 2 GiB. */
export const STRING_SET_MAX_BYTES = 0x7fff_ffff;

/** FNV-1a over `len` bytes of `b`, as a signed 32-bit integer. */
function hashBytes(b: Uint8Array, len: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h;
}

/** An exact set of strings stored as UTF-8 bytes (see the module doc). */
export class CompactStringSet {
  /** Each string as a LEB128 length and its bytes, one after the other. */
  #bytes: Uint8Array;
  #used = 0;
  /** Offset + 1 of a string's record in `#bytes`; 0 is an empty slot. */
  #slots: Int32Array;
  /** The hash of the string in the same slot. */
  #hashes: Int32Array;
  #size = 0;
  /** Strings with a lone surrogate (UTF-8 would turn it into U+FFFD and merge them). */
  #illFormed = new Set<string>();
  /** The string being added or looked up, encoded. */
  #scratch = new Uint8Array(256);

  /** @param expected strings the set is sized for at first (it grows as needed) */
  constructor(expected = 1024) {
    let slots = 16;
    while (slots < expected * 2) slots *= 2;
    this.#slots = new Int32Array(slots);
    this.#hashes = new Int32Array(slots);
    this.#bytes = new Uint8Array(Math.max(256, expected * 16));
  }

  /** Strings in the set. */
  get size(): number {
    return this.#size + this.#illFormed.size;
  }

  /** True when `s` is in the set. */
  has(s: string): boolean {
    if (!s.isWellFormed()) return this.#illFormed.has(s);
    const len = this.#encode(s);
    return this.#find(len, hashBytes(this.#scratch, len)) >= 0;
  }

  /** Adds `s`; true when it was not in the set yet. */
  add(s: string): boolean {
    if (!s.isWellFormed()) {
      const had = this.#illFormed.has(s);
      this.#illFormed.add(s);
      return !had;
    }
    const len = this.#encode(s);
    const h = hashBytes(this.#scratch, len);
    let at = this.#find(len, h);
    if (at >= 0) return false;
    if ((this.#size + 1) * 2 > this.#slots.length) {
      this.#grow();
      at = this.#find(len, h);
    }
    const slot = -at - 1;
    this.#slots[slot] = this.#append(len) + 1;
    this.#hashes[slot] = h;
    this.#size++;
    return true;
  }

  /** Encodes `s` into the scratch buffer; returns its byte length. */
  #encode(s: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (s.length * 3 > this.#scratch.length) this.#scratch = new Uint8Array(s.length * 3);
    return enc.encodeInto(s, this.#scratch).written;
  }

  /** The slot of the scratch string (`len` bytes, hash `h`), or -(free slot + 1). */
  #find(len: number, h: number): number {
    const mask = this.#slots.length - 1;
    for (let i = h & mask;; i = (i + 1) & mask) {
      const at = this.#slots[i];
      if (at === 0) return -i - 1;
      if (this.#hashes[i] === h && this.#equals(at - 1, len)) return i;
    }
  }

  /** True when the record at `off` holds the scratch string's `len` bytes. */
  #equals(off: number, len: number): boolean {
    const b = this.#bytes;
    let n = 0;
    let shift = 0;
    for (;;) {
      const x = b[off++];
      n |= (x & 0x7f) << shift;
      if (x < 0x80) break;
      shift += 7;
    }
    if (n !== len) return false;
    const s = this.#scratch;
    for (let i = 0; i < len; i++) if (b[off + i] !== s[i]) return false;
    return true;
  }

  /** Appends the scratch string's record; returns its offset. */
  #append(len: number): number {
    const need = this.#used + len + 5;
    if (need > STRING_SET_MAX_BYTES) {
      throw new RangeError(
        `CompactStringSet: more than ${STRING_SET_MAX_BYTES} bytes of strings in one set`,
      );
    }
    if (need > this.#bytes.length) {
      const grown = new Uint8Array(
        Math.min(STRING_SET_MAX_BYTES, Math.max(need, this.#bytes.length * 2)),
      );
      grown.set(this.#bytes.subarray(0, this.#used));
      this.#bytes = grown;
    }
    const off = this.#used;
    let p = off;
    for (let n = len;; n >>>= 7) {
      if (n < 0x80) {
        this.#bytes[p++] = n;
        break;
      }
      this.#bytes[p++] = (n & 0x7f) | 0x80;
    }
    this.#bytes.set(this.#scratch.subarray(0, len), p);
    this.#used = p + len;
    return off;
  }

  /** Doubles the table, placing every string again by its kept hash. */
  #grow(): void {
    const slots = new Int32Array(this.#slots.length * 2);
    const hashes = new Int32Array(slots.length);
    const mask = slots.length - 1;
    for (let i = 0; i < this.#slots.length; i++) {
      const at = this.#slots[i];
      if (at === 0) continue;
      const h = this.#hashes[i];
      let j = h & mask;
      while (slots[j] !== 0) j = (j + 1) & mask;
      slots[j] = at;
      hashes[j] = h;
    }
    this.#slots = slots;
    this.#hashes = hashes;
  }
}
