/**
 * A CSV header as csv-source uses it: the field name of each column, and the columns that may
 * hold the business's website, in the order they are tried.
 *
 * - Column names of the fields Sluice's stages read (`name`, `city`, `phone`, `email`, …) match
 *   regardless of case, spaces, `-`/`_` and common synonyms (`Company`, `Town`, `E-Mail`,
 *   `Telefon`, …) and get their canonical lower-case name, so `item.name` works whatever the
 *   spreadsheet calls the column. Other columns keep their header as written.
 * - Names that csv-source or later first-party stages set themselves (`key`, `row`, `score`,
 *   `lead`, …) would be overwritten: such a column is kept as `input_<name>`.
 * - A repeated column name (also in another case or spelling: `Website`, `website`) gets `_2`,
 *   `_3`, … instead of silently losing a value; every repeat of a website column is tried too. A
 *   column without a name gets `column_<n>` (its position, from 1).
 * - A first line that holds a website (`example.com`, `https://shop.example.de/`) and no column
 *   name is data, not a header: the file is a list without a header (as `httpx -l` and `dnsx -l`
 *   read one), its website column is `domain` and the others are `column_<n>`.
 * @module
 */
import { parse as parseHost } from "tldts";

/** Canonical field -> the spellings that mean it (compared lower case, spaces collapsed). */
const SYNONYMS: Record<string, string[]> = {
  name: [
    "name",
    "company",
    "company name",
    "business",
    "business name",
    "organization",
    "organisation",
    "organization name",
    "account name", // Salesforce
    "firma",
    "firmenname",
    "unternehmen",
    "nom",
    "nom de l'entreprise",
    "entreprise",
    "société",
    "societe",
    "raison sociale",
    "empresa",
    "nombre",
    "nombre de la empresa",
    "razón social",
    "bedrijf",
    "bedrijfsnaam",
    "naam",
    "nome",
    "nome da empresa",
    "azienda",
    "ragione sociale",
  ],
  city: [
    "city",
    "town",
    "locality",
    "billing city", // Salesforce
    "ort",
    "stadt",
    "ville",
    "ciudad",
    "localidad",
    "plaats",
    "woonplaats",
    "cidade",
    "città",
    "citta",
    "comune",
  ],
  phone: [
    "phone",
    "phone number",
    "telephone",
    "tel",
    "business phone",
    "company phone",
    "telefon",
    "telefonnummer",
    "téléphone",
    "numéro de téléphone",
    "teléfono",
    "telefono",
    "telefoon",
    "telefoonnummer",
    "telefone",
  ],
  email: [
    "email",
    "e mail",
    "mail",
    "email address",
    "e mail address",
    "e mail adresse",
    "courriel",
    "adresse e mail",
    "correo",
    "correo electrónico",
    "correo electronico",
    "e mailadres",
    "emailadres",
  ],
  address: [
    "address",
    "street",
    "street address",
    "billing street", // Salesforce
    "adresse",
    "anschrift",
    "strasse",
    "straße",
    "rue",
    "dirección",
    "direccion",
    "adres",
    "straat",
    "endereço",
    "endereco",
    "morada",
    "indirizzo",
  ],
  postcode: [
    "postcode",
    "postal code",
    "zip",
    "zip code",
    "billing zip/postal code", // Salesforce
    "plz",
    "code postal",
    "código postal",
    "codigo postal",
    "cep",
    "cap",
  ],
  country: ["country", "billing country", "land", "pays", "país", "pais", "paese"],
  domain: [
    "domain",
    "domain name",
    "domainname",
    "company domain name", // HubSpot
    "nom de domaine",
    "dominio",
  ],
  website: [
    "website",
    "web site",
    "company website",
    "webseite",
    "internetseite",
    "internet",
    "site web",
    "site internet",
    "sitio web",
    "página web",
    "pagina web",
    "sito web",
  ],
  url: ["url", "website url", "web url", "homepage url"],
  homepage: ["homepage", "home page"],
  web: ["web", "www"],
  site: ["site", "sito"],
};

/** Columns tried for the website value, in this order (after canonical names). */
export const DOMAIN_COLUMNS = ["domain", "website", "url", "homepage", "web", "site"];

/**
 * Field names set by csv-source (`key`, `row`, `domain`) or by later first-party stages; an input
 * column of such a name is kept as `input_<name>`. Two exceptions: `domain` is read as the
 * website value and csv-source writes the same value back, and `website` (which classify replaces
 * with its verdict) keeps its name, as its value lives on in `domain` (and normalize's
 * `domain_input`); renaming the commonest website column would only surprise.
 */
export const RESERVED = new Set([
  "key",
  "row",
  "line",
  "domain_input",
  "host",
  "suffix",
  "private_suffix",
  "duplicates",
  "dns",
  "http",
  "lead",
  "lead_reason",
  "mail",
  "rdap",
  "search",
  "llm",
  "score",
  "band",
  "score_reasons",
]);

