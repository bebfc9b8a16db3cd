// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, no keys
/**
 * A run's items as a leads table: filters by status, band, lead, score range and text, sortable
 * columns, server-side pages, each row expandable to its signals, evidence and score reasons,
 * and downloads (CSV, JSON lines) of exactly the current selection.
 * @module
 */
import type { Item } from "../../sdk/types.ts";
import type { RunRecord } from "../../core/store/store.ts";
import { fieldValue } from "../../core/http/items.ts";
import { WEBSITE_STATUSES } from "../../sdk/website.ts";
import { cell, num } from "../format.ts";
import { Empty, LongText } from "../layout.tsx";
import { exportUrl, type LeadsForm, leadsStage, leadsUrl, sheetUrl } from "../leads_query.ts";

/** Website statuses the classify stage gives. */
export const STATUSES: readonly string[] = WEBSITE_STATUSES;

const COLUMNS: [string, string][] = [
  ["domain", "Domain"],
  ["name", "Name"],
  ["website.status", "Status"],
  ["lead", "Lead"],
  ["score", "Score"],
  ["band", "Band"],
  ["city", "City"],
];

/** Columns whose first click sorts descending (highest first). */
const DESCENDING_FIRST: ReadonlySet<string> = new Set(["score"]);

function Reasons(p: { item: Item }) {
  const signals = fieldValue(p.item, "website.signals");
  const reasons = p.item.score_reasons;
  // The page the verdict was judged on (the sheet's evidence_url): a link only when it is a web
  // address, so a value from an input file cannot become a script link.
  const url = fieldValue(p.item, "website.url");
  const evidence = typeof url === "string" && /^https?:\/\//i.test(url) ? url : undefined;
  return (
    <div class="item-detail">
      {typeof p.item.lead_reason === "string" && (
        <p>
          <strong>Why:</strong> <LongText text={p.item.lead_reason} />
        </p>
      )}
      {evidence && (
        <p class="evidence">
          <strong>Evidence:</strong>{" "}
          <a href={evidence} target="_blank" rel="noopener noreferrer nofollow">
            {evidence}
          </a>{" "}
          <span class="sub">(the page the verdict was judged on; opens in a new tab)</span>
        </p>
      )}
      {Array.isArray(signals) && signals.length > 0 && (
        <>
          <h3>Signals</h3>
          <ul>
            {signals.map((s) => {
              const o = (s ?? {}) as Record<string, unknown>;
              return (
                <li>
                  <code>{cell(o.id)}</code> {o.status ? `→ ${cell(o.status)}` : ""}{" "}
                  {o.strength ? `(${cell(o.strength)})` : ""}: <LongText text={cell(o.evidence)} />
                </li>
              );
            })}
          </ul>
        </>
      )}
      {Array.isArray(reasons) && reasons.length > 0 && (
        <>
          <h3>Score reasons</h3>
          <ul>
            {reasons.map((r) => {
              if (typeof r !== "object" || r === null) {
                return (
                  <li>
                    <LongText text={cell(r)} />
                  </li>
                );
              }
              const o = r as Record<string, unknown>;
              return (
                <li>
                  {typeof o.points === "number" && o.points > 0 ? "+" : ""}
                  {cell(o.points)} <LongText text={cell(o.reason ?? o.id)} />
                </li>
              );
            })}
          </ul>
        </>
      )}
      <details>
        <summary>All fields</summary>
        <pre>{JSON.stringify(p.item, null, 2)}</pre>
      </details>
    </div>
  );
}

/** A summary line's text: at most 200 characters (the whole value is in the row's details). */
function clip(v: string): string {
  return v.length > 200 ? `${v.slice(0, 200)}…` : v;
}

/** Properties of {@link LeadsPage}. */
export interface LeadsProps {
  run: RunRecord;
  form: LeadsForm;
  items: Item[];
  next?: string;
  /** Error of the query (e.g. a bad filter), shown instead of rows. */
  error?: string;
  /**
   * Set when the search stopped before the end of the stage (it checks a bounded number of
   * items per page): `next` then continues the search rather than leading to a next page.
   */
  partial?: {
    /** Items checked by this page. */
    checked: number;
    /** Items checked from the start, when known. */
    searched?: number;
    /** Items of the stage, when known. */
    total?: number;
  };
}

/** The notice of a search that stopped early: how far it got, and a link to go on. */
function PartialSearch(p: LeadsProps & { next: string }) {
  const part = p.partial!;
  const of = part.total === undefined ? "" : ` of ${num(part.total)}`;
  const found = `${num(p.items.length)} match${p.items.length === 1 ? "" : "es"}`;
  const searched = part.searched === undefined
    ? `searched ${num(part.checked)} more items${of}`
    : `searched ${num(part.searched)}${of} items`;
  const scanned = part.searched === undefined ? undefined : String(part.searched);
  return (
    <p class="notice" id="search-partial" role="status">
      The search is not finished: it {searched} and found {found}{" "}
      {p.form.cursor ? "on this page" : "so far"}; each page searches at most {num(part.checked)}
      {" "}
      items.{" "}
      <a
        href={leadsUrl(p.run.id, p.form, { cursor: p.next, scanned })}
        id="continue-search"
      >
        Continue searching →
      </a>
    </p>
  );
}

