/**
 * The item index, backend-neutral part: which stage of a run is indexed (the stage whose items
 * the leads page shows), which fields (`website.status`, `band`, `lead`, `score`), how a field's
 * value is projected into the index, and the typed conditions a backend evaluates on index rows.
 * A backend keeps, atomically with each chunk commit of that stage, one row per item: its
 * position (chunk, offset) and the projected values of the indexed fields, plus counts per
 * value type and per value. The items API plans queries over it (`core/http/items_indexed.ts`)
 * and always re-checks the full filter on the loaded items, so the index only has to return a
 * superset of the matches in the right order.
 * @module
 */
import type { RunRecord } from "./store.ts";

/** Fields of the item index, in the order of a row's values. */
export const ITEM_INDEX_FIELDS = ["website.status", "band", "lead", "score"] as const;

/** Fields with counts per value (low-cardinality fields; `score` has none). */
export const ITEM_INDEX_VALUE_COUNTED: readonly string[] = ["website.status", "band", "lead"];

/** A projected value: strings, numbers and booleans as they are; everything else is `null`. */
export type IndexValue = string | number | boolean | null;

/** Type of a field's value as the index counts it (`null` = missing or null). */
export type IndexValueType = "null" | "number" | "string" | "boolean" | "object";

/** The index stage of a run: its last stage that is not a sink (sinks pass items through). */
export function itemIndexStage(run: Pick<RunRecord, "stages">): number {
  for (let i = run.stages.length - 1; i >= 0; i--) {
    if (run.stages[i].resolved?.manifest?.kind !== "sink") return i;
  }
  return run.stages.length - 1;
}

/** The value at a dotted path, or undefined. */
export function pathValue(item: unknown, path: string): unknown {
  let node = item;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Type of `v` as the index counts it. */
export function indexValueType(v: unknown): IndexValueType {
  if (v === undefined || v === null) return "null";
  const t = typeof v;
  if (t === "number" || t === "string" || t === "boolean") return t as IndexValueType;
  return "object";
}

/** Projects `v` into the index: primitives as they are (finite numbers only), else null. */
export function indexValue(v: unknown): IndexValue {
  const t = typeof v;
  if (t === "string" || t === "boolean") return v as string | boolean;
  if (t === "number" && Number.isFinite(v)) return v as number;
  return null;
}

/**
 * A condition on an indexed field, with exact typed semantics: `=` holds when the projected
 * value is `value` (`===`); the comparisons hold only for numbers (`value` must be a number).
 */
export interface IndexCondition {
  field: (typeof ITEM_INDEX_FIELDS)[number];
  op: "=" | ">" | ">=" | "<" | "<=";
  value: IndexValue;
}

/** True when a row's projected values satisfy every condition. */
export function rowMatches(values: readonly IndexValue[], conds: readonly IndexCondition[]) {
  for (const c of conds) {
    const v = values[ITEM_INDEX_FIELDS.indexOf(c.field)];
    if (c.op === "=") {
      if (v !== c.value) return false;
      continue;
    }
    if (typeof v !== "number" || typeof c.value !== "number") return false;
    const ok = c.op === ">"
      ? v > c.value
      : c.op === ">="
      ? v >= c.value
      : c.op === "<"
      ? v < c.value
      : v <= c.value;
    if (!ok) return false;
  }
  return true;
}

/** Counts of an index: items, value types per field and items per value of counted fields. */
export interface ItemIndexStats {
  /** The indexed stage. */
  stage: number;
  /** Items indexed (committed items of the stage). */
  items: number;
  /** Per field: items per value type. */
  types: Record<string, Partial<Record<IndexValueType, number>>>;
  /** Per field of {@link ITEM_INDEX_VALUE_COUNTED}: items per projected value. */
  values: Record<string, { value: IndexValue; count: number }[]>;
}

/** Position of an item in an index scan (the scan resumes strictly after it). */
export interface ItemIndexPosition {
  chunk: number;
  offset: number;
  /** The sort field's projected value (sorted scans only). */
  value?: IndexValue;
}

/**
 * A query of the index. Rows hold the projected values of all indexed fields, but a field's
 * null values are not indexed: a scan never returns an item through a null value. Without
 * `sort`, rows come in item order (chunk, offset) and at least one `=` condition with a
 * non-null value is required (the backend drives the scan by the most selective one). With
 * `sort`, rows come by the field's numeric value (ties in item order), or value by value in
 * `sort.order`; items whose value is null or not a number (not listed) are left out, so sort through the index only when the field has no
 * nulls or a range condition excludes them (see {@link ItemIndexStats.types}).
 */
export interface ItemIndexQuery {
  runId: string;
  stage: number;
  where: IndexCondition[];
  sort?: {
    field: (typeof ITEM_INDEX_FIELDS)[number];
    desc?: boolean;
    /**
     * Instead of numeric order: read the rows of these values, in this order (each value's
     * rows in item order); `desc` is then ignored. For fields with value counts, whose values
     * the caller orders itself ({@link ItemIndexStats.values}).
     */
    order?: IndexValue[];
  };
  /** Resume strictly after this position (from {@link ItemRef}). */
  after?: ItemIndexPosition;
  /** Most rows returned. */
  limit: number;
  signal?: AbortSignal;
}

/** One matching row: where the item is, and its projected values. */
export interface ItemRef {
  chunk: number;
  offset: number;
  values: IndexValue[];
  /** The item itself, when the backend keeps it in the index (else read it by position). */
  item?: unknown;
}

/** A page of rows; `done` when the scan reached the end. */
export interface ItemIndexPage {
  refs: ItemRef[];
  done: boolean;
}

/** The position of a ref in a scan sorted by `sortField` (or in item order). */
export function refPosition(ref: ItemRef, sortField?: string): ItemIndexPosition {
  if (!sortField) return { chunk: ref.chunk, offset: ref.offset };
  const value = ref.values[ITEM_INDEX_FIELDS.indexOf(sortField as "score")];
  return { chunk: ref.chunk, offset: ref.offset, value };
}
