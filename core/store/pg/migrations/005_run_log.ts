/**
 * Migration 5: each run's own log (plugin lines and engine events by stage and chunk, with the
 * run tallies they carry), which the run page, the API's run log, the CLI's run summary (export
 * lines) and the run notes read. `seq` orders lines logged in the same millisecond as they were
 * appended, by whichever process; the primary key reads a run's lines in that order and lets a
 * purged run's lines go with it (cascade). `sluice_run_log_lines` counts the lines appended per
 * run, so that the cap holds for the run as a whole across processes (see `pg_run_log.ts`).
 * @module
 */

/** The SQL of migration 5. */
export const sql = `
CREATE TABLE sluice_run_log (
  run_id text NOT NULL REFERENCES sluice_runs (id) ON DELETE CASCADE,
  at     bigint NOT NULL,
  seq    bigint GENERATED ALWAYS AS IDENTITY,
  level  text NOT NULL,
  stage  text NOT NULL,
  chunk  int NOT NULL,
  msg    text NOT NULL,
  tally  jsonb,
  PRIMARY KEY (run_id, at, seq)
);
CREATE TABLE sluice_run_log_lines (
  run_id text PRIMARY KEY REFERENCES sluice_runs (id) ON DELETE CASCADE,
  lines  bigint NOT NULL
);
`;
