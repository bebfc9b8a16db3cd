/**
 * PostgreSQL implementation of {@link TriggerStore}, so every `sluice serve` on one database
 * shares one scheduler lease (exactly one leader fires cron triggers), occurrence claims, pauses,
 * histories and webhook replay/idempotency claims. Times are the callers' epoch milliseconds, as
 * in the KV implementation, except the scheduler lease: its expiry is written and judged by the
 * database clock, so a server whose clock runs fast cannot take the lease from a live leader.
 * @module
 */
import type {
  DeliveryClaim,
  DeliveryClaimOptions,
  DeliveryRecord,
  FireRecord,
  IdempotencyRecord,
  LeaseHolder,
  PauseRecord,
  TriggerRef,
  TriggerStore,
} from "../../triggers/trigger_store.ts";
import type { Sql } from "./connect.ts";

/** How long a claimed cron occurrence is remembered. */
const OCCURRENCE_TTL_MS = 48 * 3_600_000;

/** Lease names here are prefixed so they never collide with the backend's own leases. */
const lease = (name: string) => `trigger:${name}`;

/** Options of {@link PgTriggerStore}. */
export interface PgTriggerStoreOptions {
  /**
   * Judge the lease by the callers' `now` arguments instead of the database clock (default
   * false). Only for tests with synthetic clocks.
   */
  callerClock?: boolean;
}

/** {@link TriggerStore} over the PostgreSQL backend's database. */
export class PgTriggerStore implements TriggerStore {
  #sql: Sql;
  #callerClock: boolean;

  /** Uses `sql`; the caller owns and closes it. */
  constructor(sql: Sql, o: PgTriggerStoreOptions = {}) {
    this.#sql = sql;
    this.#callerClock = o.callerClock ?? false;
  }

