/**
 * Limits that hold across every process on one PostgreSQL database: concurrency slots (at most
 * N live holders of a scope, each with an expiry a heartbeat extends, so a killed holder frees
 * its slot after the visibility timeout), token buckets for rate limits (per stage and key, e.g.
 * per host), and named leases (one holder at a time: the scheduler leader, maintenance).
 * @module
 */
import type { ClusterLimits, KeyedLimiter } from "../store.ts";
import type { Sql } from "./connect.ts";

/** Options of {@link PgLimits}. */
export interface PgLimitsOptions {
  sql: Sql;
  workerId: string;
  /** A slot whose holder stops heartbeating is free after this long (default 30 s). */
  slotTtlMs?: number;
  /**
   * How long a slot freed here stays with this process for its next chunk of the same scope
   * while no other process waits for the scope (default 2 s).
   */
  idleKeepMs?: number;
  /**
   * Judge lease expiry and rate-limit bucket time by the callers' clocks (`now` arguments,
   * `timer.now`) instead of the database clock (default false). Only for tests with synthetic
   * clocks: with real processes one fast clock would take leases over and starve buckets.
   */
  callerClock?: boolean;
}

/** The NOTIFY channel on which a process that finds a scope full asks for idle slots. */
export const SLOTS_CHANNEL = "sluice_slots";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** After a wait for a scope was announced, slots of the scope are freed at once for this long. */
const CONTENDED_MS = 1000;

/** The database clock in epoch milliseconds (float8), as a fragment of a statement. */
const dbNow = (sql: Sql) => sql`(extract(epoch FROM clock_timestamp()) * 1000)::float8`;

/** A waiting process announces its wait again at most this often. */
const ANNOUNCE_MS = 100;

/**
 * PostgreSQL implementation of {@link ClusterLimits}.
 *
 * Slots: a slot is a row in `sluice_slots`, so the limit holds across processes whatever they do.
 * A slot freed here is kept for this process's next chunk of the scope (no round trip to take it,
 * none to free it) until it has been idle for `idleKeepMs`, or until another process finds the
 * scope full: that process announces its wait with a NOTIFY on {@link SLOTS_CHANNEL}, and every
 * process frees its idle slots of the scope at once and frees the next ones as they are released
 * for a moment ({@link CONTENDED_MS}). Work that does not reach its limit thus costs no round trip
 * per chunk, and work that does is shared as before.
 */
export class PgLimits implements ClusterLimits {
  #sql: Sql;
  #me: string;
  #ttl: number;
  #keep: number;
  #callerClock: boolean;
  #n = 0;
  #held = new Set<string>();
  /** Slots freed by this process but kept for a moment, per scope. */
  #idle = new Map<string, { holder: string; timer: ReturnType<typeof setTimeout> }[]>();
  /** Scopes another process waits for, and when it said so. */
  #contended = new Map<string, number>();
  #beat: ReturnType<typeof setInterval>;
  #sub?: Promise<{ unlisten(): Promise<void> } | undefined>;
  #listening = false;
  #closed = false;

  constructor(o: PgLimitsOptions) {
    this.#sql = o.sql;
    this.#me = o.workerId;
    this.#ttl = o.slotTtlMs ?? 30_000;
    this.#keep = o.idleKeepMs ?? 2000;
    this.#callerClock = o.callerClock ?? false;
    this.#beat = setInterval(() => void this.#heartbeat(), Math.max(50, this.#ttl / 3));
  }

  /** Whether leases and buckets are judged by the callers' clocks (tests), not the database's. */
  get callerClock(): boolean {
    return this.#callerClock;
  }

