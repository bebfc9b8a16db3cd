/**
 * Group commit for a file-backed Deno KV: atomic operations that callers commit at the same
 * time are merged into one commit. A file-backed KV commit costs a disk sync, so commits per
 * second, not mutations, limit a busy server (measured on a 2-core VM: one run per commit
 * 277 runs/s, ten runs per commit 2,300 runs/s). `sluice serve` opens its KV file through
 * {@link groupCommits}; everything it stores (runs, queue, webhook claims, tokens) then shares
 * commits when it is busy and commits at once when it is not.
 *
 * Same outcome as committing one after another, in arrival order:
 * - mutations apply in order inside one atomic operation, so several operations may mutate the
 *   same key;
 * - an operation whose `check` reads a key that an earlier operation of the batch mutates is
 *   held for the next batch (its check must see that mutation);
 * - when a merged commit fails a check, or throws (size limits), its operations are committed
 *   one by one, in order, each getting its own result.
 * An operation in a merged commit gets the batch's versionstamp, which is the versionstamp its
 * keys now have.
 * @module
 */

/** Options of {@link groupCommits}. */
export interface GroupCommitOptions {
  /** Operations merged into one commit at most (default 64). */
  maxOps?: number;
  /**
   * Commits in flight at once (default 1). SQLite writes one transaction at a time, so a second
   * commit in flight only waits, and makes the batches smaller: measured with 64 concurrent
   * webhook requests, 1 in flight made 20 operations per commit and 0.71 ms of server CPU per
   * request, 4 in flight 8 operations per commit and 0.98 ms (each commit's disk sync costs CPU).
   */
  maxInFlight?: number;
  /** Called after each commit with how many operations it held (metrics, tests). */
  onCommit?: (ops: number) => void;
}

/** A `sum` kept as data, so a merged commit can add up the sums of one key. */
interface SumStep {
  key: Deno.KvKey;
  id: string;
  n: bigint;
}
type Step = ((op: Deno.AtomicOperation) => void) | SumStep;
type Result = Deno.KvCommitResult | Deno.KvCommitError;

/** One caller's atomic operation, recorded (exported for tests). */
export interface Pending {
  steps: Step[];
  checks: Set<string>;
  mutates: Set<string>;
  /** Keys mutated other than by `sum`. */
  replaces: Set<string>;
  mutations: number;
  resolve(r: Result): void;
  reject(e: unknown): void;
}

// KV limits per atomic operation (Deno 2): 100 checks, 1,000 mutations.
const MAX_CHECKS = 100;
const MAX_MUTATIONS = 1000;

/** A stable text form of a KV key, for telling keys apart. */
function keyId(key: Deno.KvKey): string {
  // Strings, numbers and booleans (nearly every key): JSON tells them apart ("1" vs 1) and is
  // native; a NUL first keeps these ids apart from the other form's.
  if (key.every((p) => typeof p === "string" || typeof p === "number" || typeof p === "boolean")) {
    return `\u0000${JSON.stringify(key)}`;
  }
  return key.map((p) => {
    if (p instanceof Uint8Array) return `u${Array.from(p).join(",")}`;
    return `${typeof p}:${String(p)}`;
  }).join("\u0000");
}

/** Records an atomic operation and hands it to the combiner on `commit()`. */
class GroupedAtomic implements Deno.AtomicOperation {
  #p: Omit<Pending, "resolve" | "reject"> = {
    steps: [],
    checks: new Set(),
    mutates: new Set(),
    replaces: new Set(),
    mutations: 0,
  };
  #submit: (p: Omit<Pending, "resolve" | "reject">) => Promise<Result>;

  constructor(submit: (p: Omit<Pending, "resolve" | "reject">) => Promise<Result>) {
    this.#submit = submit;
  }

  #mutating(key: Deno.KvKey, step: (op: Deno.AtomicOperation) => void): this {
    const id = keyId(key);
    this.#p.mutates.add(id);
    this.#p.replaces.add(id);
    this.#p.mutations++;
    this.#p.steps.push(step);
    return this;
  }

  check(...checks: Deno.AtomicCheck[]): this {
    for (const c of checks) this.#p.checks.add(keyId(c.key));
    this.#p.steps.push((op) => op.check(...checks));
    return this;
  }

  mutate(...mutations: Deno.KvMutation[]): this {
    for (const m of mutations) this.#mutating(m.key, (op) => op.mutate(m));
    return this;
  }

  sum(key: Deno.KvKey, n: bigint): this {
    const id = keyId(key);
    this.#p.mutates.add(id);
    this.#p.mutations++;
    this.#p.steps.push({ key, id, n });
    return this;
  }

  min(key: Deno.KvKey, n: bigint): this {
    return this.#mutating(key, (op) => op.min(key, n));
  }

  max(key: Deno.KvKey, n: bigint): this {
    return this.#mutating(key, (op) => op.max(key, n));
  }

  set(key: Deno.KvKey, value: unknown, options?: { expireIn?: number }): this {
    return this.#mutating(key, (op) => op.set(key, value, options));
  }

  delete(key: Deno.KvKey): this {
    return this.#mutating(key, (op) => op.delete(key));
  }

  enqueue(
    value: unknown,
    options?: { delay?: number; keysIfUndelivered?: Deno.KvKey[]; backoffSchedule?: number[] },
  ): this {
    this.#p.mutations++;
    this.#p.steps.push((op) => op.enqueue(value, options));
    return this;
  }

  commit(): Promise<Result> {
    return this.#submit(this.#p);
  }
}

