/**
 * Which file a file source reads: the run's input file (an upload, a webhook body, `--input`)
 * when it has one, else the stage's `with.path`, a relative path being taken in the plugin's data
 * folder (`<dataDir>/plugin-data/<plugin>/`, the folder the sandbox lets it read), so a scheduled
 * run can read a file dropped there.
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
