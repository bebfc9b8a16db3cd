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

/**
 * The first {@link MAX_OTHERS} items of `list` other than `own`, then `(+N more)` when `count`
 * (how many there are besides `own`) exceeds them: only the items shown are looked at, so a
 * business of thousands of rows costs each of them no more than one of 21.
 */
function firstOthers<T>(
  list: Iterable<T>,
  own: T | undefined,
  count: number,
  show: (item: T) => string,
): string[] {
  const out: string[] = [];
  for (const item of list) {
    if (out.length === MAX_OTHERS) break;
    if (item !== own) out.push(show(item));
  }
  if (count > MAX_OTHERS) out.push(`(+${count - MAX_OTHERS} more)`);
  return out;
}

/** Domains per business, gathered row by row in list order. */
export class SameBusinessIndex {
  #domains = new Map<string, Set<string>>();

  /** Records that `domain` is a row of business `identity`. */
  add(identity: string, domain: string): void {
    const set = this.#domains.get(identity);
    if (!set) this.#domains.set(identity, new Set([domain]));
    else set.add(domain);
  }

  /**
   * The other domains of the business of a row (none when it has one domain), at most
   * {@link MAX_OTHERS} and then `(+N more)`: a spreadsheet cell holds 32,767 characters.
   */
  others(identity: string | undefined, domain: string): string[] {
    if (identity === undefined) return [];
    const set = this.#domains.get(identity);
    if (!set || set.size < 2) return [];
    const own = set.has(domain) ? domain : undefined;
    return firstOthers(set, own, set.size - (own === undefined ? 0 : 1), (d) => d);
  }

  /** Businesses with more than one domain: how many, their rows, and up to `max` examples. */
  summary(max = 3): { businesses: number; rows: number; examples: string[] } {
    let businesses = 0;
    let rows = 0;
    const examples: string[] = [];
    for (const set of this.#domains.values()) {
      if (set.size < 2) continue;
      businesses++;
      rows += set.size;
      if (examples.length < max) examples.push([...set].join(" = "));
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

/** A phone's digits, for comparing phones without an E.164 form. */
function phoneDigits(phone: string): string {
  return phone.replace(/\D/g, "");
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
  #rows = new Map<string, Business>();
  /** What {@link others} shows of a row as a sibling, made the first time it is shown. */
  #shown = new WeakMap<SiblingRow, Shown>();

  /** Businesses recorded (0: the export wrote no sibling lines). */
  get size(): number {
    return this.#rows.size;
  }

  /** Records a row (the first of each domain counts; a later one only marks it exported). */
  add(row: SiblingRow): void {
    let business = this.#rows.get(row[1]);
    if (!business) {
      business = { rows: [], byDomain: new Map(), working: [] };
      this.#rows.set(row[1], business);
    }
    const same = business.byDomain.get(row[2]);
    if (same) {
      if (row[6] === 1) same[6] = 1;
      return;
    }
    business.byDomain.set(row[2], row);
    business.rows.push(row);
    if (WORKING_STATUSES.has(row[3])) business.working.push(row);
  }

  /** The other domains of a row's business (none for a row without identity). */
  others(identity: string | undefined, domain: string): Siblings {
    const none = { sameBusinessAs: [], websiteElsewhere: [] };
    if (identity === undefined) return none;
    const business = this.#rows.get(identity);
    if (!business || business.rows.length < 2) return none;
    const own = business.byDomain.get(domain);
    // Two phones are the same number when their E.164 forms, else their digits, match.
    let ownDigits: string | undefined;
    const text = (r: SiblingRow): string => {
      const shown = this.#shownOf(r);
      if (!r[4]) return shown.plain;
      if (own === undefined) return shown.phoned;
      const samePhone = r[5] && own[5]
        ? r[5] === own[5]
        : shown.digits === (ownDigits ??= phoneDigits(own[4]));
      return samePhone ? shown.plain : shown.phoned;
    };
    const count = business.rows.length - (own === undefined ? 0 : 1);
    return {
      sameBusinessAs: firstOthers(business.rows, own, count, text),
      websiteElsewhere: firstOthers(business.working, own, 0, (r) => r[2]),
    };
  }

  #shownOf(r: SiblingRow): Shown {
    let shown = this.#shown.get(r);
    if (!shown) {
      const plain = r[3] ? `${r[2]} (${r[3]})` : r[2];
      const phoned = !r[4] ? plain : r[3] ? `${r[2]} (${r[3]}, ${r[4]})` : `${r[2]} (${r[4]})`;
      shown = { plain, phoned, digits: phoneDigits(r[4]) };
      this.#shown.set(r, shown);
    }
    return shown;
  }
}

/** The rows of one business in {@link SiblingIndex}. */
interface Business {
  /** The first row of each domain, in list order. */
  rows: SiblingRow[];
  /** The same rows by domain. */
  byDomain: Map<string, SiblingRow>;
  /** Those of them whose website works ({@link WORKING_STATUSES}), in list order. */
  working: SiblingRow[];
}

/** A row as another row's sibling: without and with its phone, and the phone's digits. */
interface Shown {
  plain: string;
  phoned: string;
  digits: string;
}
