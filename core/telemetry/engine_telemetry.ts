/**
 * What the engine reports while it works: a span per stage chunk (children of the run's root
 * span, see `tracing.ts`), the root `sluice.run` span when a run settles, metrics for runs,
 * items, chunks and slot waits, and the notice of a run that ended (`onFailure` of a failed run,
 * `onSuccess` of a succeeded one), recorded in the store's outbox before it is sent.
 *
 * The engine calls the {@linkcode EngineHooks} methods; {@linkcode noopEngineHooks} is its
 * default, {@linkcode EngineTelemetry} the real implementation.
 * @module
 */
import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import {
  type AlertRun,
  type FailureAlertOptions,
  noticeAttemptsMs,
  type NoticeResult,
  type PreparedNotice,
  sendRunNotice,
} from "./failure_alert.ts";
import { nextResendAt } from "./notice_resend.ts";
import type { NoticeOutbox, PendingNotice } from "../store/notices.ts";
import type { SluiceMetrics } from "./sluice_metrics.ts";
import { runContext } from "./tracing.ts";

/** A run as the hooks need it (a `RunRecord` fits). */
export interface HookRun extends AlertRun {
  stages: { id: string; resolved?: { manifest: { name: string; version?: string } } }[];
}

/** One chunk of one stage. */
export interface ChunkRef {
  run: HookRun;
  stage: number;
  chunk: number;
  attempt: number;
}

/** Clock and sleep of a rate limiter (the engine's `Timer`). */
export interface LimiterTimer {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** Real time. */
const realTimer: LimiterTimer = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Chunk outcomes after a failed attempt. */
export type FailOutcome = "retry" | "dead" | "skipped";

/** The engine's telemetry hooks. Every method must be cheap and must never throw. */
export interface EngineHooks {
  /** A run was recorded. */
  runCreated(run: HookRun): void;
  /** Runs `fn` (one chunk's work) inside the chunk's span and times it. */
  chunk<T>(ref: ChunkRef, fn: () => Promise<T>): Promise<T>;
  /** The chunk committed with these item counters. */
  chunkCommitted(ref: ChunkRef, counters: Record<string, number | undefined>): void;
  /** An attempt failed; `outcome` is what happens to the chunk next. */
  chunkFailed(ref: ChunkRef, outcome: FailOutcome, error: string): void;
  /** The chunk waits for a concurrency slot; call the returned function once it has one. */
  waitingForSlot(ref: ChunkRef): () => void;
  /** The timer a stage's rate limiter sleeps with (to count the time spent waiting). */
  limiterTimer(base: LimiterTimer | undefined, ref: { run: HookRun; stage: number }): LimiterTimer;
  /** The run reached a final state (the record after the transition). */
  runSettled(run: HookRun): void;
  /** Waits for alerts still being sent. */
  close(): Promise<void>;
}

/** Hooks that do nothing (the engine's default). */
export const noopEngineHooks: EngineHooks = {
  runCreated() {},
  chunk: (_ref, fn) => fn(),
  chunkCommitted() {},
  chunkFailed() {},
  waitingForSlot: () => () => {},
  limiterTimer: (base) => base ?? realTimer,
  runSettled() {},
  close: () => Promise.resolve(),
};

/** Options of {@linkcode EngineTelemetry}. */
export interface EngineTelemetryOptions {
  tracer?: Tracer;
  /** Writes the run's root span with its derived ids (`Tracing.withRunIds`). */
  withRunIds?: <T>(runId: string, fn: (parent?: Context) => T) => T;
  metrics?: SluiceMetrics;
  /** Settings of `onFailure` alerts; absent: alerts are still sent with the defaults. */
  alert?: FailureAlertOptions;
  /**
   * The store's outbox (see `notice_resend.ts`): a notice is recorded there before its first
   * attempt, claimed by this process for {@linkcode noticeLeaseMs}, and settled after its
   * attempts (removed when delivered, resent later by long-lived processes when they failed for a
   * passing reason or this process died meanwhile, given up when they failed for good); absent:
   * notices are only sent, logged and counted.
   */
  notices?: Pick<NoticeOutbox, "add" | "settle">;
  /** Epoch ms. */
  now?: () => number;
}

/** What the claim of a notice's ending process adds to its attempts' longest time (store writes). */
export const NOTICE_LEASE_MARGIN_MS = 30_000;

/**
 * How long the process that ended a run holds its notice's record in the outbox (resenders leave
 * it alone meanwhile): all its attempts timing out and the waits between them
 * ({@linkcode noticeAttemptsMs}), plus {@linkcode NOTICE_LEASE_MARGIN_MS}; 63 s with the defaults.
 */
export function noticeLeaseMs(
  alert: Pick<FailureAlertOptions, "attempts" | "retryDelayMs" | "timeoutMs"> = {},
): number {
  return noticeAttemptsMs(alert) + NOTICE_LEASE_MARGIN_MS;
}

const ITEM_OUTCOMES = ["in", "out", "rejected", "failed", "filtered", "skipped"] as const;

function pluginOf(run: HookRun, stage: number): string {
  return run.stages[stage]?.resolved?.manifest.name ?? "";
}

/** Spans, metrics and alerts for the engine. */
export class EngineTelemetry implements EngineHooks {
  #o: EngineTelemetryOptions;
  #now: () => number;
  #spans = new Map<string, Span>();
  #alerts = new Set<Promise<unknown>>();

