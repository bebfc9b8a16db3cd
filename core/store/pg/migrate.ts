/**
 * Versioned SQL migrations of the PostgreSQL backend, applied in one transaction under a
 * transaction-scoped advisory lock, so several processes starting at once apply each migration
 * exactly once (the others wait, then see nothing left to do). `sluice migrate` runs the same.
 * @module
 */
import type { Sql } from "./connect.ts";
import { sql as m001 } from "./migrations/001_initial.ts";
import { sql as m002 } from "./migrations/002_chunk_compression.ts";
import { sql as m003 } from "./migrations/003_chunk_text.ts";
import { sql as m004 } from "./migrations/004_worker_process.ts";
import { sql as m005 } from "./migrations/005_run_log.ts";
import { sql as m006 } from "./migrations/006_run_notices.ts";

/** One migration. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration of this build, in order. Append only; never edit a shipped one. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "initial", sql: m001 },
  { version: 2, name: "chunk_compression", sql: m002 },
  { version: 3, name: "chunk_text", sql: m003 },
  { version: 4, name: "worker_process", sql: m004 },
  { version: 5, name: "run_log", sql: m005 },
  { version: 6, name: "run_notices", sql: m006 },
];

/** Advisory lock key of migrations ("sluice" in ASCII, as a bigint). */
const LOCK_KEY = 0x736c75696365;

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Versions applied now. */
  applied: number[];
  /** The schema version afterwards. */
  version: number;
}

/**
 * Applies pending migrations; throws when the database is newer than this build. `migrations`
 * (default: every migration of this build) lets a test stop at an older schema.
 */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrateResult> {
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`CREATE TABLE IF NOT EXISTS sluice_migrations (
      version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const rows = await tx<{ version: number }[]>`SELECT version FROM sluice_migrations`;
    const have = new Set(rows.map((r) => r.version));
    const newest = migrations[migrations.length - 1].version;
    const ahead = [...have].filter((v) => v > newest);
    if (ahead.length) {
      throw new Error(
        `the database schema is at version ${Math.max(...ahead)}, newer than this build knows ` +
          `(${newest}): upgrade sluice on this machine to the version the other processes run`,
      );
    }
    const applied: number[] = [];
    for (const m of migrations) {
      if (have.has(m.version)) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO sluice_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(m.version);
    }
    return { applied, version: newest };
  });
}
