/**
 * Migration 3: chunk rows keep their items and rejected items as `text` instead of `json`. The
 * host writes them as JSON it made itself and parses them when it reads them; `json` only made
 * the server check every byte again: 200 inserts of 412 KB chunks cost the server 1.1–1.25 s of
 * CPU as `json` and 0.5 s as `text` (2026-11-29). As text the stored bytes also go to a plugin
 * as they are (`readChunkRaw`). Rewrites the table once; the lz4 compression of migration 2 is
 * set again for the new columns.
 * @module
 */

/** The SQL of migration 3. */
export const sql = `
ALTER TABLE sluice_chunks
  ALTER COLUMN items TYPE text USING items::text,
  ALTER COLUMN rejected TYPE text USING rejected::text;
DO $$
BEGIN
  ALTER TABLE sluice_chunks ALTER COLUMN items SET COMPRESSION lz4,
    ALTER COLUMN rejected SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
  RAISE NOTICE 'lz4 compression is not available; chunk rows keep pglz';
END
$$;
`;
