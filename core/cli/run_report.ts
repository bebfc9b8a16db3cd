/**
 * What the CLI prints about a run: its summary (counters, what its export stages reported) and
 * the items it rejected, with their reasons.
 * @module
 */
import { FINAL_STATES, type RunRecord, type Store } from "../store/store.ts";
import { exportLines, runRejected } from "./output.ts";
import type { CliIO } from "./run_command.ts";
import { resolve } from "../paths.ts";
import { countLeads, type LeadCount } from "../store/lead_count.ts";
import { readRunEndLog, tallyTotals } from "../store/run_tallies.ts";
import { LEFT_OUT_NOTE } from "../../sdk/sink/keyed_rows.ts";

/** Options of {@linkcode summary}. */
export interface SummaryOptions {
  /**
   * How long this process followed the run (ms), shown beside the run's total when the run was
   * resumed: then the total, from the store, also counts the time before the interruption.
   */
  thisProcessMs?: number;
  /** The data folder: the run's files are named by their full path under it. */
  dataDir?: string;
  /**
   * The unfinished run's process is gone (as `sluice runs list` marks it): the first line says
   * `interrupted` and the time since the run started, not `running in …` with a rate.
   */
  interrupted?: boolean;
}

/** A duration for people: `12.3s`, `4m 05s`, `2h 03m`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
}

/**
 * A run's summary: per-stage counters, failures, duration, what its export stages reported at
 * the end, what its stages tallied over the run (`sdk/run_tally.ts`), and the files they finished (the run's artifacts). The duration and the rate are the run's whole wall
 * time as the store has it (started to finished, or to now while unfinished), however many
 * processes worked on it; with `opts.thisProcessMs`, this process's part is named too.
 */
export async function summary(
  store: Store,
  run: RunRecord,
  opts: SummaryOptions = {},
): Promise<string> {
  const c = await store.counters(run.id, run.stages.length);
  const dur = (run.finishedAt ?? Date.now()) - (run.startedAt ?? run.createdAt);
  const rows = run.stages.map((st, i) =>
    `  ${st.id.padEnd(16)} ${String(c[i].in).padStart(9)} ${String(c[i].out).padStart(9)} ${
      String(c[i].filtered + c[i].skipped).padStart(9)
    } ${String(c[i].rejected).padStart(9)} ${String(c[i].failed).padStart(9)} ${
      (c[i].busyMs / 1000).toFixed(1).padStart(8)
    }s`
  );
  const head = `  ${"stage".padEnd(16)} ${"in".padStart(9)} ${"out".padStart(9)} ${
    "skip/filt".padStart(9)
  } ${"rejected".padStart(9)} ${"failed".padStart(9)} ${"busy".padStart(9)}`;
  const items = c[0]?.out ?? 0;
  const rate = dur > 0 ? Math.round(items / (dur / 1000)) : 0;
  // The run's log, read once: its exports' run-end lines and what stages counted over the run
  // for a person to see (score rules that did not evaluate).
  const log = await readRunEndLog(store, run);
  const exports = exportLines(run, log).map((e) => `export ${e.stage}: ${e.msg}`);
  const tallies = tallyTotals(run, log).map((t) => `${t.stage}: ${t.text}`);
  // A pipeline that finds leads: how many this run found, from the item index only (a summary
  // after every run must not read the run's items back; PostgreSQL keeps no such index).
  const found = run.state === "succeeded" ? await countLeads(store, run, 0) : undefined;
  const leads = found?.field ? [leadsLine(found, exports)] : [];
  const files = (run.artifacts ?? []).map((a) =>
    `file ${a.stage}: ${opts.dataDir ? resolve(opts.dataDir, a.path) : a.path} (${
      a.bytes.toLocaleString("en-US")
    } bytes)`
  );
  const part = opts.thisProcessMs === undefined
    ? ""
    : `; this process: ${formatDuration(opts.thisProcessMs)}`;
  const first = opts.interrupted && !FINAL_STATES.includes(run.state)
    ? `run ${run.id} interrupted (started ${formatDuration(dur)} ago)`
    : `run ${run.id} ${run.state} in ${formatDuration(dur)} (${
      rate.toLocaleString("en-US")
    } items/s)${part}`;
  return [
    first,
    head,
    ...rows,
    ...leads,
    ...exports,
    ...tallies,
    ...files,
    run.error ? `error: ${run.error}` : "",
    "",
  ].filter((l, i, a) => l !== "" || i === a.length - 1).join("\n");
}

