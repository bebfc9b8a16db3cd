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
