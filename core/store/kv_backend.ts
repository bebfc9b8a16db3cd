/**
 * The embedded default backend: one Deno KV file holds runs, counters, dead letters, indexes and
 * the queue; the chunks' item data lives in files beside it (`<kv file>.chunks/`, see
 * `chunk_files.ts`). A chunk commit writes and syncs its output file first, then marks the chunk
 * done (naming the file), bumps counters and enqueues the next messages in one atomic operation
 * guarded by a "not yet done" check.
 * @module
 */
import type { Item, Rejected } from "../../sdk/types.ts";
import type { EngineMessage, EnqueueOptions, Queue } from "../queue/queue.ts";
import { lockRetrying, openKv } from "../../sdk/io/kv_locks.ts";
import {
  commitCount,
  commitItems,
  commitJson,
  decodeParts,
  encodeJsonParts,
  encodeParts,
  splitParts,
} from "./chunk_codec.ts";
import { chunkDirFor, ChunkFiles } from "./chunk_files.ts";
import {
  type IndexCondition,
  ITEM_INDEX_FIELDS,
  type ItemIndexPage,
  type ItemIndexQuery,
  itemIndexStage,
  type ItemIndexStats,
} from "./item_index.ts";
import { planCommit, queryIndex, readIndexStats, valueKey } from "./kv_item_index.ts";
import {
  countItems,
  indexRunState,
  migrateRunIndex,
  readRunStats,
  stateKey,
} from "./kv_run_index.ts";
import { KvNoticeOutbox, NOTICE_SPACES } from "./kv_notices.ts";
import { RunSnapshots, type StoredRun, touchesSnapshot, writeSnapshot } from "./kv_run_snapshot.ts";
import {
  type Backend,
  type ChunkAttempts,
  type ChunkCommit,
  COUNTER_NAMES,
  type DeadLetter,
  emptyCounters,
  FINAL_STATES,
  GuardFailedError,
  isFinishing,
  type RawChunk,
  type RunFilter,
  type RunGuard,
  type RunLogEntry,
  type RunPage,
  type RunRecord,
  type RunState,
  type RunStats,
  type SourceProgress,
  type StageCounters,
  type Store,
  type TransitionOptions,
} from "./store.ts";

interface DoneMark {
  token: string;
  /** The items are in the chunk file named by `token` ({@link ChunkFiles}), not in KV parts. */
  file?: true;
  parts: number;
  rejParts: number;
  count: number;
  at: number;
}

/** What a run's item index covers: the indexed stage and the run's last stage. */
interface IndexMeta {
  stage: number;
  last: number;
}

/** Options of {@link KvStore}. */
export interface KvStoreOptions {
  /** Epoch milliseconds of commits, for the per-hour item statistics (default `Date.now`). */
  now?: () => number;
  /**
   * Folder of the chunks' item data, one file per chunk output ({@link chunkDirFor} of the KV
   * file; `openKvBackend` sets it). Without it the items go into KV values (in-memory stores);
   * chunks written either way are read either way.
   */
  chunkDir?: string;
}

/**
 * How long a chunk file's bytes stay in memory after this process committed them: the engine
 * continues with the next stage at once, which then takes them from here instead of reading the
 * file back (its done mark's token says they are that file's). At most
 * {@link KEPT_OUTPUT_MAX} are kept.
 */
const KEPT_OUTPUT_MS = 1000;
/** Most chunk outputs kept in memory at once (the oldest go first). */
const KEPT_OUTPUT_MAX = 32;

/**
 * Deno KV implementation of {@link Store}, with the optional read models: a run index by state,
 * run and item statistics per hour, and the item index of each run's index stage. A KV file
 * written before these existed is migrated once, before the first read by state
 * ({@link KvStore.migrate}; `openKvBackend` runs it at open). Its writes are retried while
 * another process holds the file's lock (`lockRetrying`, sdk/io/kv_locks.ts).
 */
