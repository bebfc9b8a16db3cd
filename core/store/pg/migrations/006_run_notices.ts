/**
 * Migration 6: run notices (`onFailure` / `onSuccess` webhooks) that were not delivered when
 * their run ended, kept for resending (`pg_notices.ts`): one row per run and notice, with the
 * body as first sent, its idempotency key, where the resending stands (`state` pending or
 * given-up, failed `rounds`, `last_error`, `next_at`) and the `claim` of the process sending it
 * now. The partial index reads the due pending rows; the rows go with their run (cascade).
 * @module
 */

/** The SQL of migration 6. */
export const sql = `
CREATE TABLE sluice_run_notices (
  run_id          text NOT NULL REFERENCES sluice_runs (id) ON DELETE CASCADE,
  notice          text NOT NULL,
  body            text NOT NULL,
  idempotency_key text NOT NULL,
  finished_at     bigint NOT NULL,
  state           text NOT NULL,
  rounds          int NOT NULL,
  last_error      text NOT NULL,
  next_at         bigint NOT NULL,
  claim           text,
  PRIMARY KEY (run_id, notice)
);
CREATE INDEX sluice_run_notices_due ON sluice_run_notices (next_at) WHERE state = 'pending';
`;
