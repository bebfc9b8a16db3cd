/**
 * The item index on Deno KV. For each committed chunk of a run's index stage, per indexed field
 * and value, one posting entry holds the rows (offset and projected values) of the chunk's items
 * with that value:
 *
 *   ["ix", run, stage, field#, tag, value, chunk, part] -> JSON rows [[offset, v0, v1, v2, v3], …]
 *   ["ix_t", run, stage, field#, type]                  -> items per value type (sum)
 *   ["ix_v", run, stage, field#, tag, value]            -> items per value (counted fields; sum)
 *
 * `tag` orders value types (0 null, 1 number, 2 string, 3 boolean), so the numbers of a field
 * are one ordered key range: a sorted scan reads rows by value, ties in item order, and an `=`
 * scan reads one value's rows in item order. Entries are written in the chunk's own atomic
 * commit (see `KvStore.commitChunk`), so the index never disagrees with the committed chunks.
 * @module
 */
import {
  type IndexCondition,
  indexRow,
  type IndexValue,
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

type Row = [number, ...IndexValue[]];

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
  sets: [Deno.KvKey, string][];
  sums: [Deno.KvKey, bigint][];
  /** Bytes of keys and values written (for the commit's size budget). */
  bytes: number;
}

/** Builds the index writes of a chunk's items. */
export function indexWrites(
  runId: string,
  stage: number,
  chunk: number,
  items: readonly unknown[],
): IndexWrites {
  const rows: Row[] = items.map((item, i) => [i, ...indexRow(item)]);
  const sets: [Deno.KvKey, string][] = [];
  const sums = new Map<string, [Deno.KvKey, bigint]>();
  const bump = (key: Deno.KvKey) => {
    const id = JSON.stringify(key);
    const e = sums.get(id);
    if (e) e[1]++;
    else sums.set(id, [key, 1n]);
  };
  let bytes = 0;
  ITEM_INDEX_FIELDS.forEach((field, fi) => {
    const groups = new Map<string, { tag: number; part: string | number | boolean; rows: Row[] }>();
    for (let i = 0; i < rows.length; i++) {
      const [tag, part] = valueKey(rows[i][fi + 1] as IndexValue);
      const id = `${tag}:${String(part)}`;
      let g = groups.get(id);
      if (!g) groups.set(id, g = { tag, part, rows: [] });
      g.rows.push(rows[i]);
      bump(["ix_t", runId, stage, fi, indexValueType(pathValue(items[i], field))]);
      if (ITEM_INDEX_VALUE_COUNTED.includes(field)) bump(["ix_v", runId, stage, fi, tag, part]);
    }
    for (const g of groups.values()) {
      let part = 0;
      let buf: string[] = [];
      let size = 2;
      const flush = () => {
        const value = `[${buf.join(",")}]`;
        sets.push([["ix", runId, stage, fi, g.tag, g.part, chunk, part++], value]);
        bytes += value.length + 64 + String(g.part).length;
        buf = [];
        size = 2;
      };
      for (const r of g.rows) {
        const text = JSON.stringify(r);
        if (buf.length && size + text.length + 1 > POSTING_BYTES) flush();
        buf.push(text);
        size += text.length + 1;
      }
      if (buf.length) flush();
    }
  });
  for (const [key] of sums.values()) bytes += 64 + String(key.at(-1)).length;
  return { sets, sums: [...sums.values()], bytes };
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

/** Rows of a key range, entry by entry. */
async function* rowsOf(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
  signal?: AbortSignal,
): AsyncGenerator<{ chunk: number; rows: Row[] }> {
  for await (const e of kv.list<string>(selector, { batchSize: 100 })) {
    signal?.throwIfAborted();
    yield { chunk: e.key[6] as number, rows: JSON.parse(e.value) as Row[] };
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
      const values = r.slice(1) as IndexValue[];
      if (!rowMatches(values, q.where)) continue;
      refs.push({ chunk, offset: r[0], values });
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
    const eqs = q.where.filter((c) => c.op === "=");
    if (!eqs.length) throw new RangeError("an unsorted index query needs an = condition");
    const drive = eqs.map((c) => ({ c, n: counts(c) })).sort((a, b) => a.n - b.n)[0].c;
    const done = !(await scanGroup([...base, fi(drive.field), ...valueKey(drive.value)], after));
    return { refs, done };
  }

  const sf = fi(q.sort.field);
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
    if (typeof eq.value !== "number") {
      if (eq.value !== null || bounds.length) return { refs, done: true };
    } else {
      lo = Math.max(lo, eq.value);
      hi = Math.min(hi, eq.value);
    }
  }
  const nullsToo = !bounds.length && (!eq || eq.value === null);
  const numbersToo = !eq || eq.value !== null;
  const end: Deno.KvKey = hi === Infinity ? [...base, sf, 2] : [...nums, hi, Infinity];
  const start: Deno.KvKey = lo === -Infinity ? nums : [...nums, lo];
  const afterNull = after && after.value === null;
  const afterNum = after && typeof after.value === "number" ? after : undefined;
  const nulls = () =>
    scanGroup([...base, sf, 0, 0], afterNull ? after : undefined).then((full) => !full);

  if (!q.sort.desc) {
    if (numbersToo && !afterNull) {
      const sel: Deno.KvListSelector = afterNum
        ? { start: [...nums, afterNum.value!, afterNum.chunk], end }
        : { start, end };
      for await (const e of kv.list<string>(sel, { batchSize: 100 })) {
        q.signal?.throwIfAborted();
        const chunk = e.key[6] as number;
        const skip = afterNum && e.key[5] === afterNum.value ? afterNum : undefined;
        if (take(chunk, JSON.parse(e.value), skip)) return { refs, done: false };
      }
    }
    return { refs, done: nullsToo ? await nulls() : true };
  }

  if (nullsToo && !afterNum && !(await nulls())) return { refs, done: false };
  if (!numbersToo) return { refs, done: true };
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
