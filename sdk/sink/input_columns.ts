/**
 * The business's own columns in an export: the fields an input file brought that no stage of
 * Sluice sets (a CRM's `Record ID`, `Contact Person`, `address`, `postcode`…), so a lead list can
 * be matched back to the records it came from. A column entry `"*"` stands for them, in the order
 * they first appear, after the columns the export lists by name.
 * @module
 */

/** The column entry that stands for the input's other columns. */
export const INPUT_COLUMNS = "*";

/**
 * Top-level fields the first-party stages set (their plugin.json `adds`, and csv-source's `line`):
 * never input columns. A test keeps this list in step with the plugins.
 */
export const STAGE_FIELDS: ReadonlySet<string> = new Set([
  "band",
  "dns",
  "domain",
  "domain_input",
  "domain_unicode",
  "duplicates",
  "host",
  "http",
  "key",
  "lead",
  "lead_reason",
  "line",
  "llm",
  "mail",
  "phone_e164",
  "platform",
  "private_suffix",
  "rdap",
  "row",
  "score",
  "score_reasons",
  "score_summary",
  "search",
  "seen_before",
  "suffix",
  "website",
]);

/**
 * The input column that holds the row's website value as given
 * (`https://pricesflowers.co.uk/kontakt`): csv-source reads it from a `website`, `url`, `domain`…
 * column under a canonical name that later stages reuse (`domain` becomes the registrable
 * domain, classify puts its verdict in `website`), so the value lives on in normalize's
 * `domain_input`, which `"*"` writes under this name.
 */
export const WEBSITE_INPUT = "website_input";

/**
 * An item's input columns as `[name, text]` in field order: top-level text, number and boolean
 * fields that are not stage fields and not in `listed` (the fields the export names itself),
 * and the website value as given ({@link WEBSITE_INPUT}, where `domain_input` stands) unless
 * `listed` names it or `domain_input`, or another input column holds that very value (a
 * `Website` column kept under its own name with csv-source's `canonicalHeaders: false`).
 */
export function inputFields(
  item: Record<string, unknown>,
  listed: ReadonlySet<string>,
): [string, string][] {
  const out: [string, string][] = [];
  let website = -1;
  for (const [name, v] of Object.entries(item)) {
    if (name === "domain_input" && typeof v === "string" && v.trim() !== "") {
      website = out.length;
      continue;
    }
    if (STAGE_FIELDS.has(name) || listed.has(name)) continue;
    if (typeof v === "string") out.push([name, v]);
    else if (typeof v === "number" || typeof v === "boolean") out.push([name, String(v)]);
  }
  const given = item.domain_input as string;
  if (
    website >= 0 && !listed.has(WEBSITE_INPUT) && !listed.has("domain_input") &&
    !Object.hasOwn(item, WEBSITE_INPUT) && !out.some(([, v]) => v === given)
  ) {
    out.splice(website, 0, [WEBSITE_INPUT, given]);
  }
  return out;
}

/** Names of input columns in the order they first appear, gathered row by row. */
export class InputColumnNames {
  #names = new Set<string>();

  /** Adds the names of a row's input fields. */
  add(fields: [string, string][]): void {
    for (const [name] of fields) this.#names.add(name);
  }

  /** The names gathered so far. */
  get names(): string[] {
    return [...this.#names];
  }
}
