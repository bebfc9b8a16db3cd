/**
 * Migration 4: which process each row of `sluice_workers` is (host, pid, command), so that
 * `sluice runs show` and `sluice runs list` can name the process that works a run on any host
 * and say whether it is still alive (its heartbeat, `seen_at`), as they do on the embedded store.
 * @module
 */

/** The SQL of migration 4. */
export const sql = `
ALTER TABLE sluice_workers ADD COLUMN host text, ADD COLUMN pid int, ADD COLUMN command text;
`;
