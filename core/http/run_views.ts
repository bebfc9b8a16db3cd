/**
 * How runs look in the API: summaries for lists, details with per-stage counters and timings,
 * and the run-list query (pipeline, state, trigger, time window, cursor).
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { RunRecord, RunState, StageCounters, Store, TriggerInfo } from "../store/store.ts";
import { HttpProblem } from "./problem.ts";
import { runTallies } from "../store/run_tallies.ts";
import type { PendingNotice } from "../store/notices.ts";

/** Run summary schema. */
export const RunSummary = z.object({
  id: z.string(),
  pipeline: z.string(),
  state: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
  trigger: z.object({ kind: z.string(), id: z.string().optional() }).passthrough(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  error: z.string().optional(),
  stages: z.array(z.string()),
}).openapi("RunSummary");

const Counters = z.object({
  in: z.number(),
  out: z.number(),
  filtered: z.number(),
  skipped: z.number(),
  failed: z.number(),
  rejected: z.number(),
  chunksDone: z.number(),
  chunksDead: z.number(),
  busyMs: z.number(),
});

/**
 * How to replay a run's dead letters, beside them in the API (the CLI's `runs show` and the UI's
 * run page say the same): parked after their last attempt, nothing retries them by itself, also
 * when their error text speaks of a retry (a plugin's circuit breaker on its calls).
 */
export const DeadLetterReplay = z.object({
  method: z.literal("POST"),
  path: z.string().describe("Replays every dead letter of the run (operator role)"),
  role: z.literal("operator").describe("The role the replay needs"),
  cli: z.string().describe("The same from the command line"),
  note: z.string().describe("What the dead letters wait for, for people"),
}).openapi("DeadLetterReplay", {
  example: {
    method: "POST",
    path: "/api/v1/runs/r_123/dead-letters/replay",
    role: "operator",
    cli: "sluice runs retry r_123",
    note: "2 dead-lettered chunk(s) were parked after their last attempt: nothing retries them " +
      "until they are replayed (POST /api/v1/runs/r_123/dead-letters/replay, Replay all on the " +
      "run page, or sluice runs retry r_123), also when their error speaks of a retry",
  },
});

/**
 * The {@link DeadLetterReplay} hint of run `r` with `dead` dead letters; undefined when it has
 * none, or when it can no longer be replayed (succeeded or cancelled).
 */
export function deadLetterReplay(r: RunRecord, dead: number) {
  if (!dead || r.state === "succeeded" || r.state === "cancelled") return undefined;
  const path = `/api/v1/runs/${encodeURIComponent(r.id)}/dead-letters/replay`;
  const cli = `sluice runs retry ${r.id}`;
  return {
    method: "POST" as const,
    path,
    role: "operator" as const,
    cli,
    note: `${dead} dead-lettered chunk(s) were parked after their last attempt: nothing retries ` +
      `them until they are replayed (POST ${path}, Replay all on the run page, or ${cli}), ` +
      "also when their error speaks of a retry",
  };
}

/** Run detail schema. */
export const RunDetail = RunSummary.extend({
  inputs: z.record(z.string(), z.unknown()),
  inputName: z.string().optional().describe(
    "The uploaded input file's own name (sanitized), when the upload named it; for a run that " +
      "reads its snapshot of the source's with.path file, that file's name",
  ),
  durationMs: z.number().optional(),
  source: z.object({ chunksRead: z.number(), done: z.boolean() }),
  stageDetails: z.array(z.object({ id: z.string(), plugin: z.string(), counters: Counters })),
  rejectedItems: z.number().int().describe(
    "Items the run's rejected list holds so far: rows and items refused with a reason, and " +
      "the items of chunks a stage skipped after their last attempt (onError: skip)",
  ),
  deadLetters: z.number().int(),
  deadLetterReplay: DeadLetterReplay.optional().describe(
    "With dead letters a replay can take (failed or running run): how to replay them",
  ),
  artifacts: z.array(z.object({
    stage: z.string(),
    name: z.string(),
    bytes: z.number().int(),
    url: z.string().describe("Download (GET, viewer role)"),
  })).describe("Files the run's stages finished for download (leads.csv), at run end"),
  notes: z.array(z.object({
    stage: z.string(),
    key: z.string(),
    count: z.number().int(),
    text: z.string(),
  })).describe(
    "What stages counted over the run for a person to see, summed over its chunks, once it " +
      "ended (e.g. a score rule that did not evaluate for some items: count, first error, what " +
      "to do); the CLI's run summary prints the same lines",
  ),
  notices: z.array(z.object({
    notice: z.enum(["onFailure", "onSuccess"]),
    state: z.enum(["sending", "pending", "given-up"]).describe(
      "sending: the process that ended the run is making its first attempts right now (not a " +
        "failure); pending: not delivered yet, resent later; given-up: never sent again",
    ),
    rounds: z.number().int().describe("Delivery rounds that failed so far"),
    lastError: z.string(),
    nextAttemptAt: z.string().optional().describe("Pending: when it is resent next"),
    givenUpAt: z.string().optional(),
  })).optional().describe(
    "The run's onFailure/onSuccess notices not delivered yet: sending (the process that ended " +
      "the run is trying it now; stored before its first attempt, it is resent should that " +
      "process stop before it is delivered), pending (resent with a growing backoff for 24 h " +
      "after the run ended; rounds 0: the process that ended the run stopped while sending it) " +
      "or given up; absent when every notice was delivered (or the pipeline has none)",
  ),
}).openapi("RunDetail");

const iso = (t?: number) => (t === undefined ? undefined : new Date(t).toISOString());

/** A run's summary. */
export function runSummary(r: RunRecord) {
  return {
    id: r.id,
    pipeline: r.pipeline,
    state: r.state,
    trigger: r.trigger as TriggerInfo & Record<string, unknown>,
    createdAt: iso(r.createdAt)!,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    error: r.error,
    stages: r.stages.map((s) => s.id),
  };
}

/**
 * How many items the run's rejected list holds: each stage's rejected items, plus the failed
 * items of a stage with `onError: skip` (the engine lists a skipped chunk's items as rejected;
 * the source's skip dead-letters instead, and a skip stage parks no chunk).
 */
export function rejectedItems(r: RunRecord, counters: StageCounters[]): number {
  return r.stages.reduce(
    (n, s, i) =>
      n + (counters[i]?.rejected ?? 0) +
      (i > 0 && s.onError === "skip" ? counters[i]?.failed ?? 0 : 0),
    0,
  );
}

/**
 * A run with counters, timings, dead-letter count and, once it ended, its notes (run tallies:
 * they read the run's log, too much for every progress event of a running run) and its notices
 * that were not delivered, as at `now` (epoch ms).
 */
export async function runDetail(store: Store, r: RunRecord, now: number = Date.now()) {
  const ended = r.state === "succeeded" || r.state === "failed" || r.state === "cancelled";
  const [counters, progress, dead, tallies, notices] = await Promise.all([
    store.counters(r.id, r.stages.length),
    store.sourceProgress(r.id),
    store.listDeadLetters(r.id),
    ended ? runTallies(store, r) : [],
    ended && store.notices ? store.notices.ofRun(r.id) : [],
  ]);
  const end = r.finishedAt ?? (r.startedAt ? now : undefined);
  return {
    ...runSummary(r),
    inputs: r.inputs,
    inputName: r.inputName,
    durationMs: r.startedAt && end ? end - r.startedAt : undefined,
    source: { chunksRead: progress.nextChunk, done: progress.done },
    stageDetails: r.stages.map((s, i) => ({ id: s.id, plugin: s.plugin, counters: counters[i] })),
    rejectedItems: rejectedItems(r, counters),
    deadLetters: dead.length,
    deadLetterReplay: deadLetterReplay(r, dead.length),
    artifacts: (r.artifacts ?? []).map((a) => ({
      stage: a.stage,
      name: a.name,
      bytes: a.bytes,
      url: artifactUrl(r.id, a),
    })),
    notes: tallies.map((t) => ({ stage: t.stage, key: t.key, count: t.count, text: t.text })),
    notices: notices.length ? notices.map((n) => noticeView(n, now)) : undefined,
  };
}

/**
 * An undelivered notice for people (`sluice runs show`, the run page): `onFailure notice not
 * delivered (2 round(s) failed: the webhook answered 503); next attempt 2026-11-30 12:05:00 UTC`,
 * `… given up at …`, or `onFailure notice being sent` while the process that ended the run is
 * trying it.
 */
export function noticeText(n: NoticeView): string {
  const when = (t?: string) => t ? t.replace("T", " ").slice(0, 19) + " UTC" : "?";
  const why = n.rounds === 0 && n.lastError === ""
    ? "the process that ended the run stopped while sending it"
    : `${n.rounds} round(s) failed: ${n.lastError.replace(/[\r\n]+/g, " ")}`;
  return n.state === "sending"
    ? `${n.notice} notice being sent`
    : n.state === "pending"
    ? `${n.notice} notice not delivered (${why}); next attempt ${when(n.nextAttemptAt)}`
    : `${n.notice} notice given up at ${when(n.givenUpAt)} (${why})`;
}

/** An undelivered notice as the run detail shows it ({@linkcode noticeView}). */
export interface NoticeView {
  notice: "onFailure" | "onSuccess";
  /** `sending`: its first round is in flight in the process that ended the run. */
  state: "sending" | "pending" | "given-up";
  rounds: number;
  lastError: string;
  nextAttemptAt?: string;
  givenUpAt?: string;
}

/**
 * An undelivered notice as the run detail shows it at `now` (epoch ms). A pending record with no
 * failed round whose claim still holds is the ending process's (or a resender's) first round in
 * flight: `sending`, with no next attempt, rather than "not delivered". Once that claim has
 * lapsed (the process stopped while sending), it is pending: resent by the next `sluice serve` or
 * `sluice worker`.
 */
export function noticeView(n: PendingNotice, now: number = Date.now()): NoticeView {
  const sending = n.state === "pending" && n.rounds === 0 && n.nextAt > now;
  return {
    notice: n.notice,
    state: sending ? "sending" : n.state,
    rounds: n.rounds,
    lastError: n.lastError,
    nextAttemptAt: n.state === "pending" && !sending ? iso(n.nextAt) : undefined,
    givenUpAt: n.state === "given-up" ? iso(n.nextAt) : undefined,
  };
}

/** The API path that downloads an artifact of run `runId`. */
export function artifactUrl(runId: string, a: { stage: string; name: string }): string {
  return `/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encodeURIComponent(a.stage)}/${
    encodeURIComponent(a.name)
  }`;
}

/** Query of the run list. */
export const RunListQuery = z.object({
  pipeline: z.string().optional(),
  state: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]).optional(),
  trigger: z.string().optional().describe("Trigger kind: cli, api, ui, cron, webhook, retry"),
  since: z.string().optional().describe("ISO 8601 time or epoch ms: runs created at or after"),
  until: z.string().optional().describe("ISO 8601 time or epoch ms: runs created before"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().optional(),
});