/**
 * The summary's lead count: `leads: 323` (items with `lead` true), how many got no website
 * verdict, and, when an export left out later rows of a domain it had already written (a domain
 * that came in two chunks), that its file holds one row per domain: so `leads: 323` and an
 * export's `320 row(s) written` (its line follows) do not read as a contradiction.
 */
export function leadsLine(found: LeadCount, exports: string[] = []): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const leftOut = exports.some((l) => l.includes(LEFT_OUT_NOTE));
  return `leads: ${found.partial ? "at least " : ""}${n(found.leads)}` +
    (leftOut
      ? " (items with lead == true; the export files hold one row per domain, so fewer when a " +
        "domain came in two chunks: see the export lines)"
      : "") +
    // Items without a verdict are no leads yet: say so, or "leads: 0" reads as "none exist".
    (found.unknown
      ? `; no website verdict for ${n(found.unknown)} of ${
        n(found.items)
      } (website.status unknown: their lead_reason says why, e.g. a DNS or network setting)`
      : "");
}

/** Items the run refused, all stages. */
export async function rejectedCount(store: Store, run: RunRecord): Promise<number> {
  const c = await store.counters(run.id, run.stages.length);
  return c.reduce((n, s) => n + s.rejected, 0);
}

/** When the run refused anything, says how to see the reasons (without `--out` there is no file). */
export async function rejectedHint(store: Store, run: RunRecord, io: CliIO): Promise<void> {
  const n = await rejectedCount(store, run);
  if (n) {
    io.err(
      `${n} item(s) were rejected; list them with their reasons: sluice runs rejected ${run.id}` +
        ` (or save them: sluice runs rejected ${run.id} --out FILE)\n`,
    );
  }
}

/** How many rejected items `sluice runs show` lists (all of them: `sluice runs rejected`). */
const SHOW_REJECTED = 5;

/** One refused item as a line of text: stage, key and reason, tab-separated. */
function rejectedLine(r: { stage: string | undefined; key: string; reason: string }): string {
  const one = (s: string) => s.replace(/[\t\r\n]+/g, " ");
  return `${r.stage ?? "?"}\t${one(String(r.key))}\t${one(String(r.reason))}`;
}

/**
 * `sluice runs show`: the number of items the run rejected and the first few with their
 * reasons (stage, key, reason), and how to list all of them.
 */
export async function showRejected(store: Store, run: RunRecord, io: CliIO): Promise<void> {
  const rejected = await rejectedCount(store, run);
  if (!rejected) return;
  io.out(
    `rejected: ${rejected} item(s)${
      rejected > SHOW_REJECTED ? `, the first ${SHOW_REJECTED}` : ""
    } (stage, key, reason); all of them: sluice runs rejected ${run.id}\n`,
  );
  let n = 0;
  for await (const r of runRejected(store, run)) {
    io.out(`  ${rejectedLine(r)}\n`);
    if (++n === SHOW_REJECTED) break;
  }
}

/**
 * `sluice runs rejected RUN`: the items the run rejected, in order, one a line on stdout (stage,
 * key and reason, tab-separated; with `json`, JSON objects with the chunk and raw row too), at
 * most `limit`. Says so on stderr when there are none.
 */
export async function listRejected(
  store: Store,
  run: RunRecord,
  io: CliIO,
  o: { limit?: number; json?: boolean } = {},
): Promise<void> {
  const limit = o.limit ?? Infinity;
  let n = 0;
  for await (const r of runRejected(store, run)) {
    if (n >= limit) break;
    io.out((o.json ? JSON.stringify(r) : rejectedLine(r)) + "\n");
    n++;
  }
  if (!n) io.err(`run ${run.id} rejected no items\n`);
}
