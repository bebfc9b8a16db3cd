/**
 * What one engine process keeps per run while it runs the run's chunks (the stages' semaphores,
 * compiled `when:` and rate-limit key expressions, warnings already logged), and drops again when
 * the run ends, so a long-lived `sluice serve` does not keep every run it ever ran.
 * @module
 */

import { Semaphore } from "./semaphore.ts";
import type { ItemFn } from "./stage_call.ts";

/** One stage's compiled expressions. */
export interface StageFns {
  /** The stage's `when:`, when it has one. */
  when?: ItemFn;
  /** The stage's rate-limit key, when it has one. */
  key?: ItemFn;
}

interface Entry {
  sems: Map<number, Semaphore>;
  fns: Map<number, StageFns>;
  warned: Set<string>;
  usedAt: number;
  /** The run ended while a chunk of it held a permit: dropped when the last permit is back. */
  ended: boolean;
}

/** Options of {@link RunLocals}. */
export interface RunLocalsOptions {
  /** Monotonic clock in milliseconds (default `performance.now`). */
  now?: () => number;
}

/** Per-run state of one engine process, by run id. */
export class RunLocals {
  #runs = new Map<string, Entry>();
  #now: () => number;

  /** Creates an empty set of per-run state. */
  constructor(opts: RunLocalsOptions = {}) {
    this.#now = opts.now ?? (() => performance.now());
  }

  /** How many runs have state here. */
  get size(): number {
    return this.#runs.size;
  }

  #entry(runId: string): Entry {
    let e = this.#runs.get(runId);
    if (!e) {
      this.#runs.set(
        runId,
        e = { sems: new Map(), fns: new Map(), warned: new Set(), usedAt: 0, ended: false },
      );
    }
    e.usedAt = this.#now();
    return e;
  }

  /** The semaphore bounding stage `stage` of run `runId` (made with `permits` the first time). */
  semaphore(runId: string, stage: number, permits: number): Semaphore {
    const e = this.#entry(runId);
    let sem = e.sems.get(stage);
    if (!sem) e.sems.set(stage, sem = new Semaphore(permits));
    return sem;
  }

  /**
   * Waits for a permit of stage `stage` of run `runId` ({@link semaphore}); returns the function
   * that gives it back. Giving back the last permit of a run that {@link forget} found busy drops
   * the run's state.
   */
  async acquire(runId: string, stage: number, permits: number): Promise<() => void> {
    const release = await this.semaphore(runId, stage, permits).acquire();
    return () => {
      release();
      const e = this.#runs.get(runId);
      if (e?.ended && this.#idle(e)) this.#runs.delete(runId);
    };
  }

  #idle(e: Entry): boolean {
    for (const sem of e.sems.values()) if (!sem.idle) return false;
    return true;
  }

  /** The compiled expressions of a run's stage (`make` compiles them the first time). */
  stageFns(runId: string, stage: number, make: () => StageFns): StageFns {
    const e = this.#entry(runId);
    let fns = e.fns.get(stage);
    if (!fns) e.fns.set(stage, fns = make());
    return fns;
  }

  /** True the first time `message` is given for run `runId` (a warning logged once per run). */
  firstTime(runId: string, message: string): boolean {
    const e = this.#entry(runId);
    if (e.warned.has(message)) return false;
    e.warned.add(message);
    return true;
  }

  /**
   * Drops run `runId`'s state (it ended); returns whether it was dropped now. A run one of whose
   * semaphores is held or waited on keeps it until the last permit taken through {@link acquire}
   * is given back (a chunk still runs: a new semaphore beside the old one would let more chunks
   * run than the stage's concurrency).
   */
  forget(runId: string): boolean {
    const e = this.#runs.get(runId);
    if (!e) return true;
    if (!this.#idle(e)) {
      e.ended = true;
      return false;
    }
    this.#runs.delete(runId);
    return true;
  }

  /** Whether run `runId` has state here. */
  has(runId: string): boolean {
    return this.#runs.has(runId);
  }

  /** Ids of the runs that have state here. */
  runIds(): string[] {
    return [...this.#runs.keys()];
  }

  /** Ids of the runs whose state was last used at least `ms` milliseconds ago. */
  idleRuns(ms: number): string[] {
    const before = this.#now() - ms;
    return [...this.#runs].filter(([, e]) => e.usedAt <= before).map(([id]) => id);
  }
}