function timeParam(name: string, v?: string): number | undefined {
  if (v === undefined || v === "") return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) {
    throw new HttpProblem(400, `${name}=${v} is not a time; use ISO 8601 or epoch milliseconds`);
  }
  return t;
}

interface ListPosition {
  /** Store cursor of the page to resume in (absent: the newest run). */
  c?: string;
  /** Runs of that page already seen. */
  s: number;
}

function encodePos(p: ListPosition): string {
  return btoa(JSON.stringify(p)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodePos(s: string): ListPosition {
  try {
    const p = JSON.parse(atob(s.replaceAll("-", "+").replaceAll("_", "/")));
    if (typeof p?.s === "number" && (p.c === undefined || typeof p.c === "string")) return p;
  } catch { /* below */ }
  throw new HttpProblem(400, "cursor is not one this server gave out; start without it");
}

/**
 * Lists runs newest first. The trigger filter goes to the store (the KV backend answers it from
 * its state index) and is checked again here, for stores that do not honour it; the `until`
 * filter applies over the store's pages (200 runs at a time). The cursor names the store page
 * and how many of its runs were seen, so a page may end anywhere inside a store page.
 */
export async function listRuns(store: Store, q: z.infer<typeof RunListQuery>) {
  const since = timeParam("since", q.since);
  const until = timeParam("until", q.until);
  const filtered = until !== undefined;
  const out: RunRecord[] = [];
  const pos = q.cursor ? decodePos(q.cursor) : { s: 0 };
  let cursor = pos.c;
  let skip = pos.s;
  for (;;) {
    const page = await store.listRuns({
      pipeline: q.pipeline,
      state: q.state as RunState | undefined,
      trigger: q.trigger,
      limit: filtered ? 200 : q.limit - out.length + skip,
      cursor,
    });
    for (let i = skip; i < page.runs.length; i++) {
      const r = page.runs[i];
      if (since !== undefined && r.createdAt < since) return { runs: out, cursor: undefined };
      if (until !== undefined && r.createdAt >= until) continue;
      if (q.trigger && r.trigger.kind !== q.trigger) continue;
      out.push(r);
      if (out.length === q.limit) {
        const next: ListPosition | undefined = i < page.runs.length - 1
          ? { c: cursor, s: i + 1 }
          : page.cursor
          ? { c: page.cursor, s: 0 }
          : undefined;
        return { runs: out, cursor: next && encodePos(next) };
      }
    }
    if (!page.cursor) return { runs: out, cursor: undefined };
    cursor = page.cursor;
    skip = 0;
  }
}
