/**
 * Resends run notices (`onFailure` / `onSuccess`) that were not delivered when their run ended.
 * The process that ended the run records a notice in the store's outbox (`core/store/notices.ts`)
 * before its first attempt, claimed for as long as its attempts can take (`noticeLeaseMs` of
 * `engine_telemetry.ts`, 63 s with the defaults), then tries it 3 times within a few seconds:
 * delivered, it removes the record; failed for a reason that may pass (a network error, a
 * timeout, 5xx, 408 or 429), it makes it due 1 min later. Should it die meanwhile (killed,
 * crashed, restarted), the record is due once the lease has passed. Long-lived processes
 * (`sluice serve`, `sluice worker`) run {@linkcode startNoticeResend}, which takes the due notices
 * (one process per notice at a time, also with several servers on one PostgreSQL store; a lapsed
 * claim does not stop them) and POSTs each once more:
 * the same body and `Idempotency-Key`, signed now, to the webhook and secret of the run's pipeline
 * snapshot resolved now. A failed resend waits longer each time ({@linkcode RESEND_DELAYS_MS}: 1
 * min, 5 min, 15 min, 1 h, then every 3 h); 24 h after the run finished (or on a final answer, a
 * 4xx other than 408 and 429, or once the run was retried) the notice is given up, which the run's
 * detail shows.
 *
 * ```ts
 * const resend = startNoticeResend({ store: backend.store, outbox, secrets, log });
 * // ...
 * await resend.close();
 * ```
 * @module
 */
import type { NoticeOutbox, PendingNotice } from "../store/notices.ts";
import type { RunRecord } from "../store/store.ts";
import { noticeTarget, postNotice, shown } from "./failure_alert.ts";
import { type Logger, silentLogger } from "./log.ts";

/**
 * Waits after each failed round of a notice: after the first (the ending process's attempts) 1
 * min, then 5 min, 15 min, 1 h, and 3 h after every later one.
 */
export const RESEND_DELAYS_MS: readonly number[] = [
  60_000,
  5 * 60_000,
  15 * 60_000,
  60 * 60_000,
  3 * 60 * 60_000,
];

/** How long after its run finished a notice is resent before it is given up. */
export const RESEND_FOR_MS = 24 * 60 * 60_000;

/** How often a long-lived process looks for due notices. */
export const RESEND_EVERY_MS = 30_000;

/**
 * When a notice that has failed `rounds` rounds (1 after the ending process's attempts) is tried
 * next, at `now`: never later than its give-up time (`finishedAt` + 24 h), when it is given up.
 */
export function nextResendAt(rounds: number, now: number, finishedAt: number): number {
  const delay = RESEND_DELAYS_MS[Math.min(Math.max(rounds, 1), RESEND_DELAYS_MS.length) - 1];
  return Math.min(now + delay, finishedAt + RESEND_FOR_MS);
}

/** Options of {@linkcode resendDueNotices}. */
export interface NoticeResendOptions {
  /** Reads the run of a notice (its pipeline snapshot names the webhook and secret). */
  store: { getRun(id: string): Promise<RunRecord | undefined> };
  outbox: NoticeOutbox;
  /** Resolves `${{ secrets.NAME }}` of the webhook and secret, at send time. */
  secrets?: (name: string) => string | undefined;
  fetch?: typeof fetch;
  /** Epoch ms. */
  now?: () => number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  /** Most notices sent per pass (default 50). */
  limit?: number;
  log?: Logger;
  /** Called with each resend's outcome (metrics). */
  onResult?: (pipeline: string, result: "sent" | "failed" | "given_up") => void;
  /** Stops the pass (shutdown). */
  signal?: AbortSignal;
}

/** What one pass did. */
export interface ResendPass {
  sent: number;
  failed: number;
  givenUp: number;
}

/** Notices claimed at once; each claim holds for all of them to be sent. */
const BATCH = 10;

/**
 * One pass: claims the due notices (in batches) and resends each once, until none is due or
 * `limit` were handled. Never throws on a notice's failure; a store error ends the pass (thrown).
 */
export async function resendDueNotices(o: NoticeResendOptions): Promise<ResendPass> {
  const now = o.now ?? Date.now;
  const log = o.log ?? silentLogger;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const limit = o.limit ?? 50;
  const pass: ResendPass = { sent: 0, failed: 0, givenUp: 0 };
  let handled = 0;
  while (handled < limit && !o.signal?.aborted) {
    const batch = Math.min(BATCH, limit - handled);
    const claimed = await o.outbox.claimDue({
      now: now(),
      leaseMs: batch * timeoutMs + 30_000,
      limit: batch,
    });
    if (!claimed.length) break;
    for (const n of claimed) {
      handled++;
      if (o.signal?.aborted) break; // its claim lapses; another round takes it
      const r = await resendOne(n, o, now, timeoutMs, log);
      if (r === "sent") pass.sent++;
      else if (r === "failed") pass.failed++;
      else if (r === "given_up") pass.givenUp++;
    }
    if (claimed.length < batch) break;
  }
  return pass;
}

