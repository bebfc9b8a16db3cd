/**
 * The item index on Deno KV. For each committed chunk of a run's index stage, per indexed field
 * and value, one posting entry holds the rows (offset and projected values) of the chunk's items
 * with that value; rows of the sort field (`score`) also carry the item itself, so a sorted page
 * whose 50 items lie in 50 chunks reads no chunk at all:
 *
 *   ["ix", run, stage, field#, tag, value, chunk, part] -> UTF-8 JSON rows
 *                                                         [[offset, v0, v1, v2, v3(, item)], …]
 *   ["ix_t", run, stage, field#, type]                  -> items per value type (sum)
 *   ["ix_v", run, stage, field#, tag, value]            -> items per value (counted fields; sum)
 *
 * `tag` orders value types (1 number, 2 string, 3 boolean; null values get no posting, only
 * counts), so the numbers of a field are one ordered key range: a sorted scan reads rows by value, ties in item order, and an `=`
 * scan reads one value's rows in item order. A chunk costs one entry per field and distinct
 * value (not one per item: KV commits cost per mutation). Entries are written in the chunk's
 * own atomic commit (`KvStore.commitChunk`), so the index never disagrees with the chunks.
 * @module
 */
import {
  type IndexCondition,
  type IndexValue,
  indexValue,
  indexValueType,
  ITEM_INDEX_FIELDS,
  ITEM_INDEX_VALUE_COUNTED,
  type ItemIndexPage,
  type ItemIndexQuery,
  type ItemIndexStats,
  type ItemRef,
  pathValue,
  rowMatches,
} from "./item_index.ts";

/** Largest posting value written (KV values are capped at 64 KiB). */
const POSTING_BYTES = 60_000;

/** Most bytes one atomic commit carries inline (its cap is 800 KiB). */
const INLINE_BYTES = 600_000;

/** Most mutations of one atomic commit. */
const MAX_MUTATIONS = 1000;

/** The field whose rows carry their items (the one sorted scans read). */
const SORT_FIELD = ITEM_INDEX_FIELDS.indexOf("score");

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Row = [number, ...unknown[]];

/** Key tag and key part of a projected value. */
export function valueKey(v: IndexValue): [number, string | number | boolean] {
  if (v === null) return [0, 0];
  if (typeof v === "number") return [1, v];
  if (typeof v === "string") return [2, v];
  return [3, v];
}

function keyValue(tag: number, part: unknown): IndexValue {
  return tag === 0 ? null : part as IndexValue;
}

/** The writes that index one chunk. */
export interface IndexWrites {
  sets: [Deno.KvKey, Uint8Array][];
  sums: [Deno.KvKey, bigint][];
  /** Bytes of keys and values written (for the commit's size budget). */
  bytes: number;
}

interface Group {
  tag: number;
  part: string | number | boolean;
  rows: string[];
}

