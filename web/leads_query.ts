/**
 * The leads table's filter form (status, band, lead, score range, text, sort) turned into the
 * items API's query (`filter=`, `where=`, `sort=`), so the table, its pages and the CSV/JSONL
 * download use exactly the same selection as `GET /api/v1/runs/{id}/items[/export]`.
 * @module
 */
import { itemIndexStage } from "../core/store/item_index.ts";
import type { RunRecord } from "../core/store/store.ts";
import type { Item } from "../sdk/types.ts";

/** The form's fields (all optional). */
export interface LeadsForm {
  stage?: string;
  status?: string;
  band?: string;
  /** `true`, `false` or empty (any). */
  lead?: string;
  min?: string;
  max?: string;
  /** Text searched (case-insensitive) in domain and name. */
  q?: string;
  sort?: string;
  cursor?: string;
  /**
   * Items a text search checked before `cursor`, carried by its "continue searching" link (a
   * search stops after a bounded number of items per page); unknown after other links.
   */
  scanned?: string;
}

/** Field names of the form. */
export const LEADS_FIELDS = [
  "stage",
  "status",
  "band",
  "lead",
  "min",
  "max",
  "q",
  "sort",
  "cursor",
  "scanned",
] as const;

/** Reads the form from URL search parameters. */
export function leadsForm(params: URLSearchParams): LeadsForm {
  const f: LeadsForm = {};
  for (const k of LEADS_FIELDS) {
    const v = params.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f;
}

/** RE2 pattern matching `text` literally. */
function literalRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A CEL string literal. */
function celString(s: string): string {
  return `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** The API query of the form: repeated `filter`, optional `where` and `sort`. */
export function apiQuery(f: LeadsForm): { filters: string[]; where?: string; sort?: string } {
  const filters: string[] = [];
  if (f.status) filters.push(`website.status=${f.status}`);
  if (f.band) filters.push(`band=${f.band}`);
  if (f.lead === "true" || f.lead === "false") filters.push(`lead=${f.lead}`);
  if (f.min && Number.isFinite(Number(f.min))) filters.push(`score>=${Number(f.min)}`);
  if (f.max && Number.isFinite(Number(f.max))) filters.push(`score<=${Number(f.max)}`);
  let where: string | undefined;
  if (f.q) {
    const re = celString(`(?i)${literalRegex(f.q)}`);
    where = `item.domain.matches(${re}) || item.name.matches(${re})`;
  }
  return { filters, where, sort: f.sort };
}

/**
 * A necessary condition of the text search's CEL `where` (see {@link apiQuery}), evaluated
 * natively: an item can match only if its domain or name contains `q` ignoring ASCII case. Text
 * with other characters is left to CEL (its case folding is Unicode's), so this never drops a
 * match; it only spares CEL the items that cannot match.
 */
export function textPrefilter(q?: string): ((item: Item) => boolean) | undefined {
  // deno-lint-ignore no-control-regex
  const ascii = /^[\x00-\x7f]*$/;
  if (!q || !ascii.test(q)) return undefined;
  const needle = q.toLowerCase();
  return (item) => {
    for (const v of [item.domain, item.name]) {
      if (typeof v !== "string") continue;
      if (!ascii.test(v) || v.toLowerCase().includes(needle)) return true;
    }
    return false;
  };
}

/** The stage whose items the table shows: the form's, else the last stage that is not a sink. */
export function leadsStage(run: RunRecord, stage?: string): string {
  if (stage && run.stages.some((s) => s.id === stage)) return stage;
  // The same stage the store indexes (`itemIndexStage`), so the default table uses the index.
  return run.stages[itemIndexStage(run)].id;
}

/** URL of the API's export of the form's selection. */
export function exportUrl(run: RunRecord, f: LeadsForm, format: "csv" | "jsonl"): string {
  const q = apiQuery(f);
  const u = new URLSearchParams({ format, stage: leadsStage(run, f.stage) });
  for (const x of q.filters) u.append("filter", x);
  if (q.where) u.set("where", q.where);
  return `/api/v1/runs/${run.id}/items/export?${u}`;
}

/**
 * URL of the leads table's sales sheet (`web/leads_csv.ts`): the form's selection in the
 * table's order; paging fields are left out (the sheet holds every matching item).
 */
export function sheetUrl(runId: string, f: LeadsForm): string {
  const s = leadsUrl(runId, f, { cursor: undefined, scanned: undefined });
  return s.replace("/items", "/items.csv");
}

/** URL of the leads page with the form's fields, `patch` applied. */
export function leadsUrl(runId: string, f: LeadsForm, patch: Partial<LeadsForm> = {}): string {
  const u = new URLSearchParams();
  const all = { ...f, ...patch };
  for (const k of LEADS_FIELDS) if (all[k]) u.set(k, all[k]!);
  const s = u.toString();
  return `/runs/${runId}/items${s ? `?${s}` : ""}`;
}
