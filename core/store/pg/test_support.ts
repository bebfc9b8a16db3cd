/**
 * Test support for the PostgreSQL backend: a {@link BackendFactory} that gives each test folder
 * its own database on one throwaway server (the same folder reopens the same database).
 * @module
 */
import type { BackendFactory } from "../../engine/test_helpers.ts";
import { connectPg } from "./connect.ts";
import { openPgBackend, type PgBackendOptions } from "./pg_backend.ts";

/** Databases per test folder on the server at `url`; `close()` drops them. */
export interface PgFactory {
  make: BackendFactory;
  /** A URL of a new, empty database. */
  newDatabase(): Promise<string>;
  close(): Promise<void>;
}

/** Builds a factory over the server at `url` (its user may create databases). */
export function pgFactory(
  url: string,
  opts: Omit<PgBackendOptions, "url"> = {},
): PgFactory {
  const admin = connectPg(url, { max: 1 });
  const byDir = new Map<string, string>();
  const created: string[] = [];
  const newDatabase = async () => {
    const name = `sluice_t_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await admin.unsafe(`CREATE DATABASE ${name}`);
    created.push(name);
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  return {
    newDatabase,
    async make(dir) {
      let db = byDir.get(dir);
      if (!db) byDir.set(dir, db = await newDatabase());
      // The engine's shared scenarios inject synthetic clocks (rate limits), so the backends
      // made here judge time by the callers' clocks unless a test asks otherwise.
      return await openPgBackend({
        visibilityMs: 3000,
        pollMs: 200,
        callerClock: true,
        ...opts,
        url: db,
      });
    },
    async close() {
      for (const name of created) {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      }
      await admin.end({ timeout: 5 });
    },
  };
}
