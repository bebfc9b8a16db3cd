/**
 * The PostgreSQL {@link Queue}: one row per unit of work (`run/stage/chunk`, `run/finalize`),
 * claimed with `FOR UPDATE SKIP LOCKED` under a visibility timeout that a heartbeat extends while
 * the handler runs, woken by `LISTEN/NOTIFY` (with polling as the fallback for delayed messages
 * and expired locks). Enqueueing a unit that is already queued merges into its row; enqueueing
 * one that is being handled marks it for one more delivery after the handler finishes, so
 * at-least-once holds without piling up duplicates. A message delivered `maxDeliveries` times in
 * a row without its handler finishing (its workers kept dying) is moved to `sluice_queue_dead`.
 *
 * Local continuation: when a chunk commit enqueues the next stage's message, the committing
 * process may reserve it (lock it for itself) and handle it at once; `claimLocal` hands the
 * reservation to the engine. Without a reservation the engine leaves the message to the queue,
 * so work spreads over every worker.
 * @module
 */
import type { EngineMessage, EnqueueOptions, Queue } from "../../queue/queue.ts";
import { messageId } from "../../queue/queue.ts";
import { type Logger, silentLogger } from "../../telemetry/log.ts";
import type { Sql } from "./connect.ts";

/** The NOTIFY channel of new ready messages. */
export const QUEUE_CHANNEL = "sluice_queue";

/** Options of {@link PgQueue}. */
export interface PgQueueOptions {
  sql: Sql;
  /** Unique id of this process (shown as `locked_by`). */
  workerId: string;
  /** How long a claim hides a message before another process may take it (default 30 s). */
  visibilityMs?: number;
  /** Longest wait between polls for delayed messages and expired locks (default 1 s). */
  pollMs?: number;
  /** Messages this process handles at once, continuations included (default 16). */
  concurrency?: number;
  /** Deliveries in a row without the handler finishing before a message is parked (default 10). */
  maxDeliveries?: number;
  /**
   * What this process is, recorded in `sluice_workers` with its host and pid (default
   * `sluice` and this process's arguments): `sluice runs show` names it.
   */
  command?: string;
  log?: Logger;
}

/** `sluice` and this process's arguments, at most 80 characters: what a process is, for messages. */
export function processCommand(): string {
  const command = ["sluice", ...Deno.args].join(" ");
  return command.length > 80 ? `${command.slice(0, 79)}…` : command;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "host"; // no sys permission
  }
}

/** One message row to write with a commit or an enqueue. */
export interface QueueRow {
  key: string;
  runId: string;
  body: string;
  delayMs: number;
  /** Lock it for this process (a local continuation). */
  reserve: boolean;
  /** Which write of a batch the row belongs to (column `owner` for `when`; default 0). */
  owner?: number;
}

interface Held {
  key: string;
  lease: number;
  /** Counts toward `concurrency`: everything but source chunks (see `load`). */
  counts: boolean;
}

/** Source chunks wait for later stages to catch up, so they must not hold capacity. */
const counts = (m: EngineMessage) => !(m.kind === "chunk" && m.stage === 0);

/** PostgreSQL implementation of {@link Queue}. */
export class PgQueue implements Queue {
  #sql: Sql;
  #me: string;
  #vt: number;
  #poll: number;
  #cap: number;
  #maxDeliveries: number;
  #command: string;
  #log: Logger;
  /** Leases being handled here (listen deliveries and claimed continuations), by lease. */
  #held = new Map<number, Held>();
  /** Reservations made by commits and not yet claimed: key -> lease and when. */
  #reserved = new Map<string, { lease: number; at: number; counts: boolean }>();
  #wake: (() => void) | undefined;
  /** A wake-up arrived while nobody slept: the next sleep returns at once. */
  #woken = false;
  #loop?: Promise<void>;
  #beat?: ReturnType<typeof setInterval>;
  #inflight = new Set<Promise<void>>();
  #signal?: AbortSignal;
  /** Messages finished here (acknowledged), reported to `sluice_workers`. */
  #handled = 0;
  /** Keys whose rows a commit here deleted since they were claimed. */
  #committed = new Set<string>();

