/**
 * The `--out` file a run was started with, remembered with the run, so `sluice runs resume` and
 * `sluice runs retry` (and `sluice run --run-id`) write it when the run was interrupted and they
 * are not given `--out` again. It is a small JSON file in the run's folder of the data folder
 * (`<dataDir>/runs/<run id>/cli.json`); the store's run record has no place for CLI settings.
 * @module
 */
import { runFolder } from "../engine/run_artifacts.ts";
import { join, resolve } from "../paths.ts";

/** The output a `sluice run --out` asked for. */
export interface RememberedOut {
  /** Absolute path of the output file. */
  path: string;
  /** `csv` when the path ends in `.csv`, else `jsonl` (as `writeRunOutput` chooses). */
  format: "csv" | "jsonl";
  /** `--all-rows`: every row, several of one key included. */
  allRows: boolean;
  /** When it was last written (ms since the epoch); absent while the run has not written it. */
  writtenAt?: number;
}

function outFile(dataDir: string, runId: string): string {
  return join(runFolder(dataDir, runId), "cli.json");
}

/** Records (replacing) the output `sluice run --out` asked for the run. */
export async function rememberOut(
  dataDir: string,
  runId: string,
  out: { path: string; allRows?: boolean; writtenAt?: number },
): Promise<void> {
  const path = resolve(out.path);
  const rec: RememberedOut = {
    path,
    format: /\.csv$/i.test(path) ? "csv" : "jsonl",
    allRows: out.allRows ?? false,
    ...(out.writtenAt !== undefined ? { writtenAt: out.writtenAt } : {}),
  };
  const file = outFile(dataDir, runId);
  await Deno.mkdir(runFolder(dataDir, runId), { recursive: true });
  const tmp = `${file}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(rec) + "\n");
  await Deno.rename(tmp, file);
}

/** The output remembered for the run, if any (a file that cannot be read counts as none). */
export async function rememberedOut(
  dataDir: string,
  runId: string,
): Promise<RememberedOut | undefined> {
  try {
    const rec = JSON.parse(await Deno.readTextFile(outFile(dataDir, runId)));
    return typeof rec?.path === "string" ? rec as RememberedOut : undefined;
  } catch {
    return undefined;
  }
}