export class KvStore implements Store {
  #kv: Deno.Kv;
  #now: () => number;
  #meta = new Map<string, IndexMeta | null>();
  /** Orders the run log lines this process appends within one millisecond. */
  #logSeq = 0;
  /** Keeps lines of other processes on the file (same millisecond, same sequence) apart. */
  #logToken = crypto.randomUUID().slice(0, 8);
  #migrated?: Promise<number>;
  #snapshots: RunSnapshots;
  #files?: ChunkFiles;
  /**
   * The bytes of chunk files this process committed a moment ago, by chunk, for the next stage
   * that continues at once (see {@link KEPT_OUTPUT_MS}); read once.
   */
  #keptOutputs = new Map<string, { token: string; parts: Uint8Array[]; at: number }>();
  /** Run notices not delivered when their run ended, for resending (`kv_notices.ts`). */
  readonly notices: KvNoticeOutbox;
  constructor(kv: Deno.Kv, opts: KvStoreOptions = {}) {
    this.#kv = lockRetrying(kv);
    this.notices = new KvNoticeOutbox(this.#kv);
    this.#snapshots = new RunSnapshots(this.#kv);
    this.#now = opts.now ?? Date.now;
    if (opts.chunkDir) this.#files = new ChunkFiles(opts.chunkDir);
  }

  /**
   * Indexes runs written before the state index existed; returns how many. Idempotent, and run
   * at most once per store: reads by state and statistics wait for it.
   */
  migrate(): Promise<number> {
    this.#migrated ??= migrateRunIndex(this.#kv, (op) => op.commit())
      .catch((e) => {
        this.#migrated = undefined;
        throw e;
      });
    return this.#migrated;
  }

  /**
   * Adds a new run's writes to `op`; returns the snapshot written with it, if any. A snapshot in
   * `written` (ids this operation writes already) is not written twice.
   */
  #createOps(op: Deno.AtomicOperation, run: RunRecord, written?: Set<string>) {
    const { record, snapshot: packed } = this.#snapshots.pack(run);
    const snapshot = packed && written?.has(packed.id) ? undefined : packed;
    if (snapshot) written?.add(snapshot.id);
    op.check({ key: ["run", run.id], versionstamp: null })
      .set(["run", run.id], record)
      .set(["runs_by_time", run.createdAt, run.id], run.pipeline)
      .set(["runs_by_pipeline", run.pipeline, run.createdAt, run.id], true);
    if (snapshot) writeSnapshot(op, snapshot);
    indexRunState(op, run, 1);
    const stage = itemIndexStage(run);
    if (stage >= 0) {
      op.set(["ix_meta", run.id], { stage, last: run.stages.length - 1 } satisfies IndexMeta);
    }
    return snapshot;
  }

