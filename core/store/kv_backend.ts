/**
 * The embedded default backend: one Deno KV file holds runs, chunks, counters, dead letters and
 * the queue. A chunk commit writes output, marks the chunk done, bumps counters and enqueues the
 * next messages in one atomic operation guarded by a "not yet done" check.
 * @module
 */
import type { Item, Rejected } from "../../sdk/types.ts";
import type { EngineMessage, EnqueueOptions, Queue } from "../queue/queue.ts";
import { decodeParts, encodeParts } from "./chunk_codec.ts";
import {
  type Backend,
  type ChunkAttempts,
  type ChunkCommit,
  COUNTER_NAMES,
  type DeadLetter,
  emptyCounters,
  type RunFilter,
  type RunPage,
  type RunRecord,
  type RunState,
  type SourceProgress,
  type StageCounters,
  type Store,
} from "./store.ts";

/** Above this many bytes a chunk's parts are staged before the commit (atomic size cap 800 KiB). */
const INLINE_COMMIT_BYTES = 600_000;

/**
 * Retries an operation that SQLite refused because another handle or process held the write
 * lock ("database is locked"); any other error is thrown at once.
 */
export async function retryLocked<T>(fn: () => Promise<T>, attempts = 50): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || !/database is locked|SQLITE_BUSY/i.test(String((e as Error)?.message))) {
        throw e;
      }
      await new Promise((r) => setTimeout(r, Math.min(200, 2 * i) + Math.random() * 5));
    }
  }
}

interface DoneMark {
  token: string;
  parts: number;
  rejParts: number;
  count: number;
  at: number;
}