/** Builds the index writes of a chunk's items; `withItems` puts the items in sort-field rows. */
export function indexWrites(
  runId: string,
  stage: number,
  chunk: number,
  items: readonly unknown[],
  withItems = true,
): IndexWrites {
  const nf = ITEM_INDEX_FIELDS.length;
  const groups = ITEM_INDEX_FIELDS.map(() => new Map<string, Group>());
  const types = ITEM_INDEX_FIELDS.map(() => new Map<string, number>());
  const counted = ITEM_INDEX_FIELDS.map((f) => ITEM_INDEX_VALUE_COUNTED.includes(f));
  const values = ITEM_INDEX_FIELDS.map(() => new Map<string, Group & { n: number }>());
  for (let i = 0; i < items.length; i++) {
    const raw = ITEM_INDEX_FIELDS.map((f) => pathValue(items[i], f));
    const vals = raw.map(indexValue);
    let row: string | undefined;
    for (let fi = 0; fi < nf; fi++) {
      const type = indexValueType(raw[fi]);
      types[fi].set(type, (types[fi].get(type) ?? 0) + 1);
      const [tag, part] = valueKey(vals[fi]);
      const id = `${tag}:${part}`;
      // Null values get no posting (a field most items lack would cost a large one): queries
      // needing them scan instead (see `ItemIndexQuery`).
      if (tag !== 0) {
        let g = groups[fi].get(id);
        if (!g) groups[fi].set(id, g = { tag, part, rows: [] });
        row ??= JSON.stringify([i, ...vals]);
        g.rows.push(
          withItems && fi === SORT_FIELD ? `${row.slice(0, -1)},${JSON.stringify(items[i])}]` : row,
        );
      }
      if (counted[fi]) {
        const v = values[fi].get(id);
        if (v) v.n++;
        else values[fi].set(id, { tag, part, rows: [], n: 1 });
      }
    }
  }
  const sets: [Deno.KvKey, Uint8Array][] = [];
  let bytes = 0;
  const put = (key: Deno.KvKey, rows: string[]) => {
    const value = encoder.encode(`[${rows.join(",")}]`);
    if (value.length > POSTING_BYTES && rows.length > 1) {
      const half = Math.ceil(rows.length / 2);
      return [rows.slice(0, half), rows.slice(half)];
    }
    sets.push([key, value]);
    bytes += value.length + 80;
  };
  for (let fi = 0; fi < nf; fi++) {
    for (const g of groups[fi].values()) {
      // Parts of one value in one chunk, rows in offset order; halved until each fits a value.
      const pending: string[][] = [g.rows];
      let part = 0;
      while (pending.length) {
        const rows = pending.shift()!;
        const split = put(["ix", runId, stage, fi, g.tag, g.part, chunk, part], rows);
        if (split) pending.unshift(...split);
        else part++;
      }
    }
  }
  const sums: [Deno.KvKey, bigint][] = [];
  for (let fi = 0; fi < nf; fi++) {
    for (const [type, n] of types[fi]) sums.push([["ix_t", runId, stage, fi, type], BigInt(n)]);
    for (const v of values[fi].values()) {
      sums.push([["ix_v", runId, stage, fi, v.tag, v.part], BigInt(v.n)]);
    }
  }
  bytes += sums.length * 80;
  return { sets, sums, bytes };
}

/** How a chunk commit carries its index: the writes, and whether its parts must be staged. */
export interface IndexedCommit {
  sets: [Deno.KvKey, Uint8Array][];
  sums: [Deno.KvKey, bigint][];
  /** Set when the chunk could not be indexed: the run's index is turned off, with this reason. */
  off?: string;
  /** The chunk's parts do not fit the commit: write them first (see `KvStore.commitChunk`). */
  staged: boolean;
}

/**
 * Plans a chunk commit: its parts (`partBytes` in `partCount` values), `fixed` other mutations,
 * and, when `indexed`, the chunk's index entries within one atomic operation's limits (1,000
 * mutations, 800 KiB). Items are left out of the sort rows rather than staging the parts; an
 * index that does not fit at all turns the run's index off.
 */
export function planCommit(o: {
  runId: string;
  stage: number;
  chunk: number;
  items: readonly unknown[];
  indexed: boolean;
  partBytes: number;
  partCount: number;
  fixed: number;
  /**
   * Bytes of the items' JSON, when known: sort rows holding the items take at least that much,
   * so when it does not fit beside the parts, the rows are built without items at once (building
   * them with items, ~3.4 KB each in the flagship, cost serializing and encoding every item).
   */
  itemBytes?: number;
}): IndexedCommit {
  const fits = (bytes: number, mutations: number) =>
    bytes <= INLINE_BYTES && mutations + o.fixed <= MAX_MUTATIONS;
  const plain = !fits(o.partBytes, o.partCount);
  if (!o.indexed) return { sets: [], sums: [], staged: plain };
  const withItems = o.itemBytes === undefined || fits(o.partBytes + o.itemBytes, o.partCount);
  let ix = indexWrites(o.runId, o.stage, o.chunk, o.items, withItems);
  const mutations = () => ix.sets.length + ix.sums.length;
  if (withItems && !fits(o.partBytes + ix.bytes, o.partCount + mutations())) {
    ix = indexWrites(o.runId, o.stage, o.chunk, o.items, false);
  }
  if (!fits(ix.bytes, mutations())) {
    const off = `chunk ${o.chunk} of stage ${o.stage} was too large to index ` +
      `(${o.items.length} items, ${mutations()} index entries)`;
    return { sets: [], sums: [], off, staged: plain };
  }
  return { ...ix, staged: !fits(o.partBytes + ix.bytes, o.partCount + mutations()) };
}

