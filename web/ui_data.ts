/**
 * Data of the pages that need more than one store read: pipeline rows with their last run, a
 * run's detail and dead letters, its log, its rejected items (tagged by stage and chunk; a page
 * of them, or all as a CSV / JSON-lines download), and a page of its items for the leads table.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { AppDeps } from "../core/http/deps.ts";
import { type ItemQuery, parseFilter, queryItems, stageIndex } from "../core/http/items.ts";
import { HttpProblem } from "../core/http/problem.ts";
import { runDetail } from "../core/http/run_views.ts";
import type { DeadLetter, RunRecord, Store } from "../core/store/store.ts";
import type { Item } from "../sdk/types.ts";
import { apiQuery, type LeadsForm, leadsForm, leadsStage, textPrefilter } from "./leads_query.ts";
import type { PipelineRow } from "./pages/pipelines.tsx";
import type { RejectedRows, RunDetailView, RunEvent } from "./pages/runs.tsx";
import type { LeadsProps } from "./pages/leads.tsx";
import type { PipelineEntry } from "../core/http/deps.ts";
import { sourceFileInfo, sourceFileTarget } from "../core/http/source_file.ts";
import { DEFAULT_UPLOAD_BYTES } from "../core/http/run_upload.ts";
import { resolvePluginRef } from "../core/plugins/manifest.ts";
import type { SourceFileView } from "./pages/source_file.tsx";

/** Pipelines with their newest run. */
export async function pipelineRows(deps: AppDeps): Promise<PipelineRow[]> {
  const entries = (await deps.pipelines.list()).sort((a, b) => a.name.localeCompare(b.name));
  return await Promise.all(entries.map(async (entry) => ({
    entry,
    lastRun: (await deps.store.listRuns({ pipeline: entry.name, limit: 1 })).runs[0],
  })));
}

/**
 * The "Source file" section of a pipeline's page: shown for a source that reads input files (its
 * manifest's `accepts`) with a `with.path`; the file's metadata, or why it cannot be shown (a
 * templated path, one outside the plugin's data folder). Undefined: no section.
 */
export async function sourceFileView(
  deps: AppDeps,
  entry: PipelineEntry,
): Promise<SourceFileView | undefined> {
  const pipeline = entry.pipeline ?? entry.lastGood?.pipeline;
  const path = pipeline?.source.with?.path;
  if (!pipeline || typeof path !== "string" || path === "") return undefined;
  const accepts = resolvePluginRef(deps.registry, pipeline.source.plugin)?.manifest.accepts;
  if (!accepts?.length) return undefined;
  const maxBytes = deps.limits?.uploadBytes ?? DEFAULT_UPLOAD_BYTES;
  try {
    const info = await sourceFileInfo(sourceFileTarget(entry, deps.registry, deps.dataDir));
    return { path, info, maxBytes };
  } catch (e) {
    if (e instanceof HttpProblem) return { path, error: e.message, maxBytes };
    throw e;
  }
}

/** The run `id`; a 404 problem (an error page in the UI) when there is none. */
export async function needRun(store: Store, id: string): Promise<RunRecord> {
  const run = await store.getRun(id);
  if (!run) throw new HttpProblem(404, `no run ${id}; see /runs`);
  return run;
}

/** A run with its detail and dead letters. */
export async function runPageData(
  store: Store,
  id: string,
): Promise<{ run: RunRecord; detail: RunDetailView; dead: DeadLetter[] }> {
  const run = await needRun(store, id);
  const [detail, dead] = await Promise.all([runDetail(store, run), store.listDeadLetters(id)]);
  return { run, detail: detail as RunDetailView, dead };
}

/** Up to `max` log lines of a run. */
export async function runEvents(store: Store, run: RunRecord, max: number): Promise<RunEvent[]> {
  return ((await store.readRunLog?.(run.id, max)) ?? []).map((l) => ({
    stage: l.stage,
    chunk: l.chunk,
    message: l.msg,
    kind: "log" as const,
    level: l.level,
  }));
}

/** Rejected items of a run as stored, each tagged with its stage id. */
export async function* rejectedItems(
  store: Store,
  run: RunRecord,
): AsyncGenerator<{ stage: string; chunk: number; key: string; reason: string; raw?: unknown }> {
  for await (const r of store.readRejected(run.id)) {
    yield {
      stage: run.stages[r.stage]?.id ?? String(r.stage),
      chunk: r.chunk,
      key: r.key,
      reason: r.reason,
      raw: r.raw,
    };
  }
}

