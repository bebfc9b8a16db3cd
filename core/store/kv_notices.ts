/**
 * The {@linkcode NoticeOutbox} of the embedded store: a pending notice is
 * `["notice_pending", runId, notice]`, a given-up one `["notice_given_up", runId, notice]`
 * (both deleted with their run). Pending notices are few (those of the last 24 h that could not be
 * delivered), so a claim reads them all and takes the due ones each with an atomic check of the
 * version it read: of several processes or handles on the file, one wins each notice.
 * @module
 */
import type {
  ClaimNoticesOptions,
  NewPendingNotice,
  NoticeOutbox,
  NoticeSettlement,
  PendingNotice,
} from "./notices.ts";

const PENDING = "notice_pending";
const GIVEN_UP = "notice_given_up";

/** The key spaces of notices, by run (deleted with the run). */
export const NOTICE_SPACES: readonly string[] = [PENDING, GIVEN_UP];

/** Undelivered run notices in a Deno KV file. */
export class KvNoticeOutbox implements NoticeOutbox {
  #kv: Deno.Kv;

  /** `kv`: a handle whose writes retry on another process's lock (`lockRetrying`). */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async add(n: NewPendingNotice): Promise<void> {
    // The caller's claim, if any, is kept in the value (a claim of claimDue is, too).
    const { claim, ...rest } = n;
    const value: PendingNotice = { ...rest, state: "pending", ...(claim ? { claim } : {}) };
    await this.#kv.atomic()
      .set([PENDING, n.runId, n.notice], value)
      .delete([GIVEN_UP, n.runId, n.notice])
      .commit();
  }

  async ofRun(runId: string): Promise<PendingNotice[]> {
    const out: PendingNotice[] = [];
    for (const space of NOTICE_SPACES) {
      for await (const e of this.#kv.list<PendingNotice>({ prefix: [space, runId] })) {
        out.push(e.value);
      }
    }
    return out;
  }

  async claimDue(o: ClaimNoticesOptions): Promise<PendingNotice[]> {
    const due: Deno.KvEntry<PendingNotice>[] = [];
    for await (const e of this.#kv.list<PendingNotice>({ prefix: [PENDING] })) {
      if (e.value.nextAt <= o.now) due.push(e);
    }
    due.sort((a, b) => a.value.nextAt - b.value.nextAt);
    const claimed: PendingNotice[] = [];
    for (const e of due) {
      if (claimed.length >= o.limit) break;
      const n: PendingNotice = {
        ...e.value,
        nextAt: o.now + o.leaseMs,
        claim: crypto.randomUUID(),
      };
      // Another process that took it first changed its version: this commit fails.
      const res = await this.#kv.atomic().check(e).set(e.key, n).commit();
      if (res.ok) claimed.push(n);
    }
    return claimed;
  }

  async settle(n: PendingNotice, outcome: NoticeSettlement): Promise<boolean> {
    if (!n.claim) return false;
    const key = [PENDING, n.runId, n.notice];
    const cur = await this.#kv.get<PendingNotice>(key);
    if (!cur.value || cur.value.claim !== n.claim) return false;
    const op = this.#kv.atomic().check(cur);
    if ("delivered" in outcome) {
      op.delete(key);
    } else if ("retryAt" in outcome) {
      const { claim: _, ...rest } = cur.value;
      op.set(
        key,
        {
          ...rest,
          rounds: rest.rounds + 1,
          lastError: outcome.error,
          nextAt: outcome.retryAt,
        } satisfies PendingNotice,
      );
    } else {
      const { claim: _, ...rest } = cur.value;
      op.delete(key).set(
        [GIVEN_UP, n.runId, n.notice],
        {
          ...rest,
          state: "given-up",
          rounds: rest.rounds + (outcome.tried ? 1 : 0),
          lastError: outcome.error,
          nextAt: outcome.givenUpAt,
        } satisfies PendingNotice,
      );
    }
    return (await op.commit()).ok;
  }
}
