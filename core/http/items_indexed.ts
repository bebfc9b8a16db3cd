/**
 * Pages of a run's items through the store's item index (`Store.queryItemIndex`), so a page of a
 * run with 1,000,000 items reads one page of index rows and only the chunks holding that page's
 * items, instead of every chunk. Filters on indexed fields become index conditions only where
 * the index can answer them exactly or with a superset (decided from the index's value-type
 * counts); the full filter is checked again on every loaded item, so results are the same as
 * the scanning path's, in the same order.
 * @module
 */
import type { Item } from "../../sdk/types.ts";
import {
  type IndexCondition,
  type IndexValue,
  ITEM_INDEX_FIELDS,
  type ItemIndexPosition,
  type ItemIndexStats,
  type ItemRef,
  refPosition,
} from "../store/item_index.ts";
import type { RunRecord, Store } from "../store/store.ts";
import { HttpProblem } from "./problem.ts";

/** A parsed filter (same shape as `items.ts`'s `FieldFilter`). */
interface Filter {
  field: string;
  op: string;
  value: string;
}

type IndexedField = (typeof ITEM_INDEX_FIELDS)[number];
const isIndexed = (f: string): f is IndexedField => ITEM_INDEX_FIELDS.includes(f as IndexedField);

/** How items sort (`sort=`): numbers by value, else by text; missing values last. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

/** A plan: the index conditions (a superset of the filters' matches) and the sort. */
export interface IndexPlan {
  where: IndexCondition[];
  sort?: { field: IndexedField; desc: boolean; order?: IndexValue[] };
}

/**
 * The index conditions implied by `filters`, and whether the sort can come from the index;
 * undefined when the index cannot narrow or order this query.
 */
export function planIndexQuery(
  stats: ItemIndexStats,
  filters: readonly Filter[],
  sort?: string,
): IndexPlan | undefined {
  const where: IndexCondition[] = [];
  const only = (field: string, allowed: string[]) =>
    Object.entries(stats.types[field] ?? {}).every(([t, n]) => !n || allowed.includes(t));
  for (const f of filters) {
    if (!isIndexed(f.field)) continue;
    const num = Number(f.value);
    const numeric = f.value.trim() !== "" && Number.isFinite(num);
    if (f.op === "=") {
      if (f.value === "true" || f.value === "false") {
        where.push({ field: f.field, op: "=", value: f.value === "true" });
      } else if (f.value === "null") {
        continue; // null values are not indexed
      } else if (numeric) {
        // A number matches numerically, a string by its text: index only number-only fields.
        if (only(f.field, ["number", "null", "boolean"])) {
          where.push({ field: f.field, op: "=", value: num });
        }
      } else if (f.value !== "" && only(f.field, ["number", "null", "boolean", "string"])) {
        where.push({ field: f.field, op: "=", value: f.value });
      }
    } else if (
      [">", ">=", "<", "<="].includes(f.op) && numeric && only(f.field, ["number", "null"])
    ) {
      where.push({ field: f.field, op: f.op as IndexCondition["op"], value: num });
    }
  }
  if (sort) {
    const desc = sort.startsWith("-");
    const field = desc ? sort.slice(1) : sort;
    if (!isIndexed(field)) return undefined;
    // Items without a value are not in the index: sort through it only when there are none,
    // or a range condition on the field leaves them out anyway.
    const ranged = where.some((c) => c.field === field && c.op !== "=");
    if (!ranged && (stats.types[field]?.null ?? 0) > 0) return undefined;
    if (only(field, ["number", "null"])) return { where, sort: { field, desc } };
    // A field with counts per value: read its values' rows in the order `sort=` gives them
    // (exact as long as no two distinct values compare equal).
    const counted = stats.values[field];
    if (!counted || ranged || !only(field, ["number", "string", "boolean", "null"])) {
      return undefined;
    }
    const order = counted.filter((v) => v.count > 0).map((v) => v.value)
      .sort(compareValues);
    if (order.some((v, i) => i > 0 && compareValues(order[i - 1], v) === 0)) return undefined;
    return { where, sort: { field, desc, order: desc ? order.reverse() : order } };
  }
  return where.some((c) => c.op === "=") ? { where } : undefined;
}

/**
 * How many items match `filters` exactly, when the item index's counts tell without reading
 * items: no filter (every item), or one `=` filter on a field with value counts whose value
 * the index holds exactly (a boolean, or text on a field without numbers or objects).
 */
