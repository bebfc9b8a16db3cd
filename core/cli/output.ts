/**
 * Writes a finished run's items to a file, JSONL or CSV by extension, atomically (temp file +
 * rename) so an interrupted write never leaves a half file, and a rerun never duplicates rows;
 * one row per item key unless asked for all rows. Also writes and reads what a run refused,
 * and what its export stages reported at the end.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { Item, Rejected } from "../../sdk/types.ts";
import { writeFileDurablyWith } from "../../sdk/io/durable_files.ts";
import type { RawChunk, RunLogEntry, RunRecord, Store } from "../store/store.ts";
import { storedRows } from "./stored_rows.ts";
import { joinParts } from "../store/chunk_codec.ts";
import { CompactStringSet } from "../../sdk/text/string_set.ts";

/** One item of the run's output: its key, its JSON line (UTF-8, no newline), the item. */
interface OutputRow {
  key: unknown;
  json: Uint8Array;
  item(): Item;
}

/**
 * The run's output as {@linkcode OutputRow}s, chunk by chunk in chunk order: the items' stored
 * JSON as it is, cut apart by {@linkcode storedRows} (no parsing and serializing again), when the
 * store gives chunks as stored; parsed otherwise. The next chunk is read while one is written.
 */
async function* runRows(store: Store, run: RunRecord): AsyncIterable<OutputRow[]> {
  const last = run.stages.length - 1;
  const chunks = await store.doneChunks(run.id, last);
  const read = (c: number) => {
    const rows = store.readChunkRaw
      ? store.readChunkRaw(run.id, last, c).then((raw) => raw && rowsOf(raw))
      : store.readChunk(run.id, last, c).then((items) => items && rowsOfItems(items));
    // Read ahead: a failure counts when it is awaited, not before (nor when the writing stopped).
    rows.catch(() => {});
    return rows;
  };
  let next = chunks.length ? read(chunks[0]) : undefined;
  for (let k = 0; k < chunks.length; k++) {
    const rows = await next;
    next = k + 1 < chunks.length ? read(chunks[k + 1]) : undefined;
    yield rows ?? [];
  }
}

const jsonEncoder = new TextEncoder();
const jsonDecoder = new TextDecoder();

/** Rows of parsed items: each serialized. */
function rowsOfItems(items: Item[]): OutputRow[] {
  return items.map((i) => ({
    key: i.key,
    json: jsonEncoder.encode(JSON.stringify(i)),
    item: () => i,
  }));
}

/**
 * Rows of a chunk as stored: each item's bytes as they are, unless they hold whitespace (a line
 * break would split its JSON line): then parsed and serialized. A chunk that does not read as an
 * array is parsed whole (the store accepted it, so `JSON.parse` says what is wrong).
 */
function rowsOf(raw: RawChunk): OutputRow[] {
  const bytes = joinParts(raw.parts);
  const spans = storedRows(bytes);
  if (!spans) return rowsOfItems(JSON.parse(jsonDecoder.decode(bytes)));
  return spans.map((s) => {
    const json = bytes.subarray(s.start, s.end);
    let parsed: Item | undefined;
    const item = () => parsed ??= JSON.parse(jsonDecoder.decode(json));
    if (!s.compact) {
      return { key: item().key, json: jsonEncoder.encode(JSON.stringify(item())), item };
    }
    return { key: s.key, json, item };
  });
}

/** The rows' JSON lines, each ended by a newline, in one buffer. */
function jsonLines(rows: readonly OutputRow[]): Uint8Array {
  const out = new Uint8Array(rows.reduce((n, r) => n + r.json.length + 1, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r.json, at);
    at += r.json.length;
    out[at++] = 0x0a;
  }
  return out;
}

/** Yields the items of the run's last stage, chunk by chunk in chunk order. */
export async function* runItems(store: Store, run: RunRecord): AsyncIterable<Item[]> {
  const last = run.stages.length - 1;
  for (const c of await store.doneChunks(run.id, last)) {
    yield (await store.readChunk(run.id, last, c)) ?? [];
  }
}

/**
 * First rows per key over the chunks of one pass, in the order given: `add` says whether a row
 * of `key` is the first (a row without a string key always is) and counts the rows it leaves
 * out in `dropped`. The same domain can arrive in two chunks: `normalize` merges duplicates only
 * within a chunk. The keys seen sit in a {@linkcode CompactStringSet} (the CLI's peak while
 * writing `--out` of 1,000,000 rows was 40–70 MB lower than with a `Set`).
 */
class FirstRows {
  #seen = new CompactStringSet();
  dropped = 0;

