/**
 * A run's artifacts: the files its stages' `finish` names (a sink's `leads.csv`), checked to lie
 * in the plugin's data folder, recorded on the run and served for download by the API and UI.
 * Paths are kept relative to the Sluice data folder, so processes that mount the shared data
 * volume at another path still find them.
 * @module
 */
import type { FinishResult } from "../../sdk/types.ts";
import { isInside } from "../../sdk/runtime/sandbox_args.ts";
import { basename, join, relative, resolve } from "../paths.ts";
import type { RunArtifact } from "../store/store.ts";

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

/**
 * The artifacts of one stage's `finish` result. A file that does not exist, is not a file, or
 * lies outside the plugin's data folder (after following links) is left out, with the reason
 * given to `warn`: the run's output is done, only its listing is lost.
 */
export async function stageArtifacts(
  dataDir: string,
  stage: { id: string; resolved: { manifest: { name: string } } },
  result: FinishResult | undefined | void,
  warn: (msg: string) => void,
): Promise<RunArtifact[]> {
  if (!result?.files?.length) return [];
  const folder = pluginDataDir(dataDir, stage.resolved.manifest.name);
  const realFolder = await realPath(folder) ?? resolve(folder);
  const realData = await realPath(dataDir) ?? resolve(dataDir);
  const out: RunArtifact[] = [];
  for (const file of result.files) {
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
    out.push({ stage: stage.id, name, path: relative(realData, real), bytes: info.size });
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
