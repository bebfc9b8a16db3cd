/**
 * Checks what a plugin's `read()` and `process()` return, inside the plugin's process, before it
 * is sent to the host: a malformed result fails the call with a message that says what was wrong
 * and what to return instead, instead of turning into garbage rows (a `rejected` string spread
 * into its characters, a rejected item without a reason) or a source that never ends (no `done`).
 * Items themselves are checked by the engine (an item without a string `key` becomes a rejected
 * row naming the stage), so one bad item does not fail its chunk.
 * @module
 */
import type { ProcessResult, ReadResult } from "../types.ts";

/** A short description of a returned value for messages: its type and the start of its JSON. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value !== "object") {
    return `a ${typeof value} (${String(value).slice(0, 60)})`;
  }
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return `an object ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`;
}

function checkRejected(op: string, rejected: unknown, shape: string): void {
  if (rejected === undefined) return;
  if (!Array.isArray(rejected)) {
    throw new TypeError(
      `${op} returned \`rejected\` as ${describeValue(rejected)}; it must be an array of ` +
        `{ key, reason } (or left out). Return ${shape}`,
    );
  }
  rejected.forEach((r, i) => {
    const entry = r as { key?: unknown; reason?: unknown } | null;
    if (!entry || typeof entry !== "object" || Array.isArray(entry)) {
      throw new TypeError(
        `${op} returned rejected[${i}] as ${describeValue(r)}; each rejected entry is ` +
          `{ key: "<item key or row reference>", reason: "<why it was refused>", raw? }`,
      );
    }
    for (const field of ["key", "reason"] as const) {
      if (typeof entry[field] !== "string" || (field === "reason" && entry.reason === "")) {
        throw new TypeError(
          `${op} returned rejected[${i}] (${describeValue(r)}) without a ${field} string; ` +
            `each rejected entry needs a key (the item key, or a row reference such as ` +
            `"row 17") and a reason a person can act on, so that nothing is dropped silently`,
        );
      }
    }
  });
}

const PROCESS_SHAPE = "an array of items, or { items: [...], rejected?: [{ key, reason }] }";
const READ_SHAPE = "{ items: [...], rejected?: [{ key, reason }], cursor, done: true | false }";

/**
 * The result of `process()` as a {@linkcode ProcessResult}: an array is `{ items }`; anything
 * else that is not `{ items: [...], rejected?: [...] }` throws a `TypeError` saying why.
 */
export function checkProcessResult(out: unknown): ProcessResult {
  const res: ProcessResult = Array.isArray(out) ? { items: out } : out as ProcessResult;
  if (!res || typeof res !== "object" || !Array.isArray(res.items)) {
    throw new TypeError(`process() returned ${describeValue(out)}; return ${PROCESS_SHAPE}`);
  }
  checkRejected("process()", res.rejected, PROCESS_SHAPE);
  return res;
}

/** Compares two cursors as the engine stores them (JSON). */
function sameCursor(a: unknown, b: unknown): boolean {
  try {
    return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  } catch {
    return false;
  }
}

/**
 * Checks the result of `read(cursor, …)`: `{ items: [...], cursor, done }` with `done` a
 * boolean. A result that is not done must give a cursor that moved on from the one the call got:
 * the engine reads the next chunk from it, so the same cursor again would read the same place
 * for ever. Throws a `TypeError` saying what was wrong.
 */
export function checkReadResult(out: unknown, cursor: unknown): ReadResult {
  const res = out as ReadResult;
  if (!res || typeof res !== "object" || Array.isArray(res) || !Array.isArray(res.items)) {
    throw new TypeError(`read() returned ${describeValue(out)}; return ${READ_SHAPE}`);
  }
  if (typeof res.done !== "boolean") {
    throw new TypeError(
      `read() returned done: ${describeValue(res.done)}; it must be true (nothing more to read) ` +
        `or false (call again with the returned cursor). Return ${READ_SHAPE}`,
    );
  }
  checkRejected("read()", res.rejected, READ_SHAPE);
  if (!res.done && (res.cursor === undefined || sameCursor(res.cursor, cursor))) {
    throw new TypeError(
      `read() returned done: false with ${
        res.cursor === undefined
          ? "no cursor"
          : `the cursor it was given (${describeValue(cursor)})`
      }: the next read would start at the same place again, for ever. Return the cursor ` +
        "after this chunk (e.g. the number of rows read), or done: true at the end",
    );
  }
  return res;
}

/** The path of the first BigInt or circular reference in `value` (`items[3].size`), if any. */
export function findNotJson(
  value: unknown,
  path = "",
  seen = new Set<object>(),
): string | undefined {
  if (typeof value === "bigint") return path || "(the result)";
  if (!value || typeof value !== "object") return undefined;
  if (seen.has(value)) return `${path || "(the result)"} (a circular reference)`;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return undefined;
  seen.add(value);
  const entries = Array.isArray(value)
    ? value.map((v, i) => [`${path}[${i}]`, v] as const)
    : Object.entries(value).map(([k, v]) =>
      [
        /^[A-Za-z_$][\w$]*$/.test(k)
          ? `${path}${path ? "." : ""}${k}`
          : `${path}[${JSON.stringify(k)}]`,
        v,
      ] as const
    );
  for (const [p, v] of entries) {
    const found = findNotJson(v, p, seen);
    if (found) return found;
  }
  seen.delete(value);
  return undefined;
}
