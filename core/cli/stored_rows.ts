/**
 * The items of a stored chunk (the UTF-8 JSON of an item array, as the store keeps it) cut into
 * each item's own JSON text with its top-level `key`, without parsing the items: `--out`'s JSON
 * lines are then the stored bytes, not items parsed and serialized again (measured on 20,000
 * flagship items of ~3.4 KB: reading, parsing and serializing took ~0.7 s at the end of every
 * `sluice run --out`; see bench/RESULTS.md, 2026-12-03).
 * @module
 */

/** One item of a stored array: where its JSON is, and its key. */
export interface StoredRow {
  /** Byte offset of the item's JSON in the array's bytes. */
  start: number;
  /** Byte offset just past it. */
  end: number;
  /**
   * The item's top-level `key` when it is a string (the last one, when the object names it
   * twice, as `JSON.parse` takes it); undefined for an item without one or not an object.
   */
  key?: string;
  /**
   * False when the item's JSON holds whitespace outside its strings (a line break among it
   * would break a JSON line): write it serialized again instead of as stored.
   */
  compact: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

const utf8 = new TextDecoder();

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Offset just past the string whose opening quote is at `at`; -1 when it never closes. */
function stringEnd(bytes: Uint8Array, at: number): number {
  // A byte at a time: `indexOf` for the quote was slower (item strings are short).
  for (let i = at + 1; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === QUOTE) return i + 1;
    if (b === BACKSLASH) i++;
  }
  return -1;
}

/** The text of the JSON string token `[start, end)` (quotes included). */
function stringText(bytes: Uint8Array, start: number, end: number): string {
  const body = bytes.subarray(start + 1, end - 1);
  // Escapes need JSON's reading of them; most keys have none.
  return body.includes(BACKSLASH)
    ? JSON.parse(utf8.decode(bytes.subarray(start, end)))
    : utf8.decode(body);
}

/** True when the string token `[start, end)` is exactly `"key"` (no escapes). */
function isKeyName(bytes: Uint8Array, start: number, end: number): boolean {
  return end - start === 5 && bytes[start + 1] === 0x6b && bytes[start + 2] === 0x65 &&
    bytes[start + 3] === 0x79;
}

/**
 * Cuts the JSON array in `bytes` into its elements (see {@linkcode StoredRow}). The bytes must be
 * JSON the store accepted (it was parsed when committed); anything else that does not read as an
 * array of values gives undefined, and the caller parses the chunk instead.
 */
export function storedRows(bytes: Uint8Array): StoredRow[] | undefined {
  const rows: StoredRow[] = [];
  let i = 0;
  const n = bytes.length;
  while (i < n && isSpace(bytes[i])) i++;
  if (bytes[i] !== OPEN_ARRAY) return undefined;
  i++;
  for (;;) {
    while (i < n && isSpace(bytes[i])) i++;
    if (i >= n) return undefined;
    if (bytes[i] === CLOSE_ARRAY) {
      if (rows.length > 0) return undefined; // `[1,]`: not JSON
      break;
    }
    const row = element(bytes, i);
    if (!row) return undefined;
    rows.push(row);
    i = row.end;
    while (i < n && isSpace(bytes[i])) i++;
    if (bytes[i] === COMMA) {
      i++;
      continue;
    }
    if (bytes[i] === CLOSE_ARRAY) break;
    return undefined;
  }
  for (i++; i < n; i++) if (!isSpace(bytes[i])) return undefined;
  return rows;
}

/** The array element starting at `start`: its end, its key, whether it is compact. */
function element(bytes: Uint8Array, start: number): StoredRow | undefined {
  const n = bytes.length;
  const first = bytes[start];
  if (first === QUOTE) {
    const end = stringEnd(bytes, start);
    return end < 0 ? undefined : { start, end, compact: true };
  }
  if (first !== OPEN_OBJECT && first !== OPEN_ARRAY) {
    // A number, true, false or null: up to the next delimiter.
    let end = start;
    while (
      end < n && bytes[end] !== COMMA && bytes[end] !== CLOSE_ARRAY && !isSpace(bytes[end])
    ) end++;
    return end > start ? { start, end, compact: true } : undefined;
  }
  let depth = 0;
  let compact = true;
  let key: string | undefined;
  /** At depth 1 of an object: the next string is a member's name. */
  let expectName = false;
  /** At depth 1: the member whose value comes next is `key`. */
  let keyValueNext = false;
  const object = first === OPEN_OBJECT;
  for (let i = start; i < n; i++) {
    const b = bytes[i];
    if (b === QUOTE) {
      const end = stringEnd(bytes, i);
      if (end < 0) return undefined;
      if (object && depth === 1) {
        if (expectName) {
          keyValueNext = isKeyName(bytes, i, end) ||
            (bytes.subarray(i, end).includes(BACKSLASH) && stringText(bytes, i, end) === "key");
          expectName = false;
        } else if (keyValueNext) {
          key = stringText(bytes, i, end);
          keyValueNext = false;
        }
      }
      i = end - 1;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      if (depth === 1 && keyValueNext) {
        key = undefined; // `"key": {...}`: not a string key (the last one counts)
        keyValueNext = false;
      }
      depth++;
      if (depth === 1) expectName = object;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) return { start, end: i + 1, ...(key !== undefined ? { key } : {}), compact };
    } else if (depth === 1 && object) {
      if (b === COMMA) expectName = true;
      else if (b !== COLON && !isSpace(b) && keyValueNext) {
        key = undefined; // a number, true, false or null as `key`
        keyValueNext = false;
      }
    }
    if (isSpace(b)) compact = false;
  }
  return undefined;
}
