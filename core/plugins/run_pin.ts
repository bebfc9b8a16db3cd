/**
 * A run records the plugins it started with (`RunStage.resolved`: manifest, folder, integrity).
 * A run resumed later, in another process (after a kill, an upgrade of Sluice, a `git pull` or
 * `sluice plugin remove`), must finish with the same plugins: a sink whose format changed would
 * mix two formats in one export file, and a removed plugin cannot start at all.
 * {@linkcode pluginChangedSince} says what changed, so the run can stop saying what to do.
 * @module
 */
import { join } from "../paths.ts";
import type { RunState, Store } from "../store/store.ts";
import type { ResolvedPlugin } from "./manifest.ts";

/**
 * Undefined when `resolved.dir` still holds the plugin version the run started with; else what
 * changed and what to do. Reads the folder's `plugin.json` only (no plugin code runs).
 */
export async function pluginChangedSince(
  resolved: ResolvedPlugin,
  runId = "RUN",
): Promise<string | undefined> {
  const { name, version } = resolved.manifest;
  let text: string;
  try {
    text = await Deno.readTextFile(join(resolved.dir, "plugin.json"));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return `plugin ${name}@${version}, which this run started with, is no longer at ` +
      `${resolved.dir} (removed?): install ${name}@${version} again and retry the run ` +
      `(sluice runs retry ${runId}), or start a new run`;
  }
  let now: unknown;
  try {
    now = (JSON.parse(text) as { version?: unknown }).version;
  } catch {
    now = undefined;
  }
  if (now === version) return undefined;
  return `plugin ${name} changed since this run started: the run began with ${name}@${version}, ` +
    `and ${resolved.dir} now holds ${
      typeof now === "string" ? `${name}@${now}` : "a plugin.json that does not parse"
    }; finishing with another version could mix two outputs in one run. Start a new run, or put ` +
    `${name}@${version} back and retry this one (sluice runs retry ${runId})`;
}

/** States of runs that may still run a stage: resumed, retried, or running now. */
const UNFINISHED: RunState[] = ["queued", "running", "failed"];

/** Runs looked at, at most, per state (retention keeps the list bounded anyway). */
const MAX_RUNS_SCANNED = 5000;

/**
 * Ids of the unfinished runs (queued, running, or failed and so retryable) that started with one
 * of `versions` of the installed plugin `name`: removing that version would leave them unable to
 * finish (see {@linkcode pluginChangedSince}).
 */
export async function runsUsing(
  store: Store,
  name: string,
  versions: string[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const state of UNFINISHED) {
    let cursor: string | undefined;
    let scanned = 0;
    do {
      const page = await store.listRuns({ state, limit: 200, cursor });
      for (const run of page.runs) {
        const uses = run.stages.some((st) =>
          st.resolved.origin !== "builtin" && st.resolved.manifest.name === name &&
          versions.includes(st.resolved.manifest.version)
        );
        if (uses) ids.push(run.id);
      }
      scanned += page.runs.length;
      cursor = page.cursor;
    } while (cursor && scanned < MAX_RUNS_SCANNED);
  }
  return ids;
}