/**
 * Rejected items `from`…`from + limit` of a run (stage and chunk order), and how many there are
 * in all (`total`: the stages' `rejected` counters, given as `counted`).
 */
export async function rejectedPage(
  store: Store,
  run: RunRecord,
  o: { from: number; limit: number; counted: number },
): Promise<RejectedRows> {
  const rows: RunEvent[] = [];
  let i = 0;
  let more = false;
  for await (const r of rejectedItems(store, run)) {
    if (i++ < o.from) continue;
    if (rows.length === o.limit) {
      more = true;
      break;
    }
    rows.push({ stage: r.stage, chunk: r.chunk, key: r.key, message: r.reason, kind: "rejected" });
  }
  const seen = o.from + rows.length + (more ? 1 : 0);
  return { rows, from: o.from, more, total: Math.max(o.counted, seen) };
}

/**
 * A run's rejected items as a download: CSV (`stage,chunk,key,reason,raw`, the raw row or item
 * as JSON text, formula-like cells written as text) or JSON lines, streamed.
 */
export function rejectedExport(
  store: Store,
  run: RunRecord,
  format: "csv" | "jsonl",
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const csv = (rows: unknown[][]) => enc.encode(stringify(rows, { escape_formulas: true }));
  return new ReadableStream<Uint8Array>({
    async start(ctl) {
      try {
        if (format === "csv") ctl.enqueue(csv([["stage", "chunk", "key", "reason", "raw"]]));
        let rows: unknown[][] = [];
        for await (const r of rejectedItems(store, run)) {
          if (format === "jsonl") {
            ctl.enqueue(enc.encode(JSON.stringify(r) + "\n"));
            continue;
          }
          const raw = r.raw === undefined
            ? ""
            : typeof r.raw === "string"
            ? r.raw
            : JSON.stringify(r.raw);
          rows.push([r.stage, r.chunk, r.key, r.reason, raw]);
          if (rows.length >= 500) {
            ctl.enqueue(csv(rows));
            rows = [];
          }
        }
        if (rows.length) ctl.enqueue(csv(rows));
        ctl.close();
      } catch (e) {
        ctl.error(e);
      }
    },
  });
}

/** Items a text search checks per page of the leads table before it stops (and says so). */
export const LEADS_MAX_SCAN = 10_000;

/** The item query of the leads table's form (its rows, pages and CSV download). */
export function leadsItemQuery(run: RunRecord, form: LeadsForm): ItemQuery {
  const q = apiQuery(form);
  return {
    stage: stageIndex(run, leadsStage(run, form.stage)),
    filters: q.filters.map(parseFilter),
    where: q.where,
    prefilter: textPrefilter(form.q),
    sort: q.sort,
  };
}

/** One page of the leads table. */
export async function leadsData(
  store: Store,
  id: string,
  params: URLSearchParams,
  maxScan: number = LEADS_MAX_SCAN,
): Promise<LeadsProps> {
  const run = await needRun(store, id);
  const form = leadsForm(params);
  let items: Item[] = [];
  let next: string | undefined;
  let error: string | undefined;
  let partial: LeadsProps["partial"];
  try {
    const query = leadsItemQuery(run, form);
    // A text search over a huge run pages through it: at most `maxScan` items per request.
    const page = await queryItems(store, run, query, {
      limit: 50,
      cursor: form.cursor,
      maxScan,
    });
    items = page.items;
    next = page.cursor;
    if (page.partial) {
      // It stopped after checking exactly `maxScan` items from the cursor.
      const before = !form.cursor
        ? 0
        : /^\d+$/.test(form.scanned ?? "")
        ? Number(form.scanned)
        : undefined;
      const counters = await store.counters(run.id, run.stages.length);
      partial = {
        checked: maxScan,
        searched: before === undefined ? undefined : before + maxScan,
        total: counters[query.stage]?.out,
      };
    }
  } catch (e) {
    if (!(e instanceof HttpProblem)) throw e;
    error = e.message;
  }
  return { run, form, items, next, error, partial };
}
