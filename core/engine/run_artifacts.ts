/**
 * A run's artifacts: the files its stages' `finish` names (a sink's `leads.csv`), checked to lie
 * in the plugin's data folder, recorded on the run and served for download by the API and UI.
 * Paths are kept relative to the Sluice data folder, so processes that mount the shared data
 * volume at another path still find them.
 * @module
 */
import type { FinishResult } from "../../sdk/types.ts";
import { isInside } from "../../sdk/runtime/sandbox_args.ts";
import { safeSegment } from "../../sdk/sink/part_files.ts";
import { basename, isAbsolute, join, relative, resolve } from "../paths.ts";
import type { RunArtifact } from "../store/store.ts";

/**
 * A run's folder of Sluice's own files under the data folder (`<dataDir>/runs/<run id>`: the
 * `--out` a `sluice run` remembers, the run's snapshot of its source file), deleted with the run.
 */
export function runFolder(dataDir: string, runId: string): string {
  return resolve(dataDir, "runs", safeSegment(runId));
}

/** The data folder of a plugin: `<dataDir>/plugin-data/<name>` (`/` of a scope becomes `__`). */
export function pluginDataDir(dataDir: string, pluginName: string): string {
  return join(dataDir, "plugin-data", pluginName.replace("/", "__"));
}

/** The real path of `path`, or undefined when it does not exist. */
async function realPath(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Most files one run lists for download. */
export const MAX_ARTIFACTS = 100;
/**
 * Most bytes (as JSON) the artifact records of one run take: they live in the run record, which
 * the embedded store keeps in one value of at most 64 KiB (a larger one fails the write that
 * ends the run, and the run would never end).
 */
export const MAX_ARTIFACT_BYTES = 16 * 1024;
/** Most entries of one `finish` result looked at (the process may send any number). */
const MAX_NAMED = 2 * MAX_ARTIFACTS;

/**
 * The artifacts of one stage's `finish` result. A file that does not exist, is not a file, or
 * lies outside the plugin's data folder (after following links) is left out, with the reason
 * given to `warn`: the run's output is done, only its listing is lost. The result comes from the
 * plugin's process, so anything is checked: entries that are not absolute paths are left out,
 * and so is what passes {@linkcode MAX_ARTIFACTS} or {@linkcode MAX_ARTIFACT_BYTES} together with
 * the run's artifacts `listed` before.
 */
export async function stageArtifacts(
  dataDir: string,
  stage: { id: string; resolved: { manifest: { name: string } } },
  result: FinishResult | undefined | void,
  warn: (msg: string) => void,
  listed: readonly RunArtifact[] = [],
): Promise<RunArtifact[]> {
  const files: unknown = result?.files;
  if (!Array.isArray(files) || !files.length) return [];
  const folder = pluginDataDir(dataDir, stage.resolved.manifest.name);
  const realFolder = await realPath(folder) ?? resolve(folder);
  const realData = await realPath(dataDir) ?? resolve(dataDir);
  const out: RunArtifact[] = [];
  let bytes = JSON.stringify(listed).length;
  for (const [i, file] of files.entries()) {
    if (i >= MAX_NAMED || listed.length + out.length >= MAX_ARTIFACTS) {
      warn(
        `stage ${stage.id}: finish() named ${files.length} files; the ${
          files.length - i
        } from the ${i + 1}th on are not offered for download (a run lists at most ` +
          `${MAX_ARTIFACTS})`,
      );
      break;
    }
    if (typeof file !== "string" || !isAbsolute(file) || file.includes("\0")) {
      warn(
        `stage ${stage.id}: finish() named ${
          JSON.stringify(file)?.slice(0, 100)
        }, which is not a file path; it is not offered for download`,
      );
      continue;
    }
    const real = await realPath(file);
    if (!real || !isInside(realFolder, real)) {
      warn(
        `stage ${stage.id}: finish() named ${file}, which ${
          real ? `is outside the plugin's data folder ${folder}` : "does not exist"
        }; it is not offered for download`,
      );
      continue;
    }
    const info = await Deno.stat(real);
    if (!info.isFile) {
      warn(`stage ${stage.id}: finish() named ${file}, which is not a file; not offered`);
      continue;
    }
    const name = basename(real);
    if (out.some((a) => a.name === name)) continue;
    const artifact = { stage: stage.id, name, path: relative(realData, real), bytes: info.size };
    bytes += JSON.stringify(artifact).length + 1;
    if (bytes > MAX_ARTIFACT_BYTES) {
      warn(
        `stage ${stage.id}: finish() named more files than a run lists (their names and paths ` +
          `take over ${MAX_ARTIFACT_BYTES} bytes); ${file} and the files after it are not ` +
          "offered for download",
      );
      break;
    }
    out.push(artifact);
  }
  return out;
}

/**
 * The file of an artifact on this process's disk, or undefined when it is gone or its recorded
 * path leads outside `<dataDir>/plugin-data` (a tampered record is not followed).
 */
export async function artifactFile(
  dataDir: string,
  artifact: RunArtifact,
): Promise<string | undefined> {
  const root = await realPath(join(dataDir, "plugin-data"));
  const real = await realPath(resolve(dataDir, artifact.path));
  if (!root || !real || !isInside(root, real)) return undefined;
  return (await Deno.stat(real)).isFile ? real : undefined;
}

/** The media type a download of `name` is sent with. */
export function artifactType(name: string): string {
  const ext = name.toLowerCase().split(".").pop();
  switch (ext) {
    case "csv":
      return "text/csv; charset=utf-8";
    case "jsonl":
    case "ndjson":
      return "application/x-ndjson; charset=utf-8";
    case "json":
      return "application/json; charset=utf-8";
    case "txt":
      return "text/plain; charset=utf-8";
    default:
      return "application/octet-stream";
  }
}