  /**
   * True for the first row of `key`; else counts it (and the rows a stage merged into it:
   * `item()`'s `duplicates`, read only then) and passes the item to `onDrop`.
   */
  add(key: unknown, item: () => Item, onDrop?: (item: Item) => void): boolean {
    if (typeof key !== "string" || this.#seen.add(key)) return true;
    const i = item();
    // Rows a stage merged into this one (normalize's `duplicates`) are left out with it.
    this.dropped += 1 + (Array.isArray(i.duplicates) ? i.duplicates.length : 0);
    onDrop?.(i);
    return false;
  }
}

/**
 * A filter over the chunks of one pass that keeps the first item of each `key` (see
 * {@linkcode FirstRows}) and counts the items it leaves out in `dropped`.
 */
export function firstPerKey(
  onDrop?: (item: Item) => void,
): { keep(items: Item[]): Item[]; dropped: number } {
  const rows = new FirstRows();
  return {
    get dropped() {
      return rows.dropped;
    },
    keep: (items: Item[]): Item[] => items.filter((i) => rows.add(i.key, () => i, onDrop)),
  };
}

function flatten(item: Record<string, unknown>, prefix = "", out: Record<string, unknown> = {}) {
  for (const [k, v] of Object.entries(item)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) {
      flatten(v as Record<string, unknown>, name, out);
    } else out[name] = Array.isArray(v) ? JSON.stringify(v) : v;
  }
  return out;
}

/**
 * CSV text of `rows`. Booleans are written `true` and `false` (csv-stringify's default writes
 * `1` and an empty cell, so a false `lead` could not be told from a missing one). A text cell
 * starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so a spreadsheet
 * shows it as text instead of running it as a formula (cells come from inputs and web pages).
 */
function csv(rows: unknown[][]): string {
  return stringify(rows, {
    cast: { boolean: (v) => (v ? "true" : "false") },
    escape_formulas: true,
  });
}

