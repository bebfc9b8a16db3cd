/**
 * The leads table's "Download CSV": the selection the table shows (same filters, same sort), as
 * a sales sheet with the columns people work with (business, contact, verdict, why, score, band,
 * score reasons, mail, registration dates; the other domains of a business the run lists under
 * several, and those with a working website), UTF-8 with a BOM so Excel shows umlauts. The API's
 * export (`/api/v1/runs/{id}/items/export`) stays the one with every field.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import {
  fieldValue,
  itemPredicate,
  type ItemQuery,
  MAX_SORTED,
  queryItems,
  stageItems,
} from "../core/http/items.ts";
import type { RunRecord, Store } from "../core/store/store.ts";
import type { Item } from "../sdk/types.ts";
import {
  businessIdentity,
  rowDomain,
  SAME_BUSINESS_COLUMN,
  SiblingIndex,
  siblingOf,
  type Siblings,
  WEBSITE_ELSEWHERE_COLUMN,
} from "../sdk/sink/same_business.ts";
import { ALSO_LISTED_COLUMN, alsoListedOf } from "../sdk/sink/also_listed.ts";
import { INPUT_COLUMNS, InputColumnNames, inputFields } from "../sdk/sink/input_columns.ts";
import { listedFields } from "../sdk/sink/columns.ts";

/**
 * Columns of the sheet: header and the item field it shows. The same as the flagship pipeline's
 * `leads.csv` (`pipelines/no-website-leads.yaml`, csv-export), plus `lead`: the table also lists
 * items that are no leads.
 */
export const LEADS_CSV_COLUMNS: readonly (readonly [string, string])[] = [
  ["domain", "domain"],
  ["domain_unicode", "domain_unicode"],
  ["name", "name"],
  ["city", "city"],
  ["country", "country"],
  ["same_business_as", "same_business_as"],
  ["website_elsewhere", "website_elsewhere"],
  ["also_listed_as", "also_listed_as"],
  ["phone", "phone"],
  ["phone_e164", "phone_e164"],
  ["email", "email"],
  ["email_guesses_unverified", "mail.role_guesses"],
  ["website_status", "website.status"],
  ["lead", "lead"],
  ["lead_reason", "lead_reason"],
  ["evidence_url", "website.url"],
  ["checked_at", "website.checkedAt"],
  ["score", "score"],
  ["band", "band"],
  ["score_reasons", "score_summary"],
  ["mail_provider", "mail.provider"],
  ["domain_registered", "rdap.registered"],
  ["domain_expires", "rdap.expires"],
  ["registrar", "rdap.registrar.name"],
  ["registrant_org", "rdap.registrant.org"],
  ["registrant_phone", "rdap.registrant.phone"],
  ["registrant_email", "rdap.registrant.email"],
  // The input's other columns (a CRM's record id…), each a column of its own.
  [INPUT_COLUMNS, INPUT_COLUMNS],
];

/** Fields and headers the sheet names itself: `"*"` does not repeat them. */
const LISTED = listedFields(
  LEADS_CSV_COLUMNS.filter(([h]) => h !== INPUT_COLUMNS).map(([header, path]) => ({
    header,
    path: path.split("."),
  })),
);

const DATE_COLUMNS = new Set(["domain_registered", "domain_expires"]);

/**
 * Columns written as they are, as csv-export writes them in the flagship `leads.csv`
 * (`escapeFormulas: false`): `phone_e164` (`+49301234567`) is for CRMs and dialers, which would
 * keep a leading `'`; it holds a `+` and digits only, nothing a spreadsheet could run.
 */
export const UNGUARDED_COLUMNS: ReadonlySet<string> = new Set(["phone_e164"]);
const UNGUARDED_AT = new Set(
  LEADS_CSV_COLUMNS.flatMap(([h], i) => UNGUARDED_COLUMNS.has(h) ? [i] : []),
);

/** A phone number in E.164: `+` and digits, nothing a spreadsheet runs. */
const E164 = /^\+\d{4,15}$/;

// A cell starting with = + - @ is quoted for spreadsheets (as the API's export does), but for
// the columns above when the value is what they promise (their positions come before the
// input's columns, so they are fixed): anything else there is guarded like any cell.
const SPREADSHEET_SAFE = {
  escape_formulas: true,
  cast: {
    string: (value: string, ctx: { column?: number | string }) =>
      typeof ctx.column === "number" && UNGUARDED_AT.has(ctx.column) && E164.test(value)
        ? { value, escape_formulas: false }
        : value,
  },
} as const;
const HEADER_SAFE = { escape_formulas: true } as const;

/** `score_reasons` as one line (`reason (+30); …`) for items scored without a summary. */
function reasonsLine(item: Item): string {
  const reasons = item.score_reasons;
  if (!Array.isArray(reasons)) return "";
  return reasons.map((r) => {
    if (typeof r !== "object" || r === null) return String(r);
    const o = r as Record<string, unknown>;
    const pts = typeof o.points === "number" ? ` (${o.points > 0 ? "+" : ""}${o.points})` : "";
    return `${String(o.reason ?? o.rule ?? "")}${pts}`;
  }).join("; ");
}

