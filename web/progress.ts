/**
 * Progress of a run from its detail (as `GET /api/v1/runs/{id}` answers it): a fraction per
 * stage and overall. Shared by the server-rendered run page and its live client.
 * @module
 */

/** The parts of a run detail that progress needs. */
export interface ProgressInput {
  state: string;
  source: { chunksRead: number; done: boolean };
  stageDetails: { id: string; counters: { chunksDone: number; chunksDead: number } }[];
}

/** Progress of one stage. */
export interface StageProgress {
  id: string;
  /** Chunks finished (done or dead-lettered). */
  settled: number;
  /** Chunks known so far (the source's chunks read). */
  total: number;
  /** 0..1; undefined while the total is not known yet. */
  fraction?: number;
}

/** Per-stage and overall progress; a succeeded run is 1. */
export function runProgress(d: ProgressInput): { stages: StageProgress[]; overall?: number } {
  const total = d.source.chunksRead;
  const stages = d.stageDetails.map((s, i): StageProgress => {
    const settled = i === 0 ? total : s.counters.chunksDone + s.counters.chunksDead;
    const known = d.source.done || d.state === "succeeded";
    let fraction: number | undefined;
    if (d.state === "succeeded") fraction = 1;
    else if (i === 0) fraction = d.source.done ? 1 : undefined;
    else if (known) fraction = total === 0 ? 1 : Math.min(1, settled / total);
    return { id: s.id, settled: Math.min(settled, Math.max(total, settled)), total, fraction };
  });
  if (d.state === "succeeded") return { stages, overall: 1 };
  const fr = stages.map((s) => s.fraction);
  const overall = fr.some((f) => f === undefined)
    ? undefined
    : fr.reduce((a, b) => a! + b!, 0)! / Math.max(1, fr.length);
  return { stages, overall };
}

/** `42%`, or `…` when unknown. */
export function percent(f: number | undefined): string {
  return f === undefined ? "…" : `${Math.floor(f * 100)}%`;
}
