/**
 * Files that go with a purged run: the input files Sluice itself wrote for it (API uploads under
 * `uploads/`, webhook bodies under `webhooks/` of the data folder), and what its stages' plugins
 * wrote for it alone: each plugin's per-run folder `plugin-data/<plugin>/runs/<run id>/` (the
 * sinks' default output folder: the flagship's `leads.csv`, or the part files of a run that never
 * finished) and the run's artifacts whose path names the run (`{run}` in a sink's `path`). A file
 * given with `sluice run --input` is the user's and stays, as does an artifact at a fixed path
 * (`path: latest.csv`), which later runs write again.
 * @module
 */
import { relative, resolve, sep } from "node:path";
import { isInside } from "../../sdk/runtime/sandbox_args.ts";
import { safeSegment } from "../../sdk/sink/part_files.ts";
import type { Logger } from "../telemetry/log.ts";
import type { RunRecord } from "./store.ts";

/** What of a purged run {@linkcode removeRunFiles} needs. */
export type PurgedRun = Pick<RunRecord, "id" | "stages" | "artifacts">;

/** Deletes the input files Sluice wrote for purged runs (under `uploads/` or `webhooks/`). */
export async function removeInputFiles(
  dataDir: string,
  files: string[],
  log: Logger,
): Promise<void> {
  const owned = ["uploads", "webhooks"].map((d) => resolve(dataDir, d));
  for (const file of files) {
    const full = resolve(file);
    if (!owned.some((dir) => isInside(dir, full))) continue;
    await remove(full, false, log);
  }
}

/**
 * Deletes what the stages of purged runs wrote for them alone in their plugins' data folders:
 * the per-run folder `plugin-data/<plugin>/runs/<run id>/` of each stage's plugin, and each
 * artifact whose path (relative to its plugin's folder) has the run id in it.
 */
export async function removeRunFiles(
  dataDir: string,
  runs: PurgedRun[],
  log: Logger,
): Promise<void> {
  const pluginData = resolve(dataDir, "plugin-data");
  for (const run of runs) {
    const seg = safeSegment(run.id);
    const plugins = new Set(run.stages.map((s) => s.resolved.manifest.name.replace("/", "__")));
    for (const p of plugins) await remove(resolve(pluginData, p, "runs", seg), true, log);
    for (const a of run.artifacts ?? []) {
      const full = resolve(dataDir, a.path);
      if (!isInside(pluginData, full)) continue;
      const inPlugin = relative(pluginData, full).split(sep).slice(1).join(sep);
      if (inPlugin.includes(seg)) await remove(full, false, log);
    }
  }
}

async function remove(path: string, recursive: boolean, log: Logger): Promise<void> {
  await Deno.remove(path, { recursive }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) {
      log.warn("could not delete a purged run's file", { file: path, error: e.message });
    }
  });
}
