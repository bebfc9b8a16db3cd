/**
 * The same business under more than one domain in a lead list: rows whose business name and city
 * match once case, accents, punctuation and legal forms are set aside
 * ("Bäckerei Müller GmbH", "Baeckerei Mueller" in "Köln"/"Koeln"). A sales team calls such a
 * business once, so csv-export and jsonl-export name the other domains in the column
 * {@link SAME_BUSINESS_COLUMN} when the stage lists it, and say in the run log how many
 * businesses they found either way. Rows stay: two shops of one name in one city can be two
 * businesses, and the team decides.
 * @module
 */
import { foldName, NAME_STOP_WORDS } from "../text/business_name.ts";

/**
 * Column path export stages fill at the end of a run: the other domains of the same business,
 * in list order (`a.de; b.com` in CSV, an array in JSON Lines); empty for the rest.
 */
export const SAME_BUSINESS_COLUMN = "same_business_as";

/**
 * Legal forms written with dots ("e.K.", "e.U.", "S.A.", "S.r.l."): letters each followed by a
 * dot, the last dot optional. Initials without dots ("H&M", "A & O") stay words.
 */
const DOTTED_FORM = /(?<![\p{L}\p{N}])(?:\p{L}\.){1,3}\p{L}(?:\.|(?![\p{L}\p{N}]))/gu;

/**
 * Distinctive words: legal forms and filler words go; umlauts and their spellings compare alike
 * (Müller, Mueller and Muller; Malmö, Malmoe and Malmo: "ae", "oe", "ue" count as the vowel).
 */
function words(s: string): string[] {
  return foldName(s).replace(DOTTED_FORM, " ").split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w && !NAME_STOP_WORDS.has(w))
    .map((w) => w.replace(/([aou])e/g, "$1"));
}

/**
 * Who `item` is as a business: its name's distinctive words and its city's, or undefined when it
 * has no name or no city (a name alone matches too many businesses). The country is left out:
 * lists write it as `DE`, `Germany` or not at all, and one business name in two same-named
 * cities of two countries is rare.
 */
export function businessIdentity(item: Record<string, unknown>): string | undefined {
  const name = typeof item.name === "string" ? words(item.name).join(" ") : "";
  const city = typeof item.city === "string" ? words(item.city).join(" ") : "";
  if (!name || !city) return undefined;
  return `${name}|${city}`;
}

/** The domain a row stands for: `domain`, else the item's key. */
export function rowDomain(item: Record<string, unknown>): string {
  return typeof item.domain === "string" && item.domain ? item.domain : String(item.key ?? "");
}

/** Other domains a row names at most (a name shared by hundreds of rows is not one business). */
export const MAX_OTHERS = 20;

/** Domains per business, gathered row by row in list order. */
export class SameBusinessIndex {
  #domains = new Map<string, string[]>();

  /** Records that `domain` is a row of business `identity`. */
  add(identity: string, domain: string): void {
    const list = this.#domains.get(identity);
    if (!list) this.#domains.set(identity, [domain]);
    else if (!list.includes(domain)) list.push(domain);
  }

  /**
   * The other domains of the business of a row (none when it has one domain), at most
   * {@link MAX_OTHERS} and then `(+N more)`: a spreadsheet cell holds 32,767 characters.
   */
  others(identity: string | undefined, domain: string): string[] {
    if (identity === undefined) return [];
    const list = this.#domains.get(identity);
    if (!list || list.length < 2) return [];
    const others = list.filter((d) => d !== domain);
    return others.length > MAX_OTHERS
      ? [...others.slice(0, MAX_OTHERS), `(+${others.length - MAX_OTHERS} more)`]
      : others;
  }

  /** Businesses with more than one domain: how many, their rows, and up to `max` examples. */
  summary(max = 3): { businesses: number; rows: number; examples: string[] } {
    let businesses = 0;
    let rows = 0;
    const examples: string[] = [];
    for (const list of this.#domains.values()) {
      if (list.length < 2) continue;
      businesses++;
      rows += list.length;
      if (examples.length < max) examples.push(list.join(" = "));
    }
    return { businesses, rows, examples };
  }

  /**
   * The run-log line for `stage`, or undefined when every business has one domain;
   * `filled` tells whether the file lists them in {@link SAME_BUSINESS_COLUMN}.
   */
  logLine(stage: string, filled: boolean): string | undefined {
    const s = this.summary();
    if (s.businesses === 0) return undefined;
    const n = (x: number) => x.toLocaleString("en-US");
    return `${stage}: ${n(s.businesses)} business(es) appear under more than one domain ` +
      `(same name and city; ${n(s.rows)} rows kept), e.g. ${s.examples.join("; ")}. ` +
      (filled
        ? `The column ${SAME_BUSINESS_COLUMN} names the other domains of each.`
        : `Add the column ${SAME_BUSINESS_COLUMN} to the stage's columns to list the other ` +
          "domains in each row.");
  }
}

