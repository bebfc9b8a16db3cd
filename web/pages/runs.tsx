/**
 * Runs: the filterable list and the run page (per-stage progress bars, counters and timings that
 * `app.js` keeps live over Server-Sent Events; dead letters with replay; cancel and retry; the
 * run's rejected items and errors tagged by stage and chunk).
 * @module
 */
import type { DeadLetter, RunRecord } from "../../core/store/store.ts";
import { noticeText, type NoticeView } from "../../core/http/run_views.ts";
import { duration, fileSize, num, shortPaths, when } from "../format.ts";
import { Empty, JsonData, LongText, StateBadge } from "../layout.tsx";
import { percent, runProgress } from "../progress.ts";

/** The list's filter. */
export interface RunFilterForm {
  pipeline?: string;
  state?: string;
  trigger?: string;
}

/** The run list with its filter form. */
export function RunList(
  p: { runs: RunRecord[]; filter: RunFilterForm; next?: string; pipelines: string[] },
) {
  const q = (cursor?: string) => {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(p.filter)) if (v) u.set(k, v);
    if (cursor) u.set("cursor", cursor);
    return `/runs?${u}`;
  };
  return (
    <>
      <form class="filters" method="get" action="/runs">
        <p>
          <label for="f-pipeline">Pipeline</label>
          <select id="f-pipeline" name="pipeline">
            <option value="">any</option>
            {p.pipelines.map((n) => (
              <option value={n} selected={n === p.filter.pipeline}>{n}</option>
            ))}
          </select>
        </p>
        <p>
          <label for="f-state">State</label>
          <select id="f-state" name="state">
            <option value="">any</option>
            {["queued", "running", "succeeded", "failed", "cancelled"].map((s) => (
              <option value={s} selected={s === p.filter.state}>{s}</option>
            ))}
          </select>
        </p>
        <p>
          <label for="f-trigger">Trigger</label>
          <select id="f-trigger" name="trigger">
            <option value="">any</option>
            {["ui", "api", "cli", "cron", "webhook", "retry"].map((s) => (
              <option value={s} selected={s === p.filter.trigger}>{s}</option>
            ))}
          </select>
        </p>
        <p>
          <button type="submit">Filter</button>
        </p>
      </form>
      {p.runs.length === 0
        ? <Empty>No runs match. Start one from a pipeline's page.</Empty>
        : (
          <div class="scroll-x">
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Run</th>
                  <th scope="col">Pipeline</th>
                  <th scope="col">State</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Created</th>
                  <th scope="col" class="n">Duration</th>
                </tr>
              </thead>
              <tbody>
                {p.runs.map((r) => (
                  <tr>
                    <td>
                      <a href={`/runs/${r.id}`}>
                        <code>{r.id}</code>
                      </a>
                    </td>
                    <td>{r.pipeline}</td>
                    <td>
                      <StateBadge state={r.state} />
                    </td>
                    <td>{r.trigger.kind}{r.trigger.id ? ` · ${r.trigger.id}` : ""}</td>
                    <td>{when(r.createdAt)}</td>
                    <td class="n">
                      {duration(
                        r.startedAt && r.finishedAt ? r.finishedAt - r.startedAt : undefined,
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <nav class="pager" aria-label="Pages">
        {p.next && <a href={q(p.next)} rel="next">Older runs →</a>}
      </nav>
    </>
  );
}

/** A run detail as `runDetail` in `core/http/run_views.ts` builds it. */
export interface RunDetailView {
  id: string;
  pipeline: string;
  state: string;
  trigger: { kind: string; id?: string };
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  inputs: Record<string, unknown>;
  durationMs?: number;
  source: { chunksRead: number; done: boolean };
  stageDetails: {
    id: string;
    plugin: string;
    counters: {
      in: number;
      out: number;
      filtered: number;
      skipped: number;
      failed: number;
      rejected: number;
      chunksDone: number;
      chunksDead: number;
      busyMs: number;
    };
  }[];
  /** Items the run's rejected list holds so far (rejected rows and skipped chunks' items). */
  rejectedItems: number;
  deadLetters: number;
  /** Files the run's stages finished for download (present once it succeeded). */
  artifacts?: { stage: string; name: string; bytes: number; url: string }[];
  /** What stages counted over the run for a person to see (once it ended). */
  notes?: { stage: string; key: string; count: number; text: string }[];
  /** Its onFailure/onSuccess notices not delivered yet (being sent, pending or given up). */
  notices?: NoticeView[];
}

/** One rejected item or error, tagged by stage and chunk. */
export interface RunEvent {
  stage: string;
  chunk: number;
  key?: string;
  message: string;
  kind: "rejected" | "dead letter" | "log";
  /** For log lines: info, warn or error. */
  level?: string;
}

/** A page of a run's rejected items (`rejectedPage` in `web/ui_data.ts`). */
export interface RejectedRows {
  rows: RunEvent[];
  /** Index of the first row. */
  from: number;
  /** True when more follow. */
  more: boolean;
  /** How many the run rejected in all. */
  total: number;
}

/** Log lines shown on the run page. */
export const LOG_LINES = 200;

/** Rejected items per page of the run page. */
export const REJECTED_PAGE = 200;

const FINAL = ["succeeded", "failed", "cancelled"];

/** Text with absolute file paths shortened to file names; the whole text in its title. */
function Short(p: { text: string; code?: boolean }) {
  const short = shortPaths(p.text);
  const body = <LongText text={short} />;
  const title = short === p.text ? undefined : p.text;
  return p.code ? <code title={title}>{body}</code> : <span title={title}>{body}</span>;
}

/** The rejected items section: a page of them, paging links and downloads of all of them. */
function RejectedSection(p: { runId: string; r: RejectedRows; final: boolean }) {
  const { rows, from, more, total } = p.r;
  const page = (at: number) => `/runs/${p.runId}?rejected=${at}#rejected-h`;
  return (
    <section aria-labelledby="rejected-h">
      <h2 id="rejected-h">Rejected items</h2>
      {total === 0 && rows.length === 0
        ? (
          <Empty id="rejected-empty">
            {p.final ? "Nothing rejected." : "Nothing rejected so far."}
          </Empty>
        )
        : (
          <>
            <p class="actions" id="rejected-summary">
              <span>
                {from === 0 && !more
                  ? `All ${num(rows.length)} rejected item(s).`
                  : from === 0
                  ? `Showing the first ${num(rows.length)} of ${num(total)} rejected items.`
                  : `Showing rejected items ${num(from + 1)}–${num(from + rows.length)} of ${
                    num(total)
                  }.`}
              </span>
              {from > 0 && (
                <a href={page(Math.max(0, from - REJECTED_PAGE))} id="rejected-prev">
                  ← Previous {REJECTED_PAGE}
                </a>
              )}
              {more && (
                <a href={page(from + rows.length)} rel="next" id="rejected-next">
                  Next {REJECTED_PAGE} →
                </a>
              )}
              <a
                class="button"
                id="rejected-csv"
                href={`/runs/${p.runId}/rejected?format=csv`}
                download
              >
                Download all (CSV)
              </a>
              <a
                class="button"
                id="rejected-jsonl"
                href={`/runs/${p.runId}/rejected?format=jsonl`}
                download
              >
                Download all (JSON lines)
              </a>
            </p>
            {rows.length === 0
              ? <Empty>No rejected items on this page.</Empty>
              : (
                <div class="scroll-x">
                  <table class="log" id="rejected">
                    <thead>
                      <tr>
                        <th scope="col">Stage</th>
                        <th scope="col" class="n">Chunk</th>
                        <th scope="col">Item</th>
                        <th scope="col">Reason</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((x) => (
                        <tr>
                          <td>{x.stage}</td>
                          <td class="n">{x.chunk}</td>
                          <td>
                            <Short text={x.key ?? ""} code />
                          </td>
                          <td>
                            <Short text={x.message} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
          </>
        )}
    </section>
  );
}

/** The run page body. */
export function RunPage(
  p: {
    d: RunDetailView;
    dead: DeadLetter[];
    /** Log lines (at most {@link LOG_LINES}). */
    events: RunEvent[];
    rejected: RejectedRows;
    canOperate: boolean;
    /** Leads of a succeeded run (`LeadCounter.count`); absent while it runs. */
    leads?: { leads: number; partial: boolean; field: boolean };
  },
) {
  const d = p.d;
  const prog = runProgress(d);
  const final = FINAL.includes(d.state);
  return (
    <div id="run" data-run={d.id} data-final={final ? "1" : "0"}>
      <JsonData id="run-data" value={d} />
      <div class="run-head">
        <p>
          <span id="run-state">
            <StateBadge state={d.state} />
          </span>{" "}
          pipeline <a href={`/pipelines/${d.pipeline}`}>{d.pipeline}</a> · trigger {d.trigger.kind}
          {d.trigger.id ? ` (${d.trigger.id})` : ""} · created {when(d.createdAt)} · duration{" "}
          <span id="run-duration">{duration(d.durationMs)}</span>
        </p>
        <p class="actions">
          <a class="button" href={`/runs/${d.id}/items`}>Items and leads</a>
          {p.canOperate && (
            <>
              <button
                type="button"
                data-post={`/api/v1/runs/${d.id}/cancel`}
                data-confirm="Cancel this run?"
                disabled={final}
                id="cancel"
              >
                Cancel
              </button>
              <button
                type="button"
                data-post={`/api/v1/runs/${d.id}/retry`}
                disabled={d.state !== "failed"}
                id="retry"
              >
                Retry failed chunks
              </button>
            </>
          )}
        </p>
      </div>
      {p.leads?.field && (
        <p id="run-leads" class="run-leads">
          <strong>
            {`${num(p.leads.leads)}${p.leads.partial ? "+" : ""} lead${
              p.leads.leads === 1 ? "" : "s"
            }`}
          </strong>{" "}
          {p.leads.leads > 0
            ? (
              <a href={`/runs/${d.id}/items?lead=true&sort=-score`} id="run-leads-link">
                See the leads, best first
              </a>
            )
            : <span class="sub">in this run</span>}
        </p>
      )}
      {(d.notices?.length ?? 0) > 0 && (
        <ul id="run-notices" class="sub">
          {d.notices!.map((n) => <li key={`${n.notice}-${n.state}`}>{noticeText(n)}</li>)}
        </ul>
      )}
      {(d.notes?.length ?? 0) > 0 && (
        <section aria-labelledby="notes-h" id="run-notes">
          <h2 id="notes-h">Notes</h2>
          <ul>
            {d.notes!.map((n) => <li key={`${n.stage}/${n.key}`}>{`${n.stage}: ${n.text}`}</li>)}
          </ul>
        </section>
      )}
      {(d.artifacts?.length ?? 0) > 0 && (
        <section aria-labelledby="files-h" id="run-files">
          <h2 id="files-h">Files</h2>
          <ul>
            {d.artifacts!.map((a) => (
              <li>
                <a href={a.url} download={a.name}>{a.name}</a>{" "}
                <span class="sub">{`${fileSize(a.bytes)} · written by ${a.stage}`}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <p class="overall">
        <label for="overall-bar">Overall</label>
        <progress
          id="overall-bar"
          max={100}
          value={prog.overall === undefined ? undefined : Math.floor(prog.overall * 100)}
        >
          {percent(prog.overall)}
        </progress>
        <output id="overall-text" for="overall-bar">{percent(prog.overall)}</output>
      </p>
      <p id="run-error" class="err" role="alert" hidden={!d.error}>{d.error ?? ""}</p>
      <div class="scroll-x">
        <table class="stages" aria-describedby="stages-note">
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col" class="bar">Progress</th>
              <th scope="col" class="n">In</th>
              <th scope="col" class="n">Out</th>
              <th scope="col" class="n">Filtered</th>
              <th scope="col" class="n">Skipped</th>
              <th scope="col" class="n">Failed</th>
              <th scope="col" class="n">Rejected</th>
              <th scope="col" class="n">Chunks</th>
              <th scope="col" class="n">Busy</th>
            </tr>
          </thead>
          <tbody>
            {d.stageDetails.map((s, i) => {
              const sp = prog.stages[i];
              const c = s.counters;
              return (
                <tr data-stage={s.id}>
                  <th scope="row">
                    {s.id} <span class="sub">{s.plugin}</span>
                  </th>
                  <td class="bar">
                    <progress
                      max={100}
                      value={sp.fraction === undefined ? undefined : Math.floor(sp.fraction * 100)}
                      aria-label={`${s.id} progress`}
                    >
                      {percent(sp.fraction)}
                    </progress>
                    <span class="pct" data-f="pct">{percent(sp.fraction)}</span>
                  </td>
                  <td class="n" data-f="in">{num(c.in)}</td>
                  <td class="n" data-f="out">{num(c.out)}</td>
                  <td class="n" data-f="filtered">{num(c.filtered)}</td>
                  <td class="n" data-f="skipped">{num(c.skipped)}</td>
                  <td class="n" data-f="failed">{num(c.failed)}</td>
                  <td class="n" data-f="rejected">{num(c.rejected)}</td>
                  <td class="n" data-f="chunks">{`${num(sp.settled)}/${num(sp.total)}`}</td>
                  <td class="n" data-f="busy">{duration(c.busyMs)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p id="stages-note" class="sub">
        Chunks: settled (done or dead-lettered) of those the source has read so far.
        <span id="live-note">{final ? "" : " Updates live."}</span>
      </p>
      {Object.keys(d.inputs).length > 0 && (
        <details>
          <summary>Inputs</summary>
          <pre>{JSON.stringify(d.inputs, null, 2)}</pre>
        </details>
      )}
      <section aria-labelledby="dead-h">
        <h2 id="dead-h">Dead letters</h2>
        {p.dead.length === 0
          ? <Empty id="dead-empty">{final ? "No dead letters." : "No dead letters so far."}</Empty>
          : (
            <>
              <p class="sub" id="dead-note">
                Parked after their last attempt: nothing retries them until they are replayed
                (Replay all, or{" "}
                <code>sluice runs retry {d.id}</code>), also when their error speaks of a retry.
              </p>
              {p.canOperate && (
                <p>
                  <button type="button" data-post={`/api/v1/runs/${d.id}/dead-letters/replay`}>
                    Replay all {p.dead.length}
                  </button>
                </p>
              )}
              <div class="scroll-x">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Stage</th>
                      <th scope="col" class="n">Chunk</th>
                      <th scope="col" class="n">Items</th>
                      <th scope="col" class="n">Attempts</th>
                      <th scope="col">Error</th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.dead.map((x) => (
                      <tr>
                        <td>{x.stageId}</td>
                        <td class="n">{x.chunk}</td>
                        <td class="n">{x.items}</td>
                        <td class="n">{x.attempts}</td>
                        <td class="err">{x.error}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
      </section>
      <section aria-labelledby="ev-h">
        <h2 id="ev-h">Log</h2>
        {p.events.length === 0 ? <Empty>No log lines.</Empty> : (
          <>
            {p.events.length >= LOG_LINES && (
              <p class="sub">Showing the first {LOG_LINES} log lines.</p>
            )}
            <div class="scroll-x">
              <table class="log">
                <thead>
                  <tr>
                    <th scope="col">Stage</th>
                    <th scope="col" class="n">Chunk</th>
                    <th scope="col">Level</th>
                    <th scope="col">Message</th>
                  </tr>
                </thead>
                <tbody>
                  {p.events.map((x) => (
                    <tr>
                      <td>{x.stage}</td>
                      <td class="n" title={x.chunk < 0 ? "the run as a whole" : undefined}>
                        {x.chunk < 0 ? "—" : x.chunk}
                      </td>
                      <td>{x.level ?? ""}</td>
                      <td>
                        <Short text={x.message} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
      <RejectedSection runId={d.id} r={p.rejected} final={final} />
    </div>
  );
}