async function resendOne(
  n: PendingNotice,
  o: NoticeResendOptions,
  now: () => number,
  timeoutMs: number,
  log: Logger,
): Promise<"sent" | "failed" | "given_up" | "dropped"> {
  const what = n.notice === "onFailure" ? "onFailure alert" : "onSuccess notice";
  const l = log.child({ run: n.runId, notice: n.notice });
  // Every notice given up is counted (sluice_alerts_total{result="given_up"}), whatever the reason.
  const giveUp = async (error: string, tried: boolean, pipeline: string) => {
    if (await o.outbox.settle(n, { givenUpAt: now(), error, tried })) {
      l.error(`${what} given up`, { rounds: n.rounds + (tried ? 1 : 0), error });
      o.onResult?.(pipeline, "given_up");
    }
    return "given_up" as const;
  };
  const run = await o.store.getRun(n.runId);
  if (!run) {
    // Deleted meanwhile (retention): nothing left to tell about.
    await o.outbox.settle(n, { delivered: true });
    return "dropped";
  }
  if (now() >= n.finishedAt + RESEND_FOR_MS) {
    return await giveUp(
      `not delivered within 24 h of the run's end; last error: ${n.lastError}`,
      false,
      run.pipeline,
    );
  }
  if (run.finishedAt !== n.finishedAt) {
    // Retried since (`sluice runs retry`): running again, or ended again, which sent a notice of
    // its own; a late "run.failed" after the retried run's "run.succeeded" would say the opposite
    // of where the run stands.
    return await giveUp(
      `the run was retried after the end this notice tells of ` +
        `(${new Date(n.finishedAt).toISOString()}); its later end sends a notice of its own`,
      false,
      run.pipeline,
    );
  }
  let target;
  try {
    target = noticeTarget(run.pipelineYaml, n.notice, o.secrets);
  } catch (e) {
    // A secret not set: the operator may set it and restart; tried again later.
    const error = (e as Error).message;
    await o.outbox.settle(n, { retryAt: nextResendAt(n.rounds + 1, now(), n.finishedAt), error });
    l.warn(`${what} not resent`, { error });
    return "failed";
  }
  if (!target) {
    return await giveUp(`the run's pipeline has no ${n.notice} block`, false, run.pipeline);
  }
  const out = await postNotice(target, n.body, n.idempotencyKey, {
    fetch: o.fetch,
    now,
    timeoutMs,
    signal: o.signal,
  });
  if (out.ok) {
    if (await o.outbox.settle(n, { delivered: true })) {
      l.info(`${what} resent`, {
        webhook: shown(target.url),
        status: out.status,
        rounds: n.rounds,
      });
      o.onResult?.(run.pipeline, "sent");
    }
    return "sent";
  }
  if (out.final) return await giveUp(out.error, true, run.pipeline);
  const retryAt = nextResendAt(n.rounds + 1, now(), n.finishedAt);
  if (await o.outbox.settle(n, { retryAt, error: out.error })) {
    l.warn(`${what} not delivered; resent later`, {
      webhook: shown(target.url),
      error: out.error,
      next: new Date(retryAt).toISOString(),
    });
    o.onResult?.(run.pipeline, "failed");
  }
  return "failed";
}

/** A running resend loop. */
export interface NoticeResender {
  /** Runs a pass now (tests; a pass already running is waited for instead). */
  runOnce(): Promise<void>;
  /** Stops the loop and waits for the pass in flight. */
  close(): Promise<void>;
}

/**
 * Resends due notices at once and then every `everyMs` (default {@linkcode RESEND_EVERY_MS})
 * until closed; a failed pass is logged and the next one tries again.
 */
export function startNoticeResend(
  o: NoticeResendOptions & { everyMs?: number },
): NoticeResender {
  const stop = new AbortController();
  const log = o.log ?? silentLogger;
  let running: Promise<void> | undefined;
  const pass = () =>
    running ??= resendDueNotices({ ...o, signal: stop.signal })
      .then(() => {}, (e) => log.warn("resending run notices failed", { error: String(e) }))
      .finally(() => running = undefined);
  // The first pass right away: notices that fell due while no process ran go out at start.
  const first = setTimeout(pass, 0);
  const timer = setInterval(() => {
    if (!stop.signal.aborted) pass();
  }, o.everyMs ?? RESEND_EVERY_MS);
  Deno.unrefTimer(first);
  Deno.unrefTimer(timer);
  return {
    runOnce: () => pass(),
    async close() {
      clearTimeout(first);
      clearInterval(timer);
      stop.abort();
      await running;
    },
  };
}
