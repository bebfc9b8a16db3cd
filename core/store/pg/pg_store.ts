/**
 * The PostgreSQL {@link Store}. A chunk commit is ONE statement (so one atomic transaction and
 * one round trip): insert the chunk row unless it exists, and only then bump the stage's
 * counters, move the source's progress, delete the committed unit's queue row and write the
 * next messages (see `pg_queue.ts`).
 * @module
 */
import type { Item, Rejected } from "../../../sdk/types.ts";
import type { EngineMessage } from "../../queue/queue.ts";
import { messageId } from "../../queue/queue.ts";
import {
  type ChunkAttempts,
  type ChunkCommit,
  type DeadLetter,
  emptyCounters,
  type RunFilter,
  type RunPage,
  type RunRecord,
  type RunState,
  type SourceProgress,
  type StageCounters,
  type Store,
} from "../store.ts";
import type { Sql } from "./connect.ts";
import { messageCtes, type PgQueue, type QueueRow } from "./pg_queue.ts";

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
export class PgStore implements Store {
  #sql: Sql;
  #queue: PgQueue;
  #vt: number;
  #now: () => number;

  constructor(o: PgStoreOptions) {
    this.#sql = o.sql;
    this.#queue = o.queue;
    this.#vt = o.visibilityMs;
    this.#now = o.now ?? Date.now;
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

  async getRun(id: string): Promise<RunRecord | undefined> {
    const [r] = await this.#sql<{ record: RunRecord }[]>`
      SELECT record FROM sluice_runs WHERE id = ${id}`;
    return r?.record;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunPage> {
    const sql = this.#sql;
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
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
  ): Promise<boolean> {
    return await this.#sql.begin(async (tx) => {
      const [r] = await tx<{ record: RunRecord }[]>`
        SELECT record FROM sluice_runs WHERE id = ${id} FOR UPDATE`;
      if (!r || !from.includes(r.record.state)) return false;
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

  async commitChunk(c: ChunkCommit): Promise<boolean> {
    const sql = this.#sql;
    const counters = COLUMNS.map(([name]) => Math.round(c.counters[name] ?? 0));
    const msgs = this.#rows(c.next, true);
    const key = messageId({
      kind: "chunk",
      runId: c.runId,
      stage: c.stage,
      chunk: c.chunk,
      attempt: 1,
    });
    const [r] = await sql<{ ok: number; mine: { key: string; lease: number }[] }[]>`
      WITH ins AS (
        INSERT INTO sluice_chunks (run_id, stage, chunk, count, items, rejected, done_at)
        VALUES (${c.runId}, ${c.stage}, ${c.chunk}, ${c.items.length},
                ${JSON.stringify(c.items)}::text::json,
                ${
      c.rejected.length ? JSON.stringify(c.rejected) : null
    }::text::json, ${this.#now()})
        ON CONFLICT DO NOTHING RETURNING 1
      ), cnt AS (
        INSERT INTO sluice_counters AS k (run_id, stage, n_in, n_out, filtered, skipped, failed,
          rejected, chunks_done, chunks_dead, busy_ms)
        SELECT ${c.runId}, ${c.stage}, ${counters[0]}, ${counters[1]}, ${counters[2]}, ${
      counters[3]
    },
          ${counters[4]}, ${counters[5]}, ${counters[6]}, ${counters[7]}, ${counters[8]}
        FROM ins
        ON CONFLICT (run_id, stage) DO UPDATE SET
          n_in = k.n_in + excluded.n_in, n_out = k.n_out + excluded.n_out,
          filtered = k.filtered + excluded.filtered, skipped = k.skipped + excluded.skipped,
          failed = k.failed + excluded.failed, rejected = k.rejected + excluded.rejected,
          chunks_done = k.chunks_done + excluded.chunks_done,
          chunks_dead = k.chunks_dead + excluded.chunks_dead, busy_ms = k.busy_ms + excluded.busy_ms
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
        DELETE FROM sluice_queue WHERE key = ${key} AND EXISTS (SELECT 1 FROM ins) RETURNING 1
      ), ${messageCtes(sql, msgs, this.#queue.workerId, this.#vt, sql`EXISTS (SELECT 1 FROM ins)`)}
      SELECT (SELECT count(*) FROM ins)::int AS ok, (SELECT count(*) FROM n)::int AS notified,
        coalesce((SELECT json_agg(json_build_object('key', key, 'lease', lease)) FROM w WHERE mine),
                 '[]') AS mine`;
    if (!r.ok) return false;
    this.#queue.committed(key);
    if (r.mine.length) this.#queue.reserved(r.mine);
    return true;
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
    const [r] = await this.#sql<{ items: Item[] }[]>`
      SELECT items FROM sluice_chunks
      WHERE run_id = ${runId} AND stage = ${stage} AND chunk = ${chunk}`;
    return r?.items;
  }

  async *readRejected(runId: string): AsyncIterable<Rejected & { stage: number; chunk: number }> {
    let after: [number, number] = [-1, -1];
    for (;;) {
      const rows = await this.#sql<{ stage: number; chunk: number; rejected: Rejected[] }[]>`
        SELECT stage, chunk, rejected FROM sluice_chunks
        WHERE run_id = ${runId} AND rejected IS NOT NULL AND (stage, chunk) > (${after[0]}, ${
        after[1]
      })
        ORDER BY stage, chunk LIMIT 50`;
      for (const r of rows) {
        for (const x of r.rejected) yield { ...x, stage: r.stage, chunk: r.chunk };
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
    const [r] = await this.#sql<{ ok: boolean }[]>`
      WITH d AS (
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

  async deleteRun(id: string): Promise<void> {
    await this.#sql.begin((tx) => [
      tx`DELETE FROM sluice_queue WHERE run_id = ${id}`,
      tx`DELETE FROM sluice_queue_dead WHERE run_id = ${id}`,
      tx`DELETE FROM sluice_runs WHERE id = ${id}`,
    ]);
  }

  /**
   * Deletes runs that finished before `before` (epoch ms), with everything they own, at most
   * `batch` runs per call; returns how many were deleted. Runs the retention setting.
   */
  async purgeFinished(before: number, batch = 100): Promise<number> {
    const rows = await this.#sql<{ id: string }[]>`
      SELECT id FROM sluice_runs WHERE finished_at IS NOT NULL AND finished_at < ${before}
        AND state IN ('succeeded', 'failed', 'cancelled')
      ORDER BY finished_at LIMIT ${batch}`;
    for (const r of rows) await this.deleteRun(r.id);
    return rows.length;
  }

  close(): void {}
}