  /** The lease's clock: the database's (epoch ms), or `now` with `callerClock`. */
  #leaseNow(now: number) {
    return this.#callerClock
      ? this.#sql`${now}::float8`
      : this.#sql`(extract(epoch FROM clock_timestamp()) * 1000)::float8`;
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    const rows = await this.#sql`
      WITH c AS (SELECT ${this.#leaseNow(now)} AS t)
      INSERT INTO sluice_leases AS l (name, owner, expires_at)
      SELECT ${lease(name)}, ${owner}, round(c.t + ${ttlMs})::bigint FROM c
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE l.owner = excluded.owner OR l.expires_at <= (SELECT t FROM c)
      RETURNING 1`;
    return rows.length > 0;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.#sql`DELETE FROM sluice_leases WHERE name = ${lease(name)} AND owner = ${owner}`;
  }

  async leaseHolder(name: string, now: number): Promise<LeaseHolder | undefined> {
    const [r] = await this.#sql<{ owner: string; expires_at: number }[]>`
      SELECT owner, expires_at FROM sluice_leases
      WHERE name = ${lease(name)} AND expires_at > ${this.#leaseNow(now)}`;
    return r ? { owner: r.owner, expiresAt: Number(r.expires_at) } : undefined;
  }

  async claimOccurrence(ref: TriggerRef, at: number, now: number): Promise<boolean> {
    const [r] = await this.#sql<{ ok: boolean }[]>`
      WITH c AS (
        INSERT INTO sluice_trigger_occurrences AS o (pipeline, trigger, at, expires_at)
        VALUES (${ref.pipeline}, ${ref.trigger}, ${at}, ${now + OCCURRENCE_TTL_MS})
        ON CONFLICT (pipeline, trigger, at) DO UPDATE SET expires_at = excluded.expires_at
        WHERE o.expires_at <= ${now}
        RETURNING 1
      ), l AS (
        INSERT INTO sluice_trigger_state AS s (pipeline, trigger, last_at)
        SELECT ${ref.pipeline}, ${ref.trigger}, ${at} FROM c
        ON CONFLICT (pipeline, trigger) DO UPDATE SET last_at = greatest(s.last_at, excluded.last_at)
        RETURNING 1
      ), gc AS (
        DELETE FROM sluice_trigger_occurrences
        WHERE pipeline = ${ref.pipeline} AND trigger = ${ref.trigger} AND expires_at <= ${now}
          AND at <> ${at}
        RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM c) AS ok`;
    return r.ok;
  }

  async lastOccurrence(ref: TriggerRef): Promise<number | undefined> {
    return (await this.#state(ref))?.last_at ?? undefined;
  }

  async #state(ref: TriggerRef) {
    const [r] = await this.#sql<
      { last_at: number | null; active_run: string | null; queued_at: number | null }[]
    >`
      SELECT last_at, active_run, queued_at FROM sluice_trigger_state
      WHERE pipeline = ${ref.pipeline} AND trigger = ${ref.trigger}`;
    return r;
  }

  async advanceLastOccurrence(ref: TriggerRef, at: number): Promise<void> {
    await this.#sql`
      INSERT INTO sluice_trigger_state AS s (pipeline, trigger, last_at)
      VALUES (${ref.pipeline}, ${ref.trigger}, ${at})
      ON CONFLICT (pipeline, trigger) DO UPDATE SET last_at = greatest(s.last_at, excluded.last_at)`;
  }

  async activeRun(ref: TriggerRef): Promise<string | undefined> {
    return (await this.#state(ref))?.active_run ?? undefined;
  }

  async setActiveRun(ref: TriggerRef, runId: string): Promise<void> {
    await this.#sql`
      INSERT INTO sluice_trigger_state (pipeline, trigger, active_run)
      VALUES (${ref.pipeline}, ${ref.trigger}, ${runId})
      ON CONFLICT (pipeline, trigger) DO UPDATE SET active_run = excluded.active_run`;
  }

  async enqueueOccurrence(ref: TriggerRef, at: number): Promise<boolean> {
    const rows = await this.#sql`
      INSERT INTO sluice_trigger_state AS s (pipeline, trigger, queued_at)
      VALUES (${ref.pipeline}, ${ref.trigger}, ${at})
      ON CONFLICT (pipeline, trigger) DO UPDATE SET queued_at = excluded.queued_at
      WHERE s.queued_at IS NULL
      RETURNING 1`;
    return rows.length > 0;
  }

  async queuedOccurrence(ref: TriggerRef): Promise<number | undefined> {
    return (await this.#state(ref))?.queued_at ?? undefined;
  }

  async takeQueuedOccurrence(ref: TriggerRef, at: number): Promise<boolean> {
    const rows = await this.#sql`
      UPDATE sluice_trigger_state SET queued_at = NULL
      WHERE pipeline = ${ref.pipeline} AND trigger = ${ref.trigger} AND queued_at = ${at}
      RETURNING 1`;
    return rows.length > 0;
  }

  async setPaused(
    pipeline: string,
    trigger: string | undefined,
    paused: boolean,
    now: number,
  ): Promise<void> {
    if (paused) {
      await this.#sql`
        INSERT INTO sluice_trigger_pauses (pipeline, trigger, at)
        VALUES (${pipeline}, ${trigger ?? ""}, ${now})
        ON CONFLICT (pipeline, trigger) DO UPDATE SET at = excluded.at`;
    } else {
      await this.#sql`
        DELETE FROM sluice_trigger_pauses
        WHERE pipeline = ${pipeline} AND trigger = ${trigger ?? ""}`;
    }
  }

  async listPaused(): Promise<PauseRecord[]> {
    const rows = await this.#sql<{ pipeline: string; trigger: string; at: number }[]>`
      SELECT pipeline, trigger, at FROM sluice_trigger_pauses ORDER BY pipeline, trigger`;
    return rows.map((r) => r.trigger ? r : { pipeline: r.pipeline, at: r.at });
  }

  async recordFire(ref: TriggerRef, fire: FireRecord, keep: number): Promise<void> {
    await this.#sql`
      INSERT INTO sluice_trigger_fires (pipeline, trigger, scheduled_at, record)
      VALUES (${ref.pipeline}, ${ref.trigger}, ${fire.scheduledAt},
              ${JSON.stringify(fire)}::text::json)
      ON CONFLICT (pipeline, trigger, scheduled_at) DO UPDATE SET record = excluded.record`;
    await this.#sql`
      DELETE FROM sluice_trigger_fires
      WHERE pipeline = ${ref.pipeline} AND trigger = ${ref.trigger} AND scheduled_at < (
        SELECT min(scheduled_at) FROM (
          SELECT scheduled_at FROM sluice_trigger_fires
          WHERE pipeline = ${ref.pipeline} AND trigger = ${ref.trigger}
          ORDER BY scheduled_at DESC LIMIT ${keep}) k)`;
  }

  async listFires(ref: TriggerRef, limit: number): Promise<FireRecord[]> {
    const rows = await this.#sql<{ record: FireRecord }[]>`
      SELECT record FROM sluice_trigger_fires
      WHERE pipeline = ${ref.pipeline} AND trigger = ${ref.trigger}
      ORDER BY scheduled_at DESC LIMIT ${limit}`;
    return rows.map((r) => r.record);
  }

  async claimDelivery(o: DeliveryClaimOptions): Promise<DeliveryClaim> {
    return await this.#sql.begin(async (tx) => {
      // One claimer per hook at a time; the checks and writes below are then plain reads and
      // upserts.
      await tx`SELECT pg_advisory_xact_lock(hashtext(${`hook:${o.pipeline}/${o.hook}`}))`;
      const claim = async (kind: string, key: string) => {
        const [r] = await tx<{ record: IdempotencyRecord | null; expires_at: number }[]>`
          SELECT record, expires_at FROM sluice_hook_claims
          WHERE pipeline = ${o.pipeline} AND hook = ${o.hook} AND kind = ${kind} AND key = ${key}`;
        return r && r.expires_at > o.now ? r : undefined;
      };
      const first = o.idempotencyKey ? await claim("idem", o.idempotencyKey) : undefined;
      const rec = first?.record ?? undefined;
      const abandoned = rec?.state === "pending" && o.now - rec.claimedAt > o.pendingStaleMs;
      if (rec && !abandoned) return { ok: false, reason: "duplicate", record: rec };
      if (o.replayKey && await claim("replay", o.replayKey)) return { ok: false, reason: "replay" };
      const put = (kind: string, key: string, record: unknown, expiresAt: number) =>
        tx`
          INSERT INTO sluice_hook_claims (pipeline, hook, kind, key, record, expires_at)
          VALUES (${o.pipeline}, ${o.hook}, ${kind}, ${key},
                  ${record === null ? null : JSON.stringify(record)}::text::json, ${expiresAt})
          ON CONFLICT (pipeline, hook, kind, key) DO UPDATE SET record = excluded.record,
            expires_at = excluded.expires_at`;
      if (o.idempotencyKey) {
        const r: IdempotencyRecord = {
          state: "pending",
          runId: o.runId,
          claimedAt: o.now,
          expiresAt: o.now + o.idempotencyTtlMs,
        };
        await put("idem", o.idempotencyKey, r, r.expiresAt);
      }
      if (o.replayKey) await put("replay", o.replayKey, null, o.now + o.replayTtlMs);
      await tx`DELETE FROM sluice_hook_claims
               WHERE pipeline = ${o.pipeline} AND hook = ${o.hook} AND expires_at <= ${o.now}`;
      return { ok: true } as DeliveryClaim;
    });
  }

  async completeDelivery(
    o: { pipeline: string; hook: string; idempotencyKey: string; runId: string; now: number },
  ): Promise<void> {
    // Only the claim of this run (not one taken over meanwhile) becomes done.
    await this.#sql`
      UPDATE sluice_hook_claims
      SET record = json_build_object('state', 'done', 'runId', record->>'runId',
        'claimedAt', (record->>'claimedAt')::bigint, 'expiresAt', (record->>'expiresAt')::bigint)
      WHERE pipeline = ${o.pipeline} AND hook = ${o.hook} AND kind = 'idem'
        AND key = ${o.idempotencyKey} AND record->>'runId' = ${o.runId}`;
  }

  async releaseDelivery(
    o: { pipeline: string; hook: string; replayKey?: string; idempotencyKey?: string },
  ): Promise<void> {
    await this.#sql`
      DELETE FROM sluice_hook_claims WHERE pipeline = ${o.pipeline} AND hook = ${o.hook} AND (
        (kind = 'replay' AND key = ${o.replayKey ?? null}) OR
        (kind = 'idem' AND key = ${o.idempotencyKey ?? null}))`;
  }

  async idempotency(
    pipeline: string,
    hook: string,
    key: string,
    now: number,
  ): Promise<IdempotencyRecord | undefined> {
    const [r] = await this.#sql<{ record: IdempotencyRecord }[]>`
      SELECT record FROM sluice_hook_claims
      WHERE pipeline = ${pipeline} AND hook = ${hook} AND kind = 'idem' AND key = ${key}
        AND expires_at > ${now}`;
    return r?.record;
  }

  async recordDeliveries(
    pipeline: string,
    hook: string,
    records: DeliveryRecord[],
    keep: number,
  ): Promise<void> {
    const newest = records.slice(-keep);
    if (newest.length === 0) return;
    await this.#sql`
      INSERT INTO sluice_hook_deliveries (pipeline, hook, at, record)
      SELECT ${pipeline}, ${hook}, r.at, r.record::json
      FROM unnest(${newest.map((d) => d.at)}::bigint[], ${
      newest.map((d) => JSON.stringify(d))
    }::text[]) WITH ORDINALITY AS r(at, record, n)
      ORDER BY r.n`;
    await this.#sql`
      DELETE FROM sluice_hook_deliveries WHERE pipeline = ${pipeline} AND hook = ${hook}
        AND id NOT IN (SELECT id FROM sluice_hook_deliveries
                       WHERE pipeline = ${pipeline} AND hook = ${hook}
                       ORDER BY at DESC, id DESC LIMIT ${keep})`;
  }

  async listDeliveries(pipeline: string, hook: string, limit: number): Promise<DeliveryRecord[]> {
    const rows = await this.#sql<{ record: DeliveryRecord }[]>`
      SELECT record FROM sluice_hook_deliveries WHERE pipeline = ${pipeline} AND hook = ${hook}
      ORDER BY at DESC, id DESC LIMIT ${limit}`;
    return rows.map((r) => r.record);
  }
}
