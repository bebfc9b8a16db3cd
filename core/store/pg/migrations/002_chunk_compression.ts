/**
 * Migration 2: chunk rows (items, rejected items) compressed with lz4 instead of pglz where the
 * server supports it (PostgreSQL 14+ built with lz4, as Debian's is). A chunk is JSON of up to a
 * few hundred KB written once per stage; 50 inserts of 84 KB JSON took 185 ms with pglz and 57 ms
 * with lz4. A server without lz4 keeps pglz.
 * @module
 */

/** The SQL of migration 2. */
export const sql = `
DO $$
BEGIN
  ALTER TABLE sluice_chunks ALTER COLUMN items SET COMPRESSION lz4,
    ALTER COLUMN rejected SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 compression is not available; chunk rows keep pglz';
END
$$;
`;