function decodeU64(v: Deno.KvU64 | undefined): number {
  if (!v) return 0;
  const n = v.value;
  // Decrements are written as wrapping sums: read values past 2^63 as negative.
  return Number(n >= 1n << 63n ? n - (1n << 64n) : n);
}

/** Reads the index's counts. */
export async function readIndexStats(
  kv: Deno.Kv,
  runId: string,
  stage: number,
): Promise<ItemIndexStats> {
  const types: ItemIndexStats["types"] = {};
  const values: ItemIndexStats["values"] = {};
  for (const f of ITEM_INDEX_FIELDS) types[f] = {};
  for (const f of ITEM_INDEX_VALUE_COUNTED) values[f] = [];
  const [t, v] = await Promise.all([
    Array.fromAsync(kv.list<Deno.KvU64>({ prefix: ["ix_t", runId, stage] })),
    Array.fromAsync(kv.list<Deno.KvU64>({ prefix: ["ix_v", runId, stage] })),
  ]);
  for (const e of t) {
    const field = ITEM_INDEX_FIELDS[e.key[3] as number];
    if (field) types[field][e.key[4] as keyof ItemIndexStats["types"][string]] = decodeU64(e.value);
  }
  for (const e of v) {
    const field = ITEM_INDEX_FIELDS[e.key[3] as number];
    if (!values[field]) continue;
    values[field].push({
      value: keyValue(e.key[4] as number, e.key[5]),
      count: decodeU64(e.value),
    });
  }
  const items = Object.values(types[ITEM_INDEX_FIELDS[0]]).reduce((a, b) => a + (b ?? 0), 0);
  return { stage, items, types, values };
}

function decodeRows(v: Uint8Array): Row[] {
  return JSON.parse(decoder.decode(v)) as Row[];
}

/** Rows of a key range, entry by entry. */
async function* rowsOf(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
  signal?: AbortSignal,
): AsyncGenerator<{ chunk: number; rows: Row[] }> {
  for await (const e of kv.list<Uint8Array>(selector, { batchSize: 100 })) {
    signal?.throwIfAborted();
    yield { chunk: e.key[6] as number, rows: decodeRows(e.value) };
  }
}

const fi = (field: string) => ITEM_INDEX_FIELDS.indexOf(field as "score");

