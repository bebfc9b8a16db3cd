/**
 * Deno KV implementation of {@link TriggerStore}. Time-limited records carry their own
 * `expiresAt` (compared with the caller's clock) and a KV `expireIn` so the file does not grow;
 * every claim is a versionstamp check-and-set, so it holds across processes sharing the file.
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
} from "./trigger_store.ts";
import type { RunGuard } from "../store/store.ts";
import { lockRetrying } from "../../sdk/io/kv_locks.ts";

/** How long a claimed cron occurrence is remembered. */
const OCCURRENCE_TTL_MS = 48 * 3_600_000;
/** How long fire and delivery records are kept at most (besides the `keep` count). */
const HISTORY_TTL_MS = 30 * 86_400_000;

interface Expiring {
  expiresAt: number;
}

const live = <T extends Expiring>(e: Deno.KvEntryMaybe<T>, now: number): T | undefined =>
  e.value !== null && e.value.expiresAt > now ? e.value : undefined;

/**
 * {@link TriggerStore} over a `Deno.Kv` (usually the server's own KV file). Its writes are
 * retried while another process holds the file's lock (`lockRetrying`); every method is a
 * check-and-set or an idempotent write, so a retried commit is safe.
 */
export class KvTriggerStore implements TriggerStore {
  #kv: Deno.Kv;
  /** Orders records written in the same millisecond by this handle. */
  #seq = 0;

  /** Uses `kv`; the caller owns and closes it. */
  constructor(kv: Deno.Kv) {
    this.#kv = lockRetrying(kv);
  }

  async acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean> {
    const key = ["trg", "lease", name];
    for (;;) {
      const cur = await this.#kv.get<LeaseHolder>(key);
      if (cur.value && cur.value.owner !== owner && cur.value.expiresAt > now) return false;
      const res = await this.#kv.atomic().check(cur)
        .set(key, { owner, expiresAt: now + ttlMs } satisfies LeaseHolder).commit();
      if (res.ok) return true;
    }
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    const key = ["trg", "lease", name];
    const cur = await this.#kv.get<LeaseHolder>(key);
    if (cur.value?.owner === owner) await this.#kv.atomic().check(cur).delete(key).commit();
  }

