/**
 * Row order for export sinks: `sort: ["-score", "domain"]` (a leading `-` sorts descending) or
 * `{ path, order: asc | desc }` entries. Numbers compare as numbers, text in a case-insensitive
 * natural order ("Shop 9" before "Shop 10"); empty values come last in either order, and rows that
 * compare equal keep their chunk order, so a retried or resumed run gives the same file.
 * @module
 */
import { getPath } from "./columns.ts";

/** One sort entry of a stage's `with.sort`. */
export type SortSpec = string | { path: string; order?: "asc" | "desc" };

/** A parsed sort entry. */
export interface SortKey {
  path: string[];
  desc: boolean;
}

/** What a row is sorted by: one value per sort key (null for an empty one). */
export type SortValue = number | string | null;

/** Parses `with.sort`; throws a TypeError naming the bad entry and the accepted forms. */
export function parseSort(specs: unknown): SortKey[] {
  if (specs === undefined) return [];
  if (!Array.isArray(specs)) {
    throw new TypeError(
      `sort: ${JSON.stringify(specs)} is not a list; write e.g. sort: ["-score", "domain"]`,
    );
  }
  return specs.map((s, i) => {
    let path: unknown;
    let desc = false;
    if (typeof s === "string") {
      desc = s.startsWith("-");
      path = desc ? s.slice(1) : s;
    } else if (s !== null && typeof s === "object") {
      const o = s as { path?: unknown; order?: unknown };
      if (o.order !== undefined && o.order !== "asc" && o.order !== "desc") {
        throw new TypeError(
          `sort[${i}]: order ${JSON.stringify(o.order)} is unknown; use "asc" or "desc"`,
        );
      }
      path = o.path;
      desc = o.order === "desc";
    }
    if (typeof path !== "string" || path.trim() === "" || path.split(".").some((p) => p === "")) {
      throw new TypeError(
        `sort[${i}]: ${JSON.stringify(s)} is not a dotted field path such as "score" ` +
          `(a leading - sorts descending: "-score"), or { path, order: asc | desc }`,
      );
    }
    return { path: path.split("."), desc };
  });
}

/** The values `item` is sorted by, in the order of `keys`. */
export function sortValues(item: unknown, keys: SortKey[]): SortValue[] {
  return keys.map((k) => {
    const v = getPath(item, k.path);
    if (typeof v === "number") return Number.isFinite(v) ? v : null;
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "string") return v === "" ? null : v;
    if (v === null || v === undefined) return null;
    return JSON.stringify(v);
  });
}

const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

function compareOne(a: SortValue, b: SortValue, desc: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1; // empty last
  let c: number;
  if (typeof a === "number" && typeof b === "number") c = a - b;
  else if (typeof a === "string" && typeof b === "string") c = collator.compare(a, b);
  else c = typeof a === "number" ? -1 : 1; // numbers before text
  return desc ? -c : c;
}

/** Compares two rows' sort values by `keys` (0 when equal: keep the rows' order). */
export function compareSortValues(a: SortValue[], b: SortValue[], keys: SortKey[]): number {
  for (let i = 0; i < keys.length; i++) {
    const c = compareOne(a[i] ?? null, b[i] ?? null, keys[i].desc);
    if (c !== 0) return c;
  }
  return 0;
}
