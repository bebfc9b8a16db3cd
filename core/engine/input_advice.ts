/**
 * What a failed run's error tells its user to do when its source failed: `sluice runs retry`
 * replays the failed chunk on the input the run was started with, which helps only where that
 * input can be fixed in place. An upload or a webhook body is kept with the run as it came, so
 * its user starts a new run with a corrected file instead; a run reading its snapshot of its
 * source's `with.path` file takes a new snapshot on retry while it has read none of the file
 * ({@linkcode Engine.retryRun}), else it reads its old snapshot again.
 * @module
 */
import type { RunRecord } from "../store/store.ts";
import { inDataDir, relative } from "../paths.ts";

/**
 * Where a run's source input comes from, for advice: an API or UI `upload`, a `webhook` body, a
 * `snapshot` of the source's `with.path` file, a `file` its user can fix in place
 * (`sluice run --input FILE`, a `with.path` file read without a snapshot), or `none`.
 */
export type InputKind = "upload" | "webhook" | "snapshot" | "file" | "none";

/** The {@link InputKind} of `run`, whose data folder is `dataDir`. */
export function inputKind(run: RunRecord, dataDir: string): InputKind {
  if (run.sourceFile) return "snapshot";
  if (!run.inputFile) return "none";
  if (run.inputText !== undefined || run.trigger.kind === "webhook") return "webhook";
  // Uploads and webhook bodies lie in the data folder (kept relative to it, older records absolute).
  const rel = relative(dataDir, inDataDir(dataDir, run.inputFile)).split(/[\\/]/)[0];
  if (rel === "uploads") return "upload";
  if (rel === "webhooks") return "webhook";
  return "file";
}

/** What is known of the source's failure, for {@link sourceFailureAdvice}. */
export interface SourceFailure {
  /**
   * True when the error ruled out retries (the plugin's `InputError`: the chunk was not retried),
   * so the input (or the plugin) is at fault, not a passing problem.
   */
  final: boolean;
  /** True when the source had read no chunk of the input before it failed. */
  readNothing: boolean;
}

/**
 * The advice ending the error of `run` failed by its source (after "N chunk(s) are in the
 * dead-letter list; "): how to give the run a corrected input, and when `sluice runs retry`
 * helps.
 */
export function sourceFailureAdvice(run: RunRecord, dataDir: string, f: SourceFailure): string {
  const retry = `fix the cause, then replay with: sluice runs retry ${run.id}`;
  const fixed = `FIXED${/\.[^./\\]+$/.exec(run.inputFile ?? "")?.[0] ?? ".csv"}`;
  const cli = `sluice run ${run.pipelineFile} --input ${fixed}`;
  let fresh: string;
  switch (inputKind(run, dataDir)) {
    case "upload":
      fresh = "start a new run with a corrected file (upload it again: Run now on the " +
        `pipeline's page, or POST /api/v1/pipelines/${run.pipeline}/runs; or ${cli}): the ` +
        "uploaded file is kept with the run as it came, so sluice runs retry would read it again";
      break;
    case "webhook":
      fresh = "start a new run with corrected data (send it to the webhook again, or " +
        `${cli}): the webhook body is kept with the run as it came, so sluice runs retry ` +
        "would read it again";
      break;
    case "snapshot": {
      const file = inDataDir(dataDir, run.sourceFile!);
      // A retry of a run that read none of its file takes a new snapshot (Engine.retryRun).
      if (f.readNothing) {
        return `fix ${file}, then replay with: sluice runs retry ${run.id} (the run has read ` +
          "none of the file yet: the retry takes a new copy of it)";
      }
      fresh = `fix ${file}, then start a new run (sluice run ${run.pipelineFile}): the run ` +
        "reads its copy of the file taken when it was created, so sluice runs retry would read " +
        "that again";
      break;
    }
    default:
      return retry;
  }
  return f.final ? fresh : `if the input is at fault, ${fresh}; otherwise ${retry}`;
}

/**
 * True when a run's error (ending in {@link sourceFailureAdvice}'s advice) says only to start a
 * new run: `sluice runs retry` cannot help it.
 */
export function advisesNewRun(error: string): boolean {
  return / would read (it|that) again$/.test(error);
}