  async createRun(run: RunRecord, first: EngineMessage[], guard?: RunGuard): Promise<void> {
    if (guard && !this.acceptsGuard(guard)) {
      throw new TypeError("createRun: the guard's keys are in another Deno KV database");
    }
    const op = this.#kv.atomic();
    const snapshot = this.#createOps(op, run);
    guard?.apply(op);
    for (const m of first) op.enqueue(m);
    const res = await op.commit();
    if (res.ok) return this.#snapshots.stored(snapshot);
    if (guard && !(await this.#kv.get(["run", run.id])).versionstamp) {
      throw new GuardFailedError(run.id);
    }
    throw new Error(`run ${run.id} already exists`);
  }

  /** A guard on this very KV handle (group commits included) can share the run's write. */
  acceptsGuard(guard: RunGuard): boolean {
    return lockRetrying(guard.kv) === this.#kv;
  }

  /**
   * Writes many new runs (no first messages) in few atomic operations, with the same indexes
   * as {@link KvStore.createRun}: for imports and benchmarks. Runs that exist are left as they
   * are; returns how many were written.
   */
  async importRuns(runs: readonly RunRecord[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < runs.length; i += 40) {
      const batch = runs.slice(i, i + 40);
      const op = this.#kv.atomic();
      const written = new Set<string>();
      const snaps = batch.map((r) => this.#createOps(op, r, written));
      if ((await op.commit()).ok) {
        snaps.forEach((s) => this.#snapshots.stored(s));
        n += batch.length;
        continue;
      }
      for (const r of batch) {
        const one = this.#kv.atomic();
        const snap = this.#createOps(one, r);
        if ((await one.commit()).ok) {
          this.#snapshots.stored(snap);
          n++;
        }
      }
    }
    return n;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const stored = (await this.#kv.get<StoredRun>(["run", id])).value;
    return stored ? await this.#snapshots.unpack(stored) : undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunPage> {
    // A limit that is no number (NaN from a caller's bad input) must not loop forever.
    const asked = Number.isFinite(filter.limit) ? Math.floor(filter.limit!) : 50;
    const limit = Math.min(Math.max(asked, 1), 1000);
    if (filter.state) await this.migrate();
    const prefix = filter.state
      ? filter.pipeline
        ? ["runs_by_pipeline_state", filter.pipeline, filter.state]
        : ["runs_by_state", filter.state]
      : filter.pipeline
      ? ["runs_by_pipeline", filter.pipeline]
      : ["runs_by_time"];
    const iter = this.#kv.list<unknown>({ prefix }, {
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
      const want = Math.min(100, limit - runs.length);
      while (group.length < want) {
        const next = await iter.next();
        if (next.done) {
          done = true;
          break;
        }
        // State index entries hold the trigger kind: other triggers are skipped unread.
        const kind = next.value.value;
        if (filter.state && filter.trigger && typeof kind === "string" && kind !== filter.trigger) {
          continue;
        }
        group.push({
          id: next.value.key[next.value.key.length - 1] as string,
          cursor: iter.cursor,
        });
      }
      const records: (StoredRun | null)[] = [];
      const batches: Promise<Deno.KvEntryMaybe<StoredRun>[]>[] = [];
      for (let i = 0; i < group.length; i += 10) {
        batches.push(
          this.#kv.getMany<StoredRun[]>(group.slice(i, i + 10).map((g) => ["run", g.id])),
        );
      }
      for (const b of await Promise.all(batches)) for (const e of b) records.push(e.value);
      for (let i = 0; i < group.length; i++) {
        const run = records[i];
        if (!run || (filter.state && run.state !== filter.state)) continue;
        if (filter.trigger && run.trigger.kind !== filter.trigger) continue;
        runs.push(await this.#snapshots.unpack(run));
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
    options: TransitionOptions = {},
  ): Promise<boolean> {
    for (;;) {
      const cur = await this.#kv.get<StoredRun>(["run", id]);
      if (!cur.value || !from.includes(cur.value.state)) return false;
      // The check below (the record's versionstamp) makes this part of the atomic step.
      if (isFinishing(cur.value, options)) return false;
      const op = this.#kv.atomic().check(cur);
      let next: StoredRun = { ...cur.value, ...patch, state: to } as StoredRun;
      let snapshot;
      if (touchesSnapshot(patch)) {
        ({ record: next, snapshot } = this.#snapshots.pack(
          { ...await this.#snapshots.unpack(cur.value), ...patch, state: to },
        ));
        if (snapshot) writeSnapshot(op, snapshot);
      }
      op.set(["run", id], next);
      const old = cur.value;
      if (
        old.state !== next.state || old.createdAt !== next.createdAt ||
        old.pipeline !== next.pipeline
      ) {
        // Move the state index and statistics; a run not indexed yet (written before the
        // index existed) is only added, guarded against a concurrent migration.
        const indexed = await this.#kv.get(stateKey(old));
        op.check(indexed);
        if (indexed.versionstamp !== null) indexRunState(op, old, -1);
        indexRunState(op, next, 1);
      }
      const res = await op.commit();
      if (res.ok) {
        this.#snapshots.stored(snapshot);
        return true;
      }
    }
  }

  async commitChunk(c: ChunkCommit): Promise<boolean> {
    const doneKey = ["chunk_done", c.runId, c.stage, c.chunk];
    const files = this.#files;
    // With a chunk folder the items go to a file of their own, written before the commit under a
    // token no other attempt uses (see chunk_files.ts); only rejected items stay in KV parts.
    let fileToken: string | undefined;
    let fileParts: Uint8Array[] | undefined;
    let parts: Uint8Array[] = [];
    // The plugin's own JSON of the items when the engine has it (its very bytes when it has
    // those), else serialized here.
    const itemsBytes = c.itemsBytes;
    if (files) {
      fileToken = crypto.randomUUID();
      fileParts = itemsBytes ?? encodeJsonParts(commitJson(c), Infinity);
      await files.write(c.runId, c.stage, c.chunk, fileToken, fileParts);
    } else if (itemsBytes) parts = itemsBytes.flatMap((p) => splitParts(p));
    else parts = encodeJsonParts(commitJson(c));
    const rejParts = c.rejected.length ? encodeParts(c.rejected) : [];
    const size = [...parts, ...rejParts].reduce((n, p) => n + p.length, 0);
    const meta = await this.#indexMeta(c.runId);
    // One atomic operation takes at most 1,000 mutations and 800 KiB: the index goes into the
    // commit, the chunk's parts are staged before it when both do not fit.
    const ix = planCommit({
      runId: c.runId,
      stage: c.stage,
      chunk: c.chunk,
      items: meta?.stage === c.stage ? commitItems(c) : c.items,
      indexed: meta?.stage === c.stage,
      partBytes: size,
      partCount: parts.length + rejParts.length,
      fixed: 20 + c.next.length,
      itemBytes: (fileParts ?? parts).reduce((n, p) => n + p.length, 0),
    });
    const staged = ix.staged;
    const token = fileToken ?? (staged ? crypto.randomUUID() : "i");
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
      if (await this.isChunkDone(c.runId, c.stage, c.chunk)) {
        if (files) await files.remove(c.runId, c.stage, c.chunk, token);
        return false;
      }
      for (let i = 0; i < entries.length; i += 8) {
        const op = this.#kv.atomic();
        for (const [k, v] of entries.slice(i, i + 8)) op.set(k, v);
        await op.commit();
      }
    }
    const mark: DoneMark = {
      token,
      ...(files ? { file: true as const } : {}),
      parts: parts.length,
      rejParts: rejParts.length,
      count: commitCount(c),
      at: Date.now(),
    };
    const op = this.#kv.atomic().check({ key: doneKey, versionstamp: null }).set(doneKey, mark);
    if (!staged) { for (const [k, v] of entries) op.set(k, v); }
    for (const [k, v] of ix.sets) op.set(k, v);
    for (const [k, v] of ix.sums) op.sum(k, v);
    if (ix.off) op.set(["ix_off", c.runId], ix.off);
    countItems(
      op,
      this.#now(),
      c.stage === 0 ? c.counters.out ?? 0 : 0,
      meta && c.stage === meta.last ? c.counters.out ?? 0 : 0,
    );
    this.#addCounters(op, c.runId, c.stage, c.counters);
    if (c.source) op.set(["source", c.runId], c.source);
    for (const m of c.next) op.enqueue(m);
    const res = await op.commit();
    if (!res.ok && staged) {
      await this.#deletePrefix(["chunk_out", c.runId, c.stage, c.chunk, token]);
      await this.#deletePrefix(["chunk_rej", c.runId, c.stage, c.chunk, token]);
    }
    if (!res.ok && files) await files.remove(c.runId, c.stage, c.chunk, token);
    if (res.ok && fileParts && c.next.some((m) => m.kind === "chunk" && m.stage === c.stage + 1)) {
      this.#keepOutput(`${c.runId}/${c.stage}/${c.chunk}`, token, fileParts);
    }
    return res.ok;
  }

  #keepOutput(key: string, token: string, parts: Uint8Array[]): void {
    const at = this.#now();
    for (const [k, v] of this.#keptOutputs) {
      if (at - v.at < KEPT_OUTPUT_MS && this.#keptOutputs.size < KEPT_OUTPUT_MAX) break;
      this.#keptOutputs.delete(k);
    }
    this.#keptOutputs.set(key, { token, parts, at });
  }

  /** The bytes of a chunk file committed here a moment ago under `token`, once. */
  #keptOutput(key: string, token: string): Uint8Array[] | undefined {
    const kept = this.#keptOutputs.get(key);
    if (!kept) return undefined;
    this.#keptOutputs.delete(key);
    return kept.token === token && this.#now() - kept.at < KEPT_OUTPUT_MS ? kept.parts : undefined;
  }

  #addCounters(op: Deno.AtomicOperation, runId: string, stage: number, c: Partial<StageCounters>) {
    for (const [name, value] of Object.entries(c)) {
      if (value) op.sum(["counter", runId, stage, name], BigInt(Math.round(value)));
    }
  }

  /** What the run's item index covers (cached: it never changes after `createRun`). */
  async #indexMeta(runId: string): Promise<IndexMeta | null> {
    let m = this.#meta.get(runId);
    if (m === undefined) {
      m = (await this.#kv.get<IndexMeta>(["ix_meta", runId])).value;
      if (this.#meta.size >= 1000) this.#meta.clear();
      this.#meta.set(runId, m);
    }
    return m;
  }

  async isChunkDone(runId: string, stage: number, chunk: number): Promise<boolean> {
    return (await this.#kv.get(["chunk_done", runId, stage, chunk])).versionstamp !== null;
  }

  async doneChunks(
    runId: string,
    stage: number,
    window: { from?: number; limit?: number } = {},
  ): Promise<number[]> {
    const out: number[] = [];
    const prefix = ["chunk_done", runId, stage];
    const sel = window.from ? { prefix, start: [...prefix, window.from] } : { prefix };
    for await (const e of this.#kv.list(sel, { limit: window.limit, batchSize: 500 })) {
      out.push(e.key[3] as number);
    }
    return out.sort((a, b) => a - b);
  }

  async readChunks(
    runId: string,
    stage: number,
    chunks: readonly number[],
  ): Promise<(Item[] | undefined)[]> {
    const marks = await this.#getMany<DoneMark>(
      chunks.map((c) => ["chunk_done", runId, stage, c]),
    );
    const keys: Deno.KvKey[] = [];
    marks.forEach((m, i) => {
      for (let p = 0; p < (m?.parts ?? 0); p++) {
        keys.push(["chunk_out", runId, stage, chunks[i], m!.token, p]);
      }
    });
    const [parts, fromFiles] = await Promise.all([
      this.#getMany<Uint8Array>(keys),
      Promise.all(
        marks.map((m, i) => m?.file ? this.#chunkFile(runId, stage, chunks[i], m) : undefined),
      ),
    ]);
    let at = 0;
    return marks.map((m, i) => {
      if (!m) return undefined;
      if (m.file) return decodeParts<Item[]>([fromFiles[i]!]);
      const mine = parts.slice(at, at += m.parts);
      if (mine.some((p) => !p)) {
        throw new Error(`store corrupt: chunk ${chunks[i]} of stage ${stage} of run ${runId}`);
      }
      return decodeParts<Item[]>(mine as Uint8Array[]);
    });
  }

  /** Values of many keys: getMany in groups of 10 (its limit), all groups in parallel. */
  async #getMany<T>(keys: Deno.KvKey[]): Promise<(T | null)[]> {
    const groups: Promise<Deno.KvEntryMaybe<T>[]>[] = [];
    for (let i = 0; i < keys.length; i += 10) {
      groups.push(this.#kv.getMany<T[]>(keys.slice(i, i + 10)));
    }
    return (await Promise.all(groups)).flat().map((e) => e.value);
  }

  async readChunk(runId: string, stage: number, chunk: number): Promise<Item[] | undefined> {
    const raw = await this.readChunkRaw(runId, stage, chunk);
    return raw && decodeParts<Item[]>(raw.parts);
  }

  async readChunkRaw(runId: string, stage: number, chunk: number): Promise<RawChunk | undefined> {
    const mark = (await this.#kv.get<DoneMark>(["chunk_done", runId, stage, chunk])).value;
    if (!mark) return undefined;
    const parts = mark.file
      ? this.#keptOutput(`${runId}/${stage}/${chunk}`, mark.token) ??
        [await this.#chunkFile(runId, stage, chunk, mark)]
      : await this.#rawParts(["chunk_out", runId, stage, chunk, mark.token], mark.parts);
    return { parts, count: mark.count };
  }

  /** The bytes of a chunk output kept in a file. */
  async #chunkFile(
    runId: string,
    stage: number,
    chunk: number,
    mark: DoneMark,
  ): Promise<Uint8Array> {
    if (!this.#files) {
      throw new Error(
        `chunk ${chunk} of stage ${stage} of run ${runId} is kept in a chunk file, but this store ` +
          `was opened without its chunk folder (open it with openKvBackend, or pass chunkDir)`,
      );
    }
    return await this.#files.read(runId, stage, chunk, mark.token);
  }

  async #rawParts(prefix: Deno.KvKey, n: number): Promise<Uint8Array[]> {
    const parts: Uint8Array[] = [];
    for await (const e of this.#kv.list<Uint8Array>({ prefix }, { batchSize: Math.max(n, 1) })) {
      parts.push(e.value);
    }
    if (parts.length !== n) {
      throw new Error(`store corrupt: ${prefix.join("/")} has ${parts.length} of ${n} parts`);
    }
    return parts;
  }

  async *readRejected(runId: string): AsyncIterable<Rejected & { stage: number; chunk: number }> {
    // Only chunks with rejected items have `chunk_rej` parts: read those, not every done mark.
    // Parts of a staged commit that never happened (another token) are skipped.
    let group: { stage: number; chunk: number; token: string; parts: Uint8Array[] } | undefined;
    const flush = async () => {
      if (!group) return [];
      const g = group;
      group = undefined;
      const mark = (await this.#kv.get<DoneMark>(["chunk_done", runId, g.stage, g.chunk])).value;
      if (!mark || mark.token !== g.token || mark.rejParts !== g.parts.length) return [];
      return decodeParts<Rejected[]>(g.parts).map((r) => ({
        ...r,
        stage: g.stage,
        chunk: g.chunk,
      }));
    };
    for await (const e of this.#kv.list<Uint8Array>({ prefix: ["chunk_rej", runId] })) {
      const [, , stage, chunk, token] = e.key as [string, string, number, number, string];
      if (!group || group.stage !== stage || group.chunk !== chunk || group.token !== token) {
        yield* await flush();
        group = { stage, chunk, token, parts: [] };
      }
      group.parts.push(e.value);
    }
    yield* await flush();
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
    await this.#kv.set(["attempts", runId, stage, chunk], a);
  }

  async addDeadLetter(d: DeadLetter): Promise<boolean> {
    const key = ["dead", d.runId, d.stage, d.chunk];
    const op = this.#kv.atomic().check({ key, versionstamp: null }).set(key, d);
    this.#addCounters(op, d.runId, d.stage, { chunksDead: 1, failed: d.items });
    return (await op.commit()).ok;
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
      const res = await this.#kv.atomic().check(cur, dead, failed)
        .delete(cur.key).delete(["attempts", runId, stage, chunk])
        .set(dead.key, lower(dead, 1)).set(failed.key, lower(failed, cur.value.items))
        .commit();
      if (res.ok) return true;
    }
  }

  async runStats(o: { from: number; to: number; pipeline?: string }): Promise<RunStats> {
    await this.migrate();
    return await readRunStats(this.#kv, o);
  }

  async #usableIndex(runId: string, stage: number): Promise<boolean> {
    const meta = await this.#indexMeta(runId);
    if (!meta || meta.stage !== stage) return false;
    return (await this.#kv.get(["ix_off", runId])).versionstamp === null;
  }

  async itemIndexStats(runId: string, stage: number): Promise<ItemIndexStats | undefined> {
    if (!(await this.#usableIndex(runId, stage))) return undefined;
    return await readIndexStats(this.#kv, runId, stage);
  }

  async queryItemIndex(q: ItemIndexQuery): Promise<ItemIndexPage | undefined> {
    if (!(await this.#usableIndex(q.runId, q.stage))) return undefined;
    let counts = new Map<string, number>();
    const eqs = q.where.filter((c) => c.op === "=");
    if (!q.sort && eqs.length > 1) {
      const keys = eqs.map((c) => [
        "ix_v",
        q.runId,
        q.stage,
        ITEM_INDEX_FIELDS.indexOf(c.field),
        ...valueKey(c.value),
      ]);
      const got = await this.#kv.getMany<Deno.KvU64[]>(keys);
      counts = new Map(eqs.map((c, i) => [JSON.stringify(c), Number(got[i].value?.value ?? 0n)]));
    }
    // Fields without value counts (score) drive only when nothing else can.
    const count = (c: IndexCondition) => counts.get(JSON.stringify(c)) ?? Number.MAX_SAFE_INTEGER;
    return await queryIndex(this.#kv, q, count);
  }

  async appendRunLog(runId: string, entries: RunLogEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 100) {
      const op = this.#kv.atomic();
      for (const e of entries.slice(i, i + 100)) {
        // Same millisecond: in the order appended (by this process).
        op.set(["log", runId, e.at, this.#logSeq++, this.#logToken], e);
      }
      await op.commit();
    }
  }

  /** Writes one small key: fails as every write would on a full disk or a read-only file. */
  async checkWritable(): Promise<void> {
    await this.#kv.set(["health", "write"], Date.now());
  }

  async readRunLog(runId: string, limit: number): Promise<RunLogEntry[]> {
    const out: RunLogEntry[] = [];
    for await (const e of this.#kv.list<RunLogEntry>({ prefix: ["log", runId] }, { limit })) {
      out.push(e.value);
    }
    return out;
  }

  /**
   * Deletes up to `batch` finished runs (with their items, chunk files and log) that finished
   * before `before` (epoch ms); returns how many, and adds their input files to `inputFiles` and
   * their records to `runs` when given. Runs are found through the state index, oldest created
   * first: a run created at or after `before` cannot have finished before it.
   */
  async purgeFinished(
    before: number,
    batch = 100,
    inputFiles?: string[],
    runs?: RunRecord[],
  ): Promise<number> {
    await this.migrate();
    let purged = 0;
    for (const state of FINAL_STATES) {
      const ids: string[] = [];
      for await (
        const e of this.#kv.list({
          start: ["runs_by_state", state],
          end: ["runs_by_state", state, before],
        })
      ) {
        ids.push(e.key[3] as string);
        if (purged + ids.length >= batch * 4) break; // finished late ones are skipped below
      }
      for (const id of ids) {
        if (purged >= batch) return purged;
        const run = await this.getRun(id);
        if (!run || run.finishedAt === undefined || run.finishedAt >= before) continue;
        await this.deleteRun(id);
        if (run.inputFile) inputFiles?.push(run.inputFile);
        runs?.push(run);
        purged++;
      }
    }
    return purged;
  }

  async deleteRun(id: string): Promise<void> {
    for (
      const space of [
        "ix",
        "ix_t",
        "ix_v",
        "chunk_done",
        "chunk_out",
        "chunk_rej",
        "counter",
        "attempts",
        "dead",
        "log",
        ...NOTICE_SPACES,
      ]
    ) {
      await this.#deletePrefix([space, id]);
    }
    // A prefix lists the keys below it, not itself: the source's progress is `["source", id]`.
    await this.#kv.atomic().delete(["source", id]).commit();
    await this.#files?.removeRun(id);
    this.#meta.delete(id);
    for (;;) {
      const cur = await this.#kv.get<StoredRun>(["run", id]);
      if (!cur.value) break;
      const r = cur.value;
      const indexed = await this.#kv.get(stateKey(r));
      const op = this.#kv.atomic().check(cur, indexed).delete(["run", id])
        .delete(["runs_by_time", r.createdAt, id])
        .delete(["runs_by_pipeline", r.pipeline, r.createdAt, id])
        .delete(["ix_meta", id]).delete(["ix_off", id]);
      if (indexed.versionstamp !== null) indexRunState(op, r, -1);
      if ((await op.commit()).ok) break;
    }
  }

  async #deletePrefix(prefix: Deno.KvKey) {
    let op = this.#kv.atomic();
    let n = 0;
    for await (const e of this.#kv.list({ prefix })) {
      op.delete(e.key);
      if (++n % 500 === 0) {
        await op.commit();
        op = this.#kv.atomic();
      }
    }
    await op.commit();
  }

  close(): void {}
}

/** Deno KV implementation of {@link Queue}. */
export class KvQueue implements Queue {
  #kv: Deno.Kv;
  constructor(kv: Deno.Kv) {
    this.#kv = lockRetrying(kv);
  }

  async enqueue(message: EngineMessage, options: EnqueueOptions = {}): Promise<void> {
    await this.#kv.enqueue(message, { delay: options.delayMs });
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
  const kv = await openKv(path);
  const store = new KvStore(kv, { chunkDir: path === ":memory:" ? undefined : chunkDirFor(path) });
  await store.migrate();
  return {
    store,
    queue: new KvQueue(kv),
    kv,
    close: () => kv.close(),
  };
}
