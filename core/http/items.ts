/**
 * Reading a run's items for the API: filters on any (dotted) field such as `website.status=parked`
 * or `score>=50`, a CEL `where` expression, sorting, stable cursor pagination, and export as
 * CSV (nested fields flattened to dotted columns) or JSON lines, streamed.
 * @module
 */
import { stringify } from "csv-stringify/sync";

/**
 * CSV options of the export: a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return
 * gets a leading `'`, so a spreadsheet shows it as text instead of running it as a formula (item
 * fields come from input files and web pages anyone can write).
 */
const SPREADSHEET_SAFE = { escape_formulas: true } as const;
import type { Item } from "../../sdk/types.ts";
import { compileExpression, ExpressionError } from "../pipeline/expression.ts";
import type { RunRecord, Store } from "../store/store.ts";
import { compareValues, indexedItemPage, knownMatches } from "./items_indexed.ts";
import { HttpProblem } from "./problem.ts";

/** The value at a dotted path (`website.status`), or undefined. */
export function fieldValue(item: unknown, path: string): unknown {
  let node = item;
  for (const part of path.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

const OPS = ["!=", ">=", "<=", "=", ">", "<", "~"] as const;
type Op = (typeof OPS)[number];

/** One parsed `field OP value` filter. */
export interface FieldFilter {
  field: string;
  op: Op;
  value: string;
}

/** Parses `website.status=parked`, `score>=50`, `name~acme` (contains), `band!=C`. */
export function parseFilter(text: string): FieldFilter {
  const m = /^([A-Za-z_][\w.-]*)\s*(!=|>=|<=|=|>|<|~)(.*)$/.exec(text.trim());
  if (!m) {
    throw new HttpProblem(
      400,
      `filter "${text}" is not FIELD OP VALUE; write e.g. filter=website.status=parked, ` +
        `filter=score>=50, filter=name~acme (contains) or filter=band!=C`,
    );
  }
  return { field: m[1], op: m[2] as Op, value: m[3].trim() };
}

function literal(v: string): unknown {
  if (v === "true") return true;
  if (v === "false") return false;
  if (v === "null") return null;
  return v;
}

const compare = compareValues;

/** True when `item` passes `f`. */
export function matchFilter(item: unknown, f: FieldFilter): boolean {
  const v = fieldValue(item, f.field);
  const lit = literal(f.value);
  const num = Number(f.value);
  const numeric = typeof v === "number" && f.value !== "" && Number.isFinite(num);
  const eq =
    () => (numeric ? v === num : typeof lit === "string" ? String(v ?? "") === lit : v === lit);
  switch (f.op) {
    case "=":
      return eq();
    case "!=":
      return !eq();
    case "~":
      return typeof v === "string" && v.toLowerCase().includes(f.value.toLowerCase());
    default: {
      if (v === undefined || v === null) return false;
      const c = numeric ? (v as number) - num : compare(v, f.value);
      return f.op === ">" ? c > 0 : f.op === "<" ? c < 0 : f.op === ">=" ? c >= 0 : c <= 0;
    }
  }
}

/** A query over one stage's output. */
export interface ItemQuery {
  /** Stage index (default: the last stage). */
  stage: number;
  filters: FieldFilter[];
  /** CEL over `item`. */
  where?: string;
  /**
   * A cheap necessary condition of `where` (true for every item `where` accepts), checked
   * first so CEL runs only on candidates; it never changes the selection.
   */
  prefilter?: (item: Item) => boolean;
  /** Field to sort by; `-field` for descending. */
  sort?: string;
  /**
   * Refuse (400) a `sort` field that no matching item has, naming the fields they have (the API:
   * `sort=-socre` is a mistake); default false, such a sort keeps the items' order (the web
   * pages' "best first" links to runs whose pipeline has no `score`).
   */
  strictSort?: boolean;
}

/** Builds the item predicate of a query. */
export function itemPredicate(q: ItemQuery): (item: Item) => boolean {
  let where: ((item: Item) => boolean) | undefined;
  if (q.where) {
    try {
      const expr = compileExpression(q.where);
      where = (item) => {
        try {
          return expr.evaluateBool({ item });
        } catch {
          return false;
        }
      };
    } catch (e) {
      if (e instanceof ExpressionError) {
        throw new HttpProblem(400, `where: ${e.message}`, { extra: { col: e.col } });
      }
      throw e;
    }
  }
  const pre = q.prefilter;
  return (item) =>
    q.filters.every((f) => matchFilter(item, f)) && (!pre || pre(item)) && (!where || where(item));
}

/** Resolves `stage` (id or index) to an index; the last stage by default. */
export function stageIndex(run: RunRecord, stage?: string): number {
  if (stage === undefined || stage === "") return run.stages.length - 1;
  const i = run.stages.findIndex((s) => s.id === stage);
  if (i >= 0) return i;
  throw new HttpProblem(
    400,
    `run ${run.id} has no stage "${stage}"; stages: ${run.stages.map((s) => s.id).join(", ")}`,
  );
}

/** Chunks listed and read at once by {@link stageItems}. */
const CHUNK_WINDOW = 16;

/**
 * Every item of a stage, chunk by chunk in chunk order, with its chunk and offset. Done chunks
 * are listed a window at a time from `from` (a page near the start of a run with 5,000 chunks
 * lists a few, not all) and read together when the store can (`readChunks`).
 */
export async function* stageItems(
  store: Store,
  run: RunRecord,
  stage: number,
  from?: { chunk: number; offset: number },
): AsyncGenerator<{ item: Item; chunk: number; offset: number }> {
  let next = from?.chunk ?? 0;
  for (;;) {
    const listed = await store.doneChunks(run.id, stage, { from: next, limit: CHUNK_WINDOW });
    // A store that ignores the window returns every chunk: take them all in one go.
    const all = listed.length > CHUNK_WINDOW;
    const chunks = listed.filter((c) => c >= next);
    if (!chunks.length) return;
    // Read one chunk first, then more at a time: a first page usually needs one chunk.
    for (let i = 0, n = 1; i < chunks.length; i += n, n = Math.min(n * 2, CHUNK_WINDOW)) {
      const group = chunks.slice(i, i + n);
      const read = store.readChunks
        ? await store.readChunks(run.id, stage, group)
        : await Promise.all(group.map((c) => store.readChunk(run.id, stage, c)));
      for (let k = 0; k < group.length; k++) {
        const chunk = group[k];
        const items = read[k] ?? [];
        const start = from && chunk === from.chunk ? from.offset : 0;
        for (let j = start; j < items.length; j++) yield { item: items[j], chunk, offset: j };
      }
    }
    if (all || listed.length < CHUNK_WINDOW) return;
    next = chunks.at(-1)! + 1;
  }
}

function encodeCursor(v: unknown): string {
  return btoa(JSON.stringify(v)).replaceAll("=", "");
}

function decodeCursor<T>(s: string): T {
  try {
    return JSON.parse(atob(s)) as T;
  } catch {
    throw new HttpProblem(400, "cursor is not one this server gave out; start without it");
  }
}

/** Most items sorted in memory at once. */
export const MAX_SORTED = 200_000;

/**
 * A `sort=` field that no matching item has (a typo, `sort=-socre`): refused, naming the fields
 * the items do have, instead of an order that silently is none.
 */
function unknownSortField(sort: string, field: string, items: Item[]) {
  const fields = new Set<string>();
  for (const item of items.slice(0, 50)) {
    for (const k of Object.keys(flatten(item))) fields.add(k);
  }
  const shown = [...fields].sort().slice(0, 30);
  return new HttpProblem(
    400,
    `sort=${sort}: no matching item has the field ${field}; sort by one of ${shown.join(", ")}` +
      `${fields.size > shown.length ? ", …" : ""} (prefix - for descending)`,
  );
}

function tooManyToSort() {
  return new HttpProblem(
    422,
    `more than ${MAX_SORTED} items match; narrow them with filter= or where= before sorting`,
  );
}

/** One page of items. */
export async function queryItems(
  store: Store,
  run: RunRecord,
  q: ItemQuery,
  page: {
    limit: number;
    cursor?: string;
    /**
     * Unsorted scans only: stop after checking this many items and return what matched with a
     * cursor to go on (`partial`), so a rare match in a huge run answers in bounded time.
     */
    maxScan?: number;
  },
): Promise<{ items: Item[]; cursor?: string; partial?: boolean }> {
  const pred = itemPredicate(q);
  // A run with an item index answers from it: one page of index rows, only the chunks holding
  // the page's items. Without one (or for filters it cannot narrow), every chunk is read.
  const indexed = await indexedItemPage(store, run, q, pred, page);
  if (indexed) return indexed;
  if (!q.sort) {
    const from = page.cursor ? decodeCursor<{ c: number; o: number }>(page.cursor) : undefined;
    const items: Item[] = [];
    let scanned = 0;
    for await (
      const e of stageItems(store, run, q.stage, from && { chunk: from.c, offset: from.o })
    ) {
      if (page.maxScan && ++scanned > page.maxScan) {
        return { items, cursor: encodeCursor({ c: e.chunk, o: e.offset }), partial: true };
      }
      if (!pred(e.item)) continue;
      if (items.length === page.limit) {
        return { items, cursor: encodeCursor({ c: e.chunk, o: e.offset }) };
      }
      items.push(e.item);
    }
    return { items };
  }
  const known = q.where ? undefined : await knownMatches(store, run, q.stage, q.filters);
  if (known !== undefined && known > MAX_SORTED) throw tooManyToSort();
  const desc = q.sort.startsWith("-");
  const field = desc ? q.sort.slice(1) : q.sort;
  const all: Item[] = [];
  for await (const e of stageItems(store, run, q.stage)) {
    if (!pred(e.item)) continue;
    all.push(e.item);
    if (all.length > MAX_SORTED) throw tooManyToSort();
  }
  if (q.strictSort && all.length && !all.some((i) => fieldValue(i, field) !== undefined)) {
    throw unknownSortField(q.sort, field, all);
  }
  all.sort((a, b) => {
    const c = compare(fieldValue(a, field), fieldValue(b, field));
    return desc ? -c : c;
  });
  const offset = page.cursor ? decodeCursor<{ s: number }>(page.cursor).s : 0;
  const items = all.slice(offset, offset + page.limit);
  const next = offset + page.limit < all.length
    ? encodeCursor({ s: offset + page.limit })
    : undefined;
  return { items, cursor: next };
}

/** Flattens nested objects to dotted keys; arrays become JSON text. */
export function flatten(item: unknown, prefix = "", out: Record<string, unknown> = {}) {
  if (item && typeof item === "object" && !Array.isArray(item)) {
    for (const [k, v] of Object.entries(item)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === "object" && !Array.isArray(v)) flatten(v, key, out);
      else out[key] = Array.isArray(v) ? JSON.stringify(v) : v;
    }
  }
  return out;
}

/** Options of {@linkcode exportItems}. */
export interface ExportOptions {
  /** The items in order, when the export is sorted (from `queryItems`, bounded by MAX_SORTED). */
  sorted?: Item[];
  /** Dotted fields to export, in order (default: every field, flattened). */
  columns?: string[];
}

/** A value as one CSV cell of a chosen column: objects and lists as JSON. */
function columnCell(v: unknown): unknown {
  if (v === undefined || v === null) return "";
  return typeof v === "object" ? JSON.stringify(v) : v;
}

/**
 * Streams matching items as CSV or JSON lines: every field (CSV header = the union of flattened
 * fields) or the chosen `columns` (CSV header = the paths; JSON lines = objects keyed by path),
 * in stage order or in the order of `sorted`.
 */
export function exportItems(
  store: Store,
  run: RunRecord,
  q: ItemQuery,
  format: "csv" | "jsonl",
  o: ExportOptions = {},
): ReadableStream<Uint8Array> {
  const pred = itemPredicate(q);
  const enc = new TextEncoder();
  const cols = o.columns;
  async function* matching(): AsyncGenerator<Item> {
    if (o.sorted) {
      yield* o.sorted;
      return;
    }
    for await (const e of stageItems(store, run, q.stage)) if (pred(e.item)) yield e.item;
  }
  const picked = (item: Item) => {
    const out: Record<string, unknown> = {};
    for (const c of cols!) out[c] = fieldValue(item, c) ?? null;
    return out;
  };
  return new ReadableStream<Uint8Array>({
    async start(ctl) {
      try {
        if (format === "jsonl") {
          for await (const item of matching()) {
            ctl.enqueue(enc.encode(JSON.stringify(cols ? picked(item) : item) + "\n"));
          }
        } else {
          let header = cols;
          if (!header) {
            const seen = new Map<string, true>();
            for await (const item of matching()) {
              for (const k of Object.keys(flatten(item))) seen.set(k, true);
            }
            header = [...seen.keys()];
          }
          ctl.enqueue(enc.encode(stringify([header], SPREADSHEET_SAFE)));
          let rows: unknown[][] = [];
          for await (const item of matching()) {
            if (cols) rows.push(cols.map((c) => columnCell(fieldValue(item, c))));
            else {
              const flat = flatten(item);
              rows.push(header.map((h) => flat[h] ?? ""));
            }
            if (rows.length >= 500) {
              ctl.enqueue(enc.encode(stringify(rows, SPREADSHEET_SAFE)));
              rows = [];
            }
          }
          if (rows.length) ctl.enqueue(enc.encode(stringify(rows, SPREADSHEET_SAFE)));
        }
        ctl.close();
      } catch (e) {
        ctl.error(e);
      }
    },
  });
}
