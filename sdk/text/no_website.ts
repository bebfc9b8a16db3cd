/**
 * What spreadsheets and CRMs write into a cell that has no website: `n/a`, `-`, `none`, `keine`…
 * Shared by csv-source (such a cell counts as empty, so the next website column is tried) and
 * normalize (the reason says "no website given" instead of "not a domain"). None of them has a
 * top-level domain, so taking them for "no website" loses nothing; `x` is left out, as it often
 * means "yes".
 * @module
 */

/** The placeholders, trimmed and lower case. */
export const NO_WEBSITE_VALUES: ReadonlySet<string> = new Set([
  "-",
  "--",
  "\u2013",
  "\u2014",
  "/",
  "?",
  "0",
  "n/a",
  "#n/a",
  "n.a.",
  "na",
  "none",
  "null",
  "nil",
  "undefined",
  "unknown",
  "no",
  "no website",
  "not available",
  "tbd",
  "keine",
  "kein",
  "keine website",
  "k.a.",
  "k. a.",
  "nicht vorhanden",
]);

/** True when a cell gives no website: blank, or one of {@linkcode NO_WEBSITE_VALUES}. */
export function isNoWebsite(value: string): boolean {
  const v = value.trim();
  return v === "" || NO_WEBSITE_VALUES.has(v.toLowerCase());
}