/** Deno KV implementation of {@link Store}. */
export class KvStore implements Store {
  #kv: Deno.Kv;
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async createRun(run: RunRecord, first: EngineMessage[]): Promise<void> {
    const op = this.#kv.atomic()
      .check({ key: ["run", run.id], versionstamp: null })
      .set(["run", run.id], run)
      .set(["runs_by_time", run.createdAt, run.id], run.pipeline)
      .set(["runs_by_pipeline", run.pipeline, run.createdAt, run.id], true);
    for (const m of first) op.enqueue(m);
    const res = await retryLocked(() => op.commit());
    if (!res.ok) throw new Error(`run ${run.id} already exists`);
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return (await this.#kv.get<RunRecord>(["run", id])).value ?? undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunPage> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    const prefix = filter.pipeline ? ["runs_by_pipeline", filter.pipeline] : ["runs_by_time"];
    const iter = this.#kv.list({ prefix }, {
      reverse: true,
      cursor: filter.cursor,
      batchSize: 200,
    });
    const runs: RunRecord[] = [];
    // Index entries are read in groups and their run records fetched with getMany (10 keys per
    // call, in parallel) instead of one get per run; the cursor after each entry is kept so a
    // page still ends exactly after its last run.
    let done = false;
    while (!done) {
      const group: { id: string; cursor: string }[] = [];
      const want = filter.state ? 100 : Math.min(100, limit - runs.length);
      while (group.length < want) {
        const next = await iter.next();
        if (next.done) {
          done = true;
          break;
        }
        group.push({
          id: next.value.key[next.value.key.length - 1] as string,
          cursor: iter.cursor,
        });
      }
      const records: (RunRecord | null)[] = [];
      const batches: Promise<Deno.KvEntryMaybe<RunRecord>[]>[] = [];
      for (let i = 0; i < group.length; i += 10) {
        batches.push(
          this.#kv.getMany<RunRecord[]>(group.slice(i, i + 10).map((g) => ["run", g.id])),
        );
      }
      for (const b of await Promise.all(batches)) for (const e of b) records.push(e.value);
      for (let i = 0; i < group.length; i++) {
        const run = records[i];
        if (!run || (filter.state && run.state !== filter.state)) continue;
        runs.push(run);
        if (runs.length === limit) return { runs, cursor: group[i].cursor };
      }
    }
    return { runs };
  }

  async transitionRun(
    id: string,
    from: readonly RunState[],
    to: RunState,
    patch: Partial<RunRecord> = {},
  ): Promise<boolean> {
    for (;;) {
      const cur = await this.#kv.get<RunRecord>(["run", id]);
      if (!cur.value || !from.includes(cur.value.state)) return false;
      const res = await retryLocked(() =>
        this.#kv.atomic().check(cur)
          .set(["run", id], { ...cur.value, ...patch, state: to }).commit()
      );
      if (res.ok) return true;
    }
  }

  async commitChunk(c: ChunkCommit): Promise<boolean> {
    const doneKey = ["chunk_done", c.runId, c.stage, c.chunk];
    const parts = encodeParts(c.items);
    const rejParts = c.rejected.length ? encodeParts(c.rejected) : [];
    const size = [...parts, ...rejParts].reduce((n, p) => n + p.length, 0);
    const staged = size > INLINE_COMMIT_BYTES;
    const token = staged ? crypto.randomUUID() : "i";
    const entries: [Deno.KvKey, Uint8Array][] = [
      ...parts.map((p, i): [Deno.KvKey, Uint8Array] => [
        ["chunk_out", c.runId, c.stage, c.chunk, token, i],
        p,
      ]),
      ...rejParts.map((p, i): [Deno.KvKey, Uint8Array] => [
        ["chunk_rej", c.runId, c.stage, c.chunk, token, i],
        p,
      ]),
    ];
    if (staged) {
      if (await this.isChunkDone(c.runId, c.stage, c.chunk)) return false;
      for (let i = 0; i < entries.length; i += 8) {
        const op = this.#kv.atomic();
        for (const [k, v] of entries.slice(i, i + 8)) op.set(k, v);
        await retryLocked(() => op.commit());
      }
    }
    const mark: DoneMark = {
      token,
      parts: parts.length,
      rejParts: rejParts.length,
      count: c.items.length,
      at: Date.now(),
    };
    const op = this.#kv.atomic().check({ key: doneKey, versionstamp: null }).set(doneKey, mark);
    if (!staged) { for (const [k, v] of entries) op.set(k, v); }
    this.#addCounters(op, c.runId, c.stage, c.counters);
    if (c.source) op.set(["source", c.runId], c.source);
    for (const m of c.next) op.enqueue(m);
    const res = await retryLocked(() => op.commit());
    if (!res.ok && staged) {
      await this.#deletePrefix(["chunk_out", c.runId, c.stage, c.chunk, token]);
      await this.#deletePrefix(["chunk_rej", c.runId, c.stage, c.chunk, token]);
    }
    return res.ok;
  }

  #addCounters(op: Deno.AtomicOperation, runId: string, stage: number, c: Partial<StageCounters>) {
    for (const [name, value] of Object.entries(c)) {
      if (value) op.sum(["counter", runId, stage, name], BigInt(Math.round(value)));
    }
  }

  async isChunkDone(runId: string, stage: number, chunk: number): Promise<boolean> {
    return (await this.#kv.get(["chunk_done", runId, stage, chunk])).versionstamp !== null;
  }

  async doneChunks(runId: string, stage: number): Promise<number[]> {
    const out: number[] = [];
    for await (const e of this.#kv.list({ prefix: ["chunk_done", runId, stage] })) {
      out.push(e.key[3] as number);
    }
    return out.sort((a, b) => a - b);
  }

  async readChunk(runId: string, stage: number, chunk: number): Promise<Item[] | undefined> {
    const mark = (await this.#kv.get<DoneMark>(["chunk_done", runId, stage, chunk])).value;
    if (!mark) return undefined;
    return await this.#readParts<Item[]>(
      ["chunk_out", runId, stage, chunk, mark.token],
      mark.parts,
    );
  }

  async #readParts<T>(prefix: Deno.KvKey, n: number): Promise<T> {
    const parts: Uint8Array[] = [];
    for await (const e of this.#kv.list<Uint8Array>({ prefix }, { batchSize: Math.max(n, 1) })) {
      parts.push(e.value);
    }
    if (parts.length !== n) {
      throw new Error(`store corrupt: ${prefix.join("/")} has ${parts.length} of ${n} parts`);
    }
    return decodeParts<T>(parts);
  }

  async *readRejected(runId: string): AsyncIterable<Rejected & { stage: number; chunk: number }> {
    for await (const e of this.#kv.list<DoneMark>({ prefix: ["chunk_done", runId] })) {
      if (!e.value.rejParts) continue;
      const [, , stage, chunk] = e.key as [string, string, number, number];
      const rows = await this.#readParts<Rejected[]>(
        ["chunk_rej", runId, stage, chunk, e.value.token],
        e.value.rejParts,
      );
      for (const r of rows) yield { ...r, stage, chunk };
    }
  }

  async sourceProgress(runId: string): Promise<SourceProgress> {
    return (await this.#kv.get<SourceProgress>(["source", runId])).value ??
      { nextChunk: 0, cursor: null, done: false };
  }

  async counters(runId: string, stages: number): Promise<StageCounters[]> {
    const out = Array.from({ length: stages }, emptyCounters);
    for await (const e of this.#kv.list<Deno.KvU64>({ prefix: ["counter", runId] })) {
      const stage = e.key[2] as number;
      const name = e.key[3] as keyof StageCounters;
      if (out[stage] && COUNTER_NAMES.includes(name)) out[stage][name] = Number(e.value.value);
    }
    return out;
  }

  async getAttempts(runId: string, stage: number, chunk: number) {
    return (await this.#kv.get<ChunkAttempts>(["attempts", runId, stage, chunk])).value ??
      undefined;
  }

  async setAttempts(runId: string, stage: number, chunk: number, a: ChunkAttempts) {
    await retryLocked(() => this.#kv.set(["attempts", runId, stage, chunk], a));
  }

  async addDeadLetter(d: DeadLetter): Promise<boolean> {
    const key = ["dead", d.runId, d.stage, d.chunk];
    const op = this.#kv.atomic().check({ key, versionstamp: null }).set(key, d);
    this.#addCounters(op, d.runId, d.stage, { chunksDead: 1, failed: d.items });
    return (await retryLocked(() => op.commit())).ok;
  }

  async listDeadLetters(runId: string): Promise<DeadLetter[]> {
    const out: DeadLetter[] = [];
    for await (const e of this.#kv.list<DeadLetter>({ prefix: ["dead", runId] })) {
      out.push(e.value);
    }
    return out;
  }

  async removeDeadLetter(runId: string, stage: number, chunk: number): Promise<boolean> {
    for (;;) {
      const cur = await this.#kv.get<DeadLetter>(["dead", runId, stage, chunk]);
      if (!cur.value) return false;
      const [dead, failed] = await this.#kv.getMany<[Deno.KvU64, Deno.KvU64]>([
        ["counter", runId, stage, "chunksDead"],
        ["counter", runId, stage, "failed"],
      ]);
      // KV sums cannot subtract: write the lowered values guarded by version checks.
      const lower = (e: Deno.KvEntryMaybe<Deno.KvU64>, by: number) =>
        new Deno.KvU64(BigInt(Math.max(0, Number(e.value?.value ?? 0n) - by)));
      const res = await retryLocked(() =>
        this.#kv.atomic().check(cur, dead, failed)
          .delete(cur.key).delete(["attempts", runId, stage, chunk])
          .set(dead.key, lower(dead, 1)).set(failed.key, lower(failed, cur.value.items))
          .commit()
      );
      if (res.ok) return true;
    }
  }

  async deleteRun(id: string): Promise<void> {
    const run = await this.getRun(id);
    for (
      const space of [
        "chunk_done",
        "chunk_out",
        "chunk_rej",
        "counter",
        "attempts",
        "dead",
        "source",
      ]
    ) {
      await this.#deletePrefix([space, id]);
    }
    if (run) {
      await retryLocked(() =>
        this.#kv.atomic().delete(["run", id]).delete(["runs_by_time", run.createdAt, id])
          .delete(["runs_by_pipeline", run.pipeline, run.createdAt, id]).commit()
      );
    }
  }

  async #deletePrefix(prefix: Deno.KvKey) {
    let op = this.#kv.atomic();
    let n = 0;
    for await (const e of this.#kv.list({ prefix })) {
      op.delete(e.key);
      if (++n % 500 === 0) {
        await retryLocked(() => op.commit());
        op = this.#kv.atomic();
      }
    }
    await retryLocked(() => op.commit());
  }

  close(): void {}
}

/** Deno KV implementation of {@link Queue}. */
export class KvQueue implements Queue {
  #kv: Deno.Kv;
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  async enqueue(message: EngineMessage, options: EnqueueOptions = {}): Promise<void> {
    await retryLocked(() => this.#kv.enqueue(message, { delay: options.delayMs }));
  }

  listen(handler: (m: EngineMessage) => Promise<void>, signal: AbortSignal): Promise<void> {
    const never = new Promise<void>(() => {});
    return this.#kv.listenQueue(async (m: unknown) => {
      // After shutdown, hold the message: it must not be acknowledged unprocessed. The store
      // stays the source of truth and the next process re-enqueues unfinished work.
      if (signal.aborted) return await never;
      await handler(m as EngineMessage);
    });
  }
}

/** Opens (or creates) the embedded KV backend at `path` (`:memory:` for a throwaway one). */
export async function openKvBackend(path: string): Promise<Backend> {
  if (path !== ":memory:") {
    const dir = path.replace(/\/[^/]*$/, "");
    if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
  }
  const kv = await Deno.openKv(path);
  return {
    store: new KvStore(kv),
    queue: new KvQueue(kv),
    kv,
    close: () => kv.close(),
  };
}
