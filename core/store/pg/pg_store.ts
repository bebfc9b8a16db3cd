/**
 * The PostgreSQL {@link Store}. A chunk commit is ONE statement (so one atomic transaction and
 * one round trip): insert the chunk row unless it exists, and only then bump the stage's
 * counters, move the source's progress, delete the committed unit's queue row and write the
 * next messages (see `pg_queue.ts`).
 * @module
 */
import type { Item, Rejected } from "../../../sdk/types.ts";
import type { ChunkMessage, EngineMessage } from "../../queue/queue.ts";
import { messageId } from "../../queue/queue.ts";
import {
  type ChunkAttempts,
  type ChunkCommit,
  type ChunkState,
  type DeadLetter,
  emptyCounters,
  isFinishing,
  type RawChunk,
  type RunArtifact,
  type RunFilter,
  type RunLogEntry,
  type RunPage,
  type RunRecord,
  type RunState,
  type SettleState,
  type SourceProgress,
  type StageCounters,
  type StageSnapshot,
  type Store,
  type TransitionOptions,
} from "../store.ts";
import type { PurgedRun } from "../purged_files.ts";
import type { Sql } from "./connect.ts";
import { Batcher } from "./pg_batch.ts";
import { commitCount, commitJson } from "../chunk_codec.ts";
import { messageCtes, type PgQueue, type QueueRow } from "./pg_queue.ts";
import { appendPgRunLog, readPgRunLog } from "./pg_run_log.ts";
import { PgNoticeOutbox } from "./pg_notices.ts";

/** Counter names and their columns. */
const COLUMNS: [keyof StageCounters, string][] = [
  ["in", "n_in"],
  ["out", "n_out"],
  ["filtered", "filtered"],
  ["skipped", "skipped"],
  ["failed", "failed"],
  ["rejected", "rejected"],
  ["chunksDone", "chunks_done"],
  ["chunksDead", "chunks_dead"],
  ["busyMs", "busy_ms"],
];

function encodeCursor(createdAt: number, id: string): string {
  return btoa(JSON.stringify([createdAt, id]));
}

function decodeCursor(cursor: string): [number, string] {
  try {
    const v = JSON.parse(atob(cursor));
    if (Array.isArray(v) && typeof v[0] === "number" && typeof v[1] === "string") {
      return [v[0], v[1]];
    }
  } catch {
    // fall through
  }
  throw new RangeError(`cursor "${cursor}" is not one this server returned; start without it`);
}

/** The `SET` list that adds a counters row's new values (`excluded`) to the stored ones (`k`). */
function addCounters(sql: Sql) {
  return sql`
    n_in = k.n_in + excluded.n_in, n_out = k.n_out + excluded.n_out,
    filtered = k.filtered + excluded.filtered, skipped = k.skipped + excluded.skipped,
    failed = k.failed + excluded.failed, rejected = k.rejected + excluded.rejected,
    chunks_done = k.chunks_done + excluded.chunks_done,
    chunks_dead = k.chunks_dead + excluded.chunks_dead, busy_ms = k.busy_ms + excluded.busy_ms`;
}

/** Commits batched into one statement carry at most this much JSON (larger ones go alone). */
const BATCH_BYTES = 64 * 1024;

/** How long the state a commit read for a continuation here is trusted. */
const NEXT_STATE_MS = 1000;

/** A reserved message's chunk state as a commit statement read it. */
interface NextState {
  key: string;
  done: boolean;
  attempts: number | null;
  last_error: string;
  next_at: number;
  dead: boolean;
}

/** A commit waiting for its statement, with what it writes prepared. */
interface PendingCommit {
  c: ChunkCommit;
  /** The queue key of the committed unit (its row is deleted). */
  key: string;
  items: string;
  rejected: string | null;
  msgs: QueueRow[];
  bytes: number;
}

/** Options of {@link PgStore}. */
export interface PgStoreOptions {
  sql: Sql;
  /** The queue commits write to (reservations for local continuations). */
  queue: PgQueue;
  /** Visibility timeout of reserved messages (the queue's). */
  visibilityMs: number;
  /** Epoch milliseconds (injectable). */
  now?: () => number;
}

/** PostgreSQL implementation of {@link Store}. */
/** What retention reads of a run it deletes. */
interface PurgeRow {
  id: string;
  state: RunState;
  input_file: string | null;
  stages: StageSnapshot[] | null;
  artifacts: RunArtifact[] | null;
}

export class PgStore implements Store {
  #sql: Sql;
  #queue: PgQueue;
  #vt: number;
  #now: () => number;
  #commits: Batcher<PendingCommit, boolean>;
  #states: Batcher<{ runId: string; stage: number; chunk: number }, ChunkState>;
  #settles: Batcher<{ runId: string; lastStage: number }, SettleState>;
  #runs: Batcher<string, RunRecord | undefined>;
  /** States of messages reserved by commits here, by key (see `#keepNextStates`). */
  #nextStates = new Map<
    string,
    { at: number; state: ChunkState; input?: string; count?: number }
  >();

