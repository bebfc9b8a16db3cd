/**
 * Files that go with a purged run: the input files Sluice itself wrote for it (API uploads under
 * `uploads/`, webhook bodies under `webhooks/` of the data folder, its snapshot of the source's
 * file and the CLI's `--out` under `runs/<run id>/`), and what its stages' plugins wrote for it
 * alone: each plugin's per-run folder `plugin-data/<plugin>/runs/<run id>/` (the
 * sinks' default output folder: the flagship's `leads.csv`, or the part files of a run that never
 * finished) and the run's artifacts whose path names the run: under `runs/<run id>/`, or exactly
 * the path its stage's `with` gives with `{run}` (`path: exports/{run}.csv`). A file given with
 * `sluice run --input` is the user's and stays, as does an artifact at a fixed path (`path:
 * latest.csv`, even `weekly.csv` of a run whose id is `weekly`), which later runs write again.
 * Run ids are free text, so a path is never matched on a part of a name.
 *
 * The parts a purged run left at a fixed path (its own subfolder `<file>.parts/<run id>/`, a
 * cancelled or failed run's, see `sdk/sink/part_files.ts`) are deleted under every plugin's
 * folder; the folder `<file>.parts/` itself stays (it holds the parts of every run writing that
 * path). A seen-before ledger's parts (`ledger/<scope>/<run id>.jsonl.parts/`) go whole, and so
 * does the ledger of a purged run that did not succeed (`ledger/<scope>/<run id>.jsonl`): a
 * succeeded run's ledger is the memory of the leads it delivered and stays (seen-before's
 * `forgetAfterDays` deletes it). Hidden temp files a crash left during a durable write
 * (`.<name>.<uuid>.tmp`, `sdk/io/durable_files.ts`) older than a day go too.
 * @module
 */
import { join, relative, resolve, sep } from "node:path";
import { isInside } from "../../sdk/runtime/sandbox_args.ts";
import { safeSegment } from "../../sdk/sink/part_files.ts";
import type { Logger } from "../telemetry/log.ts";
import type { RunRecord } from "./store.ts";

/**
 * What of a purged run {@linkcode removeRunFiles} needs. Without `state`, the run's seen-before
 * ledger stays (it may be the memory of delivered leads).
 */
export type PurgedRun = Pick<RunRecord, "id" | "stages" | "artifacts"> & {
  state?: RunRecord["state"];
};

/** Options of {@linkcode removeRunFiles}. */
export interface RemoveRunFilesOptions {
  /** The clock (epoch ms), for the age of temp files. Default `Date.now`. */
  now?: () => number;
}

/** How deep under `plugin-data/<plugin>/` part folders and temp files are looked for. */
export const SWEEP_DEPTH = 6;
/** A durable write's temp file older than this is a crashed write's (a write takes seconds). */
export const TEMP_FILE_AGE_MS = 86_400_000;
/** The hidden temp file of `writeFileDurablyWith`: `.<name>.<uuid>.tmp`. */
const TEMP_FILE = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** Deletes the input files Sluice wrote for purged runs (under `uploads/` or `webhooks/`). */
export async function removeInputFiles(
  dataDir: string,
  files: string[],
  log: Logger,
): Promise<void> {
  const owned = ["uploads", "webhooks"].map((d) => resolve(dataDir, d));
  for (const file of files) {
    const full = resolve(dataDir, file); // kept relative to it (`dataRelative`), or absolute
    if (!owned.some((dir) => isInside(dir, full))) continue;
    await remove(full, false, log);
  }
}

/**
 * Deletes what the stages of purged runs wrote for them alone in their plugins' data folders:
 * the per-run folder `plugin-data/<plugin>/runs/<run id>/` of each stage's plugin, each artifact
 * named after the run ({@linkcode namedAfterRun}), the runs' own part folders under any plugin's
 * folder, the seen-before ledgers' parts, and the ledgers of runs that did not succeed; then
 * sweeps crashed writes' temp files older than a day (see the module doc). Does nothing without
 * runs.
 */
export async function removeRunFiles(
  dataDir: string,
  runs: PurgedRun[],
  log: Logger,
  opts: RemoveRunFilesOptions = {},
): Promise<void> {
  if (!runs.length) return;
  const pluginData = resolve(dataDir, "plugin-data");
  for (const run of runs) {
    const seg = safeSegment(run.id);
    const plugins = new Set(run.stages.map((s) => s.resolved.manifest.name.replace("/", "__")));
    for (const p of plugins) await remove(resolve(pluginData, p, "runs", seg), true, log);
    // Sluice's own files of the run: the `--out` a `sluice run` remembers
    // (`core/cli/run_out.ts`), its snapshot of the source's file (`core/engine/source_snapshot.ts`).
    await remove(resolve(dataDir, "runs", seg), true, log);
    for (const a of run.artifacts ?? []) {
      const full = resolve(dataDir, a.path);
      if (namedAfterRun(pluginData, full, run, a.stage)) await remove(full, false, log);
    }
    if (run.state !== undefined && run.state !== "succeeded") {
      await removeLedgers(pluginData, run, log);
    }
  }
  await removeLedgerParts(pluginData, runs, log);
  await sweepPluginFolders(pluginData, new Set(runs.map((r) => safeSegment(r.id))), {
    tempBefore: (opts.now ?? Date.now)() - TEMP_FILE_AGE_MS,
    log,
  });
}