/** The file name endings an output file (`--out`) may have, and the format each gets. */
export const OUT_FORMATS = { ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl" } as const;

/**
 * The format of an output file by its name's ending (case ignored): `csv` for `.csv`, `jsonl`
 * for `.jsonl` and `.ndjson`; undefined for another (`x.xlsx` would get JSON lines under a
 * spreadsheet's name, so the CLI refuses it).
 */
export function outFormat(path: string): "csv" | "jsonl" | undefined {
  const m = /\.[^./\\]*$/.exec(path);
  return m ? OUT_FORMATS[m[0].toLowerCase() as keyof typeof OUT_FORMATS] : undefined;
}

/** Options of {@linkcode writeRunOutput}. */
export interface RunOutputOptions {
  /**
   * Write every row, several rows of one key included. Default false: the first row of each
   * key is written (in chunk order), later rows of that key are left out and counted.
   */
  allRows?: boolean;
  /**
   * Called with each row left out as a duplicate (not with `allRows`), in order: the caller can
   * keep them for {@linkcode writeItemsJsonl} instead of reading the run's items once more.
   */
  onDuplicate?: (item: Item) => void;
}

/** What {@linkcode writeRunOutput} wrote. */
export interface RunOutputResult {
  /** Rows written. */
  items: number;
  /** Rows left out because an earlier row had the same key (always 0 with `allRows`). */
  duplicates: number;
}

/**
 * Writes the run's output to `path` (CSV when it ends in `.csv`, else JSON lines), replacing it
 * whole and durably (`writeFileDurablyWith`): one row per item key unless `allRows`.
 */
export async function writeRunOutput(
  store: Store,
  run: RunRecord,
  path: string,
  options: RunOutputOptions = {},
): Promise<RunOutputResult> {
  const enc = new TextEncoder();
  const pass = (onDrop?: (item: Item) => void) =>
    options.allRows ? { keep: (items: Item[]) => items, dropped: 0 } : firstPerKey(onDrop);
  let n = 0;
  let duplicates = 0;
  await writeFileDurablyWith(path, async (write) => {
    if (/\.csv$/i.test(path)) {
      // Two passes: the header is the union of every written item's (flattened) columns.
      const columns = new Set<string>();
      const first = pass();
      for await (const items of runItems(store, run)) {
        for (const i of first.keep(items)) for (const k of Object.keys(flatten(i))) columns.add(k);
      }
      const cols = [...columns];
      // A byte order mark, so Excel reads the file as UTF-8 (umlauts, accents).
      await write(enc.encode("\ufeff" + csv([cols])));
      const second = pass(options.onDuplicate);
      for await (const items of runItems(store, run)) {
        const rows = second.keep(items).map((i) => {
          const f = flatten(i);
          return cols.map((c) => f[c] ?? "");
        });
        n += rows.length;
        if (rows.length) await write(enc.encode(csv(rows)));
      }
      duplicates = second.dropped;
    } else {
      const first = options.allRows ? undefined : new FirstRows();
      for await (const rows of runRows(store, run)) {
        const kept = rows.filter((r) => !first || first.add(r.key, r.item, options.onDuplicate));
        n += kept.length;
        if (kept.length) await write(jsonLines(kept));
      }
      duplicates = first?.dropped ?? 0;
    }
  });
  return { items: n, duplicates };
}

/** Removes an earlier run's file at `path`, if there is one. */
async function removeStale(path: string): Promise<void> {
  await Deno.remove(path).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/**
 * Writes `items` to `path` as JSON lines, whole and durably; returns how many. With none, no file
 * is left (an earlier file of that name is removed).
 */
export async function writeItemsJsonl(path: string, items: readonly Item[]): Promise<number> {
  if (items.length === 0) {
    await removeStale(path);
    return 0;
  }
  const enc = new TextEncoder();
  await writeFileDurablyWith(path, async (write) => {
    for (let i = 0; i < items.length; i += 1000) {
      const lines = items.slice(i, i + 1000).map((item) => JSON.stringify(item));
      await write(enc.encode(lines.join("\n") + "\n"));
    }
  });
  return items.length;
}

/**
 * Writes the rows {@linkcode writeRunOutput} left out as duplicates (a key an earlier row already
 * had) to `path` as JSON lines, so none is lost from sight; returns how many. With none, no file
 * is left (an earlier run's file of that name is removed).
 */
export async function writeRunDuplicates(
  store: Store,
  run: RunRecord,
  path: string,
): Promise<number> {
  const enc = new TextEncoder();
  let n = 0;
  let pending: Item[] = [];
  const only = firstPerKey((i) => pending.push(i));
  const items = runItems(store, run)[Symbol.asyncIterator]();
  // Find the first duplicate before creating the file.
  let next = await items.next();
  for (; !next.done && pending.length === 0; next = await items.next()) only.keep(next.value);
  if (pending.length === 0) {
    await removeStale(path);
    return 0;
  }
  await writeFileDurablyWith(path, async (write) => {
    const flush = async () => {
      if (pending.length) {
        await write(enc.encode(pending.map((i) => JSON.stringify(i)).join("\n") + "\n"));
      }
      n += pending.length;
      pending = [];
    };
    await flush();
    for (; !next.done; next = await items.next()) {
      only.keep(next.value);
      await flush();
    }
  });
  return n;
}

/** A refused item as the CLI shows it: with its stage's id instead of its index. */
export type RejectedRow = Rejected & { stage: string | undefined; chunk: number };

/** The items the run refused, every stage, in order, each with its stage's id. */
export async function* runRejected(store: Store, run: RunRecord): AsyncIterable<RejectedRow> {
  for await (const r of store.readRejected(run.id)) {
    yield { ...r, stage: run.stages[r.stage]?.id };
  }
}

/** Options of {@linkcode writeRunRejected}. */
export interface RejectedFileOptions {
  /**
   * With nothing refused, write an empty file (a CSV with its header only) instead of removing
   * `path`: for a file the user named (`sluice runs rejected RUN --out FILE`).
   */
  keepEmpty?: boolean;
}

const REJECTED_COLUMNS = ["stage", "chunk", "key", "reason", "raw"];

/**
 * Writes every item the run refused, with its stage id, chunk, key, reason and raw row, to
 * `path` (durably, replacing it): one JSON object per line, or CSV when the name ends in `.csv`
 * (a raw input line as it was, a raw item as JSON text, as the UI's download); returns how many.
 * With none, no file is left (unless `keepEmpty`): an earlier run's file of the same name is
 * removed, so what is there always belongs to this run.
 */
export async function writeRunRejected(
  store: Store,
  run: RunRecord,
  path: string,
  options: RejectedFileOptions = {},
): Promise<number> {
  const rows = runRejected(store, run)[Symbol.asyncIterator]();
  let next = await rows.next();
  if (next.done && !options.keepEmpty) {
    await removeStale(path);
    return 0;
  }
  const isCsv = /\.csv$/i.test(path);
  const enc = new TextEncoder();
  let n = 0;
  await writeFileDurablyWith(path, async (write) => {
    if (isCsv) await write(enc.encode("\ufeff" + csv([REJECTED_COLUMNS])));
    let lines: string[] = [];
    const flush = async () => {
      if (lines.length) await write(enc.encode(lines.join("")));
      lines = [];
    };
    for (; !next.done; next = await rows.next()) {
      const r = next.value;
      lines.push(
        isCsv
          ? csv([[
            r.stage ?? "",
            r.chunk,
            r.key,
            r.reason,
            r.raw === undefined ? "" : typeof r.raw === "string" ? r.raw : JSON.stringify(r.raw),
          ]])
          : JSON.stringify(r) + "\n",
      );
      n++;
      if (lines.length === 1000) await flush();
    }
    await flush();
  });
  return n;
}

/** A line an export stage logged when it finished the run (e.g. where it wrote its file). */
export interface ExportReport {
  /** The stage's id. */
  stage: string;
  /** What it logged, e.g. `csv-export: wrote /data/…/leads.csv from 3 chunk(s)`. */
  msg: string;
}

/**
 * What the run's sink stages reported when they finished it (their `info` lines at run end, in
 * the run's log as read by `readRunEndLog`): where csv-export and jsonl-export wrote their
 * files. Empty when the store keeps no run log or a sink reported nothing.
 */
export function exportLines(run: RunRecord, log: RunLogEntry[]): ExportReport[] {
  const sinks = new Set(
    run.stages.filter((s) => s.resolved.manifest.kind === "sink").map((s) => s.id),
  );
  return log
    .filter((l) => l.chunk === -1 && l.level === "info" && sinks.has(l.stage))
    .map((l) => ({ stage: l.stage, msg: l.msg }));
}