export async function knownMatches(
  store: Store,
  run: RunRecord,
  stage: number,
  filters: readonly Filter[],
): Promise<number | undefined> {
  if (filters.length > 1 || !store.itemIndexStats) return undefined;
  const stats = await store.itemIndexStats(run.id, stage);
  if (!stats) return undefined;
  if (!filters.length) return stats.items;
  const [f] = filters;
  const counts = stats.values[f.field];
  if (f.op !== "=" || !counts || f.value === "" || f.value === "null") return undefined;
  const types = stats.types[f.field] ?? {};
  let value: IndexValue;
  if (f.value === "true" || f.value === "false") value = f.value === "true";
  else if (Number.isFinite(Number(f.value)) || types.object) return undefined;
  else value = f.value;
  return counts.find((c) => c.value === value)?.count ?? 0;
}

function encodeCursor(p: ItemIndexPosition): string {
  return btoa(JSON.stringify({ i: [p.chunk, p.offset, p.value ?? null] })).replaceAll("=", "");
}

function decodeCursor(s: string, sorted: boolean): ItemIndexPosition {
  try {
    const { i } = JSON.parse(atob(s));
    if (Array.isArray(i) && typeof i[0] === "number" && typeof i[1] === "number") {
      return sorted ? { chunk: i[0], offset: i[1], value: i[2] } : { chunk: i[0], offset: i[1] };
    }
  } catch { /* below */ }
  throw new HttpProblem(400, "cursor is not one this server gave out; start without it");
}

/**
 * One page of items through the index, or undefined when the run has no usable index or the
 * query cannot use it (the caller scans instead). `pred` is the query's full predicate.
 */
export async function indexedItemPage(
  store: Store,
  run: RunRecord,
  q: { stage: number; filters: readonly Filter[]; sort?: string },
  pred: (item: Item) => boolean,
  page: { limit: number; cursor?: string; maxScan?: number; signal?: AbortSignal },
): Promise<{ items: Item[]; cursor?: string; partial?: boolean } | undefined> {
  if (!store.itemIndexStats || !store.queryItemIndex) return undefined;
  const stats = await store.itemIndexStats(run.id, q.stage);
  const plan = stats && planIndexQuery(stats, q.filters, q.sort);
  if (!plan) return undefined;
  let after = page.cursor ? decodeCursor(page.cursor, !!plan.sort) : undefined;
  const chunks = new Map<number, Item[]>();
  /** Reads the chunks not read yet, together when the store can. */
  const load = async (wanted: number[]) => {
    const missing = [...new Set(wanted)].filter((c) => !chunks.has(c));
    const read = store.readChunks
      ? await store.readChunks(run.id, q.stage, missing)
      : await Promise.all(missing.map((c) => store.readChunk(run.id, q.stage, c)));
    missing.forEach((c, i) => chunks.set(c, read[i] ?? []));
  };
  const found: { item: Item; ref: ItemRef }[] = [];
  let batch = page.limit + 1;
  let checked = 0;
  let prev: ItemIndexPosition | undefined;
  for (;;) {
    const res = await store.queryItemIndex({
      runId: run.id,
      stage: q.stage,
      where: plan.where,
      sort: plan.sort,
      after,
      limit: batch,
      signal: page.signal,
    });
    if (!res) return undefined;
    // Rows that carry their item (sorted scans) need no read; the others read their chunks.
    await load(res.refs.filter((r) => r.item === undefined).map((r) => r.chunk));
    for (const ref of res.refs) {
      if (page.maxScan && checked >= page.maxScan && prev) {
        // Checked enough for one request: hand back what matched, going on after the last row
        // checked.
        return { items: found.map((f) => f.item), cursor: encodeCursor(prev), partial: true };
      }
      checked++;
      prev = refPosition(ref, plan.sort?.field);
      const item = (ref.item ?? chunks.get(ref.chunk)![ref.offset]) as Item | undefined;
      if (item && pred(item)) found.push({ item, ref });
      if (found.length > page.limit) break;
    }
    if (found.length > page.limit || res.done || !res.refs.length) break;
    after = refPosition(res.refs.at(-1)!, plan.sort?.field);
    batch = Math.min(batch * 4, 2000);
    // Chunks of earlier batches are no longer needed.
    chunks.clear();
  }
  const items = found.slice(0, page.limit).map((f) => f.item);
  const cursor = found.length > page.limit
    ? encodeCursor(refPosition(found[page.limit - 1].ref, plan.sort?.field))
    : undefined;
  return { items, cursor };
}
