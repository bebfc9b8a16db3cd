/**
 * The {@linkcode NoticeOutbox} on PostgreSQL (`sluice_run_notices`, migration 6). Every server
 * and worker on the database may resend; a claim takes due pending rows with
 * `FOR UPDATE SKIP LOCKED` and moves their `next_at` past the lease in the same statement, so
 * each notice goes to one process at a time; a settle applies only while the row still carries
 * the caller's claim. Times are the callers' (epoch ms; processes are within 5 s of the
 * database's clock, checked at start), which is plenty for backoffs of minutes.
 * @module
 */
import type {
  ClaimNoticesOptions,
  NewPendingNotice,
  NoticeName,
  NoticeOutbox,
  NoticeSettlement,
  NoticeState,
  PendingNotice,
} from "../notices.ts";
import type { Sql } from "./connect.ts";

interface NoticeRow {
  run_id: string;
  notice: NoticeName;
  body: string;
  idempotency_key: string;
  finished_at: number;
  state: NoticeState;
  rounds: number;
  last_error: string;
  next_at: number;
  claim: string | null;
}

function fromRow(r: NoticeRow): PendingNotice {
  return {
    runId: r.run_id,
    notice: r.notice,
    body: r.body,
    idempotencyKey: r.idempotency_key,
    finishedAt: r.finished_at,
    state: r.state,
    rounds: r.rounds,
    lastError: r.last_error,
    nextAt: r.next_at,
    ...(r.claim ? { claim: r.claim } : {}),
  };
}

/** Text PostgreSQL takes as `text`: no NUL, no lone surrogates. */
function storable(s: string): string {
  return s.toWellFormed().replaceAll("\0", "\uFFFD");
}

/** Undelivered run notices in PostgreSQL. */
export class PgNoticeOutbox implements NoticeOutbox {
  #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  async add(n: NewPendingNotice): Promise<void> {
    await this.#sql`
      INSERT INTO sluice_run_notices (run_id, notice, body, idempotency_key, finished_at, state,
        rounds, last_error, next_at, claim)
      VALUES (${n.runId}, ${n.notice}, ${storable(n.body)}, ${n.idempotencyKey},
        ${Math.floor(n.finishedAt)}, 'pending', ${n.rounds}, ${storable(n.lastError)},
        ${Math.floor(n.nextAt)}, ${n.claim ?? null})
      ON CONFLICT (run_id, notice) DO UPDATE SET body = excluded.body,
        idempotency_key = excluded.idempotency_key, finished_at = excluded.finished_at,
        state = 'pending', rounds = excluded.rounds, last_error = excluded.last_error,
        next_at = excluded.next_at, claim = excluded.claim`;
  }

  async ofRun(runId: string): Promise<PendingNotice[]> {
    const rows = await this.#sql<NoticeRow[]>`
      SELECT * FROM sluice_run_notices WHERE run_id = ${runId} ORDER BY notice`;
    return rows.map(fromRow);
  }

  async claimDue(o: ClaimNoticesOptions): Promise<PendingNotice[]> {
    const rows = await this.#sql<NoticeRow[]>`
      UPDATE sluice_run_notices n
      SET next_at = ${Math.floor(o.now + o.leaseMs)}, claim = ${crypto.randomUUID()}
      FROM (
        SELECT run_id, notice FROM sluice_run_notices
        WHERE state = 'pending' AND next_at <= ${Math.floor(o.now)}
        ORDER BY next_at
        LIMIT ${Math.max(0, Math.floor(o.limit))}
        FOR UPDATE SKIP LOCKED
      ) due
      WHERE n.run_id = due.run_id AND n.notice = due.notice
      RETURNING n.*`;
    return rows.map(fromRow);
  }

  async settle(n: PendingNotice, outcome: NoticeSettlement): Promise<boolean> {
    if (!n.claim) return false;
    const sql = this.#sql;
    const mine = sql`run_id = ${n.runId} AND notice = ${n.notice} AND claim = ${n.claim}`;
    let rows;
    if ("delivered" in outcome) {
      rows = await sql`DELETE FROM sluice_run_notices WHERE ${mine} RETURNING 1`;
    } else if ("retryAt" in outcome) {
      rows = await sql`
        UPDATE sluice_run_notices SET rounds = rounds + 1, last_error = ${storable(outcome.error)},
          next_at = ${Math.floor(outcome.retryAt)}, claim = NULL
        WHERE ${mine} RETURNING 1`;
    } else {
      rows = await sql`
        UPDATE sluice_run_notices SET state = 'given-up',
          rounds = rounds + ${outcome.tried ? 1 : 0}::int,
          last_error = ${storable(outcome.error)}, next_at = ${Math.floor(outcome.givenUpAt)},
          claim = NULL
        WHERE ${mine} RETURNING 1`;
    }
    return rows.length > 0;
  }
}
