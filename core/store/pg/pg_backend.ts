/**
 * The scale-out backend: {@link PgStore}, {@link PgQueue} and {@link PgLimits} on one
 * PostgreSQL database, selected by `store.url` / `SLUICE_DATABASE_URL`. Opening applies pending
 * migrations (under an advisory lock) unless told not to.
 *
 * ```ts
 * const backend = await openPgBackend({ url: "postgres://sluice:pw@db:5432/sluice" });
 * const engine = new Engine({ backend, executor, dataDir });
 * ```
 * @module
 */
import type { Logger } from "../../telemetry/log.ts";
import type { Backend } from "../store.ts";
import { connectPg, explainConnect, type Sql } from "./connect.ts";
import { migrate } from "./migrate.ts";
import { PgLimits } from "./pg_limits.ts";
import { PgQueue } from "./pg_queue.ts";
import { PgStore } from "./pg_store.ts";

/** Options of {@link openPgBackend}. */
export interface PgBackendOptions {
  url: string;
  /** This process's id in locks and leases (default: host, pid and a random suffix). */
  workerId?: string;
  /** Queue visibility timeout and slot expiry (default 30 s). */
  visibilityMs?: number;
  /** Longest poll interval of the queue (default 1 s). */
  pollMs?: number;
  /** Messages handled at once by this process (default 16). */
  concurrency?: number;
  /**
   * Connections in the pool (default 4). Few is better: statements issued while every
   * connection is busy queue on one and go out together, which costs PostgreSQL and this
   * process far less CPU than a connection (a wake-up, a round trip) per statement.
   */
  poolSize?: number;
  /**
   * Judge leases and rate-limit buckets by the callers' clocks instead of the database clock
   * (default false; tests with synthetic clocks only, see `PgLimitsOptions.callerClock`).
   */
  callerClock?: boolean;
  /** What this process is, for `sluice_workers` (default `sluice` and this process's arguments). */
  command?: string;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
  log?: Logger;
}

/** The PostgreSQL backend with its parts exposed. */
export interface PgBackend extends Backend {
  sql: Sql;
  store: PgStore;
  queue: PgQueue;
  limits: PgLimits;
  workerId: string;
  close(): Promise<void>;
}

/** A process id for locks: host, pid and a random suffix. */
export function defaultWorkerId(): string {
  let host = "host";
  try {
    host = Deno.hostname();
  } catch {
    // no sys permission: keep "host"
  }
  return `${host}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
}

/** Connects, migrates (unless `migrate: false`) and returns the backend. */
export async function openPgBackend(o: PgBackendOptions): Promise<PgBackend> {
  const concurrency = o.concurrency ?? 16;
  const workerId = o.workerId ?? defaultWorkerId();
  const vt = o.visibilityMs ?? 30_000;
  const sql = connectPg(o.url, { max: o.poolSize ?? 4, applicationName: workerId });
  try {
    await explainConnect(o.url, async () => {
      if (o.migrate ?? true) await migrate(sql);
      else await sql`SELECT 1`;
    });
    const [r] = await sql<{ ok: boolean }[]>`
      SELECT to_regclass('sluice_queue') IS NOT NULL AS ok`;
    if (!r.ok) {
      throw new Error(
        `the database has no Sluice tables: run "sluice migrate" (or start without --no-migrate)`,
      );
    }
  } catch (e) {
    await sql.end({ timeout: 1 });
    throw e;
  }
  const queue = new PgQueue({
    sql,
    workerId,
    visibilityMs: vt,
    pollMs: o.pollMs,
    concurrency,
    command: o.command,
    log: o.log,
  });
  const store = new PgStore({ sql, queue, visibilityMs: vt });
  const limits = new PgLimits({ sql, workerId, slotTtlMs: vt, callerClock: o.callerClock });
  let closed: Promise<void> | undefined;
  return {
    sql,
    store,
    queue,
    limits,
    workerId,
    close() {
      closed ??= (async () => {
        await queue.drain();
        await limits.close();
        await sql.end({ timeout: 5 });
      })();
      return closed;
    },
  };
}