/** The sheet's header: `"*"` becomes the input's other columns (`inputNames`). */
export function leadsCsvHeader(inputNames: string[] = []): string[] {
  return LEADS_CSV_COLUMNS.flatMap(([h]) => h === INPUT_COLUMNS ? inputNames : [h]);
}

/**
 * The sheet's first line: a byte order mark (Excel reads UTF-8) and the header, whose input
 * column names come from the uploaded file and are guarded against formulas like the cells.
 */
export function leadsCsvHeaderLine(inputNames: string[] = []): string {
  return "\ufeff" + stringify([leadsCsvHeader(inputNames)], HEADER_SAFE);
}

/**
 * One row of the sheet; `siblings`: the other domains of its business among the stage's items
 * (or just their names), and those with a working website; `inputNames`: the input's other
 * columns the sheet shows.
 */
export function leadsCsvRow(
  item: Item,
  siblings: string[] | Siblings = [],
  inputNames: string[] = [],
): string[] {
  const s = Array.isArray(siblings) ? { sameBusinessAs: siblings, websiteElsewhere: [] } : siblings;
  return LEADS_CSV_COLUMNS.flatMap(([header, path]) => {
    if (header === INPUT_COLUMNS) {
      const fields = new Map(inputFields(item, LISTED));
      return inputNames.map((n) => fields.get(n) ?? "");
    }
    return [cell(item, header, path, s)];
  });
}

/**
 * Rows of the sheet ({@linkcode leadsCsvRow}) as CSV text: cells a spreadsheet would run as a
 * formula start with `'`, but in {@linkcode UNGUARDED_COLUMNS}.
 */
export function leadsCsvText(rows: string[][]): string {
  return stringify(rows, SPREADSHEET_SAFE);
}

/** One cell of a named column. */
function cell(item: Item, header: string, path: string, siblings: Siblings): string {
  if (header === SAME_BUSINESS_COLUMN) return siblings.sameBusinessAs.join("; ");
  if (header === WEBSITE_ELSEWHERE_COLUMN) return siblings.websiteElsewhere.join("; ");
  if (header === ALSO_LISTED_COLUMN) return alsoListedOf(item).join("; ");
  let v = fieldValue(item, path);
  if (header === "domain" && (v === undefined || v === "")) v = item.key;
  if (header === "score_reasons" && (v === undefined || v === "")) return reasonsLine(item);
  if (v === undefined || v === null) return "";
  if (DATE_COLUMNS.has(header) && typeof v === "string" && /^\d{4}-\d\d-\d\d/.test(v)) {
    return v.slice(0, 10);
  }
  if (header === "lead") return v === true ? "yes" : v === false ? "no" : String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join("; ");
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

/**
 * The sheet of the items `query` selects. Sorted as the table sorts (the same query, so at most
 * {@linkcode MAX_SORTED} items, as the table); unsorted, the items stream in stage order.
 */
export async function leadsCsv(
  store: Store,
  run: RunRecord,
  query: ItemQuery,
): Promise<ReadableStream<Uint8Array>> {
  const enc = new TextEncoder();
  const sorted = query.sort
    ? (await queryItems(store, run, query, { limit: MAX_SORTED })).items
    : undefined;
  const pred = itemPredicate(query);
  const selected = async function* (): AsyncGenerator<Item> {
    if (sorted) yield* sorted;
    else {
      for await (const e of stageItems(store, run, query.stage)) if (pred(e.item)) yield e.item;
    }
  };
  return new ReadableStream<Uint8Array>({
    async start(ctl) {
      try {
        // A first pass finds the businesses under more than one domain among all the stage's
        // items, shown or not (a live site elsewhere), and the selection's other input columns.
        const siblings = new SiblingIndex();
        const inputNames = new InputColumnNames();
        for await (const e of stageItems(store, run, query.stage)) {
          const shown = pred(e.item);
          const row = siblingOf(e.item, shown);
          if (row) siblings.add(row);
          if (!sorted && shown) inputNames.add(inputFields(e.item, LISTED));
        }
        for (const item of sorted ?? []) inputNames.add(inputFields(item, LISTED));
        const names = inputNames.names;
        ctl.enqueue(enc.encode(leadsCsvHeaderLine(names)));
        let rows: string[][] = [];
        const flush = () => {
          if (rows.length) ctl.enqueue(enc.encode(leadsCsvText(rows)));
          rows = [];
        };
        for await (const item of selected()) {
          rows.push(
            leadsCsvRow(item, siblings.others(businessIdentity(item), rowDomain(item)), names),
          );
          if (rows.length >= 500) flush();
        }
        flush();
        ctl.close();
      } catch (e) {
        ctl.error(e);
      }
    },
  });
}