  /** Run notices not delivered when their run ended, for resending (`pg_notices.ts`). */
  readonly notices: PgNoticeOutbox;

  constructor(o: PgStoreOptions) {
    this.#sql = o.sql;
    this.notices = new PgNoticeOutbox(o.sql);
    this.#queue = o.queue;
    this.#vt = o.visibilityMs;
    this.#now = o.now ?? Date.now;
    // Concurrent commits and reads of this process share statements (see `pg_batch.ts`).
    this.#commits = new Batcher({
      run: async (ps) => ps.length === 1 ? [await this.#commitOne(ps[0])] : this.#commitMany(ps),
      maxBatch: 32,
      maxInFlight: 2,
      fits: (batch, p) => this.#fits(batch, p),
    });
    this.#states = new Batcher({ run: (qs) => this.#chunkStates(qs), maxInFlight: 2 });
    this.#settles = new Batcher({ run: (qs) => this.#settleStates(qs), maxInFlight: 2 });
    this.#runs = new Batcher({ run: (ids) => this.#getRuns(ids), maxInFlight: 2 });
  }

  /** Statements sent for commits and chunk reads, and the calls they carried. */
  get batchStats(): Record<
    "commits" | "states" | "settles",
    { batches: number; calls: number; retried: number }
  > {
    return {
      commits: this.#commits.stats,
      states: this.#states.stats,
      settles: this.#settles.stats,
    };
  }

  #rows(msgs: EngineMessage[], reserve: boolean): QueueRow[] {
    return msgs.map((m) => ({
      key: messageId(m),
      runId: m.runId,
      body: JSON.stringify(m),
      delayMs: 0,
      reserve: reserve && this.#queue.shouldReserve(m),
    }));
  }

  async createRun(run: RunRecord, first: EngineMessage[]): Promise<void> {
    const sql = this.#sql;
    const [r] = await sql<{ ok: number }[]>`
      WITH ins AS (
        INSERT INTO sluice_runs (id, pipeline, state, created_at, finished_at, record)
        VALUES (${run.id}, ${run.pipeline}, ${run.state}, ${run.createdAt},
                ${run.finishedAt ?? null}, ${JSON.stringify(run)}::text::json)
        ON CONFLICT (id) DO NOTHING RETURNING id
      ), ${
      messageCtes(
        sql,
        this.#rows(first, false),
        this.#queue.workerId,
        this.#vt,
        sql`EXISTS (SELECT 1 FROM ins)`,
      )
    }
      SELECT (SELECT count(*) FROM ins)::int AS ok, (SELECT count(*) FROM w) AS msgs,
             (SELECT count(*) FROM n) AS notified`;
    if (!r.ok) throw new Error(`run ${run.id} already exists`);
  }

  getRun(id: string): Promise<RunRecord | undefined> {
    return this.#runs.call(id);
  }

  async #getRuns(ids: string[]): Promise<(RunRecord | undefined)[]> {
    const rows = await this.#sql<{ id: string; record: RunRecord }[]>`
      SELECT id, record FROM sluice_runs WHERE id = ANY(${ids}::text[])`;
    const byId = new Map(rows.map((r) => [r.id, r.record]));
    // Each caller gets its own copy (callers may change what they get).
    return ids.map((id, i) => {
      const r = byId.get(id);
      return r && ids.indexOf(id) !== i ? structuredClone(r) : r;
    });
  }

  async listRuns(filter: RunFilter = {}): Promise<RunPage> {
    const sql = this.#sql;
    const asked = Number.isFinite(filter.limit) ? Math.floor(filter.limit!) : 50;
    const limit = Math.min(Math.max(asked, 1), 1000);
    const after = filter.cursor ? decodeCursor(filter.cursor) : undefined;
    const rows = await sql<{ record: RunRecord; created_at: number; id: string }[]>`
      SELECT record, created_at, id FROM sluice_runs
      WHERE true
        ${filter.pipeline ? sql`AND pipeline = ${filter.pipeline}` : sql``}
        ${filter.state ? sql`AND state = ${filter.state}` : sql``}
        ${after ? sql`AND (created_at, id) < (${after[0]}, ${after[1]})` : sql``}
      ORDER BY created_at DESC, id DESC
      LIMIT ${limit + 1}`;
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      runs: page.map((r) => r.record),
      cursor: rows.length > limit ? encodeCursor(last.created_at, last.id) : undefined,
    };
  }

  async transitionRun(
    id: string,
    from: readonly RunState[],
    to: RunState,
    patch: Partial<RunRecord> = {},
    options: TransitionOptions = {},
  ): Promise<boolean> {
    return await this.#sql.begin(async (tx) => {
      const [r] = await tx<{ record: RunRecord }[]>`
        SELECT record FROM sluice_runs WHERE id = ${id} FOR UPDATE`;
      if (!r || !from.includes(r.record.state) || isFinishing(r.record, options)) return false;
      const next: Record<string, unknown> = { ...r.record, ...patch, state: to };
      for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
      const run = next as unknown as RunRecord;
      await tx`
        UPDATE sluice_runs SET state = ${to}, finished_at = ${run.finishedAt ?? null},
          record = ${JSON.stringify(run)}::text::json
        WHERE id = ${id}`;
      return true;
    });
  }

  commitChunk(c: ChunkCommit): Promise<boolean> {
    const items = commitJson(c);
    const rejected = c.rejected.length ? JSON.stringify(c.rejected) : null;
    return this.#commits.call({
      c,
      key: messageId({ kind: "chunk", runId: c.runId, stage: c.stage, chunk: c.chunk, attempt: 1 }),
      items,
      rejected,
      msgs: this.#rows(c.next, true),
      bytes: items.length + (rejected?.length ?? 0),
    });
  }

  /** Whether commit `p` may join `batch` (one statement): small, and no key written twice. */
  #fits(batch: readonly PendingCommit[], p: PendingCommit): boolean {
    let bytes = p.bytes;
    const mine = new Set([p.key, ...p.msgs.map((m) => m.key)]);
    for (const b of batch) {
      bytes += b.bytes;
      if (bytes > BATCH_BYTES) return false;
      if (mine.has(b.key) || b.msgs.some((m) => mine.has(m.key))) return false;
      if (p.c.source && b.c.source && b.c.runId === p.c.runId) return false;
    }
    return true;
  }

  /** After a commit: the queue rows it deleted and the reservations it made. */
  #committed(key: string, mine: { key: string; lease: number }[]) {
    this.#queue.committed(key);
    if (mine.length) this.#queue.reserved(mine);
  }

  async #commitOne(p: PendingCommit): Promise<boolean> {
    const sql = this.#sql;
    const c = p.c;
    const counters = COLUMNS.map(([name]) => Math.round(c.counters[name] ?? 0));
    const [r] = await sql<
      { ok: number; mine: { key: string; lease: number }[]; pre: NextState[] }[]
    >`
      WITH ins AS (
        INSERT INTO sluice_chunks (run_id, stage, chunk, count, items, rejected, done_at)
        VALUES (${c.runId}, ${c.stage}, ${c.chunk}, ${commitCount(c)}, ${p.items},
                ${p.rejected}, ${this.#now()})
        ON CONFLICT DO NOTHING RETURNING 1
      ), cnt AS (
        INSERT INTO sluice_counters AS k (run_id, stage, n_in, n_out, filtered, skipped, failed,
          rejected, chunks_done, chunks_dead, busy_ms)
        SELECT ${c.runId}, ${c.stage}, ${counters[0]}, ${counters[1]}, ${counters[2]}, ${
      counters[3]
    },
          ${counters[4]}, ${counters[5]}, ${counters[6]}, ${counters[7]}, ${counters[8]}
        FROM ins
        ON CONFLICT (run_id, stage) DO UPDATE SET ${addCounters(sql)}
        RETURNING 1
      ), src AS (
        INSERT INTO sluice_source AS s (run_id, next_chunk, cursor, done)
        SELECT ${c.runId}, ${c.source?.nextChunk ?? 0},
               ${JSON.stringify(c.source?.cursor ?? null)}::text::json, ${c.source?.done ?? false}
        FROM ins WHERE ${!!c.source}
        ON CONFLICT (run_id) DO UPDATE SET next_chunk = excluded.next_chunk,
          cursor = excluded.cursor, done = excluded.done
        RETURNING 1
      ), del AS (
        DELETE FROM sluice_queue WHERE key = ${p.key} AND EXISTS (SELECT 1 FROM ins) RETURNING 1
      ), ${
      messageCtes(sql, p.msgs, this.#queue.workerId, this.#vt, sql`EXISTS (SELECT 1 FROM ins)`)
    }, ${this.#nextStateCte([p])}
      SELECT (SELECT count(*) FROM ins)::int AS ok, (SELECT count(*) FROM n)::int AS notified,
        coalesce((SELECT json_agg(json_build_object('key', key, 'lease', lease)) FROM w WHERE mine),
                 '[]') AS mine,
        coalesce((SELECT json_agg(pre) FROM pre JOIN w USING (key) WHERE w.mine), '[]') AS pre`;
    if (!r.ok) return false;
    this.#committed(p.key, r.mine);
    this.#keepNextStates([p], r.pre);
    return true;
  }

  /**
   * Several commits in one statement: the same writes as {@link PgStore.commitOne} for each
   * commit whose chunk row is new, counters summed per stage. Callers keep keys distinct
   * ({@link PgStore.fits}); rows are written in key order, so two batches lock alike.
   */
  async #commitMany(ps: PendingCommit[]): Promise<boolean[]> {
    const sql = this.#sql;
    const col = <T extends string | number | boolean | null>(f: (p: PendingCommit) => T) =>
      ps.map(f) as T[];
    const counter = (name: keyof StageCounters) => col((p) => Math.round(p.c.counters[name] ?? 0));
    const msgs = ps.flatMap((p, i) => p.msgs.map((m) => ({ ...m, owner: i + 1 })));
    const [r] = await sql<
      { ok: number[]; mine: { key: string; lease: number }[]; pre: NextState[] }[]
    >`
      WITH c AS (
        -- (flags as 0/1: the driver sends a boolean array as one boolean)
        SELECT * FROM unnest(
          ${col((p) => p.c.runId)}::text[], ${col((p) => p.c.stage)}::int[],
          ${col((p) => p.c.chunk)}::int[], ${col((p) => commitCount(p.c))}::int[],
          ${col((p) => p.items)}::text[], ${col((p) => p.rejected)}::text[],
          ${counter("in")}::int8[], ${counter("out")}::int8[], ${counter("filtered")}::int8[],
          ${counter("skipped")}::int8[], ${counter("failed")}::int8[],
          ${counter("rejected")}::int8[], ${counter("chunksDone")}::int8[],
          ${counter("chunksDead")}::int8[], ${counter("busyMs")}::int8[],
          ${col((p) => (p.c.source ? 1 : 0))}::int[], ${
      col((p) => p.c.source?.nextChunk ?? 0)
    }::int[],
          ${col((p) => JSON.stringify(p.c.source?.cursor ?? null))}::text[],
          ${col((p) => (p.c.source?.done ? 1 : 0))}::int[], ${col((p) => p.key)}::text[]
        ) WITH ORDINALITY AS c(run_id, stage, chunk, count, items, rejected, n_in, n_out,
          filtered, skipped, failed, n_rejected, chunks_done, chunks_dead, busy_ms, has_src,
          src_next, src_cursor, src_done, qkey, i)
      ), ins AS (
        INSERT INTO sluice_chunks (run_id, stage, chunk, count, items, rejected, done_at)
        SELECT run_id, stage, chunk, count, items, rejected, ${this.#now()}
        FROM c ORDER BY run_id, stage, chunk
        ON CONFLICT DO NOTHING RETURNING run_id, stage, chunk
      ), ok AS (
        SELECT c.* FROM c JOIN ins USING (run_id, stage, chunk)
      ), cnt AS (
        INSERT INTO sluice_counters AS k (run_id, stage, n_in, n_out, filtered, skipped, failed,
          rejected, chunks_done, chunks_dead, busy_ms)
        SELECT run_id, stage, sum(n_in), sum(n_out), sum(filtered), sum(skipped), sum(failed),
          sum(n_rejected), sum(chunks_done), sum(chunks_dead), sum(busy_ms)
        FROM ok GROUP BY run_id, stage ORDER BY run_id, stage
        ON CONFLICT (run_id, stage) DO UPDATE SET ${addCounters(sql)}
        RETURNING 1
      ), src AS (
        INSERT INTO sluice_source AS s (run_id, next_chunk, cursor, done)
        SELECT DISTINCT ON (run_id) run_id, src_next, src_cursor::json, src_done = 1
        FROM ok WHERE has_src = 1 ORDER BY run_id, src_next DESC
        ON CONFLICT (run_id) DO UPDATE SET next_chunk = excluded.next_chunk,
          cursor = excluded.cursor, done = excluded.done
        RETURNING 1
      ), del AS (
        DELETE FROM sluice_queue q USING ok WHERE q.key = ok.qkey RETURNING 1
      ), ${
      messageCtes(sql, msgs, this.#queue.workerId, this.#vt, sql`owner IN (SELECT i FROM ok)`)
    }, ${this.#nextStateCte(ps)}
      SELECT coalesce((SELECT array_agg(i::int) FROM ok), '{}') AS ok,
        (SELECT count(*) FROM n)::int AS notified,
        coalesce((SELECT json_agg(json_build_object('key', key, 'lease', lease)) FROM w WHERE mine),
                 '[]') AS mine,
        coalesce((SELECT json_agg(pre) FROM pre JOIN w USING (key) WHERE w.mine), '[]') AS pre`;
    const done = new Set(r.ok);
    const out = ps.map((_, i) => done.has(i + 1));
    ps.forEach((p, i) => {
      if (out[i]) this.#queue.committed(p.key);
    });
    if (r.mine.length) this.#queue.reserved(r.mine);
    this.#keepNextStates(ps.filter((_, i) => out[i]), r.pre);
    return out;
  }

  /**
   * The `pre` item of a commit statement: for each message the commits may reserve for a local
   * continuation, whether its chunk is done and its attempts, read in the same statement so the
   * continuation's `chunkState` needs no round trip of its own.
   */
  #nextStateCte(ps: PendingCommit[]) {
    const next = ps.flatMap((p) =>
      p.c.next.filter((m, i) => p.msgs[i].reserve && m.kind === "chunk") as ChunkMessage[]
    );
    return this.#sql`pre AS (
      SELECT x.key, x.stage > 0 AND (SELECT true FROM sluice_chunks k
          WHERE k.run_id = x.run_id AND k.stage = x.stage AND k.chunk = x.chunk LIMIT 1)
          IS NOT NULL AS done,
        a.attempts, a.last_error, a.next_at, a.dead
      FROM unnest(${next.map((m) => messageId(m))}::text[], ${next.map((m) => m.runId)}::text[],
                  ${next.map((m) => m.stage)}::int[], ${next.map((m) => m.chunk)}::int[])
        AS x(key, run_id, stage, chunk)
      LEFT JOIN LATERAL (SELECT * FROM sluice_attempts a
        WHERE a.run_id = x.run_id AND a.stage = x.stage AND a.chunk = x.chunk LIMIT 1) a ON true
    )`;
  }

  /**
   * Keeps, for a moment, the state of each message these commits reserved for this process:
   * read by the commit (`pre`), with the input being the committed chunk (or, for the source's
   * next chunk, the progress the commit wrote).
   */
  #keepNextStates(ps: PendingCommit[], pre: NextState[]) {
    if (!pre.length) return;
    const byKey = new Map(pre.map((r) => [r.key, r]));
    const at = performance.now();
    for (const p of ps) {
      for (const m of p.c.next) {
        const r = m.kind === "chunk" ? byKey.get(messageId(m)) : undefined;
        if (!r || m.kind !== "chunk") continue;
        const state: ChunkState = { done: r.done };
        if (r.attempts !== null) {
          state.attempts = { attempts: r.attempts, lastError: r.last_error, nextAt: r.next_at };
          if (r.dead) state.attempts.dead = true;
        }
        let input: string | undefined;
        if (m.stage === 0 && p.c.source && m.chunk === p.c.source.nextChunk) {
          state.progress = { ...p.c.source };
        } else if (m.stage === p.c.stage + 1 && m.chunk === p.c.chunk) {
          input = r.done ? undefined : p.items;
        } else continue;
        this.#nextStates.set(r.key, { at, state, input, count: commitCount(p.c) });
      }
    }
    if (this.#nextStates.size > 256) {
      for (const [k, v] of this.#nextStates) {
        if (at - v.at < NEXT_STATE_MS) break;
        this.#nextStates.delete(k);
      }
    }
  }

  async isChunkDone(runId: string, stage: number, chunk: number): Promise<boolean> {
    const r = await this.#sql`
      SELECT 1 FROM sluice_chunks WHERE run_id = ${runId} AND stage = ${stage} AND chunk = ${chunk}`;
    return r.length > 0;
  }

  async doneChunks(runId: string, stage: number): Promise<number[]> {
    const rows = await this.#sql<{ chunk: number }[]>`
      SELECT chunk FROM sluice_chunks WHERE run_id = ${runId} AND stage = ${stage} ORDER BY chunk`;
    return rows.map((r) => r.chunk);
  }

  async readChunk(runId: string, stage: number, chunk: number): Promise<Item[] | undefined> {
    const [r] = await this.#sql<{ items: string }[]>`
      SELECT items FROM sluice_chunks
      WHERE run_id = ${runId} AND stage = ${stage} AND chunk = ${chunk}`;
    return r ? JSON.parse(r.items) : undefined;
  }

  async readChunkRaw(runId: string, stage: number, chunk: number): Promise<RawChunk | undefined> {
    const [r] = await this.#sql<{ items: string; count: number }[]>`
      SELECT items, count FROM sluice_chunks
      WHERE run_id = ${runId} AND stage = ${stage} AND chunk = ${chunk}`;
    return r ? rawChunk(r.items, r.count) : undefined;
  }

  async *readRejected(runId: string): AsyncIterable<Rejected & { stage: number; chunk: number }> {
    let after: [number, number] = [-1, -1];
    for (;;) {
      const rows = await this.#sql<{ stage: number; chunk: number; rejected: string }[]>`
        SELECT stage, chunk, rejected FROM sluice_chunks
        WHERE run_id = ${runId} AND rejected IS NOT NULL AND (stage, chunk) > (${after[0]}, ${
        after[1]
      })
        ORDER BY stage, chunk LIMIT 50`;
      for (const r of rows) {
        for (const x of JSON.parse(r.rejected) as Rejected[]) {
          yield { ...x, stage: r.stage, chunk: r.chunk };
        }
      }
      if (rows.length < 50) return;
      const last = rows[rows.length - 1];
      after = [last.stage, last.chunk];
    }
  }

  async sourceProgress(runId: string): Promise<SourceProgress> {
    const [r] = await this.#sql<
      { next_chunk: number; cursor: SourceProgress["cursor"]; done: boolean }[]
    >`
      SELECT next_chunk, cursor, done FROM sluice_source WHERE run_id = ${runId}`;
    return r ? { nextChunk: r.next_chunk, cursor: r.cursor, done: r.done } : {
      nextChunk: 0,
      cursor: null,
      done: false,
    };
  }

  async counters(runId: string, stages: number): Promise<StageCounters[]> {
    const out = Array.from({ length: stages }, emptyCounters);
    const rows = await this.#sql<Record<string, number>[]>`
      SELECT * FROM sluice_counters WHERE run_id = ${runId}`;
    for (const r of rows) {
      const c = out[r.stage];
      if (!c) continue;
      for (const [name, col] of COLUMNS) c[name] = Number(r[col]);
    }
    return out;
  }

  async getAttempts(runId: string, stage: number, chunk: number) {
    const [r] = await this.#sql<
      { attempts: number; last_error: string; next_at: number; dead: boolean }[]
    >`
      SELECT attempts, last_error, next_at, dead FROM sluice_attempts
      WHERE run_id = ${runId} AND stage = ${stage} AND chunk = ${chunk}`;
    if (!r) return undefined;
    const a: ChunkAttempts = { attempts: r.attempts, lastError: r.last_error, nextAt: r.next_at };
    if (r.dead) a.dead = true;
    return a;
  }

  chunkState(runId: string, stage: number, chunk: number): Promise<ChunkState> {
    // A continuation of a commit made here a moment ago: its commit read the state already.
    const key = messageId({ kind: "chunk", runId, stage, chunk, attempt: 1 });
    const kept = this.#nextStates.get(key);
    if (kept) {
      this.#nextStates.delete(key);
      if (performance.now() - kept.at < NEXT_STATE_MS) {
        const state = { ...kept.state };
        if (kept.input !== undefined) state.inputRaw = rawChunk(kept.input, kept.count ?? 0);
        return Promise.resolve(state);
      }
    }
    return this.#states.call({ runId, stage, chunk });
  }

  async #chunkStates(qs: { runId: string; stage: number; chunk: number }[]) {
    // One round trip for every chunk asked: the source's progress (stage 0) or whether the
    // chunk is done and, when not, its input; and the chunk's attempts.
    const rows = await this.#sql<
      {
        i: number;
        done: boolean;
        next_chunk: number | null;
        cursor: SourceProgress["cursor"];
        src_done: boolean | null;
        attempts: number | null;
        last_error: string;
        next_at: number;
        dead: boolean;
        input: string | null;
        input_count: number | null;
      }[]
    >`
      SELECT r.i::int AS i, d.done, s.next_chunk, s.cursor, s.done AS src_done, a.attempts,
        a.last_error, a.next_at, a.dead, p.items AS input, p.count AS input_count
      -- Each table is read by its key, row by row (LATERAL … LIMIT 1, no EXISTS): the plan is
      -- generic (see connect.ts), made when the tables may still be empty, and must not scan
      -- whole tables once they are not.
      FROM unnest(${qs.map((q) => q.runId)}::text[], ${qs.map((q) => q.stage)}::int[],
                  ${qs.map((q) => q.chunk)}::int[]) WITH ORDINALITY AS r(run_id, stage, chunk, i)
      CROSS JOIN LATERAL (
        SELECT r.stage > 0 AND (SELECT true FROM sluice_chunks x
          WHERE x.run_id = r.run_id AND x.stage = r.stage AND x.chunk = r.chunk LIMIT 1)
          IS NOT NULL AS done
      ) d
      LEFT JOIN LATERAL (SELECT * FROM sluice_source s
        WHERE r.stage = 0 AND s.run_id = r.run_id LIMIT 1) s ON true
      LEFT JOIN LATERAL (SELECT * FROM sluice_attempts a
        WHERE a.run_id = r.run_id AND a.stage = r.stage AND a.chunk = r.chunk LIMIT 1) a ON true
      LEFT JOIN LATERAL (SELECT p.items, p.count FROM sluice_chunks p
        WHERE r.stage > 0 AND NOT d.done AND p.run_id = r.run_id AND p.stage = r.stage - 1
          AND p.chunk = r.chunk LIMIT 1) p ON true`;
    const out: ChunkState[] = qs.map(() => ({ done: false }));
    for (const r of rows) {
      const state: ChunkState = { done: r.done };
      if (qs[r.i - 1].stage === 0) {
        state.progress = r.next_chunk === null
          ? { nextChunk: 0, cursor: null, done: false }
          : { nextChunk: r.next_chunk, cursor: r.cursor, done: !!r.src_done };
      }
      if (r.attempts !== null) {
        state.attempts = { attempts: r.attempts, lastError: r.last_error, nextAt: r.next_at };
        if (r.dead) state.attempts.dead = true;
      }
      if (r.input !== null) state.inputRaw = rawChunk(r.input, r.input_count ?? 0);
      out[r.i - 1] = state;
    }
    return out;
  }

  settleState(runId: string, lastStage: number): Promise<SettleState> {
    return this.#settles.call({ runId, lastStage });
  }

  async #settleStates(qs: { runId: string; lastStage: number }[]) {
    const rows = await this.#sql<
      {
        i: number;
        next_chunk: number | null;
        cursor: SourceProgress["cursor"];
        done: boolean | null;
        last_done: number;
        dead_chunks: number;
        source_dead: boolean;
      }[]
    >`
      SELECT r.i::int AS i, s.next_chunk, s.cursor, s.done,
        coalesce(k.chunks_done, 0)::int AS last_done,
        (SELECT count(DISTINCT d.chunk) FROM sluice_dead_letters d WHERE d.run_id = r.run_id)::int
          AS dead_chunks,
        (SELECT true FROM sluice_dead_letters d WHERE d.run_id = r.run_id AND d.stage = 0 LIMIT 1)
          IS NOT NULL AS source_dead
      FROM unnest(${qs.map((q) => q.runId)}::text[], ${qs.map((q) => q.lastStage)}::int[])
        WITH ORDINALITY AS r(run_id, last_stage, i)
      LEFT JOIN LATERAL (SELECT * FROM sluice_source s WHERE s.run_id = r.run_id LIMIT 1) s
        ON true
      LEFT JOIN LATERAL (SELECT * FROM sluice_counters k
        WHERE k.run_id = r.run_id AND k.stage = r.last_stage LIMIT 1) k ON true`;
    const out: SettleState[] = [];
    for (const r of rows) {
      out[r.i - 1] = {
        progress: r.next_chunk === null
          ? { nextChunk: 0, cursor: null, done: false }
          : { nextChunk: r.next_chunk, cursor: r.cursor, done: !!r.done },
        lastDone: r.last_done,
        deadChunks: r.dead_chunks,
        sourceDead: r.source_dead,
      };
    }
    return out;
  }

  async setAttempts(runId: string, stage: number, chunk: number, a: ChunkAttempts) {
    await this.#sql`
      INSERT INTO sluice_attempts (run_id, stage, chunk, attempts, last_error, next_at, dead)
      VALUES (${runId}, ${stage}, ${chunk}, ${a.attempts}, ${a.lastError}, ${Math.round(a.nextAt)},
              ${!!a.dead})
      ON CONFLICT (run_id, stage, chunk) DO UPDATE SET attempts = excluded.attempts,
        last_error = excluded.last_error, next_at = excluded.next_at, dead = excluded.dead`;
  }

  async addDeadLetter(d: DeadLetter): Promise<boolean> {
    const key = messageId({
      kind: "chunk",
      runId: d.runId,
      stage: d.stage,
      chunk: d.chunk,
      attempt: 1,
    });
    const [r] = await this.#sql<{ ok: boolean }[]>`
      WITH ins AS (
        INSERT INTO sluice_dead_letters (run_id, stage, chunk, stage_id, attempts, error, at, items)
        VALUES (${d.runId}, ${d.stage}, ${d.chunk}, ${d.stageId}, ${d.attempts}, ${d.error},
                ${Math.round(d.at)}, ${d.items})
        ON CONFLICT DO NOTHING RETURNING 1
      ), cnt AS (
        INSERT INTO sluice_counters AS k (run_id, stage, chunks_dead, failed)
        SELECT ${d.runId}, ${d.stage}, 1, ${d.items} FROM ins
        ON CONFLICT (run_id, stage) DO UPDATE SET chunks_dead = k.chunks_dead + 1,
          failed = k.failed + excluded.failed
        RETURNING 1
      ), del AS (
        DELETE FROM sluice_queue WHERE key = ${key} AND EXISTS (SELECT 1 FROM ins) RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM ins) AS ok`;
    return r.ok;
  }

  async listDeadLetters(runId: string): Promise<DeadLetter[]> {
    const rows = await this.#sql<
      {
        stage: number;
        chunk: number;
        stage_id: string;
        attempts: number;
        error: string;
        at: number;
        items: number;
      }[]
    >`
      SELECT stage, chunk, stage_id, attempts, error, at, items FROM sluice_dead_letters
      WHERE run_id = ${runId} ORDER BY stage, chunk`;
    return rows.map((r) => ({
      runId,
      stage: r.stage,
      stageId: r.stage_id,
      chunk: r.chunk,
      attempts: r.attempts,
      error: r.error,
      at: r.at,
      items: r.items,
    }));
  }

  async removeDeadLetter(runId: string, stage: number, chunk: number): Promise<boolean> {
    const key = messageId({ kind: "chunk", runId, stage, chunk, attempt: 1 });
    const [r] = await this.#sql<{ ok: boolean }[]>`
      WITH q AS (
        -- A message parked by the queue (it kept killing its workers) is replayed as well.
        DELETE FROM sluice_queue_dead WHERE key = ${key} RETURNING 1
      ), d AS (
        DELETE FROM sluice_dead_letters
        WHERE run_id = ${runId} AND stage = ${stage} AND chunk = ${chunk} RETURNING items
      ), a AS (
        DELETE FROM sluice_attempts
        WHERE run_id = ${runId} AND stage = ${stage} AND chunk = ${chunk}
          AND EXISTS (SELECT 1 FROM d) RETURNING 1
      ), k AS (
        UPDATE sluice_counters SET chunks_dead = greatest(0, chunks_dead - 1),
          failed = greatest(0, failed - (SELECT items FROM d))
        WHERE run_id = ${runId} AND stage = ${stage} AND EXISTS (SELECT 1 FROM d) RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM d) AS ok`;
    return r.ok;
  }

  /**
   * Appends lines to the run's log in one statement, capped for the run as a whole (every
   * process appends to it; see `pg_run_log.ts`).
   */
  async appendRunLog(runId: string, entries: RunLogEntry[]): Promise<void> {
    await appendPgRunLog(this.#sql, runId, entries);
  }

  /** The first `limit` lines of the run's log, by time and then in the order appended. */
  async readRunLog(runId: string, limit: number): Promise<RunLogEntry[]> {
    return await readPgRunLog(this.#sql, runId, limit);
  }

  /** Deletes the run with everything it owns (its chunks, counters, log, notices: by cascade). */
  async deleteRun(id: string): Promise<void> {
    await this.#sql.begin((tx) => [
      tx`DELETE FROM sluice_queue WHERE run_id = ${id}`,
      tx`DELETE FROM sluice_queue_dead WHERE run_id = ${id}`,
      tx`DELETE FROM sluice_runs WHERE id = ${id}`,
    ]);
  }

  /**
   * Deletes runs that finished before `before` (epoch ms), with everything they own, at most
   * `batch` runs per call; returns how many were deleted. Runs the retention setting. The input
   * files of the deleted runs (`RunRecord.inputFile`) are added to `inputFiles`, and what
   * `removeRunFiles` needs of them to `runs`, when given.
   */
  purgeFinished(
    before: number,
    batch = 100,
    inputFiles?: string[],
    runs?: PurgedRun[],
  ): Promise<number> {
    return this.#purge({ before }, batch, inputFiles, runs);
  }

  /**
   * Deletes up to `batch` finished runs that finished more than `ageMs` ago by the database
   * clock (so a process whose clock runs fast cannot purge runs early); returns how many, and
   * adds their input files to `inputFiles` and what `removeRunFiles` needs to `runs` when given.
   */
  purgeFinishedOlderThan(
    ageMs: number,
    batch = 100,
    inputFiles?: string[],
    runs?: PurgedRun[],
  ): Promise<number> {
    return this.#purge({ ageMs }, batch, inputFiles, runs);
  }

  /**
   * Deletes up to `batch` finished runs that finished before `before` (epoch ms), or more than
   * `ageMs` ago by the database clock.
   */
  async #purge(
    cut: { before: number } | { ageMs: number },
    batch: number,
    inputFiles?: string[],
    runs?: PurgedRun[],
  ): Promise<number> {
    const sql = this.#sql;
    const rows = await sql<PurgeRow[]>`
      SELECT id, state, record->>'inputFile' AS input_file, record->'stages' AS stages,
        record->'artifacts' AS artifacts FROM sluice_runs
      WHERE finished_at IS NOT NULL AND finished_at < ${
      "before" in cut
        ? sql`${cut.before}`
        : sql`(extract(epoch FROM clock_timestamp()) * 1000)::bigint - ${cut.ageMs}::bigint`
    }
        AND state IN ('succeeded', 'failed', 'cancelled')
      ORDER BY finished_at LIMIT ${batch}`;
    for (const r of rows) {
      await this.deleteRun(r.id);
      if (r.input_file) inputFiles?.push(r.input_file);
      runs?.push({
        id: r.id,
        state: r.state,
        stages: r.stages ?? [],
        artifacts: r.artifacts ?? undefined,
      });
    }
    return rows.length;
  }

  close(): void {}
}

const encoder = new TextEncoder();

/**
 * A chunk's stored JSON text as the engine takes it (see `RawChunk`): the bytes for a plugin are
 * made on first use, as an engine that parses the items (in-process stages, `when`) never needs
 * them.
 */
function rawChunk(json: string, count: number): RawChunk {
  let parts: Uint8Array[] | undefined;
  return {
    count,
    text: json,
    get parts() {
      return parts ??= [encoder.encode(json)];
    },
  };
}