  /** Listens for waits of other processes (once); until then freed slots are not kept. */
  #listen() {
    this.#sub ??= this.#sql.listen(SLOTS_CHANNEL, (scope) => this.#wanted(scope), () => {
      this.#listening = true;
    }).catch(() => undefined);
  }

  /** Another process waits for `scope`: free the idle slots of the scope now. */
  #wanted(scope: string) {
    this.#contended.set(scope, performance.now());
    if (this.#contended.size > 1000) {
      const old = performance.now() - CONTENDED_MS;
      for (const [k, at] of this.#contended) if (at < old) this.#contended.delete(k);
    }
    const list = this.#idle.get(scope);
    if (!list) return;
    this.#idle.delete(scope);
    for (const e of list) {
      clearTimeout(e.timer);
      void this.#free(scope, e.holder);
    }
  }

  async acquire(
    scope: string,
    permits: number,
    signal?: AbortSignal,
  ): Promise<() => Promise<void>> {
    // A slot this process freed a moment ago is reused without a round trip.
    const idle = this.#idle.get(scope)?.pop();
    if (idle) {
      clearTimeout(idle.timer);
      if (!this.#idle.get(scope)?.length) this.#idle.delete(scope);
      return this.#releaser(scope, idle.holder);
    }
    this.#listen();
    const holder = `${this.#me}:${++this.#n}`;
    const ttl = this.#ttl / 1000;
    let announced = -Infinity;
    for (let wait = 1;; wait = Math.min(wait * 2, 25)) {
      signal?.throwIfAborted();
      const now = performance.now();
      const announce = now - announced >= ANNOUNCE_MS;
      // Take a free slot, or (at most every ANNOUNCE_MS) tell the others this scope is full.
      const [r] = await this.#sql<{ slot: number | null }[]>`
        WITH ins AS (
          INSERT INTO sluice_slots AS s (scope, slot, holder, expires_at)
          SELECT ${scope}, g, ${holder}, now() + make_interval(secs => ${ttl})
          FROM generate_series(0, ${Math.max(1, permits) - 1}) g
          WHERE NOT EXISTS (SELECT 1 FROM sluice_slots x
                            WHERE x.scope = ${scope} AND x.slot = g AND x.expires_at > now())
          ORDER BY g LIMIT 1
          ON CONFLICT (scope, slot) DO UPDATE SET holder = excluded.holder,
            expires_at = excluded.expires_at
            WHERE s.expires_at <= now()
          RETURNING slot
        )
        SELECT (SELECT slot FROM ins) AS slot,
          (SELECT count(pg_notify(${SLOTS_CHANNEL}, ${scope})) FROM (SELECT 1) z
           WHERE ${announce} AND NOT EXISTS (SELECT 1 FROM ins)) AS announced`;
      if (r.slot !== null) break;
      if (announce) announced = now;
      await sleep(wait + Math.random() * wait);
    }
    this.#held.add(holder);
    return this.#releaser(scope, holder);
  }

  #releaser(scope: string, holder: string): () => Promise<void> {
    let released = false;
    return () => {
      if (released) return Promise.resolve();
      released = true;
      const wanted = this.#contended.get(scope);
      if (
        this.#closed || !this.#listening ||
        (wanted !== undefined && performance.now() - wanted < CONTENDED_MS)
      ) {
        // Another process waits for the scope (or nobody would tell us): free it now.
        return this.#free(scope, holder);
      }
      // Keep the slot for this process's next chunk of the scope; free it once idle too long.
      const list = this.#idle.get(scope) ?? [];
      this.#idle.set(scope, list);
      const entry = {
        holder,
        timer: setTimeout(() => {
          const i = list.indexOf(entry);
          if (i < 0) return;
          list.splice(i, 1);
          if (!list.length && this.#idle.get(scope) === list) this.#idle.delete(scope);
          void this.#free(scope, holder);
        }, this.#keep),
      };
      list.push(entry);
      return Promise.resolve();
    };
  }

  async #free(scope: string, holder: string) {
    this.#held.delete(holder);
    await this.#sql`DELETE FROM sluice_slots WHERE scope = ${scope} AND holder = ${holder}`
      .catch(() => {}); // it expires on its own
  }

  async #heartbeat() {
    if (!this.#held.size) return;
    await this.#sql`
      UPDATE sluice_slots SET expires_at = now() + make_interval(secs => ${this.#ttl / 1000})
      WHERE holder = ANY(${[...this.#held]}::text[])`.catch(() => {});
  }

  rateLimiter(
    name: string,
    o: {
      rate: number;
      perMs: number;
      burst?: number;
      timer?: { now(): number; sleep(ms: number): Promise<void> };
    },
  ): KeyedLimiter {
    const sql = this.#sql;
    const burst = Math.max(1, o.burst ?? Math.ceil(o.rate));
    const perToken = o.perMs / o.rate;
    // The bucket's time is the database clock unless a test injects its own: a process with a
    // fast clock would otherwise move `at` into the future and starve every other process.
    const callerNow = this.#callerClock
      ? (o.timer ? () => o.timer!.now() : () => Date.now())
      : undefined;
    const wait = o.timer ? (ms: number) => o.timer!.sleep(ms) : sleep;
    return {
      async take(key = "", signal?: AbortSignal) {
        const k = JSON.stringify([name, key]);
        for (;;) {
          signal?.throwIfAborted();
          const t = callerNow ? sql`${callerNow()}::float8` : dbNow(sql);
          // Refill by elapsed time, take one token if there is one; otherwise report the level.
          const [r] = await sql<{ taken: boolean; tokens: number }[]>`
            WITH c AS (SELECT ${t} AS t), up AS (
              INSERT INTO sluice_buckets AS b (key, tokens, at)
              SELECT ${k}, ${burst - 1}, c.t FROM c
              ON CONFLICT (key) DO UPDATE SET
                tokens = least(${burst}::float8,
                  b.tokens + greatest(0, (SELECT t FROM c) - b.at) / ${perToken}) - 1,
                at = greatest(b.at, (SELECT t FROM c)), touched_at = now()
              WHERE least(${burst}::float8,
                b.tokens + greatest(0, (SELECT t FROM c) - b.at) / ${perToken}) >= 1
              RETURNING tokens
            )
            SELECT true AS taken, tokens FROM up
            UNION ALL
            SELECT false, least(${burst}::float8, tokens + greatest(0, c.t - at) / ${perToken})
            FROM sluice_buckets, c WHERE key = ${k} AND NOT EXISTS (SELECT 1 FROM up)`;
          if (!r || r.taken) return;
          await wait(Math.max(1, Math.ceil((1 - r.tokens) * perToken)));
        }
      },
    };
  }

  /**
   * Takes or renews lease `name` for `owner` for `ttlMs`; false while another owner holds it.
   * Expiry is written and judged by the database clock, so a process whose clock runs fast
   * cannot take a live lease over; `now` (epoch ms) counts only with `callerClock` (tests).
   */
  async acquireLease(
    name: string,
    owner: string,
    ttlMs: number,
    now?: number,
  ): Promise<boolean> {
    const t = this.#callerClock ? this.#sql`${now ?? Date.now()}::float8` : dbNow(this.#sql);
    const rows = await this.#sql`
      WITH c AS (SELECT ${t} AS t)
      INSERT INTO sluice_leases AS l (name, owner, expires_at)
      SELECT ${name}, ${owner}, round(c.t + ${ttlMs})::bigint FROM c
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE l.owner = excluded.owner OR l.expires_at <= (SELECT t FROM c)
      RETURNING 1`;
    return rows.length > 0;
  }

  /** Gives lease `name` up when `owner` holds it. */
  async releaseLease(name: string, owner: string): Promise<void> {
    await this.#sql`DELETE FROM sluice_leases WHERE name = ${name} AND owner = ${owner}`;
  }

  /**
   * The lease's holder, when it has not expired by the database clock (by `now` with
   * `callerClock`).
   */
  async leaseHolder(
    name: string,
    now?: number,
  ): Promise<{ owner: string; expiresAt: number } | undefined> {
    const t = this.#callerClock ? this.#sql`${now ?? Date.now()}::float8` : dbNow(this.#sql);
    const [r] = await this.#sql<{ owner: string; expires_at: number }[]>`
      SELECT owner, expires_at FROM sluice_leases WHERE name = ${name} AND expires_at > ${t}`;
    return r ? { owner: r.owner, expiresAt: Number(r.expires_at) } : undefined;
  }

  /** Stops the heartbeat and frees the slots still held here. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#beat);
    const sub = await this.#sub;
    await sub?.unlisten().catch(() => {});
    for (const list of this.#idle.values()) for (const e of list) clearTimeout(e.timer);
    this.#idle.clear();
    if (this.#held.size) {
      await this.#sql`DELETE FROM sluice_slots WHERE holder = ANY(${[...this.#held]}::text[])`
        .catch(() => {});
      this.#held.clear();
    }
  }
}
