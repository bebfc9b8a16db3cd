/**
 * The JSON text a call result's `items` came as from a plugin process: the host keeps the line
 * it parsed them from on the result (under a symbol, so it never reaches JSON), and the engine
 * hands it to the store, which writes those characters instead of serializing the parsed items
 * once more (see `resultLines` in `sdk/runtime/protocol.ts`).
 * @module
 */
import { joinBytes } from "./io/join_bytes.ts";

/**
 * The JSON text of a call result's `items` as the plugin process wrote it, kept by the host on
 * the parsed result (a symbol: it never reaches JSON): a store can write those characters instead
 * of serializing the parsed items once more (see {@linkcode rawItemsOf}).
 */
export const RAW_ITEMS: unique symbol = Symbol.for("sluice.rawItems");

/** The items' JSON text a result came with from a plugin process, if the host kept it. */
export function rawItemsOf(result: unknown): string | undefined {
  const raw = result !== null && typeof result === "object"
    ? (result as { [RAW_ITEMS]?: unknown })[RAW_ITEMS]
    : undefined;
  return typeof raw === "string" ? raw : undefined;
}

/**
 * The bytes the items' JSON text came as from a plugin process, in the pieces they were read in
 * (joined, they decode to {@linkcode rawItemsOf}'s text), under a symbol as that text is: a store
 * that writes bytes keeps them instead of encoding the text again.
 */
export const RAW_ITEM_BYTES: unique symbol = Symbol.for("sluice.rawItemBytes");

/** The bytes (pieces) of the items' JSON text a result came with from a plugin process, if kept. */
export function rawItemBytesOf(result: unknown): Uint8Array[] | undefined {
  const raw = result !== null && typeof result === "object"
    ? (result as { [RAW_ITEM_BYTES]?: unknown })[RAW_ITEM_BYTES]
    : undefined;
  return Array.isArray(raw) ? raw : undefined;
}

/**
 * Gives `result` its items, parsed from `text` (an items line), and keeps the text with them, and
 * the bytes it was decoded from when given.
 */
export function withRawItems(
  result: Record<string, unknown>,
  items: unknown[],
  text: string,
  bytes?: Uint8Array[],
): void {
  result.items = items;
  Object.defineProperty(result, RAW_ITEMS, { value: text, enumerable: false });
  if (bytes) Object.defineProperty(result, RAW_ITEM_BYTES, { value: bytes, enumerable: false });
}

/**
 * Marks the result of a sink's call whose plugin returned the items it was given (see `passOn`
 * in `sdk/runtime/protocol.ts`): they did not come back, so the result's `items` is empty and the
 * call's input is its output, as the caller sent it (the engine keeps the stored bytes).
 */
export const PASSED_INPUT: unique symbol = Symbol.for("sluice.passedInput");

/** A result saying the call's input passed on as it was sent, with the plugin's `rejected`. */
export function passedInputResult(rejected?: unknown): { items: never[]; rejected?: never[] } {
  const result: { items: never[]; rejected?: never[] } = { items: [] };
  if (rejected !== undefined) result.rejected = rejected as never[];
  Object.defineProperty(result, PASSED_INPUT, { value: true, enumerable: false });
  return result;
}

/** True when `result` says the call's input passed on as it was sent ({@linkcode PASSED_INPUT}). */
export function isPassedInput(result: unknown): boolean {
  return result !== null && typeof result === "object" &&
    (result as { [PASSED_INPUT]?: unknown })[PASSED_INPUT] === true;
}

/**
 * The JSON text of one array holding the elements of the arrays `a` and then `b`, each the text
 * of one JSON array (whitespace around and inside allowed, as `JSON.parse` takes it), without
 * parsing either: the engine joins a plugin's output, as the process wrote it, with the items
 * the stage's `when` condition passed over.
 */
export function concatJsonArrays(a: string, b: string): string {
  const inner = (text: string) => {
    const t = text.trim();
    if (t[0] !== "[" || t[t.length - 1] !== "]") {
      throw new TypeError(`not the text of a JSON array: ${t.slice(0, 40)}`);
    }
    return t.slice(1, -1).trim();
  };
  const x = inner(a), y = inner(b);
  return x === "" ? `[${y}]` : y === "" ? `[${x}]` : `[${x},${y}]`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Where the elements of the JSON array in `bytes` are: after its `[`, before its `]`, trimmed. */
function arrayInner(bytes: Uint8Array): [number, number] {
  let start = 0, end = bytes.length;
  while (start < end && isJsonSpace(bytes[start])) start++;
  while (end > start && isJsonSpace(bytes[end - 1])) end--;
  if (end - start < 2 || bytes[start] !== 0x5b || bytes[end - 1] !== 0x5d) {
    const head = decoder.decode(bytes.subarray(start, Math.min(end, start + 40)));
    throw new TypeError(`not the JSON of an array: ${head}`);
  }
  start++;
  end--;
  while (start < end && isJsonSpace(bytes[start])) start++;
  while (end > start && isJsonSpace(bytes[end - 1])) end--;
  return [start, end];
}

/**
 * {@linkcode concatJsonArrays} on bytes: the UTF-8 JSON of one array holding the elements of the
 * array whose UTF-8 JSON `a` holds (in pieces, as read from a plugin process) and then those of
 * the array `b` is the JSON text of. Only `b` is encoded: the engine joins a plugin's output, as
 * the process wrote it, with the items a stage's `when` passed over, and the store writes the
 * bytes (measured: encoding the joined text cost the host more than the plugin's own call).
 */
export function concatJsonArrayBytes(a: readonly Uint8Array[], b: string): Uint8Array {
  const x = joinBytes(a);
  const y = encoder.encode(b);
  const [xs, xe] = arrayInner(x);
  const [ys, ye] = arrayInner(y);
  const comma = xe > xs && ye > ys ? 1 : 0;
  const out = new Uint8Array(2 + (xe - xs) + comma + (ye - ys));
  out[0] = 0x5b;
  out.set(x.subarray(xs, xe), 1);
  let at = 1 + xe - xs;
  if (comma) out[at++] = 0x2c;
  out.set(y.subarray(ys, ye), at);
  out[at + ye - ys] = 0x5d;
  return out;
}
