/**
 * Who holds a fixed output path (`path: latest.csv`, written by every run): the owner record
 * beside the file (`<file>.owner.json`, the run id and when it started), the rule that the most
 * recently started run keeps the path, and the lock under which finishing runs decide it one at
 * a time. Used by `finalizeParts` (`sdk/sink/part_files.ts`).
 * @module
 */
import { basename, dirname, join } from "node:path";
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
 * Runs `fn` holding `<finalPath>.lock`, so that processes finishing runs at one fixed path decide
 * its owner one at a time. The work inside is a few renames and syncs.
 *
 * The lock file holds its holder's token (a UUID), put in place with its content at once (a hard
 * link of a temp file, which fails when the lock exists). A lock older than `staleMs` is a crashed
 * holder's: of those who find it stale, only the one that creates `<lock>.break-<its token>`
 * deletes it, after checking it still holds that token, so no one deletes a lock taken since.
 * The holder deletes the lock at the end only while it holds its own token.
 */
export async function withFileLock<T>(
  finalPath: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const lock = `${finalPath}.lock`;
  const staleMs = opts.staleMs ?? 120_000;
  const until = Date.now() + (opts.waitMs ?? 300_000);
  const token = crypto.randomUUID();
  for (let delay = 10;; delay = Math.min(delay * 2, 500)) {
    if (await createLock(lock, token)) break;
    const held = await lockToken(lock);
    const info = await Deno.stat(lock).catch(() => undefined);
    if (held !== undefined && info?.mtime && Date.now() - info.mtime.getTime() > staleMs) {
      if (await breakLock(lock, held, staleMs)) continue;
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
    if (await lockToken(lock) === token) await Deno.remove(lock).catch(() => {});
  }
}

/**
 * Creates `lock` holding `token`; false when it exists. The token is written to a temp file
 * first (named like a durable write's, so retention sweeps one a crash left) and hard-linked to
 * `lock`: no one ever reads a lock without its token.
 */
async function createLock(lock: string, token: string): Promise<boolean> {
  const temp = join(dirname(lock), `.${basename(lock)}.${token}.tmp`);
  await Deno.writeTextFile(temp, token, { createNew: true });
  try {
    await Deno.link(temp, lock);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) return false;
    throw err;
  } finally {
    await Deno.remove(temp).catch(() => {});
  }
}

/** The token `lock` holds (`""` for an older Sluice's empty lock); undefined when it is gone. */
async function lockToken(lock: string): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(lock)).trim();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}

/**
 * Deletes the stale `lock` that held `token`, when this caller is the one to break it (creates
 * `<lock>.break-<token>`) and the lock still holds that token; true when the lock may be free.
 * The token's lock is gone for good before its break file is, so a caller that creates the break
 * file late finds another token and deletes nothing. A break file left by a crash is deleted once
 * older than `staleMs`.
 */
async function breakLock(lock: string, token: string, staleMs: number): Promise<boolean> {
  const breaker = `${lock}.break-${token.replace(/[^0-9A-Za-z-]/g, "").slice(0, 64)}`;
  try {
    (await Deno.open(breaker, { write: true, createNew: true })).close();
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
    const info = await Deno.stat(breaker).catch(() => undefined);
    if (info?.mtime && Date.now() - info.mtime.getTime() > staleMs) {
      await Deno.remove(breaker).catch(() => {});
    }
    return false;
  }
  try {
    if (await lockToken(lock) === token) await Deno.remove(lock).catch(() => {});
    return true;
  } finally {
    await Deno.remove(breaker).catch(() => {});
  }
}