function apply(op: Deno.AtomicOperation, s: Step): void {
  if (typeof s === "function") s(op);
  else op.sum(s.key, s.n);
}

const U64 = 1n << 64n;

/**
 * One atomic operation of a batch's steps (exported for tests), in order, except that the sums of a key no other
 * step of the batch mutates become one sum (a KV sum adds modulo 2^64, so sums commute; a
 * busy server's run counters are summed by every run it records). Checks are evaluated before
 * any mutation, so moving the sums to the end changes nothing they see.
 */
export function mergedOperation(
  kv: Pick<Deno.Kv, "atomic">,
  batch: Pending[],
): Deno.AtomicOperation {
  const op = kv.atomic();
  const replaced = new Set<string>();
  for (const p of batch) for (const id of p.replaces) replaced.add(id);
  const sums = new Map<string, SumStep>();
  for (const p of batch) {
    for (const s of p.steps) {
      if (typeof s === "function" || replaced.has(s.id)) {
        apply(op, s);
        continue;
      }
      const total = sums.get(s.id);
      if (total) total.n = (total.n + s.n) % U64;
      else sums.set(s.id, { ...s });
    }
  }
  for (const s of sums.values()) op.sum(s.key, s.n);
  return op;
}

/** Merges concurrent commits of one `Deno.Kv`. */
class Combiner {
  #kv: Deno.Kv;
  #queue: Pending[] = [];
  #inFlight = 0;
  #o: Required<Omit<GroupCommitOptions, "onCommit">> & Pick<GroupCommitOptions, "onCommit">;

  constructor(kv: Deno.Kv, o: GroupCommitOptions) {
    this.#kv = kv;
    this.#o = { maxOps: o.maxOps ?? 64, maxInFlight: o.maxInFlight ?? 1, onCommit: o.onCommit };
  }

  submit(p: Omit<Pending, "resolve" | "reject">): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...p, resolve, reject });
      this.#pump();
    });
  }

  #pump() {
    while (this.#inFlight < this.#o.maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      this.#inFlight++;
      // The next batch goes to the store before this one's callers continue: their
      // continuations (answering a request, say) would otherwise run while the store idles.
      this.#commit(batch).then((settle) => {
        this.#inFlight--;
        this.#pump();
        settle();
      });
    }
  }

  /** The next batch: queued operations in order, stopping at one that must wait. */
  #take(): Pending[] {
    const batch: Pending[] = [];
    const mutated = new Set<string>();
    let checks = 0, mutations = 0;
    while (this.#queue.length > 0 && batch.length < this.#o.maxOps) {
      const p = this.#queue[0];
      if (batch.length > 0) {
        if (checks + p.checks.size > MAX_CHECKS) break;
        if (mutations + p.mutations > MAX_MUTATIONS) break;
        if ([...p.checks].some((k) => mutated.has(k))) break;
      }
      this.#queue.shift();
      batch.push(p);
      checks += p.checks.size;
      mutations += p.mutations;
      for (const k of p.mutates) mutated.add(k);
    }
    return batch;
  }

  /** Commits one operation alone; returns how to settle its caller. */
  async #commitOne(p: Pending): Promise<() => void> {
    try {
      const op = this.#kv.atomic();
      for (const s of p.steps) apply(op, s);
      const r = await op.commit();
      this.#o.onCommit?.(1);
      return () => p.resolve(r);
    } catch (e) {
      return () => p.reject(e);
    }
  }

  /** Commits a batch (never throws); returns how to settle its callers. */
  async #commit(batch: Pending[]): Promise<() => void> {
    if (batch.length === 1) return await this.#commitOne(batch[0]);
    let r: Result | undefined;
    try {
      r = await mergedOperation(this.#kv, batch).commit();
    } catch {
      r = undefined; // too large together, or a store error: retried one by one below
    }
    if (r?.ok) {
      this.#o.onCommit?.(batch.length);
      const ok = r;
      return () => {
        for (const p of batch) p.resolve(ok);
      };
    }
    // One by one, in order: each caller learns its result as soon as it is known.
    for (const p of batch) (await this.#commitOne(p))();
    return () => {};
  }
}

/**
 * `kv` with its atomic commits (and `set`, `delete`, `enqueue`) grouped; every other method is
 * the handle's own. Close the returned handle or `kv`, either closes both.
 */
export function groupCommits(kv: Deno.Kv, o: GroupCommitOptions = {}): Deno.Kv {
  const combiner = new Combiner(kv, o);
  const atomic = () => new GroupedAtomic((p) => combiner.submit(p));
  const must = async (op: Deno.AtomicOperation): Promise<Deno.KvCommitResult> => {
    const r = await op.commit();
    if (!r.ok) throw new Error("a KV write without checks failed"); // cannot happen
    return r;
  };
  const own: Record<string | symbol, unknown> = {
    atomic,
    set: (key: Deno.KvKey, value: unknown, options?: { expireIn?: number }) =>
      must(atomic().set(key, value, options)),
    delete: async (key: Deno.KvKey) => {
      await must(atomic().delete(key));
    },
    enqueue: (value: unknown, options?: Parameters<Deno.Kv["enqueue"]>[1]) =>
      must(atomic().enqueue(value, options)),
  };
  return new Proxy(kv, {
    get(target, prop) {
      if (prop in own) return own[prop];
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
