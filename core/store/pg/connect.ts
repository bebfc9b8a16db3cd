/**
 * Opens a `postgres` (porsager) connection pool with the settings every Sluice module expects:
 * int8 parsed as JavaScript numbers, notices silenced, a clear error for a bad URL.
 * @module
 */
import postgres from "postgres";

/** A connection pool. */
export type Sql = postgres.Sql;

/** Options of {@link connectPg}. */
export interface ConnectOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Shown in `pg_stat_activity.application_name`. */
  applicationName?: string;
}

/** The URL with its password masked, for messages. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** Opens a pool on `url` (`postgres://user:pw@host:port/db`). Connections open lazily. */
export function connectPg(url: string, opts: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    connection: {
      application_name: opts.applicationName ?? "sluice",
      // Sluice's statements are key lookups whose best plan does not depend on the values, and
      // they are prepared: plan each once. (PostgreSQL otherwise re-plans the batched reads on
      // every execution, since a plan for a known array length looks cheaper; that planning cost
      // more CPU than running them.) A generic plan may be made while the tables are still
      // empty, so statements read other tables by key in a way no plan turns into a scan of a
      // whole table (correlated `LATERAL … LIMIT 1` lookups, no `EXISTS`/`IN` over tables).
      plan_cache_mode: "force_generic_plan",
    },
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (x: number | bigint) => String(x),
        parse: (x: string) => Number(x),
      },
    },
  });
}

/**
 * Runs `fn`; a connection failure, or a role that may not create Sluice's tables (`42501`), is
 * rethrown with where it tried to connect and what to do.
 */
export async function explainConnect<T>(url: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const err = e as Error & { code?: string };
    if (
      err.code && /^(ECONNREFUSED|ENOTFOUND|ETIMEDOUT|CONNECT_TIMEOUT|28P01|28000|3D000)$/.test(
        err.code,
      )
    ) {
      throw new Error(
        `cannot connect to PostgreSQL at ${maskUrl(url)} (store.url / SLUICE_DATABASE_URL): ` +
          `${err.message}. Check that the server runs, the host, port, user, password and ` +
          `database are right, and that this machine may connect.`,
        { cause: e },
      );
    }
    if (err.code === "42501") {
      const u = new URL(url);
      const role = decodeURIComponent(u.username) || "sluice";
      const db = decodeURIComponent(u.pathname.slice(1)) || role;
      throw new Error(
        `PostgreSQL at ${maskUrl(url)} (store.url / SLUICE_DATABASE_URL) refused ` +
          `${role} the rights Sluice needs to create its tables: ${err.message}. Make the role ` +
          `the database's owner: \`CREATE DATABASE ${db} OWNER ${role}\` for a new one, ` +
          `\`ALTER DATABASE ${db} OWNER TO ${role}\` for this one (as a superuser, e.g. ` +
          `\`sudo -u postgres psql\`).`,
        { cause: e },
      );
    }
    throw e;
  }
}