/**
 * Whether the artifact `full` (absolute) of stage `stage` was written for `run` alone: it lies in
 * a plugin's per-run folder (`plugin-data/<plugin>/runs/<run id>/…`), or it is exactly where a
 * `{run}` path of the stage's `with` (`path: exports/{run}.csv`) puts the run's file. Whole
 * paths are compared, never parts of names: a fixed `weekly.csv` is not run `weekly`'s.
 */
export function namedAfterRun(
  pluginData: string,
  full: string,
  run: Pick<PurgedRun, "id" | "stages">,
  stage: string,
): boolean {
  if (!isInside(pluginData, full)) return false;
  const seg = safeSegment(run.id);
  const [plugin, ...inPlugin] = relative(pluginData, full).split(sep);
  if (inPlugin.length > 2 && inPlugin[0] === "runs" && inPlugin[1] === seg) return true;
  const config = run.stages.find((s) => s.id === stage)?.with ?? {};
  return Object.values(config).some((v) =>
    typeof v === "string" && v.includes("{run}") &&
    resolve(pluginData, plugin, v.replaceAll("{run}", seg)) === full
  );
}

/**
 * Deletes the parts of the purged runs' seen-before ledgers (`ledger/<scope>/<run id>.jsonl.parts/`
 * of every seen-before plugin's folder): a ledger is one run's file, so its parts are that run's.
 */
async function removeLedgerParts(pluginData: string, runs: PurgedRun[], log: Logger) {
  for (const p of await folders(pluginData)) {
    if (p !== "seen-before" && !p.endsWith("__seen-before")) continue;
    const ledger = join(pluginData, p, "ledger");
    for (const scope of await folders(ledger)) {
      for (const run of runs) {
        await remove(join(ledger, scope, `${safeSegment(run.id)}.jsonl.parts`), true, log);
      }
    }
  }
}

/**
 * Deletes `ledger/<scope>/<run id>.jsonl` of a run's seen-before stages: the run did not succeed,
 * so its leads never counted as delivered (its `finish` may have run before a later stage's
 * failed).
 */
async function removeLedgers(pluginData: string, run: PurgedRun, log: Logger): Promise<void> {
  const plugins = new Set(
    run.stages.map((s) => s.resolved.manifest.name)
      .filter((n) => n === "seen-before" || n.endsWith("/seen-before"))
      .map((n) => n.replace("/", "__")),
  );
  for (const p of plugins) {
    const ledger = join(pluginData, p, "ledger");
    for (const scope of await folders(ledger)) {
      await remove(join(ledger, scope, `${safeSegment(run.id)}.jsonl`), false, log);
    }
  }
}

/** The names of the folders in `dir` (none when it does not exist). */
async function folders(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) if (e.isDirectory) out.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

/**
 * One walk over the plugins' folders (at most {@linkcode SWEEP_DEPTH} deep, links not followed):
 * in each part folder (`*.parts`), deletes the subfolders of the purged runs `segs` (never the
 * folder itself: a file named after a purged run may be a fixed path other runs are writing);
 * deletes temp files of durable writes last changed before `tempBefore`.
 */
async function sweepPluginFolders(
  pluginData: string,
  segs: Set<string>,
  o: { tempBefore: number; log: Logger },
): Promise<void> {
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return;
      o.log.warn("could not look for a purged run's files", {
        folder: dir,
        error: (e as Error).message,
      });
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isFile && TEMP_FILE.test(e.name)) {
        const info = await Deno.lstat(path).catch(() => undefined);
        if (info?.mtime && info.mtime.getTime() < o.tempBefore) await remove(path, false, o.log);
      } else if (e.isDirectory && depth > 0 && e.name.endsWith(".parts")) {
        for (const run of await folders(path)) {
          if (segs.has(run)) await remove(join(path, run), true, o.log);
        }
        // Temp files of a run's parts. The folder itself stays even when empty: a running
        // run may be making its subfolder in it (its next finish removes it).
        await walk(path, depth - 1);
      } else if (e.isDirectory && depth > 0) {
        await walk(path, depth - 1);
      }
    }
  };
  for (const plugin of await folders(pluginData)) {
    await walk(join(pluginData, plugin), SWEEP_DEPTH);
  }
}

async function remove(path: string, recursive: boolean, log: Logger): Promise<void> {
  await Deno.remove(path, { recursive }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) {
      log.warn("could not delete a purged run's file", { file: path, error: e.message });
    }
  });
}