  async leaseHolder(name: string, now: number): Promise<LeaseHolder | undefined> {
    return live(await this.#kv.get<LeaseHolder>(["trg", "lease", name]), now);
  }

  async claimOccurrence(ref: TriggerRef, at: number, now: number): Promise<boolean> {
    const key = ["trg", "occ", ref.pipeline, ref.trigger, at];
    for (;;) {
      const cur = await this.#kv.get<Expiring>(key);
      if (live(cur, now)) return false;
      const res = await this.#kv.atomic().check(cur)
        .set(key, { expiresAt: now + OCCURRENCE_TTL_MS }, { expireIn: OCCURRENCE_TTL_MS })
        .max(this.#lastKey(ref), BigInt(at))
        .commit();
      if (res.ok) return true;
    }
  }

  async lastOccurrence(ref: TriggerRef): Promise<number | undefined> {
    const e = await this.#kv.get<Deno.KvU64>(this.#lastKey(ref));
    return e.value === null ? undefined : Number(e.value.value);
  }

  async advanceLastOccurrence(ref: TriggerRef, at: number): Promise<void> {
    await this.#kv.atomic().max(this.#lastKey(ref), BigInt(at)).commit();
  }

  #lastKey(ref: TriggerRef): Deno.KvKey {
    return ["trg", "last", ref.pipeline, ref.trigger];
  }

  async activeRun(ref: TriggerRef): Promise<string | undefined> {
    return (await this.#kv.get<string>(["trg", "active", ref.pipeline, ref.trigger])).value ??
      undefined;
  }

  async setActiveRun(ref: TriggerRef, runId: string): Promise<void> {
    await this.#kv.set(["trg", "active", ref.pipeline, ref.trigger], runId);
  }

  async enqueueOccurrence(ref: TriggerRef, at: number): Promise<boolean> {
    const res = await this.#kv.atomic()
      .check({ key: this.#queuedKey(ref), versionstamp: null })
      .set(this.#queuedKey(ref), at).commit();
    return res.ok;
  }

  async queuedOccurrence(ref: TriggerRef): Promise<number | undefined> {
    return (await this.#kv.get<number>(this.#queuedKey(ref))).value ?? undefined;
  }

  async takeQueuedOccurrence(ref: TriggerRef, at: number): Promise<boolean> {
    const cur = await this.#kv.get<number>(this.#queuedKey(ref));
    if (cur.value !== at) return false;
    return (await this.#kv.atomic().check(cur).delete(this.#queuedKey(ref)).commit()).ok;
  }

  #queuedKey(ref: TriggerRef): Deno.KvKey {
    return ["trg", "queued", ref.pipeline, ref.trigger];
  }

  async setPaused(
    pipeline: string,
    trigger: string | undefined,
    paused: boolean,
    now: number,
  ): Promise<void> {
    const key = ["trg", "pause", pipeline, trigger ?? ""];
    if (paused) await this.#kv.set(key, { pipeline, trigger, at: now } satisfies PauseRecord);
    else await this.#kv.delete(key);
  }

  async listPaused(): Promise<PauseRecord[]> {
    const out: PauseRecord[] = [];
    for await (const e of this.#kv.list<PauseRecord>({ prefix: ["trg", "pause"] })) {
      out.push(e.value);
    }
    return out;
  }

  async recordFire(ref: TriggerRef, fire: FireRecord, keep: number): Promise<void> {
    const prefix = ["trg", "fire", ref.pipeline, ref.trigger];
    await this.#kv.set([...prefix, fire.scheduledAt], fire, { expireIn: HISTORY_TTL_MS });
    await this.#prune(prefix, keep);
  }

  async listFires(ref: TriggerRef, limit: number): Promise<FireRecord[]> {
    return await this.#newest<FireRecord>(["trg", "fire", ref.pipeline, ref.trigger], limit);
  }

  async claimDelivery(o: DeliveryClaimOptions): Promise<DeliveryClaim> {
    const replayKey = o.replayKey ? this.#replayKey(o.pipeline, o.hook, o.replayKey) : undefined;
    const idemKey = o.idempotencyKey
      ? this.#idemKey(o.pipeline, o.hook, o.idempotencyKey)
      : undefined;
    if (replayKey && !idemKey) {
      // The common case, a signed request seen for the first time: claim it without reading
      // first (the check fails when the key exists; then the reads below decide).
      const first = await this.#kv.atomic().check({ key: replayKey, versionstamp: null })
        .set(replayKey, { expiresAt: o.now + o.replayTtlMs }, { expireIn: o.replayTtlMs })
        .commit();
      if (first.ok) return { ok: true };
    }
    for (;;) {
      // One consistent snapshot of both keys (two separate reads could straddle a commit).
      const keys = [idemKey, replayKey].filter((k): k is Deno.KvKey => k !== undefined);
      const entries = keys.length ? await this.#kv.getMany<unknown[]>(keys) : [];
      const idem = idemKey ? entries[0] as Deno.KvEntryMaybe<IdempotencyRecord> : undefined;
      const replay = replayKey
        ? entries[idemKey ? 1 : 0] as Deno.KvEntryMaybe<Expiring>
        : undefined;
      const first = idem && live(idem, o.now);
      const abandoned = first?.state === "pending" && o.now - first.claimedAt > o.pendingStaleMs;
      if (first && !abandoned) return { ok: false, reason: "duplicate", record: first };
      if (replay && live(replay, o.now)) return { ok: false, reason: "replay" };
      const op = this.#kv.atomic();
      if (idem && idemKey) {
        const rec: IdempotencyRecord = {
          state: "pending",
          runId: o.runId,
          claimedAt: o.now,
          expiresAt: o.now + o.idempotencyTtlMs,
        };
        op.check(idem).set(idemKey, rec, { expireIn: o.idempotencyTtlMs });
      }
      if (replay && replayKey) {
        op.check(replay).set(replayKey, { expiresAt: o.now + o.replayTtlMs }, {
          expireIn: o.replayTtlMs,
        });
      }
      if ((await op.commit()).ok) return { ok: true };
    }
  }

  /** The replay claim's check-and-set, to commit with the run it lets in. */
  replayGuard(
    o: { pipeline: string; hook: string; replayKey: string; replayTtlMs: number; now: number },
  ): RunGuard {
    const key = this.#replayKey(o.pipeline, o.hook, o.replayKey);
    return {
      kv: this.#kv,
      apply: (op) => {
        op.check({ key, versionstamp: null })
          .set(key, { expiresAt: o.now + o.replayTtlMs }, { expireIn: o.replayTtlMs });
      },
    };
  }

  async completeDelivery(
    o: { pipeline: string; hook: string; idempotencyKey: string; runId: string; now: number },
  ): Promise<void> {
    const key = this.#idemKey(o.pipeline, o.hook, o.idempotencyKey);
    for (;;) {
      const cur = await this.#kv.get<IdempotencyRecord>(key);
      if (!cur.value || cur.value.runId !== o.runId) return; // taken over meanwhile
      const rec: IdempotencyRecord = { ...cur.value, state: "done" };
      const ttl = Math.max(1, rec.expiresAt - o.now);
      if ((await this.#kv.atomic().check(cur).set(key, rec, { expireIn: ttl }).commit()).ok) {
        return;
      }
    }
  }

  async releaseDelivery(
    o: { pipeline: string; hook: string; replayKey?: string; idempotencyKey?: string },
  ): Promise<void> {
    const op = this.#kv.atomic();
    if (o.replayKey) op.delete(this.#replayKey(o.pipeline, o.hook, o.replayKey));
    if (o.idempotencyKey) op.delete(this.#idemKey(o.pipeline, o.hook, o.idempotencyKey));
    await op.commit();
  }

  async idempotency(
    pipeline: string,
    hook: string,
    key: string,
    now: number,
  ): Promise<IdempotencyRecord | undefined> {
    return live(await this.#kv.get<IdempotencyRecord>(this.#idemKey(pipeline, hook, key)), now);
  }

  #replayKey(pipeline: string, hook: string, key: string): Deno.KvKey {
    return ["hook", "replay", pipeline, hook, key];
  }

  #idemKey(pipeline: string, hook: string, key: string): Deno.KvKey {
    return ["hook", "idem", pipeline, hook, key];
  }

  async recordDeliveries(
    pipeline: string,
    hook: string,
    records: DeliveryRecord[],
    keep: number,
  ): Promise<void> {
    const prefix = ["hook", "delivery", pipeline, hook];
    // Only the newest `keep` would survive the prune; a round fits one atomic write.
    const newest = records.slice(-keep);
    const keys = newest.map((d) => [...prefix, d.at, ++this.#seq, crypto.randomUUID()]);
    for (let i = 0; i < newest.length; i += 500) {
      const op = this.#kv.atomic();
      for (let j = i; j < Math.min(newest.length, i + 500); j++) {
        op.set(keys[j], newest[j], { expireIn: HISTORY_TTL_MS });
      }
      await op.commit();
    }
    await this.#prune(prefix, keep);
  }

  async listDeliveries(pipeline: string, hook: string, limit: number): Promise<DeliveryRecord[]> {
    return await this.#newest<DeliveryRecord>(["hook", "delivery", pipeline, hook], limit);
  }

  async #newest<T>(prefix: Deno.KvKey, limit: number): Promise<T[]> {
    const out: T[] = [];
    for await (const e of this.#kv.list<T>({ prefix }, { reverse: true, limit })) out.push(e.value);
    return out;
  }

  /** Deletes all but the newest `keep` entries under `prefix`. */
  async #prune(prefix: Deno.KvKey, keep: number): Promise<void> {
    let n = 0;
    let op = this.#kv.atomic();
    let deletes = 0;
    for await (const e of this.#kv.list({ prefix }, { reverse: true })) {
      if (++n <= keep) continue;
      op.delete(e.key);
      if (++deletes === 500) {
        await op.commit();
        op = this.#kv.atomic();
        deletes = 0;
      }
    }
    if (deletes > 0) await op.commit();
  }
}
