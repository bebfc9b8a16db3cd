/**
 * Orphaned snapshots of source files. A run that reads its source's file gets its own snapshot of
 * it at `<dataDir>/runs/<run id>/input/<name>` before the run is written to the store
 * (`core/engine/source_snapshot.ts`); a process killed between the two leaves the snapshot with no
 * run, which retention (it deletes a purged run's files, `purged_files.ts`) never finds. Long-lived
 * processes sweep them ({@linkcode startOrphanSweep}): the `input/` folder of a run folder older
 * than {@linkcode ORPHAN_AGE_MS} whose run is not in the store is deleted, then the run folder when
 * that leaves it empty. Only `input/` folders go (Sluice's own snapshots); a run being created
 * now is young, and a run that exists keeps its folder.
 *
 * Run ids are free text and a folder's name is its run's id made a safe file name (`safeSegment`:
 * characters other than letters, digits, `.`, `_` and `-` become `_`), so a name with a `_` may
 * be another id's (run `a/b`'s folder is `a_b`, and there is no run `a_b`): such folders are left.
 * Generated run ids (`r` and base 36) never have a `_`.
 * @module
 */
import { join } from "../paths.ts";
import { type Logger, silentLogger } from "../telemetry/log.ts";

/** A run folder younger than this may be of a run being created now: it is left. */
export const ORPHAN_AGE_MS = 60 * 60_000;

/** How often a long-lived process sweeps orphaned snapshots. */
export const ORPHAN_SWEEP_EVERY_MS = 60 * 60_000;

/** Options of {@linkcode removeOrphanSnapshots}. */
export interface OrphanSweepOptions {
  /** The Sluice data folder. */
  dataDir: string;
  /** Tells whether a run exists. */
  store: { getRun(id: string): Promise<unknown | undefined> };
  log?: Logger;
  /** Epoch ms. */
  now?: () => number;
  /** Folders younger than this are left (default {@linkcode ORPHAN_AGE_MS}). */
  minAgeMs?: number;
}

/** Last modification of `path` in epoch ms; undefined when it is not a folder. */
async function folderTime(path: string): Promise<number | undefined> {
  try {
    const st = await Deno.lstat(path);
    return st.isDirectory ? (st.mtime?.getTime() ?? 0) : undefined;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * Deletes the `input/` folders (snapshots of source files) of run folders under
 * `<dataDir>/runs/` older than `minAgeMs` whose run is not in the store, and each such run folder
 * when it is left empty. Returns the ids of the runs whose snapshots were deleted. A store error
 * ends the sweep (thrown); a folder that cannot be deleted is logged and skipped.
 */
export async function removeOrphanSnapshots(o: OrphanSweepOptions): Promise<string[]> {
  const log = o.log ?? silentLogger;
  const before = (o.now ?? Date.now)() - (o.minAgeMs ?? ORPHAN_AGE_MS);
  const runs = join(o.dataDir, "runs");
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(runs));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return removed;
    throw e;
  }
  for (const entry of entries) {
    const id = entry.name;
    // Only names that are no other id's (see the module doc).
    if (!entry.isDirectory || id.includes("_") || id.startsWith(".")) continue;
    const folder = join(runs, id);
    const input = join(folder, "input");
    const [folderAt, inputAt] = await Promise.all([folderTime(folder), folderTime(input)]);
    if (folderAt === undefined || inputAt === undefined) continue;
    if (folderAt > before || inputAt > before) continue; // may be a run being created now
    if (await o.store.getRun(id)) continue;
    try {
      await Deno.remove(input, { recursive: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        log.warn("could not delete an orphaned snapshot of a source file", {
          folder: input,
          error: (e as Error).message,
        });
      }
      continue;
    }
    await Deno.remove(folder).catch(() => {}); // kept when something else is in it
    removed.push(id);
  }
  if (removed.length) {
    log.info("deleted snapshots of source files of runs that were never recorded", {
      runs: removed.length,
    });
  }
  return removed;
}

/** A running sweep. */
export interface OrphanSweep {
  /** Sweeps now (a sweep already running is waited for instead). */
  runOnce(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Sweeps orphaned snapshots every `intervalMs` (default {@linkcode ORPHAN_SWEEP_EVERY_MS}), the
 * first time a minute after the start. The timers do not keep the process alive.
 */
export function startOrphanSweep(
  o: OrphanSweepOptions & { intervalMs?: number; firstAfterMs?: number },
): OrphanSweep {
  const log = o.log ?? silentLogger;
  let busy: Promise<string[]> | undefined;
  const runOnce = () =>
    busy ??= removeOrphanSnapshots(o).catch((e) => {
      log.warn("sweeping orphaned snapshots of source files failed", {
        error: (e as Error).message,
      });
      return [];
    }).finally(() => busy = undefined);
  const first = setTimeout(() => void runOnce(), o.firstAfterMs ?? 60_000);
  const timer = setInterval(() => void runOnce(), o.intervalMs ?? ORPHAN_SWEEP_EVERY_MS);
  Deno.unrefTimer(first);
  Deno.unrefTimer(timer);
  return {
    runOnce,
    async close() {
      clearTimeout(first);
      clearInterval(timer);
      await busy;
    },
  };
}
