/**
 * The outbox of run notices (a pipeline's `onFailure` / `onSuccess` webhook) not yet delivered.
 * The process that ends a run records its notice here before the first POST: pending, with
 * `rounds` 0 and a claim of its own whose lease (`nextAt`) outlasts all its attempts, so resenders
 * leave it alone meanwhile. Delivered, it removes the record; failed for a reason that may pass,
 * it settles it to be resent 1 min later; failed for good, it gives it up. Should the process die
 * while sending (killed, crashed, restarted), the record stays pending and, once the lease has
 * passed, long-lived processes (`sluice serve`, `sluice worker`) take it like any due notice and
 * resend it with a growing backoff until it is delivered or given up
 * (`core/telemetry/notice_resend.ts`): nothing is lost.
 *
 * A record holds the notice's body as first sent (masked: no resolved secret) and its
 * idempotency key, never the webhook URL or secret resolved: those are read again from the run's
 * pipeline snapshot and the secrets at send time. A delivered notice's record is removed; a given
 * up one stays (the run page shows it) until its run is deleted.
 *
 * Exactly one process sends a given notice at a time: {@linkcode NoticeOutbox.claimDue} takes
 * a due notice with a check-and-set (Deno KV) or a row lock (PostgreSQL), moving its `nextAt`
 * forward by the lease, so others see it as not due; {@linkcode NoticeOutbox.settle} applies
 * only while the claim is still the caller's.
 * @module
 */

/** Which notice of a run: the failed run's `onFailure` or the succeeded run's `onSuccess`. */
export type NoticeName = "onFailure" | "onSuccess";

/** Where an undelivered notice stands. */
export type NoticeState = "pending" | "given-up";

/** An undelivered run notice as stored. */
export interface PendingNotice {
  runId: string;
  notice: NoticeName;
  /** The JSON body as first sent (secret values masked): every resend sends it unchanged. */
  body: string;
  /** The `Idempotency-Key` header the first attempt carried. */
  idempotencyKey: string;
  /** When the run finished (epoch ms): the notice is given up 24 h after. */
  finishedAt: number;
  state: NoticeState;
  /**
   * Delivery rounds that failed so far (the ending process's attempts are the first round): 0
   * while the ending process still sends it (or if it stopped before it could tell).
   */
  rounds: number;
  /** Why the last round failed. */
  lastError: string;
  /**
   * Pending: the earliest next attempt (epoch ms); while a process holds the notice, the end of
   * its claim. Given up: when it was given up.
   */
  nextAt: number;
  /**
   * The claim of the process sending it now (opaque): from {@linkcode NoticeOutbox.claimDue}, or
   * given to {@linkcode NoticeOutbox.add} by the process that ended the run.
   */
  claim?: string;
}

/**
 * A new undelivered notice ({@linkcode NoticeOutbox.add}). With a `claim`, the caller holds it
 * until `nextAt` (it is sending it now) and settles it with that claim.
 */
export type NewPendingNotice = Omit<PendingNotice, "state">;

/** How a resend round of a claimed notice ended ({@linkcode NoticeOutbox.settle}). */
export type NoticeSettlement =
  | { delivered: true }
  | { retryAt: number; error: string }
  | {
    givenUpAt: number;
    error: string;
    /** A round was tried now (and failed): counted in `rounds`. */
    tried: boolean;
  };

/** Options of {@linkcode NoticeOutbox.claimDue}. */
export interface ClaimNoticesOptions {
  /** Epoch ms: notices with `nextAt <= now` are due. */
  now: number;
  /** How long the claim holds (the caller sends within it). */
  leaseMs: number;
  /** Most notices to claim. */
  limit: number;
}

/** Undelivered run notices of a store (both backends). */
export interface NoticeOutbox {
  /**
   * Records an undelivered notice as pending (replacing a record of the same run and notice: a
   * retried run that ended again), with the caller's `claim` if it gives one (else none).
   */
  add(n: NewPendingNotice): Promise<void>;
  /** The run's undelivered notices (pending or given up); none once delivered. */
  ofRun(runId: string): Promise<PendingNotice[]>;
  /**
   * Takes up to `limit` pending notices due at `now` for the caller, each with a claim (`claim`
   * set on the result) no other caller gets until `now + leaseMs`, oldest due first.
   */
  claimDue(o: ClaimNoticesOptions): Promise<PendingNotice[]>;
  /**
   * Ends the round of a notice the caller claimed: delivered (the record goes), failed again
   * (pending until `retryAt`), or given up. False (nothing written) when the claim is no longer
   * the caller's (it lapsed and another process took the notice, or the record was replaced).
   */
  settle(n: PendingNotice, outcome: NoticeSettlement): Promise<boolean>;
}
