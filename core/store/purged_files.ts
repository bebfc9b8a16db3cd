/**
 * Files that go with a purged run: the input files Sluice itself wrote for it (API uploads under
 * `uploads/`, webhook bodies under `webhooks/` of the data folder). A file given with
 * `sluice run --input` is the user's and stays, as do the export files in plugin folders.
 * @module
 */
import { resolve } from "node:path";
import { isInside } from "../../sdk/runtime/sandbox_args.ts";
import type { Logger } from "../telemetry/log.ts";

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
    await Deno.remove(full).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) {
        log.warn("could not delete a purged run's input file", { file: full, error: e.message });
      }
    });
  }
}
