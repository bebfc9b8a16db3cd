/**
 * Data of the pages that need more than one store read: pipeline rows with their last run, a
 * run's detail and dead letters, its rejected items (tagged by stage and chunk), and a page of
 * its items for the leads table.
 * @module
 */
import type { AppDeps } from "../core/http/deps.ts";
import { type ItemQuery, parseFilter, queryItems, stageIndex } from "../core/http/items.ts";
import { HttpProblem } from "../core/http/problem.ts";
import { runDetail } from "../core/http/run_views.ts";
import type { DeadLetter, RunRecord, Store } from "../core/store/store.ts";
import type { Item } from "../sdk/types.ts";
import { apiQuery, leadsForm, leadsStage, textPrefilter } from "./leads_query.ts";
import type { PipelineRow } from "./pages/pipelines.tsx";
import type { RunDetailView, RunEvent } from "./pages/runs.tsx";
import type { LeadsProps } from "./pages/leads.tsx";

/** Pipelines with their newest run. */
export async function pipelineRows(deps: AppDeps): Promise<PipelineRow[]> {
  const entries = (await deps.pipelines.list()).sort((a, b) => a.name.localeCompare(b.name));
  return await Promise.all(entries.map(async (entry) => ({
    entry,
    lastRun: (await deps.store.listRuns({ pipeline: entry.name, limit: 1 })).runs[0],
  })));
}

async function needRun(store: Store, id: string): Promise<RunRecord> {
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

/** Up to `max` log lines, then rejected items of a run, by stage and chunk. */
export async function runEvents(store: Store, run: RunRecord, max: number): Promise<RunEvent[]> {
  const out: RunEvent[] = [];
  for (const l of (await store.readRunLog?.(run.id, max)) ?? []) {
    out.push({ stage: l.stage, chunk: l.chunk, message: l.msg, kind: "log", level: l.level });
  }
  if (out.length >= max) return out;
  for await (const r of store.readRejected(run.id)) {
    out.push({
      stage: run.stages[r.stage]?.id ?? String(r.stage),
      chunk: r.chunk,
      key: r.key,
      message: r.reason,
      kind: "rejected",
    });
    if (out.length >= max) break;
  }
  return out;
}

/** One page of the leads table. */
export async function leadsData(
  store: Store,
  id: string,
  params: URLSearchParams,
): Promise<LeadsProps> {
  const run = await needRun(store, id);
  const form = leadsForm(params);
  const q = apiQuery(form);
  let items: Item[] = [];
  let next: string | undefined;
  let error: string | undefined;
  try {
    const query: ItemQuery = {
      stage: stageIndex(run, leadsStage(run, form.stage)),
      filters: q.filters.map(parseFilter),
      where: q.where,
      prefilter: textPrefilter(form.q),
      sort: q.sort,
    };
    // A text search over a huge run pages through it: at most 10,000 items per request.
    const page = await queryItems(store, run, query, {
      limit: 50,
      cursor: form.cursor,
      maxScan: 10_000,
    });
    items = page.items;
    next = page.cursor;
  } catch (e) {
    if (!(e instanceof HttpProblem)) throw e;
    error = e.message;
  }
  return { run, form, items, next, error };
}
