/**
 * Parts of an export whose rows `finish` must still weigh: one JSON line
 * `[key, text, sortValues?, business?, domain?, listings?]` per row, so that the final file keeps
 * the first row of each key across chunks (the same domain can arrive in two chunks), with sort
 * keys orders the rows of all chunks, names the other domains of the same business
 * (`same_business.ts`) and the other rows listed under the same domain (`also_listed.ts`). Beside
 * them, a part may hold one sibling line `[null, identity, domain, status, phone, e164, exported]`
 * per row the stage saw, exported or not (`siblingLines`), so that the other domains of a business
 * include those the export leaves out (a live site): a part is rewritten whole when its chunk is
 * retried, so these count once like the rows. Used by csv-export and jsonl-export.
 * @module
 */
import { AlsoListedIndex, type Listing } from "./also_listed.ts";
import { isSiblingRow, SameBusinessIndex, SiblingIndex, type SiblingRow } from "./same_business.ts";
import { compareSortValues, type SortKey, type SortValue } from "./sort_rows.ts";
import { CompactStringSet } from "../text/string_set.ts";

/**
 * A row of a keyed part: the item's key, its text in the file (or its cells, when the text is
 * made at the end), what it is sorted by, its business identity, its domain, and the listings
 * (name, city, phone, e-mail) of the item and of the rows merged into it.
 */
export type KeyedRow = [
  key: string,
  text: string | string[],
  sort?: SortValue[] | null,
  business?: string | null,
  domain?: string | null,
  listings?: Listing[] | null,
];

/**
 * One row as a line of a keyed part; `business` is the row's identity and domain, `listings`
 * those of the item and its merged rows (given only when the export fills the column).
 */
export function keyedLine(
  key: string,
  text: string | string[],
  sort?: SortValue[],
  business?: { identity: string | undefined; domain: string },
  listings?: Listing[],
): string {
  const row: KeyedRow = [
    key,
    text,
    sort ?? null,
    business?.identity ?? null,
    business?.identity !== undefined ? business.domain : null,
    listings ?? null,
  ];
  while (row.length > 2 && row[row.length - 1] === null) row.pop();
  return JSON.stringify(row) + "\n";
}

/** Options of {@linkcode keyedRows}. */
export interface KeyedRowsOptions {
  /** Written after each row's text (default none: the text ends its own line). */
  lineEnd?: string;
  /**
   * The row's text in the file from its stored text or cells, the other domains of its business,
   * the other rows listed under its domain and the other domains of its business with a working
   * website (default: the stored text as it is). With sibling lines in the parts
   * (`siblingLines` of `same_business.ts`: every row the stage saw, exported or not), the other
   * domains are those of all rows, with their status and differing phone; else those of the
   * exported rows alone, and no working website is known.
   */
  render?: (
    text: string | string[],
    sameBusinessAs: string[],
    alsoListedAs: string[],
    websiteElsewhere: string[],
  ) => string;
  /** Called in the pre-pass with each row the file will hold (the first of its key if `unique`). */
  onKeptRow?: (row: KeyedRow) => void;
}

/**
 * `prepass`, `mapPart` and `after` of `finalizeParts` for keyed parts: drops rows of keys seen
 * in earlier parts (when `unique`); with sort keys, holds every row back and writes them sorted
 * at the end (ties in chunk order; the rows sit in memory, about their size in the file). The
 * pre-pass (needed only when rows name the other domains of their business or the other rows of
 * their domain) gathers the domains of each business and the listings of each key before any row
 * is written; without it `mapPart` gathers them as it goes, for
 * the run log (`sameBusiness`). A line of a part that is not a keyed row (a JSON object written
 * as it is) is kept as it is.
 */
export function keyedRows(unique: boolean, sort: SortKey[], options: KeyedRowsOptions = {}) {
  const lineEnd = options.lineEnd ?? "";
  // Keys of a whole run: compact sets (see string_set.ts), not `Set`s.
  const seen = new CompactStringSet();
  const seenBefore = new CompactStringSet();
  const held: KeyedRow[] = [];
  const sameBusiness = new SameBusinessIndex();
  const siblings = new SiblingIndex();
  const alsoListed = new AlsoListedIndex();
  const kept = new CompactStringSet();
  let prepassed = false;
  const counts = { rows: 0, leftOut: 0 };
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  const text = (row: KeyedRow): string => {
    if (!options.render) return row[1] as string;
    const listed = alsoListed.others(row[0], row[5]?.[0]);
    if (siblings.size > 0) {
      const s = siblings.others(row[3] ?? undefined, row[4] ?? row[0]);
      return options.render(row[1], s.sameBusinessAs, listed, s.websiteElsewhere);
    }
    const others = sameBusiness.others(row[3] ?? undefined, row[4] ?? row[0]);
    return options.render(row[1], others, listed, []);
  };
  // Sibling lines are gathered by the pre-pass (`collect`) and never written.
  const rowsOf = function* (data: Uint8Array, collect = false): Generator<KeyedRow | string> {
    for (const line of dec.decode(data).split("\n")) {
      if (!line) continue;
      const row = JSON.parse(line) as KeyedRow | SiblingRow | Record<string, unknown>;
      if (!Array.isArray(row)) yield line;
      else if (isSiblingRow(row)) {
        if (collect) siblings.add(row);
      } else yield row as KeyedRow;
    }
  };
  return {
    sameBusiness,
    /** Every row the stage saw, by business (filled by the pre-pass from sibling lines). */
    siblings,
    /** The other rows of each key (filled by the pre-pass). */
    alsoListed,
    /** Keyed rows written, and rows left out as a later row of a key already written. */
    counts,
    prepass(data: Uint8Array): void {
      prepassed = true;
      for (const row of rowsOf(data, true)) {
        if (typeof row === "string") continue;
        // Every row of a key counts here, also those `unique` leaves out below.
        if (row[5]) alsoListed.add(row[0], row[5]);
        if (options.onKeptRow && (!unique || kept.add(row[0]))) options.onKeptRow(row);
        if (typeof row[3] !== "string") continue;
        if (unique && !seenBefore.add(row[0])) continue;
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
        if (unique && !seen.add(row[0])) {
          counts.leftOut++;
          continue;
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
 * How an export's run-end line says rows were left out as later rows of a key already written;
 * the CLI's run summary looks for it, to say why its lead count can be higher than the rows.
 */
export const LEFT_OUT_NOTE = "more row(s) of a key already written left out: one row per key";

/**
 * An export's run-end line, leading with the rows written:
 * `csv-export: 320 row(s) written to /…/leads.csv from 3 chunk(s) (3 more row(s) of a key already
 * written left out: one row per key)`, so a run summary's lead count (items) and the file's rows
 * agree; without counts (rows not weighed): `csv-export: wrote /…/leads.csv from 3 chunk(s)`.
 */
export function finishLine(
  plugin: string,
  file: string,
  parts: number,
  counts?: { rows: number; leftOut: number },
): string {
  if (!counts) return `${plugin}: wrote ${file} from ${parts} chunk(s)`;
  const n = (x: number) => x.toLocaleString("en-US");
  return `${plugin}: ${n(counts.rows)} row(s) written to ${file} from ${parts} chunk(s)` +
    (counts.leftOut ? ` (${n(counts.leftOut)} ${LEFT_OUT_NOTE})` : "");
}