  constructor(opts: EngineTelemetryOptions = {}) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  #labels(ref: ChunkRef) {
    return {
      pipeline: ref.run.pipeline,
      stage: ref.run.stages[ref.stage]?.id ?? String(ref.stage),
      plugin: pluginOf(ref.run, ref.stage),
    };
  }

  /** Counts the run. */
  runCreated(run: HookRun): void {
    this.#o.metrics?.runsCreated.inc({ pipeline: run.pipeline, trigger: run.trigger?.kind ?? "" });
  }

  /** Runs one chunk inside its span (a child of the run's root span). */
  async chunk<T>(ref: ChunkRef, fn: () => Promise<T>): Promise<T> {
    const labels = this.#labels(ref);
    const started = performance.now();
    const tracer = this.#o.tracer;
    const span = tracer?.startSpan(`stage ${labels.stage}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        "sluice.pipeline": labels.pipeline,
        "sluice.run.id": ref.run.id,
        "sluice.stage.id": labels.stage,
        "sluice.stage.index": ref.stage,
        "sluice.plugin": labels.plugin,
        "sluice.chunk": ref.chunk,
        "sluice.attempt": ref.attempt,
      },
    }, runContext(ref.run.id));
    const key = `${ref.run.id}/${ref.stage}/${ref.chunk}`;
    if (span) this.#spans.set(key, span);
    let outcome = "error";
    try {
      const result = span
        ? await context.with(trace.setSpan(context.active(), span), fn)
        : await fn();
      outcome = result ? "done" : "duplicate";
      return result;
    } finally {
      this.#spans.delete(key);
      this.#o.metrics?.chunkDuration.observe(
        { ...labels, outcome },
        (performance.now() - started) / 1000,
      );
      span?.end();
    }
  }

  /** Counts the chunk's items and notes them on its span (`in` and `out`, and other outcomes when not 0). */
  chunkCommitted(ref: ChunkRef, counters: Record<string, number | undefined>): void {
    const labels = this.#labels(ref);
    const span = this.#spans.get(`${ref.run.id}/${ref.stage}/${ref.chunk}`);
    const attributes: Record<string, number> = {};
    for (const o of ITEM_OUTCOMES) {
      const n = counters[o] ?? 0;
      if (n > 0) this.#o.metrics?.items.inc({ ...labels, outcome: o }, n);
      if (n > 0 || o === "in" || o === "out") attributes[`sluice.items.${o}`] = n;
    }
    span?.setAttributes(attributes);
    this.#o.metrics?.chunks.inc({ ...labels, outcome: "done" });
  }

  /** Counts the failure and records it on the span. */
  chunkFailed(ref: ChunkRef, outcome: FailOutcome, error: string): void {
    this.#o.metrics?.chunks.inc({ ...this.#labels(ref), outcome });
    const span = this.#spans.get(`${ref.run.id}/${ref.stage}/${ref.chunk}`);
    span?.setAttribute("sluice.chunk.outcome", outcome);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: error });
  }

  /** Counts a chunk waiting for a slot and times the wait. */
  waitingForSlot(ref: ChunkRef): () => void {
    const m = this.#o.metrics;
    if (!m) return () => {};
    const t0 = performance.now();
    m.slotsWaiting.inc();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      m.slotsWaiting.dec();
      const { pipeline, stage } = this.#labels(ref);
      m.slotWait.observe({ pipeline, stage }, (performance.now() - t0) / 1000);
    };
  }

  /** Wraps `base` so that every rate-limit sleep is counted. */
  limiterTimer(base: LimiterTimer | undefined, ref: { run: HookRun; stage: number }): LimiterTimer {
    const t = base ?? realTimer;
    const m = this.#o.metrics;
    if (!m) return t;
    const labels = { pipeline: ref.run.pipeline, stage: ref.run.stages[ref.stage]?.id ?? "" };
    return {
      now: () => t.now(),
      sleep: (ms) => {
        if (ms > 0) m.rateLimitWait.inc(labels, ms / 1000);
        return t.sleep(ms);
      },
    };
  }

  /**
   * Counts the run, writes its root span and sends its notice (`onFailure` of a failed run,
   * `onSuccess` of a succeeded one).
   */
  runSettled(run: HookRun): void {
    const end = run.finishedAt ?? this.#now();
    this.#o.metrics?.runsFinished.inc({ pipeline: run.pipeline, state: run.state });
    this.#o.metrics?.clearPluginGauges(
      run.stages.map((s, i) => ({ plugin: pluginOf(run, i), stage: s.id })),
    );
    this.#o.metrics?.runDuration.observe(
      { pipeline: run.pipeline, state: run.state },
      Math.max(0, end - run.createdAt) / 1000,
    );
    const tracer = this.#o.tracer;
    if (tracer) {
      const start = (parent?: Context) =>
        tracer.startSpan(`run ${run.pipeline}`, {
          root: !parent,
          kind: SpanKind.INTERNAL,
          // A Date: a bare number older than this process would be read as performance.now().
          startTime: new Date(run.createdAt),
          attributes: {
            "sluice.pipeline": run.pipeline,
            "sluice.run.id": run.id,
            "sluice.run.state": run.state,
            "sluice.trigger": run.trigger?.kind ?? "",
            "sluice.stages": run.stages.length,
          },
        }, parent);
      const span = this.#o.withRunIds ? this.#o.withRunIds(run.id, start) : start();
      if (run.state === "failed") {
        span.setStatus({ code: SpanStatusCode.ERROR, message: this.#mask(run.error ?? "") });
      }
      span.end(new Date(end));
    }
    if (run.state === "failed" || run.state === "succeeded") {
      // onFailure / onSuccess (a pipeline without the block: "none", nothing sent or counted).
      // Store first, then send: the notice is in the outbox before its first attempt, so a
      // process killed while sending leaves it for resenders.
      let kept: PendingNotice | undefined;
      const p = sendRunNotice(run, {
        ...this.#o.alert,
        beforeFirstAttempt: async (prepared) => {
          kept = await this.#keepBeforeSending(run, prepared);
        },
      }).then(async (out) => {
        const result = out.result;
        if (result !== "none") this.#o.metrics?.alerts.inc({ pipeline: run.pipeline, result });
        if (result !== "none") await this.#settleNotice(run, out, kept);
      });
      this.#alerts.add(p);
      p.finally(() => this.#alerts.delete(p));
    }
  }

  /**
   * Records the notice about to be sent in the store's outbox: pending, rounds 0, claimed by this
   * process until its attempts are surely over ({@linkcode noticeLeaseMs}). Undefined when there
   * is no outbox or the write failed (logged: the notice is sent all the same, and recorded after
   * its attempts if they fail, as a fallback).
   */
  async #keepBeforeSending(
    run: HookRun,
    prepared: PreparedNotice,
  ): Promise<PendingNotice | undefined> {
    const outbox = this.#o.notices;
    if (!outbox) return undefined;
    const now = this.#now();
    const n: PendingNotice = {
      runId: run.id,
      notice: prepared.key,
      body: prepared.body,
      idempotencyKey: prepared.idempotencyKey,
      finishedAt: run.finishedAt ?? now,
      state: "pending",
      rounds: 0,
      lastError: "",
      nextAt: now + noticeLeaseMs(this.#o.alert),
      claim: crypto.randomUUID(),
    };
    try {
      const { state: _, ...add } = n;
      await outbox.add(add);
      return n;
    } catch (e) {
      this.#log(run)?.error(
        `${prepared.key} notice could not be recorded before sending; sent all the same`,
        { error: (e as Error).message },
      );
      return undefined;
    }
  }

  /**
   * Settles the notice's record after its attempts: delivered, removed; failed for a passing
   * reason (or a secret not set here), resent from 1 min on by `sluice serve` / `sluice worker`;
   * failed for good (a final answer), given up (the run's detail shows it). Without a record (its
   * write before sending failed), one is written now first.
   */
  async #settleNotice(run: HookRun, out: NoticeResult, kept: PendingNotice | undefined) {
    const outbox = this.#o.notices;
    if (!outbox || !out.key || out.body === undefined || !out.idempotencyKey) return;
    const log = this.#log(run);
    if (out.result === "sent" && !kept) return;
    const now = this.#now();
    const finishedAt = run.finishedAt ?? now;
    try {
      if (!kept) {
        kept = {
          runId: run.id,
          notice: out.key,
          body: out.body,
          idempotencyKey: out.idempotencyKey,
          finishedAt,
          state: "pending",
          rounds: 0,
          lastError: "",
          nextAt: now + NOTICE_LEASE_MARGIN_MS,
          claim: crypto.randomUUID(),
        };
        const { state: _, ...add } = kept;
        await outbox.add(add);
      }
      const error = out.error ?? "";
      let settled: boolean;
      if (out.result === "sent") {
        settled = await outbox.settle(kept, { delivered: true });
      } else if (out.retryable) {
        settled = await outbox.settle(kept, { retryAt: nextResendAt(1, now, finishedAt), error });
        if (settled) {
          log?.warn(`${out.key} notice kept: resent for 24 h by sluice serve / sluice worker`);
        }
      } else {
        settled = await outbox.settle(kept, { givenUpAt: now, error, tried: true });
      }
      // Not met unless the attempts outlasted the lease: a resender took the notice, and goes on.
      if (!settled) log?.warn(`${out.key} notice taken over by another process`);
    } catch (e) {
      // Delivered: a record left pending is resent after the lease (same Idempotency-Key).
      log?.error(
        out.result === "sent"
          ? `${out.key} notice delivered, but its record could not be removed`
          : `${out.key} notice could not be kept for resending`,
        { error: (e as Error).message },
      );
    }
  }

  #log(run: HookRun) {
    return this.#o.alert?.log?.child({ run: run.id, pipeline: run.pipeline });
  }

  #mask(text: string): string {
    return this.#o.alert?.mask?.(text) ?? text;
  }

  /** Waits for alerts still being sent. */
  async close(): Promise<void> {
    while (this.#alerts.size) await Promise.allSettled([...this.#alerts]);
  }
}