  constructor(o: PgQueueOptions) {
    this.#sql = o.sql;
    this.#me = o.workerId;
    this.#vt = o.visibilityMs ?? 30_000;
    this.#poll = o.pollMs ?? 1000;
    this.#cap = o.concurrency ?? 16;
    this.#maxDeliveries = o.maxDeliveries ?? 10;
    this.#command = o.command ?? processCommand();
    this.#log = o.log ?? silentLogger;
  }

  /** This process's id. */
  get workerId(): string {
    return this.#me;
  }

  /**
   * Messages handled here right now plus fresh reservations, source chunks excepted: a source
   * handler may wait for later stages to catch up (`maxSourceAhead`), and those later chunks
   * must still find capacity.
   */
  get load(): number {
    this.#expireReservations();
    let n = 0;
    for (const h of this.#held.values()) if (h.counts) n++;
    for (const r of this.#reserved.values()) if (r.counts) n++;
    return n;
  }

  /** Whether a commit should reserve `m` for a local continuation. */
  shouldReserve(m: EngineMessage): boolean {
    if (m.kind !== "chunk" || this.#signal?.aborted) return false;
    return m.stage === 0 || this.load < this.#cap;
  }

  /** Records reservations a commit made (called by the store after its commit). */
  reserved(rows: { key: string; lease: number }[]): void {
    const at = performance.now();
    for (const r of rows) {
      this.#reserved.set(r.key, { lease: r.lease, at, counts: !/\/0\/\d+$/.test(r.key) });
    }
  }

  /**
   * Hands a commit's reservation of `m` to the caller: returns the function to call when done
   * (it acknowledges the message), or null when this process holds no live reservation (the
   * message is left to whichever worker claims it).
   */
  claimLocal(m: EngineMessage): (() => void) | null {
    this.#expireReservations();
    const key = messageId(m);
    const r = this.#reserved.get(key);
    if (!r) return null;
    this.#reserved.delete(key);
    this.#held.set(r.lease, { key, lease: r.lease, counts: counts(m) });
    return () => {
      this.#held.delete(r.lease);
      // After shutdown the engine may have stopped without finishing: hand the message back.
      const done = this.#signal?.aborted ? this.#release(r.lease, 0) : this.#ack(key, r.lease);
      void done.catch((e) => this.#warn("acknowledging failed", key, e));
    };
  }

  #expireReservations() {
    // A reservation is not heartbeated: unclaimed after most of its visibility timeout, it is
    // forgotten here and the row becomes claimable by anyone when its lock runs out.
    const limit = performance.now() - this.#vt * 0.8;
    for (const [k, r] of this.#reserved) if (r.at < limit) this.#reserved.delete(k);
  }

  async enqueue(message: EngineMessage, options: EnqueueOptions = {}): Promise<void> {
    const row: QueueRow = {
      key: messageId(message),
      runId: message.runId,
      body: JSON.stringify(message),
      delayMs: Math.max(0, options.delayMs ?? 0),
      reserve: false,
    };
    await this.#sql`WITH ${messageCtes(this.#sql, [row], this.#me, this.#vt)}
      SELECT (SELECT count(*) FROM n) AS notified`;
  }

  listen(handler: (m: EngineMessage) => Promise<void>, signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    this.#loop ??= this.#run(handler, signal);
    return this.#loop;
  }

  async #run(handler: (m: EngineMessage) => Promise<void>, signal: AbortSignal): Promise<void> {
    const sub = await this.#sql.listen(QUEUE_CHANNEL, () => this.#poke());
    await this.#report();
    this.#beat = setInterval(() => void this.#heartbeat(), Math.max(50, this.#vt / 3));
    const onAbort = () => this.#poke();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        this.#woken = false;
        const free = this.#cap - this.load;
        let got = 0;
        let nextIn = this.#poll;
        if (free > 0) {
          const rows = await this.#claim(free).catch((e) => {
            this.#warn("claim failed", "-", e);
            return [];
          });
          got = rows.length;
          for (const r of rows) this.#deliver(r, handler, signal);
          // Something was ready: look again at once; nothing: sleep until the next ready
          // message, a NOTIFY, a finished handler, or the poll interval.
          if (got) continue;
          nextIn = await this.#nextReadyIn().catch(() => this.#poll);
        }
        if (nextIn > 0 || free <= 0) await this.#sleep(Math.min(this.#poll, nextIn), signal);
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      clearInterval(this.#beat);
      await sub.unlisten().catch(() => {});
    }
  }

  #poke() {
    if (this.#wake) this.#wake();
    else this.#woken = true;
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.#woken) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  async #claim(n: number) {
    const vt = this.#vt / 1000;
    return await this.#sql<
      { key: string; body: EngineMessage; lease: number; deliveries: number }[]
    >`
      WITH c AS (
        SELECT key FROM sluice_queue WHERE ready_at <= now()
        ORDER BY ready_at LIMIT ${n} FOR UPDATE SKIP LOCKED
      )
      UPDATE sluice_queue q
      SET ready_at = now() + make_interval(secs => ${vt}), locked_by = ${this.#me},
          lease = nextval('sluice_queue_lease'), requeue_at = NULL, deliveries = q.deliveries + 1
      FROM c WHERE q.key = c.key
      RETURNING q.key, q.body, q.lease, q.deliveries`;
  }

  async #nextReadyIn(): Promise<number> {
    const [r] = await this.#sql<{ ms: number | null }[]>`
      SELECT (extract(epoch FROM min(ready_at) - now()) * 1000)::float8 AS ms FROM sluice_queue`;
    return r.ms === null ? this.#poll : Math.max(0, Math.ceil(r.ms));
  }

  #deliver(
    r: { key: string; body: EngineMessage; lease: number; deliveries: number },
    handler: (m: EngineMessage) => Promise<void>,
    signal: AbortSignal,
  ) {
    this.#held.set(r.lease, { key: r.key, lease: r.lease, counts: counts(r.body) });
    const p = (async () => {
      try {
        if (r.deliveries > this.#maxDeliveries) {
          await this.#bury(r.key, r.lease, r.deliveries);
          return;
        }
        let ok = true;
        try {
          await handler(r.body);
        } catch (e) {
          ok = false;
          this.#warn("handler failed; the message is redelivered", r.key, e);
        }
        this.#held.delete(r.lease);
        // After shutdown the handler may have returned without finishing: hand the message
        // back instead of acknowledging it.
        if (signal.aborted || !ok) await this.#release(r.lease, ok ? 0 : 1000);
        else await this.#ack(r.key, r.lease);
      } catch (e) {
        this.#warn("acknowledging failed; the message is redelivered later", r.key, e);
      } finally {
        this.#held.delete(r.lease);
        this.#poke();
      }
    })();
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  /** Notes that a commit deleted `key`'s row: acknowledging it needs no round trip. */
  committed(key: string): void {
    this.#committed.add(key);
    if (this.#committed.size > 10_000) this.#committed.clear();
  }

  async #ack(key: string, lease: number) {
    this.#handled++;
    if (this.#committed.delete(key)) return;
    await this.#sql`
      WITH d AS (
        DELETE FROM sluice_queue WHERE key = ${key} AND lease = ${lease} AND requeue_at IS NULL
        RETURNING 1
      ), u AS (
        UPDATE sluice_queue SET ready_at = requeue_at, requeue_at = NULL, lease = NULL,
          locked_by = NULL, deliveries = 0
        WHERE key = ${key} AND lease = ${lease} AND requeue_at IS NOT NULL
        RETURNING ready_at
      )
      SELECT pg_notify(${QUEUE_CHANNEL}, '') FROM u WHERE ready_at <= now() + interval '1 second'`;
  }

  /** Makes a held message claimable again after `delayMs`. */
  async #release(lease: number, delayMs: number) {
    await this.#sql`
      UPDATE sluice_queue
      SET ready_at = least(coalesce(requeue_at, 'infinity'), now() + make_interval(secs => ${
      delayMs / 1000
    })),
        requeue_at = NULL, lease = NULL, locked_by = NULL
      WHERE lease = ${lease}`;
  }

  /**
   * Parks a message that kept killing its workers. A chunk's message also becomes a dead letter
   * of its run (its attempts marked dead, the stage's counters bumped, in the same statement), so
   * recovery does not put it back, the run settles, and the API/UI show it and can replay it.
   */
  async #bury(key: string, lease: number, deliveries: number) {
    const reason = `delivered ${deliveries} times without finishing: the workers handling it ` +
      `stopped (killed, out of memory?) each time; see their logs`;
    this.#log.error("message parked in sluice_queue_dead", { message: key, deliveries });
    await this.#sql`
      WITH d AS (DELETE FROM sluice_queue WHERE key = ${key} AND lease = ${lease}
                 RETURNING key, run_id, body, deliveries),
      q AS (
        INSERT INTO sluice_queue_dead (key, run_id, body, deliveries, reason)
        SELECT key, run_id, body, deliveries, ${reason} FROM d
        ON CONFLICT (key) DO UPDATE SET body = excluded.body, deliveries = excluded.deliveries,
          reason = excluded.reason, at = now()
        RETURNING 1
      ), c AS (
        SELECT d.run_id, (d.body->>'stage')::int AS stage, (d.body->>'chunk')::int AS chunk,
          d.deliveries, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS at
        FROM d WHERE d.body->>'kind' = 'chunk'
      ), dl AS (
        INSERT INTO sluice_dead_letters (run_id, stage, chunk, stage_id, attempts, error, at, items)
        SELECT c.run_id, c.stage, c.chunk,
          coalesce(r.record->'stages'->c.stage->>'id', c.stage::text), c.deliveries, ${reason},
          c.at, coalesce((SELECT p.count FROM sluice_chunks p WHERE c.stage > 0
            AND p.run_id = c.run_id AND p.stage = c.stage - 1 AND p.chunk = c.chunk), 0)
        FROM c JOIN sluice_runs r ON r.id = c.run_id
        ON CONFLICT DO NOTHING
        RETURNING run_id, stage, chunk, items
      ), cnt AS (
        INSERT INTO sluice_counters AS k (run_id, stage, chunks_dead, failed)
        SELECT run_id, stage, 1, items FROM dl
        ON CONFLICT (run_id, stage) DO UPDATE SET chunks_dead = k.chunks_dead + 1,
          failed = k.failed + excluded.failed
        RETURNING 1
      ), att AS (
        INSERT INTO sluice_attempts (run_id, stage, chunk, attempts, last_error, next_at, dead)
        SELECT c.run_id, c.stage, c.chunk, c.deliveries, ${reason}, c.at, true
        FROM c JOIN dl USING (run_id, stage, chunk)
        ON CONFLICT (run_id, stage, chunk) DO UPDATE SET last_error = excluded.last_error,
          dead = true
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM q) AS parked`;
  }

  /** How many messages are parked in `sluice_queue_dead` (for a gauge). */
  async parked(): Promise<number> {
    const [r] = await this.#sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sluice_queue_dead`;
    return r.n;
  }

  /** Messages finished by this process. */
  get handled(): number {
    return this.#handled;
  }

  async #report(stopped = false) {
    await this.#sql`
      INSERT INTO sluice_workers AS w (id, handled, stopped, host, pid, command)
      VALUES (${this.#me}, ${this.#handled}, ${stopped}, ${hostName()}, ${Deno.pid},
        ${this.#command})
      ON CONFLICT (id) DO UPDATE SET seen_at = now(), handled = excluded.handled,
        stopped = excluded.stopped`.catch((e) => this.#warn("worker report failed", "-", e));
  }

  async #heartbeat() {
    await this.#report();
    const leases = [...this.#held.keys()];
    if (!leases.length) return;
    try {
      await this.#sql`
        UPDATE sluice_queue SET ready_at = now() + make_interval(secs => ${this.#vt / 1000})
        WHERE lease = ANY(${leases}::bigint[])`;
    } catch (e) {
      this.#warn("heartbeat failed", `${leases.length} message(s)`, e);
    }
  }

  /**
   * Waits (up to `timeoutMs`) for handlers in flight, then hands back every message still held
   * or reserved here so other processes take them at once. Call after the listen signal aborted.
   */
  async drain(timeoutMs = 5000): Promise<void> {
    const until = performance.now() + timeoutMs;
    await Promise.race([
      Promise.allSettled([...this.#inflight, this.#loop]),
      new Promise((r) => setTimeout(r, timeoutMs)),
    ]);
    // Local continuations end on their own once the engine stopped.
    while (this.#held.size && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    clearInterval(this.#beat);
    const leases = [...this.#held.keys(), ...[...this.#reserved.values()].map((r) => r.lease)];
    this.#held.clear();
    this.#reserved.clear();
    if (this.#loop) await this.#report(true);
    if (leases.length) {
      await this.#sql`
        UPDATE sluice_queue SET ready_at = least(coalesce(requeue_at, now()), now()),
          requeue_at = NULL, lease = NULL, locked_by = NULL
        WHERE lease = ANY(${leases}::bigint[])`.catch(() => {});
    }
  }

  #warn(msg: string, key: string, e: unknown) {
    this.#log.warn(msg, { message: key, error: (e as Error)?.message ?? String(e) });
  }
}

/**
 * The `WITH` items (`v`, `w`, `n`) that write message rows when `when` holds (merging into
 * existing rows, see the module doc) and notify listeners when one is ready for anyone. `when`
 * may refer to each row's `owner` (see {@link QueueRow}); keys must be distinct. `w` returns
 * `key, lease, mine`; `mine` is true for a reservation this statement made.
 */
export function messageCtes(
  sql: Sql,
  rows: QueueRow[],
  me: string,
  vtMs: number,
  when: ReturnType<Sql> = sql`true`,
) {
  return sql`
    v AS (
      SELECT * FROM unnest(${rows.map((r) => r.key)}::text[], ${rows.map((r) => r.runId)}::text[],
        ${rows.map((r) => r.body)}::text[], ${rows.map((r) => r.delayMs)}::float8[],
        ${rows.map((r) => (r.reserve ? 1 : 0))}::int[], ${rows.map((r) => r.owner ?? 0)}::int[])
        AS v(key, run_id, body, delay, flag, owner)
      WHERE ${when}
    ), vv AS (
      SELECT key, run_id, body, delay, flag = 1 AS reserve FROM v
    ), w AS (
      INSERT INTO sluice_queue AS q (key, run_id, body, ready_at, locked_by, lease)
      SELECT key, run_id, body::jsonb,
        CASE WHEN reserve THEN now() + make_interval(secs => ${vtMs / 1000})
             ELSE now() + make_interval(secs => delay / 1000) END,
        CASE WHEN reserve THEN ${me} END,
        CASE WHEN reserve THEN nextval('sluice_queue_lease') END
      FROM vv
      ON CONFLICT (key) DO UPDATE SET
        body = excluded.body,
        requeue_at = CASE WHEN q.lease IS NOT NULL AND q.ready_at > now()
          THEN least(coalesce(q.requeue_at, 'infinity'),
                     CASE WHEN excluded.locked_by IS NULL THEN excluded.ready_at ELSE now() END)
          END,
        ready_at = CASE WHEN q.lease IS NOT NULL AND q.ready_at > now() THEN q.ready_at
          ELSE least(q.ready_at,
                     CASE WHEN excluded.locked_by IS NULL THEN excluded.ready_at ELSE now() END)
          END,
        lease = CASE WHEN q.lease IS NOT NULL AND q.ready_at > now() THEN q.lease END,
        locked_by = CASE WHEN q.lease IS NOT NULL AND q.ready_at > now() THEN q.locked_by END
      RETURNING q.key, q.lease, q.ready_at, (q.xmax = 0 AND q.locked_by IS NOT NULL) AS mine
    ), n AS (
      SELECT pg_notify(${QUEUE_CHANNEL}, '') FROM w
      WHERE NOT w.mine AND w.ready_at <= now() LIMIT 1
    )`;
}
