/**
 * The same business under more than one domain in a lead list: rows whose business name and city
 * (and country, when given) match once case, accents, punctuation and legal forms are set aside
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

/** Distinctive words; single Latin letters go too (the pieces of "e.K.", "e.U.", "S.A."). */
function words(s: string): string[] {
  return foldName(s, true).split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w && !NAME_STOP_WORDS.has(w) && !/^[a-z]$/.test(w));
}

/**
 * Who `item` is as a business: its name's distinctive words, its city's and its country, or
 * undefined when it has no name or no city (a name alone matches too many businesses).
 */
export function businessIdentity(item: Record<string, unknown>): string | undefined {
  const name = typeof item.name === "string" ? words(item.name).join(" ") : "";
  const city = typeof item.city === "string" ? words(item.city).join(" ") : "";
  if (!name || !city) return undefined;
  const country = typeof item.country === "string" ? item.country.trim().toLowerCase() : "";
  return `${name}|${city}|${country}`;
}

/** The domain a row stands for: `domain`, else the item's key. */
export function rowDomain(item: Record<string, unknown>): string {
  return typeof item.domain === "string" && item.domain ? item.domain : String(item.key ?? "");
}

/** Domains per business, gathered row by row in list order. */
export class SameBusinessIndex {
  #domains = new Map<string, string[]>();

  /** Records that `domain` is a row of business `identity`. */
  add(identity: string, domain: string): void {
    const list = this.#domains.get(identity);
    if (!list) this.#domains.set(identity, [domain]);
    else if (!list.includes(domain)) list.push(domain);
  }

  /** The other domains of the business of a row (none when it has one domain). */
  others(identity: string | undefined, domain: string): string[] {
    if (identity === undefined) return [];
    const list = this.#domains.get(identity);
    return list && list.length > 1 ? list.filter((d) => d !== domain) : [];
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
    return `${stage}: ${s.businesses} business(es) appear under more than one domain ` +
      `(same name and city; ${s.rows} rows kept), e.g. ${s.examples.join("; ")}. ` +
      (filled
        ? `The column ${SAME_BUSINESS_COLUMN} names the other domains of each.`
        : `Add the column ${SAME_BUSINESS_COLUMN} to the stage's columns to list the other ` +
          "domains in each row.");
  }
}