const CANONICAL = new Map<string, string>();
for (const [field, names] of Object.entries(SYNONYMS)) {
  for (const n of names) {
    // A spelling of two fields would read a column as whichever came last.
    if (CANONICAL.has(n)) throw new Error(`csv-source: "${n}" is a spelling of two fields`);
    CANONICAL.set(n, field);
  }
}

/** True when `field` is one of the canonical fields (`name`, `city`, `domain`, …). */
export function isKnownField(field: string): boolean {
  return Object.hasOwn(SYNONYMS, field);
}

function spelling(h: string): string {
  return h.toLowerCase().replace(/[\s_\-.:]+/g, " ").trim();
}

/** A header made ready: field names per column and the website columns to try. */
export interface Header {
  /** Header cells as written (trimmed). */
  written: string[];
  /** Field name of each column. */
  fields: string[];
  /** Indexes of the columns to read the website from, in order. */
  domainColumns: number[];
  /** `written -> field` for every column whose name changed (for one log line). */
  renamed: [string, string][];
  /** True when the first line was data: a list without a header (see the module doc). */
  headerless?: boolean;
}

/** True when a cell holds a website or domain (a registrable name under a public suffix). */
export function looksLikeWebsite(cell: string): boolean {
  const v = cell.trim();
  if (v === "" || /[\s@,;]/.test(v) || !v.includes(".")) return false;
  const r = parseHost(v);
  return r.isIcann === true && r.domain !== null && r.domainWithoutSuffix !== "";
}

/**
 * The header of a list without one, when the first line's cells are data: no cell names a known
 * column (`name`, `domain`, `E-Mail`, …) and at least one holds a website. The first such column
 * is `domain` (and the website column), the others are `column_<n>`. Undefined otherwise.
 */
export function headerlessHeader(cells: string[]): Header | undefined {
  const written = cells.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, "") : h).trim());
  if (written.some((h) => h !== "" && CANONICAL.has(spelling(h)))) return undefined;
  const at = written.findIndex(looksLikeWebsite);
  if (at < 0) return undefined;
  const fields = written.map((_, i) => (i === at ? "domain" : `column_${i + 1}`));
  return { written, fields, domainColumns: [at], renamed: [], headerless: true };
}

/**
 * Prepares a header (see the module doc). `domainColumn` (config) names the one column to read
 * the website from, as written or by its field name; throws when it is not a column.
 */
export function prepareHeader(
  cells: string[],
  options: { domainColumn?: string; canonical?: boolean } = {},
): Header {
  const written = cells.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, "") : h).trim());
  const canonical = options.canonical !== false;
  // A second `Website` (Salesforce exports repeat columns) is `website_2`, not `Website` beside
  // `website`: names that differ only in case clash in spreadsheets and case-blind imports.
  const named: string[] = written.map((h, i) => {
    if (h === "") return `column_${i + 1}`;
    return (canonical ? CANONICAL.get(spelling(h)) : undefined) ?? h;
  });
  const fields = named.map((f) => (RESERVED.has(f.toLowerCase()) ? `input_${f.toLowerCase()}` : f));
  const seen = new Map<string, number>();
  for (let i = 0; i < fields.length; i++) {
    const lower = fields[i].toLowerCase();
    const n = (seen.get(lower) ?? 0) + 1;
    seen.set(lower, n);
    if (n > 1) fields[i] = `${fields[i]}_${n}`;
  }
  let domainColumns: number[];
  if (options.domainColumn !== undefined) {
    const want = options.domainColumn;
    const at = written.findIndex((h) => h === want);
    const i = at >= 0 ? at : named.findIndex((f) => f === want);
    if (i < 0) {
      throw new Error(
        `with.domainColumn "${want}" is not a column of the header (${list(written)}); ` +
          "give one of those names",
      );
    }
    domainColumns = [i];
  } else {
    // Every column of a website kind, in the kinds' order, repeats in column order.
    domainColumns = DOMAIN_COLUMNS.flatMap((d) => named.flatMap((f, i) => (f === d ? [i] : [])));
  }
  const renamed = written.flatMap((
    w,
    i,
  ) => (w !== fields[i] ? [[w, fields[i]] as [string, string]] : []));
  return { written, fields, domainColumns, renamed };
}

/** Most cells {@link list} names; the rest are counted. */
const LIST_MAX = 30;

/**
 * Header cells listed for a message: the first {@link LIST_MAX}, then how many more, so a wide
 * header does not make a message (stored with the run) of its whole width.
 */
export function list(cells: string[]): string {
  const named = cells.slice(0, LIST_MAX).map((c) => JSON.stringify(c)).join(", ");
  const more = cells.length - LIST_MAX;
  return more > 0 ? `${named} and ${more.toLocaleString("en-US")} more` : named;
}
