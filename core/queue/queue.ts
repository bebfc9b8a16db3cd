/**
 * The `Queue` interface: durable, at-least-once delivery of small messages that carry ids only
 * (never items). Backends: Deno KV (embedded default) and, later, PostgreSQL.
 * @module
 */

/** Process chunk `chunk` of stage `stage` (0 = source) of run `runId`. */
export interface ChunkMessage {
  kind: "chunk";
  runId: string;
  stage: number;
  chunk: number;
  /** 1 for the first attempt. */
  attempt: number;
}

/** Finish a run: call every stage's `finish` (sinks finalize) and settle its state. */
export interface FinalizeMessage {
  kind: "finalize";
  runId: string;
  attempt: number;
}

/** Every message the engine sends itself. */
export type EngineMessage = ChunkMessage | FinalizeMessage;

/** Options of one enqueue. */
export interface EnqueueOptions {
  /** Deliver no earlier than this many milliseconds from now. */
  delayMs?: number;
}

/** A durable at-least-once queue. Handlers must be idempotent. */
export interface Queue {
  /** Enqueues one message outside any commit (commits enqueue through `Store.commitChunk`). */
  enqueue(message: EngineMessage, options?: EnqueueOptions): Promise<void>;
  /**
   * Delivers messages to `handler` until `signal` aborts. A handler that throws has its message
   * redelivered later. The backend may call the handler concurrently; the engine bounds it.
   */
  listen(handler: (message: EngineMessage) => Promise<void>, signal: AbortSignal): Promise<void>;
  /**
   * Optional (shared backends): asked before the engine handles `message` locally right after
   * the commit that enqueued it. Returns the function to call when the handling ends, or null
   * when the message should be left to whichever process claims it from the queue. Without
   * this method the engine always continues locally.
   */
  claimLocal?(message: EngineMessage): (() => void) | null;
}

/** Stable id of a message's unit of work, used for de-duplication and logs. */
export function messageId(m: EngineMessage): string {
  return m.kind === "chunk" ? `${m.runId}/${m.stage}/${m.chunk}` : `${m.runId}/finalize`;
}
