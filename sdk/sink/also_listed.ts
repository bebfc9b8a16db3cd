/**
 * Other businesses or branches a lead list holds under the same domain: a chain's shops in
 * several cities listing one website, a business entered twice with another phone number. A
 * lead list has one row per domain (normalize merges the rows of a domain within a chunk into
 * the item's `duplicates`; exports keep the first row of a key across chunks), so those rows'
 * names and contacts would be missing from the list. Exports that list the column
 * {@link ALSO_LISTED_COLUMN} name them in the kept row, with the input columns in which they
 * differ from it, so each input record can be matched back: `Reed Dental Care, Portland,
 * +1 503-555-0144, Record ID: 2002`.
 * @module
 */
import { inputFields, WEBSITE_INPUT } from "./input_columns.ts";

/**
 * Column path export stages fill at the end of a run: the other rows of the list with the same
 * domain, as name, city, phone and e-mail, then their other input columns whose value differs
 * from the kept row's (`Record ID: 2002`), so every input record can be matched back to its CRM
 * (`; `-joined in CSV, an array in JSON Lines); rows that add nothing to the kept row (the same
 * in every input column, or empty) are left out.
 */
export const ALSO_LISTED_COLUMN = "also_listed_as";

/**
 * A row as {@linkcode listingOf} reads it: name, city, phone, e-mail ("" when absent), then its
 * other input columns as `[column, value]` (left off when it has none).
 */
export type Listing =
  | [name: string, city: string, phone: string, email: string]
  | [name: string, city: string, phone: string, email: string, columns: [string, string][]];

/** The fields a listing shows first, never repeated among its other input columns. */
const LISTING_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "city",
  "phone",
  "email",
  // Nor its website value: it names the same domain (the reason the rows are listed together).
  WEBSITE_INPUT,
]);

/** Characters of an input column's value a listing shows at most (an id is shorter). */
export const MAX_VALUE_CHARS = 100;

/** Listings a row names at most; then `(+N more)`. */
export const MAX_LISTINGS = 20;

function text(v: unknown): string {
  return typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : "";
}

/**
 * A row's name, city, phone and e-mail, and its other input columns: the fields `"*"` would
 * write (`inputFields`: none that a stage sets, so neither its website value, which names the
 * same domain, nor its `row`/`line`), non-empty, each at most {@link MAX_VALUE_CHARS} characters.
 */
export function listingOf(row: Record<string, unknown>): Listing {
  const own: Listing = [text(row.name), text(row.city), text(row.phone), text(row.email)];
  const columns = inputFields(row, LISTING_FIELDS).flatMap(([k, v]): [string, string][] => {
    const t = v.trim();
    if (t === "") return [];
    return [[k, t.length > MAX_VALUE_CHARS ? `${t.slice(0, MAX_VALUE_CHARS - 1)}…` : t]];
  });
  return columns.length ? [...own, columns] : own;
}

/** An item's own listing first, then those of the rows merged into it (`duplicates`). */
export function listingsOf(item: Record<string, unknown>): Listing[] {
  const merged = Array.isArray(item.duplicates) ? item.duplicates : [];
  return [
    listingOf(item),
    ...merged.filter((d): d is Record<string, unknown> => typeof d === "object" && d !== null)
      .map(listingOf),
  ];
}

function fold(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/\s+/g, " ");
}

/** A listing's other input columns (none for a listing of four fields). */
function columnsOf(l: Listing): [string, string][] {
  return l.length > 4 ? (l as [string, string, string, string, [string, string][]])[4] : [];
}

/** The input columns of `other` whose value `own` does not have (empty ones never count). */
function newColumns(other: Listing, own: Listing): [string, string][] {
  const mine = new Map(columnsOf(own).map(([k, v]) => [k, fold(v)]));
  return columnsOf(other).filter(([k, v]) => v !== "" && mine.get(k) !== fold(v));
}

/**
 * True when `other` tells nothing `own` does not: its name, city, phone, e-mail and every other
 * input column are empty or the same (a row that differs only in a CRM's record id is new).
 */
function covered(other: Listing, own: Listing): boolean {
  for (let i = 0; i < 4; i++) {
    const v = other[i] as string;
    if (v !== "" && fold(v) !== fold(own[i] as string)) return false;
  }
  return newColumns(other, own).length === 0;
}

/**
 * A listing as a cell shows it: its non-empty fields, comma-separated, then its input columns
 * as `column: value`: given `own` (the kept row's), only those whose value differs from it.
 */
export function listingText(l: Listing, own?: Listing): string {
  const fields = (l.slice(0, 4) as string[]).filter((v) => v !== "");
  const columns = own ? newColumns(l, own) : columnsOf(l);
  return [...fields, ...columns.map(([k, v]) => `${k}: ${v}`)].join(", ");
}

/** The listings of each key, gathered row by row in list order. */
export class AlsoListedIndex {
  #byKey = new Map<string, Listing[]>();

  /** Records the listings of a row of `key` (its own first). */
  add(key: string, listings: Listing[]): void {
    const list = this.#byKey.get(key);
    if (list) list.push(...listings);
    else this.#byKey.set(key, [...listings]);
  }

  /**
   * The other listings of a row's key (`own`: the row's own listing), each once, leaving out
   * those that add nothing to it; at most {@link MAX_LISTINGS}, then `(+N more)`.
   */
  others(key: string, own: Listing | undefined): string[] {
    const list = this.#byKey.get(key);
    if (!list || list.length < 2) return [];
    const mine: Listing = own ?? ["", "", "", ""];
    const kept: Listing[] = [];
    for (const l of list) {
      if (listingText(l) === "" || covered(l, mine)) continue;
      if (kept.some((k) => covered(l, k))) continue;
      kept.push(l);
    }
    const out = kept.map((l) => listingText(l, mine));
    return out.length > MAX_LISTINGS
      ? [...out.slice(0, MAX_LISTINGS), `(+${out.length - MAX_LISTINGS} more)`]
      : out;
  }

  /** Keys with rows that add something, for the run log: how many and up to `max` examples. */
  summary(max = 3): { keys: number; examples: string[] } {
    let keys = 0;
    const examples: string[] = [];
    for (const [key, list] of this.#byKey) {
      const others = this.others(key, list[0]);
      if (others.length === 0) continue;
      keys++;
      if (examples.length < max) examples.push(`${key}: ${others[0]}`);
    }
    return { keys, examples };
  }
}

/** True for the column export stages fill with {@link ALSO_LISTED_COLUMN}. */
export function isAlsoListedColumn(column: { path: string[] }): boolean {
  return column.path.length === 1 && column.path[0] === ALSO_LISTED_COLUMN;
}

/**
 * The run-log line of an export that filled {@link ALSO_LISTED_COLUMN}, or "" when no domain has
 * other rows that add something.
 */
export function alsoListedLogLine(stage: string, index: AlsoListedIndex): string {
  const s = index.summary();
  if (s.keys === 0) return "";
  return `${stage}: ${s.keys.toLocaleString("en-US")} domain(s) are listed by more than one ` +
    `business or branch (one row each; the column ${ALSO_LISTED_COLUMN} names the others), ` +
    `e.g. ${s.examples.join("; ")}`;
}

/** The other rows merged into one item (its `duplicates`) as {@link ALSO_LISTED_COLUMN} shows them. */
export function alsoListedOf(item: Record<string, unknown>): string[] {
  const listings = listingsOf(item);
  if (listings.length < 2) return [];
  const index = new AlsoListedIndex();
  index.add(String(item.key ?? ""), listings);
  return index.others(String(item.key ?? ""), listings[0]);
}
