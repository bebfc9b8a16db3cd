/**
 * Parts of an export whose rows `finish` must still weigh: one JSON line
 * `[key, text, sortValues?]` per row, so that the final file keeps the first row of each key across
 * chunks (the same domain can arrive in two chunks) and, with sort keys, orders the rows of all
 * chunks. Used by csv-export and jsonl-export.
 * @module
 */
import { compareSortValues, type SortKey, type SortValue } from "./sort_rows.ts";

/** A row of a keyed part: the item's key, its text in the file and what it is sorted by. */
export type KeyedRow = [key: string, text: string, sort?: SortValue[]];

/** One row as a line of a keyed part. */
export function keyedLine(key: string, text: string, sort?: SortValue[]): string {
  const row: KeyedRow = sort ? [key, text, sort] : [key, text];
  return JSON.stringify(row) + "\n";
}

/**
 * `mapPart` and `after` of `finalizeParts` for keyed parts: drops rows of keys seen in earlier
 * parts (when `unique`); with sort keys, holds every row back and writes them sorted at the end
 * (ties in chunk order; the rows sit in memory, about their size in the file). Each row's text
 * is written followed by `lineEnd`; a line of a part that is not a keyed row (a JSON object
 * written as it is) is kept as it is.
 */
export function keyedRows(unique: boolean, sort: SortKey[], lineEnd = "") {
  const seen = new Set<string>();
  const held: KeyedRow[] = [];
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  return {
    mapPart(data: Uint8Array): Uint8Array {
      let out = "";
      for (const line of dec.decode(data).split("\n")) {
        if (!line) continue;
        const row = JSON.parse(line) as KeyedRow | Record<string, unknown>;
        if (!Array.isArray(row)) {
          out += line + "\n";
          continue;
        }
        if (unique) {
          if (seen.has(row[0])) continue;
          seen.add(row[0]);
        }
        if (sort.length > 0) held.push(row);
        else out += row[1] + lineEnd;
      }
      return enc.encode(out);
    },
    after(): Uint8Array {
      held.sort((a, b) => compareSortValues(a[2] ?? [], b[2] ?? [], sort));
      return enc.encode(held.map((r) => r[1] + lineEnd).join(""));
    },
  };
}
