/**
 * Phone numbers as people write them (`(030) 123-4567`, `0049 30 1234567`, `+1 415-555-0100`)
 * to E.164 (`+49301234567`), the form CRMs, dialers and enrichment tools take. A number without a
 * country code is read in the business's country: the item's `country` (an ISO code or a name in
 * English, German, French, Spanish, Italian, Dutch or Portuguese), else the country of the
 * domain's top-level domain (`.de`), else the plugin's `phoneCountry`. Validity is checked against
 * Google's libphonenumber metadata (`libphonenumber-js`).
 * @module
 */
import { type CountryCode, getCountries, parsePhoneNumberFromString } from "libphonenumber-js/max";

/** An ISO 3166 country code libphonenumber knows (`DE`, `US`). */
export type { CountryCode };

const KNOWN = new Set<string>(getCountries());

/** Languages whose country names are understood in a `country` column. */
const NAME_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt"];

/** Names the display names of `Intl` do not give but lists hold. */
const ALIASES: Record<string, string> = {
  uk: "GB",
  "u.k.": "GB",
  "great britain": "GB",
  england: "GB",
  scotland: "GB",
  wales: "GB",
  "northern ireland": "GB",
  usa: "US",
  "u.s.": "US",
  "u.s.a.": "US",
  "united states of america": "US",
  america: "US",
  holland: "NL",
  "the netherlands": "NL",
  deutschland: "DE",
  "österreich": "AT",
  schweiz: "CH",
  suisse: "CH",
  svizzera: "CH",
  "czech republic": "CZ",
  turkey: "TR",
  "ivory coast": "CI",
  korea: "KR",
  "south korea": "KR",
  "republic of korea": "KR",
  russia: "RU",
  "russian federation": "RU",
  vietnam: "VN",
  "viet nam": "VN",
  macedonia: "MK",
  burma: "MM",
  swaziland: "SZ",
  "cape verde": "CV",
  "east timor": "TL",
  uae: "AE",
  "u.a.e.": "AE",
};

/**
 * Country-code top-level domains sold to anyone (`.io`, `.co`, `.me`, `.tv`…): they say nothing
 * about where the business is, so they never choose a phone number's country.
 */
const GENERIC_CC_TLDS = new Set([
  "ac",
  "ad",
  "ai",
  "am",
  "as",
  "bz",
  "cc",
  "cd",
  "co",
  "fm",
  "gg",
  "gl",
  "im",
  "io",
  "la",
  "ly",
  "me",
  "ms",
  "mu",
  "nu",
  "sh",
  "so",
  "st",
  "tk",
  "to",
  "tv",
  "vc",
  "ws",
]);

function fold(s: string): string {
  return s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase().replace(/\s+/g, " ").trim();
}

let names: Map<string, string> | undefined;

function countryNames(): Map<string, string> {
  if (names) return names;
  names = new Map();
  for (const lang of NAME_LANGUAGES) {
    const display = new Intl.DisplayNames([lang], { type: "region" });
    for (const code of KNOWN) {
      const name = display.of(code);
      if (name && name !== code && !names.has(fold(name))) names.set(fold(name), code);
    }
  }
  for (const [alias, code] of Object.entries(ALIASES)) names.set(fold(alias), code);
  return names;
}

/**
 * The ISO 3166 code of a country as a list gives it: `DE`, `de`, `Germany`, `Deutschland`,
 * `Allemagne`, `UK`; undefined for anything else.
 */
export function countryCode(value: unknown): CountryCode | undefined {
  if (typeof value !== "string") return undefined;
  const s = value.trim();
  if (s === "") return undefined;
  const upper = s.toUpperCase();
  if (upper === "UK") return "GB";
  if (/^[A-Z]{2}$/.test(upper) && KNOWN.has(upper)) return upper as CountryCode;
  const code = countryNames().get(fold(s));
  return code && KNOWN.has(code) ? code as CountryCode : undefined;
}