/** Runs an index query (see {@link ItemIndexQuery}); `counts` picks the `=` scan to drive. */
export async function queryIndex(
  kv: Deno.Kv,
  q: ItemIndexQuery,
  counts: (c: IndexCondition) => number,
): Promise<ItemIndexPage> {
  const refs: ItemRef[] = [];
  const base = ["ix", q.runId, q.stage];
  const after = q.after;
  /** Takes the matching rows of a group; true when the page is full. */
  const take = (chunk: number, rows: Row[], skipTo?: { chunk: number; offset: number }) => {
    for (const r of rows) {
      if (skipTo && (chunk < skipTo.chunk || (chunk === skipTo.chunk && r[0] <= skipTo.offset))) {
        continue;
      }
      const values = r.slice(1, 1 + ITEM_INDEX_FIELDS.length) as IndexValue[];
      if (!rowMatches(values, q.where)) continue;
      const item = r[1 + ITEM_INDEX_FIELDS.length];
      refs.push(
        item === undefined
          ? { chunk, offset: r[0], values }
          : { chunk, offset: r[0], values, item },
      );
      if (refs.length >= q.limit) return true;
    }
    return false;
  };
  /** Scans one value's rows in item order, from `skipTo`; true when the page is full. */
  const scanGroup = async (prefix: Deno.KvKey, skipTo?: { chunk: number; offset: number }) => {
    const sel: Deno.KvListSelector = skipTo
      ? { prefix, start: [...prefix, skipTo.chunk] }
      : { prefix };
    for await (const g of rowsOf(kv, sel, q.signal)) if (take(g.chunk, g.rows, skipTo)) return true;
    return false;
  };

  if (!q.sort) {
    const eqs = q.where.filter((c) => c.op === "=" && c.value !== null);
    if (!eqs.length) throw new RangeError("an unsorted index query needs an = condition");
    const drive = eqs.map((c) => ({ c, n: counts(c) })).sort((a, b) => a.n - b.n)[0].c;
    const done = !(await scanGroup([...base, fi(drive.field), ...valueKey(drive.value)], after));
    return { refs, done };
  }

  const sf = fi(q.sort.field);
  if (q.sort.order) {
    const order = q.sort.order;
    const at = after ? order.findIndex((v) => v === after.value) : 0;
    if (at < 0) return { refs, done: true };
    for (let i = at; i < order.length; i++) {
      const skipTo = after && i === at ? after : undefined;
      if (await scanGroup([...base, sf, ...valueKey(order[i])], skipTo)) {
        return { refs, done: false };
      }
    }
    return { refs, done: true };
  }
  const nums = [...base, sf, 1];
  const bounds = q.where.filter((c) => c.field === q.sort!.field && c.op !== "=");
  const eq = q.where.find((c) => c.field === q.sort!.field && c.op === "=");
  let lo = -Infinity, hi = Infinity;
  for (const b of bounds) {
    const v = b.value as number;
    if (b.op === ">" || b.op === ">=") lo = Math.max(lo, v);
    else hi = Math.min(hi, v);
  }
  if (eq) {
    if (typeof eq.value !== "number") return { refs, done: true };
    lo = Math.max(lo, eq.value);
    hi = Math.min(hi, eq.value);
  }
  // An empty range (score >= 90 and score <= 10) matches nothing; KV refuses a start key above
  // the end key.
  if (lo > hi) return { refs, done: true };
  const end: Deno.KvKey = hi === Infinity ? [...base, sf, 2] : [...nums, hi, Infinity];
  const start: Deno.KvKey = lo === -Infinity ? nums : [...nums, lo];
  const afterNum = after && typeof after.value === "number" ? after : undefined;

  if (!q.sort.desc) {
    const sel: Deno.KvListSelector = afterNum
      ? { start: [...nums, afterNum.value!, afterNum.chunk], end }
      : { start, end };
    for await (const e of kv.list<Uint8Array>(sel, { batchSize: 100 })) {
      q.signal?.throwIfAborted();
      const chunk = e.key[6] as number;
      const skip = afterNum && e.key[5] === afterNum.value ? afterNum : undefined;
      if (take(chunk, decodeRows(e.value), skip)) return { refs, done: false };
    }
    return { refs, done: true };
  }

  // Descending: find each value from the top with a one-key reverse read, then read that
  // value's rows forwards so ties keep item order.
  let value: number | undefined = afterNum?.value as number | undefined;
  let skipTo: { chunk: number; offset: number } | undefined = afterNum;
  for (;;) {
    if (value === undefined) {
      const top = kv.list({ start, end }, { reverse: true, limit: 1 });
      const first = await top.next();
      if (first.done) return { refs, done: true };
      value = first.value.key[5] as number;
    }
    if (await scanGroup([...nums, value], skipTo)) return { refs, done: false };
    const below = kv.list({ start, end: [...nums, value] }, { reverse: true, limit: 1 });
    const next = await below.next();
    if (next.done) return { refs, done: true };
    value = next.value.key[5] as number;
    skipTo = undefined;
  }
}
