/**
 * Who holds a fixed output path (`path: latest.csv`, written by every run): the owner record
 * beside the file (`<file>.owner.json`, the run id and when it started), the rule that the most
 * recently started run keeps the path, and the lock under which finishing runs decide it one at
 * a time. Used by `finalizeParts` (`sdk/sink/part_files.ts`).
 * @module
 */
import type { FinalizeResult } from "./part_files.ts";

/** Whose file a fixed output path holds (`<finalPath>.owner.json`). */
export interface FileOwner {
  /** The run id. */
  run: string;
  /** When the run started (epoch ms). */
  startedAt: number;
  /** Runs that held the file before, newest first (at most {@linkcode MAX_PREVIOUS_OWNERS}). */
  previous?: string[];
}

/** Most earlier holders an owner record remembers (to tell a repeated `finish` it was replaced). */
export const MAX_PREVIOUS_OWNERS = 50;

/** The owner record of the fixed output path `finalPath`. */
export function ownerPath(finalPath: string): string {
  return `${finalPath}.owner.json`;
}

/** Reads the owner record of `finalPath`; undefined when there is none (or it is unreadable). */
export async function readOwner(finalPath: string): Promise<FileOwner | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(ownerPath(finalPath));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
  try {
    const o = JSON.parse(text);
    if (typeof o?.run !== "string" || typeof o?.startedAt !== "number") return undefined;
    const previous = Array.isArray(o.previous)
      ? o.previous.filter((p: unknown) => typeof p === "string")
      : [];
    return { run: o.run, startedAt: o.startedAt, previous };
  } catch {
    return undefined; // a torn record cannot happen (written atomically); a hand-edited one
  }
}

/** True when run `a` started after run `b` (ties broken by run id, so every process agrees). */
export function startedAfter(a: { run: string; startedAt: number }, b: FileOwner): boolean {
  return a.startedAt !== b.startedAt ? a.startedAt > b.startedAt : a.run > b.run;
}

/**
 * The warning a sink logs when {@linkcode finalizeParts} left a fixed path to a newer run, naming
 * both runs and where this run's rows are (an empty string when there is nothing to say).
 */
export function ownerNote(
  plugin: string,
  finalPath: string,
  run: string,
  result: FinalizeResult,
): string {
  const newer = result.newerRun;
  if (!newer) return "";
  const when = new Date(newer.startedAt).toISOString();
  if (result.replaced) {
    return `${plugin}: run ${run} had written ${finalPath}, and run ${newer.run}, started later ` +
      `(${when}), has since replaced it: a fixed path holds the most recently started run's file. ` +
      "No file holds this run's rows any more; use a path with {run} to keep every run's file";
  }
  return `${plugin}: ${finalPath} holds the file of run ${newer.run}, started later (${when}), ` +
    `so run ${run} did not replace it (a fixed path holds the most recently started run's ` +
    `file); this run's rows are in ${result.path}`;
}

/** Options of {@linkcode withFileLock}. */
export interface LockOptions {
  /** A lock older than this is taken for a crashed holder's and broken. Default 2 minutes. */
  staleMs?: number;
  /** Longest wait for the lock. Default 5 minutes. */
  waitMs?: number;
}

/**
 * Runs `fn` holding `<finalPath>.lock` (created exclusively), so that processes finishing runs
 * at one fixed path decide its owner one at a time. The work inside is a few renames and syncs.
 */
export async function withFileLock<T>(
  finalPath: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const lock = `${finalPath}.lock`;
  const staleMs = opts.staleMs ?? 120_000;
  const until = Date.now() + (opts.waitMs ?? 300_000);
  for (let delay = 10;; delay = Math.min(delay * 2, 500)) {
    try {
      const f = await Deno.open(lock, { write: true, createNew: true });
      f.close();
      break;
    } catch (err) {
      if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    }
    const info = await Deno.stat(lock).catch(() => undefined);
    if (info?.mtime && Date.now() - info.mtime.getTime() > staleMs) {
      await Deno.remove(lock).catch(() => {});
      continue;
    }
    if (Date.now() > until) {
      throw new Error(
        `part files: ${lock} has been held for over ${opts.waitMs ?? 300_000} ms; another ` +
          "process is finishing a run at this path (or crashed doing so: the lock is broken " +
          `after ${staleMs} ms)`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
  }
  try {
    return await fn();
  } finally {
    await Deno.remove(lock).catch(() => {});
  }
}