/** The country a domain's top-level domain names (`.de` → DE, `.uk` → GB), if any. */
export function tldCountry(domain: string): CountryCode | undefined {
  const tld = domain.slice(domain.lastIndexOf(".") + 1).toLowerCase();
  if (tld.length !== 2 || GENERIC_CC_TLDS.has(tld)) return undefined;
  const code = tld === "uk" ? "GB" : tld.toUpperCase();
  return KNOWN.has(code) ? code as CountryCode : undefined;
}

/**
 * The numbers a phone cell holds, split at `;`, `,`, `|`, line breaks, " or "/"oder"/"ou"/"und"/
 * "and"/"et", at a ` / ` with a whole number on both sides (`030/1234567` is how Germans write an
 * area code), and before a `+` that starts another number.
 */
function phoneParts(raw: string): string[] {
  const digits = (s: string) => (s.match(/\d/g) ?? []).length;
  const out: string[] = [];
  for (const piece of raw.split(/\s*(?:[;,|\n\r]|\b(?:or|oder|ou|und|and|et)\b)\s*/i)) {
    const slashed = piece.split(/\s+\/\s+/);
    const whole = slashed.length > 1 && slashed.every((p) => digits(p) >= 6);
    for (const p of whole ? slashed : [piece]) {
      const before = p.split(/(?<=\d)\s+(?=\+\d)/);
      out.push(...before.map((x) => x.trim()).filter((x) => /\d/.test(x)));
    }
  }
  return out;
}

/** What {@linkcode phoneE164} found. */
export type PhoneResult =
  | { e164: string; country?: string; ext?: string }
  | { problem: string };

/**
 * The E.164 form of the first valid phone number in `raw` (a cell may hold several, split by
 * `;`, `,`, `|` or " or "), read in `country` when it has no country code. A `problem`
 * names why there is none: no digits, too short, not a number of that country, or no country
 * to read a local number in.
 */
export function phoneE164(raw: string, country?: CountryCode): PhoneResult {
  const parts = phoneParts(raw.normalize("NFKC"));
  if (parts.length === 0) return { problem: "no digits" };
  let problem = "";
  for (const part of parts) {
    // A fax number is not the business's phone.
    if (/^fax\b/i.test(part)) {
      problem ||= `"${part}" is a fax number`;
      continue;
    }
    // As people write them: a spreadsheet guard's `'`, labels (`T: `, `Tel.: `, `tel:`), the
    // `00` international prefix (`0049`, `00 49`, `(0049)`), `(+49)`, `(0)` trunk digits, notes
    // in parentheses (`(Mo-Fr 9-17 Uhr)`) and `Durchwahl 12` (an extension).
    const cleaned = part.replace(/^'/, "")
      .replace(
        /^(?:tel|phone|fon|telefon|tél|t|p|m|mobil|mobile|office)\b\.?\s*:?\s*(?=[+(\d])/i,
        "",
      )
      .replace(/\([^()]*\p{L}[^()]*\)/gu, " ")
      .replace(/\(0\)/g, "")
      .replace(/^\s*\(\s*(?:00|\+)\s*(\d{1,3})\s*\)/, "+$1 ")
      .replace(/^\s*00\s*(?=[1-9])/, "+")
      .replace(/\s*\b(?:durchwahl|dw|extension|ext|poste)\b\.?\s*:?\s*(\d+)\s*$/i, " ext. $1")
      .trim();
    const international = cleaned.trimStart().startsWith("+");
    if (!international && !country) {
      problem ||= `"${part}" has no country code and the business's country is not known ` +
        "(give a country column or with.phoneCountry)";
      continue;
    }
    const n = parsePhoneNumberFromString(cleaned, international ? undefined : country);
    if (n?.isValid()) {
      return {
        e164: n.number,
        ...(n.country ? { country: n.country } : {}),
        ...(n.ext ? { ext: n.ext } : {}),
      };
    }
    problem ||= `"${part}" is not a valid phone number` +
      (international ? "" : ` in ${country}`);
  }
  return { problem };
}
