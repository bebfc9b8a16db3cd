/**
 * Which file a file source reads: the run's input file (an upload, a webhook body, `--input`)
 * when it has one, else the stage's `with.path`, a relative path being taken in the plugin's data
 * folder (`<dataDir>/plugin-data/<plugin>/`, the folder the sandbox lets it read), so a scheduled
 * run can read a file dropped there. {@link sourceLabel} names that file in messages as the
 * person who started the run knows it (an upload's original name).
 * @module
 */
import { isAbsolute, join } from "node:path";

/** The file to read, or undefined when the run has no input file and the stage no path. */
export function sourceFile(
  ctx: { inputFile?: string; dataDir: string },
  path: string | undefined,
): string | undefined {
  if (ctx.inputFile) return ctx.inputFile;
  if (path === undefined || path === "") return undefined;
  return isAbsolute(path) ? path : join(ctx.dataDir, path);
}

/**
 * How messages name `file`, the file {@link sourceFile} chose: the upload's original name
 * (`ctx.inputName`, e.g. `businesses.csv`) when `file` is the run's input file and the upload had
 * a name, else `file` itself (a `--input` path, a `with.path` file). Reasons then read
 * `businesses.csv:12: …` rather than the stored file's name (the run's id).
 */
export function sourceLabel(
  ctx: { inputFile?: string; inputName?: string },
  file: string,
): string {
  return ctx.inputName && ctx.inputFile && file === ctx.inputFile ? ctx.inputName : file;
}