/**
 * Column path export stages fill at the end of a run: the other domains of the same business
 * (as {@link SAME_BUSINESS_COLUMN} finds them) whose website is `live` or a `redirect`, exported
 * or not: a business that has a working website elsewhere is no "you have no website" lead.
 */
export const WEBSITE_ELSEWHERE_COLUMN = "website_elsewhere";

/** Website statuses that count as a working website for {@link WEBSITE_ELSEWHERE_COLUMN}. */
export const WORKING_STATUSES: ReadonlySet<string> = new Set(["live", "redirect"]);

/**
 * What a part keeps of each row a stage saw, exported or not, for {@link SiblingIndex}: a JSON
 * array starting with `null` (a keyed row starts with its key), then the business identity, the
 * domain, `website.status`, the phone as given and in E.164 ("" when absent), and 1 when the
 * row is one of the export's.
 */
export type SiblingRow = [
  mark: null,
  identity: string,
  domain: string,
  status: string,
  phone: string,
  e164: string,
  exported: 0 | 1,
];

function str(v: unknown): string {
  return typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : "";
}

/** A row as {@link SiblingIndex} keeps it, or undefined when it has no business identity. */
export function siblingOf(
  item: Record<string, unknown>,
  exported: boolean,
): SiblingRow | undefined {
  const identity = businessIdentity(item);
  if (identity === undefined) return undefined;
  const website = item.website;
  const status = website && typeof website === "object"
    ? str((website as Record<string, unknown>).status)
    : "";
  return [
    null,
    identity,
    rowDomain(item),
    status,
    str(item.phone),
    str(item.phone_e164),
    exported ? 1 : 0,
  ];
}

/** Lines of {@link siblingOf} for a part: the rows of `items` with a business identity. */
export function siblingLines(
  items: Record<string, unknown>[],
  exported: (i: number) => boolean,
): string {
  let out = "";
  items.forEach((item, i) => {
    const row = siblingOf(item, exported(i));
    if (row) out += JSON.stringify(row) + "\n";
  });
  return out;
}

/** True for a line of a part that {@link siblingLines} wrote. */
export function isSiblingRow(row: unknown[]): row is SiblingRow {
  return row[0] === null && typeof row[1] === "string";
}

/** Two phones are the same number: their E.164 forms, else their digits, match. */
function samePhone(a: SiblingRow, b: SiblingRow): boolean {
  if (a[5] && b[5]) return a[5] === b[5];
  return a[4].replace(/\D/g, "") === b[4].replace(/\D/g, "");
}

/** What {@linkcode SiblingIndex.others} tells of a row. */
export interface Siblings {
  /**
   * The other domains of its business, each with its website status when known and its phone
   * when it differs from the row's: `millercafe.com (live)`,
   * `manchesteraccountingmanchester.co.uk (parked, +44 20 7946 0679)`.
   */
  sameBusinessAs: string[];
  /** Those of them whose website works ({@link WORKING_STATUSES}). */
  websiteElsewhere: string[];
}

/**
 * Every row a stage saw, exported or not, by business: a lead whose business has a live site on
 * another domain of the same input must say so, whatever the export writes.
 */
export class SiblingIndex {
  #rows = new Map<string, SiblingRow[]>();

  /** Businesses recorded (0: the export wrote no sibling lines). */
  get size(): number {
    return this.#rows.size;
  }

  /** Records a row (the first of each domain counts; a later one only marks it exported). */
  add(row: SiblingRow): void {
    const list = this.#rows.get(row[1]);
    if (!list) {
      this.#rows.set(row[1], [row]);
      return;
    }
    const same = list.find((r) => r[2] === row[2]);
    if (!same) list.push(row);
    else if (row[6] === 1) same[6] = 1;
  }

  /** The other domains of a row's business (none for a row without identity). */
  others(identity: string | undefined, domain: string): Siblings {
    const none = { sameBusinessAs: [], websiteElsewhere: [] };
    if (identity === undefined) return none;
    const list = this.#rows.get(identity);
    if (!list || list.length < 2) return none;
    const own = list.find((r) => r[2] === domain);
    const others = list.filter((r) => r !== own && r[2] !== domain);
    const text = others.map((r) => {
      const notes = [r[3], r[4] && (!own || !samePhone(r, own)) ? r[4] : ""].filter((x) => x);
      return notes.length ? `${r[2]} (${notes.join(", ")})` : r[2];
    });
    const working = others.filter((r) => WORKING_STATUSES.has(r[3])).map((r) => r[2]);
    return {
      sameBusinessAs: text.length > MAX_OTHERS
        ? [...text.slice(0, MAX_OTHERS), `(+${text.length - MAX_OTHERS} more)`]
        : text,
      websiteElsewhere: working.slice(0, MAX_OTHERS),
    };
  }
}
