/**
 * Run indexes and statistics on Deno KV, kept in the same atomic operations that create, move
 * and delete runs, so they never disagree with the run records:
 *
 *   ["runs_by_state", state, createdAt, id]                    -> trigger kind
 *   ["runs_by_pipeline_state", pipeline, state, createdAt, id] -> trigger kind
 *   ["stat_hour", hourStart, state]      -> runs created in that hour now in that state (sum)
 *   ["stat_state", state]                -> runs in that state (sum)
 *   ["stat_pipeline", pipeline, state]   -> runs of the pipeline in that state (sum)
 *   ["stat_items", hourStart, "read"|"out"] -> items read by sources / out of last stages (sum)
 *
 * Decrements are wrapping sums (KV sums are modulo 2^64).
 * @module
 */
import type { RunRecord, RunState, RunStats } from "./store.ts";

/** One hour in milliseconds (the statistics' bucket). */
export const HOUR_MS = 3_600_000;

const MINUS_ONE = (1n << 64n) - 1n;
const STATES: readonly RunState[] = ["queued", "running", "succeeded", "failed", "cancelled"];

/** Start of the hour of `t`. */
export function hourOf(t: number): number {
  return Math.floor(t / HOUR_MS) * HOUR_MS;
}

/** Key of a run in the state index. */
export function stateKey(run: Pick<RunRecord, "state" | "createdAt" | "id">): Deno.KvKey {
  return ["runs_by_state", run.state, run.createdAt, run.id];
}

/** Adds (`+1`) or removes (`-1`) a run's state index entries and statistics to `op`. */
export function indexRunState(
  op: Deno.AtomicOperation,
  run: Pick<RunRecord, "state" | "createdAt" | "id" | "pipeline" | "trigger">,
  sign: 1 | -1,
): void {
  const k2: Deno.KvKey = ["runs_by_pipeline_state", run.pipeline, run.state, run.createdAt, run.id];
  if (sign > 0) op.set(stateKey(run), run.trigger.kind).set(k2, run.trigger.kind);
  else op.delete(stateKey(run)).delete(k2);
  const by = sign > 0 ? 1n : MINUS_ONE;
  op.sum(["stat_hour", hourOf(run.createdAt), run.state], by)
    .sum(["stat_state", run.state], by)
    .sum(["stat_pipeline", run.pipeline, run.state], by);
}

/** Adds items read / out to the hour of `at`. */
export function countItems(op: Deno.AtomicOperation, at: number, read: number, out: number) {
  if (read > 0) op.sum(["stat_items", hourOf(at), "read"], BigInt(Math.round(read)));
  if (out > 0) op.sum(["stat_items", hourOf(at), "out"], BigInt(Math.round(out)));
}

function u64(v: Deno.KvU64 | null | undefined): number {
  if (!v) return 0;
  const n = v.value >= 1n << 63n ? v.value - (1n << 64n) : v.value;
  return Math.max(0, Number(n));
}

function zeroStates(): Record<RunState, number> {
  return { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
}

/** Reads the statistics of the hours from `from` to `to` (see `Store.runStats`). */
export async function readRunStats(
  kv: Deno.Kv,
  o: { from: number; to: number; pipeline?: string },
): Promise<RunStats> {
  const first = hourOf(o.from);
  const hours: RunStats["hours"] = [];
  for (let h = first; h < o.to; h += HOUR_MS) {
    hours.push({ start: h, runs: zeroStates(), itemsRead: 0, itemsOut: 0 });
  }
  const at = (h: number) => hours[(h - first) / HOUR_MS];
  const statePrefix = o.pipeline ? ["stat_pipeline", o.pipeline] : ["stat_state"];
  const [runs, items, states] = await Promise.all([
    Array.fromAsync(kv.list<Deno.KvU64>({ start: ["stat_hour", first], end: ["stat_hour", o.to] })),
    Array.fromAsync(
      kv.list<Deno.KvU64>({ start: ["stat_items", first], end: ["stat_items", o.to] }),
    ),
    kv.getMany<Deno.KvU64[]>(STATES.map((s) => [...statePrefix, s])),
  ]);
  for (const e of runs) {
    const h = at(e.key[1] as number);
    if (h) h.runs[e.key[2] as RunState] = u64(e.value);
  }
  for (const e of items) {
    const h = at(e.key[1] as number);
    if (h && e.key[2] === "read") h.itemsRead = u64(e.value);
    else if (h) h.itemsOut = u64(e.value);
  }
  const out = zeroStates();
  STATES.forEach((s, i) => out[s] = u64(states[i].value));
  return { hours, states: out };
}

/**
 * Indexes runs written before the state index existed: every run whose state entry is missing
 * gets its entries and statistics, guarded by its record's version (a run that changes
 * meanwhile is indexed by that change). Marks the store migrated when done.
 */
export async function migrateRunIndex(
  kv: Deno.Kv,
  commit: (op: Deno.AtomicOperation) => Promise<Deno.KvCommitResult | Deno.KvCommitError>,
): Promise<number> {
  const mark = ["meta", "run_state_index"];
  if ((await kv.get(mark)).value) return 0;
  let n = 0;
  let batch: Deno.KvEntry<RunRecord>[] = [];
  const flush = async () => {
    const marks = await kv.getMany(batch.map((e) => stateKey(e.value)));
    for (let i = 0; i < batch.length; i++) {
      if (marks[i].versionstamp !== null) continue;
      const op = kv.atomic().check(batch[i]).check({
        key: stateKey(batch[i].value),
        versionstamp: null,
      });
      indexRunState(op, batch[i].value, 1);
      if ((await commit(op)).ok) n++;
    }
    batch = [];
  };
  for await (const e of kv.list<RunRecord>({ prefix: ["run"] }, { batchSize: 500 })) {
    batch.push(e);
    if (batch.length === 10) await flush();
  }
  if (batch.length) await flush();
  await commit(kv.atomic().set(mark, true));
  return n;
}
