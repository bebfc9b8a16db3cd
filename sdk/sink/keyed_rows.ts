/**
 * Parts of an export whose rows `finish` must still weigh: one JSON line
 * `[key, text, sortValues?, business?, domain?]` per row, so that the final file keeps the first
 * row of each key across chunks (the same domain can arrive in two chunks), with sort keys orders
 * the rows of all chunks, and names the other domains of the same business
 * (`same_business.ts`). Used by csv-export and jsonl-export.
 * @module
 */
import { SameBusinessIndex } from "./same_business.ts";
import { compareSortValues, type SortKey, type SortValue } from "./sort_rows.ts";

/**
 * A row of a keyed part: the item's key, its text in the file (or its cells, when the text is
 * made at the end), what it is sorted by, its business identity and its domain.
 */
export type KeyedRow = [
  key: string,
  text: string | string[],
  sort?: SortValue[] | null,
  business?: string | null,
  domain?: string,
];

/** One row as a line of a keyed part; `business` is the row's identity and domain. */
export function keyedLine(
  key: string,
  text: string | string[],
  sort?: SortValue[],
  business?: { identity: string | undefined; domain: string },
): string {
  const row: KeyedRow = business?.identity !== undefined
    ? [key, text, sort ?? null, business.identity, business.domain]
    : sort
    ? [key, text, sort]
    : [key, text];
  return JSON.stringify(row) + "\n";
}

/** Options of {@linkcode keyedRows}. */
export interface KeyedRowsOptions {
  /** Written after each row's text (default none: the text ends its own line). */
  lineEnd?: string;
  /**
   * The row's text in the file from its stored text or cells and the other domains of its
   * business (default: the stored text as it is).
   */
  render?: (text: string | string[], sameBusinessAs: string[]) => string;
}

/**
 * `prepass`, `mapPart` and `after` of `finalizeParts` for keyed parts: drops rows of keys seen
 * in earlier parts (when `unique`); with sort keys, holds every row back and writes them sorted
 * at the end (ties in chunk order; the rows sit in memory, about their size in the file). The
 * pre-pass (needed only when rows name the other domains of their business) gathers the domains
 * of each business before any row is written; without it `mapPart` gathers them as it goes, for
 * the run log (`sameBusiness`). A line of a part that is not a keyed row (a JSON object written
 * as it is) is kept as it is.
 */
export function keyedRows(unique: boolean, sort: SortKey[], options: KeyedRowsOptions = {}) {
  const lineEnd = options.lineEnd ?? "";
  const seen = new Set<string>();
  const seenBefore = new Set<string>();
  const held: KeyedRow[] = [];
  const sameBusiness = new SameBusinessIndex();
  let prepassed = false;
  const counts = { rows: 0, leftOut: 0 };
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  const text = (row: KeyedRow): string => {
    const others = sameBusiness.others(row[3] ?? undefined, row[4] ?? row[0]);
    return options.render ? options.render(row[1], others) : row[1] as string;
  };
  const rowsOf = function* (data: Uint8Array): Generator<KeyedRow | string> {
    for (const line of dec.decode(data).split("\n")) {
      if (!line) continue;
      const row = JSON.parse(line) as KeyedRow | Record<string, unknown>;
      yield Array.isArray(row) ? row : line;
    }
  };
  return {
    sameBusiness,
    /** Keyed rows written, and rows left out as a later row of a key already written. */
    counts,
    prepass(data: Uint8Array): void {
      prepassed = true;
      for (const row of rowsOf(data)) {
        if (typeof row === "string" || typeof row[3] !== "string") continue;
        if (unique) {
          if (seenBefore.has(row[0])) continue;
          seenBefore.add(row[0]);
        }
        sameBusiness.add(row[3], row[4] ?? row[0]);
      }
    },
    mapPart(data: Uint8Array): Uint8Array {
      let out = "";
      for (const row of rowsOf(data)) {
        if (typeof row === "string") {
          out += row + "\n";
          continue;
        }
        if (unique) {
          if (seen.has(row[0])) {
            counts.leftOut++;
            continue;
          }
          seen.add(row[0]);
        }
        counts.rows++;
        if (!prepassed && typeof row[3] === "string") sameBusiness.add(row[3], row[4] ?? row[0]);
        if (sort.length > 0) held.push(row);
        else out += text(row) + lineEnd;
      }
      return enc.encode(out);
    },
    after(): Uint8Array {
      held.sort((a, b) => compareSortValues(a[2] ?? [], b[2] ?? [], sort));
      return enc.encode(held.map((r) => text(r) + lineEnd).join(""));
    },
  };
}

/**
 * What an export's finish log line adds: `: 109 row(s) (1 more row(s) of a key already written
 * left out: one row per key)`, so "leads: 110" in a run summary and 109 rows in the file agree.
 */
export function rowsNote(counts?: { rows: number; leftOut: number }): string {
  if (!counts) return "";
  const rows = `${counts.rows.toLocaleString("en-US")} row(s)`;
  return counts.leftOut
    ? `: ${rows} (${counts.leftOut.toLocaleString("en-US")} more row(s) of a key already ` +
      "written left out: one row per key)"
    : `: ${rows}`;
}
