/**
 * The `TriggerStore` interface: the durable state of cron triggers (leader lease, claimed
 * occurrences, last handled occurrence, overlap bookkeeping, pauses, fire history) and of webhooks
 * (replay and idempotency claims, delivery history). Every check-and-set is atomic so several
 * processes can share one store. `kv_trigger_store.ts` implements it over Deno KV.
 * @module
 */
import type { RunGuard } from "../store/store.ts";

/** Names one trigger: a pipeline and the trigger's id (cron id or hook id). */
export interface TriggerRef {
  pipeline: string;
  trigger: string;
}

/** What happened to one cron occurrence. */
export type FireOutcome = "started" | "queued" | "skipped" | "missed" | "failed";

/** One cron occurrence as handled by the scheduler (shown in the UI). */
export interface FireRecord {
  /** The occurrence's scheduled instant (epoch ms). */
  scheduledAt: number;
  /** When it was handled (epoch ms). */
  firedAt: number;
  outcome: FireOutcome;
  runId?: string;
  /** Why it was skipped, missed or failed. */
  reason?: string;
  /** Fired late because of catch-up after downtime. */
  catchUp?: boolean;
}

/** A pause set by an operator: a whole pipeline's cron triggers (`trigger` absent) or one. */
export interface PauseRecord {
  pipeline: string;
  trigger?: string;
  /** When it was paused (epoch ms). */
  at: number;
}

/** The holder of a lease. */
export interface LeaseHolder {
  owner: string;
  /** Epoch ms after which others may take the lease. */
  expiresAt: number;
}

/** An `Idempotency-Key` claim. */
export interface IdempotencyRecord {
  /** `pending` while the first request is creating its run. */
  state: "pending" | "done";
  runId: string;
  claimedAt: number;
  expiresAt: number;
}

/** Result of {@link TriggerStore.claimDelivery}. */
export type DeliveryClaim =
  | { ok: true }
  | { ok: false; reason: "replay" }
  | { ok: false; reason: "duplicate"; record: IdempotencyRecord };

/** Options of {@link TriggerStore.claimDelivery}. */
export interface DeliveryClaimOptions {
  pipeline: string;
  hook: string;
  /** Identifies the signed request (signature or delivery id); absent for bearer auth. */
  replayKey?: string;
  replayTtlMs: number;
  /** The request's `Idempotency-Key`. */
  idempotencyKey?: string;
  idempotencyTtlMs: number;
  /** A pending idempotency claim older than this is taken over (its owner died). */
  pendingStaleMs: number;
  /** The run id the request will create. */
  runId: string;
  now: number;
}

/** One webhook request as answered (shown in the UI). */
export interface DeliveryRecord {
  /** When it was received (epoch ms). */
  at: number;
  /** The HTTP status answered. */
  status: number;
  runId?: string;
  /** Why it was refused. */
  reason?: string;
  /** `Idempotency-Key` or `X-GitHub-Delivery`, when given. */
  deliveryId?: string;
  /** Items or inputs accepted. */
  items?: number;
  /** An idempotent repeat that started nothing. */
  duplicate?: boolean;
}

/** Durable state of triggers. */
export interface TriggerStore {
  /** Takes or renews lease `name` for `owner`; false while someone else holds it. */
  acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up when `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
  /** The current holder, if its lease has not expired. */
  leaseHolder(name: string, now: number): Promise<LeaseHolder | undefined>;

  /**
   * Claims occurrence `at` of a trigger; true for exactly one caller. Also raises the trigger's
   * last handled occurrence to `at`, in the same atomic write.
   */
  claimOccurrence(ref: TriggerRef, at: number, now: number): Promise<boolean>;
  /** The last handled occurrence (epoch ms), if any. */
  lastOccurrence(ref: TriggerRef): Promise<number | undefined>;
  /** Raises the last handled occurrence to `at` (never lowers it). */
  advanceLastOccurrence(ref: TriggerRef, at: number): Promise<void>;
  /** The run this trigger started last (overlap `skip` and `queue`). */
  activeRun(ref: TriggerRef): Promise<string | undefined>;
  setActiveRun(ref: TriggerRef, runId: string): Promise<void>;
  /** Puts occurrence `at` in the trigger's one waiting slot; false when the slot is taken. */
  enqueueOccurrence(ref: TriggerRef, at: number): Promise<boolean>;
  /** The occurrence waiting in the slot, if any. */
  queuedOccurrence(ref: TriggerRef): Promise<number | undefined>;
  /** Empties the slot if it still holds `at`; true for exactly one caller. */
  takeQueuedOccurrence(ref: TriggerRef, at: number): Promise<boolean>;
  /** Pauses or resumes a pipeline's cron triggers (`trigger` absent) or one trigger. */
  setPaused(
    pipeline: string,
    trigger: string | undefined,
    paused: boolean,
    now: number,
  ): Promise<void>;
  /** Every pause in force. */
  listPaused(): Promise<PauseRecord[]>;
  /** Writes (or overwrites, by `scheduledAt`) a fire record, keeping the newest `keep`. */
  recordFire(ref: TriggerRef, fire: FireRecord, keep: number): Promise<void>;
  /** Newest fire records first. */
  listFires(ref: TriggerRef, limit: number): Promise<FireRecord[]>;

  /**
   * Atomically claims a webhook request's replay key and idempotency key. Refused as `replay`
   * when the replay key was seen within its TTL, as `duplicate` (with the first claim) when the
   * idempotency key was.
   */
  claimDelivery(o: DeliveryClaimOptions): Promise<DeliveryClaim>;
  /**
   * Optional: the replay claim of a request without an idempotency key as a guard that commits
   * with its run (see `Store.createRun`), so an accepted request costs one write, not two. A
   * failed guard says only that the key is present, maybe expired: the caller then takes the
   * {@linkcode TriggerStore.claimDelivery} path, which decides.
   */
  replayGuard?(
    o: { pipeline: string; hook: string; replayKey: string; replayTtlMs: number; now: number },
  ): RunGuard;
  /** Marks an idempotency claim done (its run is recorded). */
  completeDelivery(
    o: { pipeline: string; hook: string; idempotencyKey: string; runId: string; now: number },
  ): Promise<void>;
  /** Drops the claims of a request whose run could not be created, so a retry may succeed. */
  releaseDelivery(
    o: { pipeline: string; hook: string; replayKey?: string; idempotencyKey?: string },
  ): Promise<void>;
  /** The live idempotency claim of `key`, if any. */
  idempotency(
    pipeline: string,
    hook: string,
    key: string,
    now: number,
  ): Promise<IdempotencyRecord | undefined>;
  /** Appends delivery records (in one write where it can), keeping the newest `keep` per hook. */
  recordDeliveries(
    pipeline: string,
    hook: string,
    records: DeliveryRecord[],
    keep: number,
  ): Promise<void>;
  /** Newest deliveries first. */
  listDeliveries(pipeline: string, hook: string, limit: number): Promise<DeliveryRecord[]>;
}