/** The leads page body. */
export function LeadsPage(p: LeadsProps) {
  const f = p.form;
  const stage = leadsStage(p.run, f.stage);
  const sortLink = (col: string) => {
    // Scores are read best first: the first click on Score sorts highest first.
    const first = DESCENDING_FIRST.has(col) ? `-${col}` : col;
    const other = first.startsWith("-") ? col : `-${col}`;
    const dir = f.sort === first ? other : first;
    return leadsUrl(p.run.id, f, { sort: dir, cursor: undefined, scanned: undefined });
  };
  const ariaSort = (col: string) =>
    f.sort === col ? "ascending" : f.sort === `-${col}` ? "descending" : undefined;
  return (
    <div id="leads" data-run={p.run.id}>
      <p class="sub">
        Run{" "}
        <a href={`/runs/${p.run.id}`}>
          <code>{p.run.id}</code>
        </a>{" "}
        of {p.run.pipeline}, items after stage <strong>{stage}</strong>.
      </p>
      <form class="filters" method="get" action={`/runs/${p.run.id}/items`} id="leads-filter">
        <p>
          <label for="l-stage">Stage</label>
          <select id="l-stage" name="stage">
            {p.run.stages.map((s) => <option value={s.id} selected={s.id === stage}>{s.id}
            </option>)}
          </select>
        </p>
        <p>
          <label for="l-status">Status</label>
          <select id="l-status" name="status">
            <option value="">any</option>
            {STATUSES.map((s) => <option value={s} selected={s === f.status}>{s}</option>)}
          </select>
        </p>
        <p>
          <label for="l-band">Band</label>
          <select id="l-band" name="band">
            <option value="">any</option>
            {["hot", "warm", "cool", "cold"].map((s) => (
              <option value={s} selected={s === f.band}>{s}</option>
            ))}
          </select>
        </p>
        <p>
          <label for="l-lead">Lead</label>
          <select id="l-lead" name="lead">
            <option value="">any</option>
            <option value="true" selected={f.lead === "true"}>leads only</option>
            <option value="false" selected={f.lead === "false"}>not leads</option>
          </select>
        </p>
        <p>
          <label for="l-min">Score from</label>
          <input
            id="l-min"
            name="min"
            type="number"
            min={0}
            max={100}
            value={f.min ?? ""}
            class="short"
          />
        </p>
        <p>
          <label for="l-max">to</label>
          <input
            id="l-max"
            name="max"
            type="number"
            min={0}
            max={100}
            value={f.max ?? ""}
            class="short"
          />
        </p>
        <p>
          <label for="l-q">Domain or name contains</label>
          <input id="l-q" name="q" type="search" value={f.q ?? ""} />
        </p>
        {f.sort && <input type="hidden" name="sort" value={f.sort} />}
        <p>
          <button type="submit" id="apply-filter">Apply</button>
        </p>
      </form>
      <p class="actions">
        <a
          class="button"
          id="download-csv"
          href={sheetUrl(p.run.id, f)}
          download
          title="The rows of this list, in this order: business, contact, status, why, score, band, score reasons, mail, registration dates"
        >
          Download CSV
        </a>
        <a class="button" id="download-jsonl" href={exportUrl(p.run, f, "jsonl")} download>
          Download JSON lines
        </a>
        <a id="download-all-csv" href={exportUrl(p.run, f, "csv")} download>
          CSV with every field
        </a>
        <a href={leadsUrl(p.run.id, {})}>Clear filters</a>
      </p>
      {p.error ? <p class="err" role="alert">{p.error}</p> : p.items.length === 0
        ? (
          <Empty>
            {p.partial
              ? "No match among the items searched so far."
              : `No items match these filters${f.cursor ? " on this page" : ""}.`}
          </Empty>
        )
        : (
          <div class="scroll-x">
            <table class="list leads">
              <thead>
                <tr>
                  {COLUMNS.map(([k, label]) => (
                    <th scope="col" aria-sort={ariaSort(k)} class={k === "score" ? "n" : undefined}>
                      <a href={sortLink(k)}>
                        {label}
                        {f.sort === k ? " ▲" : f.sort === `-${k}` ? " ▼" : ""}
                      </a>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {p.items.map((it) => (
                  <tr
                    class={it.lead === false ? "not-lead" : undefined}
                    title={it.lead === false ? "not a lead: open the row to see why" : undefined}
                  >
                    {COLUMNS.map(([k], i) => {
                      const v = cell(fieldValue(it, k));
                      if (i === 0) {
                        return (
                          <td>
                            <details class="row-detail">
                              <summary>{clip(v || it.key)}</summary>
                              <Reasons item={it} />
                            </details>
                          </td>
                        );
                      }
                      return (
                        <td
                          class={k === "score"
                            ? "n"
                            : k === "website.status"
                            ? `st st-${v}`
                            : undefined}
                        >
                          <LongText text={v} max={200} />
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {p.partial && p.next && <PartialSearch {...p} next={p.next} />}
      <nav class="pager" aria-label="Pages">
        {f.cursor && (
          <a href={leadsUrl(p.run.id, f, { cursor: undefined, scanned: undefined })}>
            ← First page
          </a>
        )}
        {p.next && !p.partial && (
          <a
            href={leadsUrl(p.run.id, f, { cursor: p.next, scanned: undefined })}
            rel="next"
            id="next-page"
          >
            Next page →
          </a>
        )}
      </nav>
    </div>
  );
}
