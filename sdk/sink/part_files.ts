/**
 * Exactly-once file output for sink plugins under at-least-once delivery: each chunk writes its
 * own part file (atomically, so a retried chunk overwrites its part instead of adding rows), and
 * `finish` concatenates the parts in chunk order into the final file (temp file + rename). A
 * second `finish` gives the same file. Paths stay inside the plugin's data folder. Given the run
 * (`{ run: ctx.run.id }`), parts live per run, so runs sharing a fixed path never mix rows.
 *
 * Every part, the final file and each new folder are synced before the call returns (see
 * `sdk/io/durable_files.ts`): the engine marks the chunk done once `process` returns, so after a
 * power loss a done chunk's rows must still be on disk, and the parts are removed only once the
 * final file that holds them is.
 * @module
 */
import { dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import { makeFolderDurably, writeFileDurably, writeFileDurablyWith } from "../io/durable_files.ts";

/** Options of {@linkcode resolveOutputPath}. */
export interface OutputPathOptions {
  /** The plugin's data folder (`ctx.dataDir`). */
  dataDir: string;
  /** The run id (`ctx.run.id`), substituted for `{run}`. */
  runId: string;
  /** Path relative to the data folder; may contain `{run}`. Default `runs/{run}/<defaultName>`. */
  path?: string;
  /** File name used when `path` is absent, e.g. `leads.csv`. */
  defaultName: string;
}

/** A run id made safe as one path segment. */
export function safeSegment(s: string): string {
  const t = s.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return t === "" ? "_" : t;
}

/**
 * The absolute output file for a run. Throws a RangeError when `path` is absolute or leaves the
 * data folder (a sink may only write inside it).
 */
export function resolveOutputPath(options: OutputPathOptions): string {
  const raw = options.path ?? `runs/{run}/${options.defaultName}`;
  const rel = raw.replaceAll("{run}", safeSegment(options.runId));
  const base = resolve(options.dataDir);
  const full = isAbsolute(rel) ? normalize(rel) : resolve(base, rel);
  const r = relative(base, full);
  if (r === "" || r.startsWith("..") || isAbsolute(r)) {
    throw new RangeError(
      `output path ${JSON.stringify(raw)} resolves to ${full}, outside the plugin's data folder ` +
        `${base}; give a path relative to the data folder, e.g. "runs/{run}/${options.defaultName}"`,
    );
  }
  return full;
}

/**
 * The folder holding the parts of `finalPath`; with `run`, that run's own subfolder, so that runs
 * writing the same fixed path (`path: latest.csv`) never mix their parts.
 */
export function partsDir(finalPath: string, run?: string): string {
  const all = `${finalPath}.parts`;
  return run === undefined ? all : join(all, safeSegment(run));
}

/** Whose parts a call reads or writes. */
export interface PartScope {
  /**
   * The run id (`ctx.run.id`): its parts live apart from those of other runs at the same path
   * (say a cancelled run's), which its `finish` then never takes in. Default: one shared folder.
   */
  run?: string;
}

function partName(chunk: number): string {
  if (!Number.isInteger(chunk) || chunk < 0) {
    throw new RangeError(`part files: chunk must be a whole number >= 0, got ${chunk}`);
  }
  return `${String(chunk).padStart(10, "0")}.part`;
}

const enc = new TextEncoder();

/** Writes (or overwrites, on retry) the part of `chunk` for `finalPath`. */
export async function writePart(
  finalPath: string,
  chunk: number,
  content: string | Uint8Array,
  scope: PartScope = {},
): Promise<void> {
  const dir = partsDir(finalPath, scope.run);
  await makeFolderDurably(dir);
  await writeFileDurably(join(dir, partName(chunk)), content);
}

/** Options of {@linkcode finalizeParts}. */
export interface FinalizeOptions extends PartScope {
  /**
   * When the run started (`ctx.run.startedAt`). With no parts of this run, a final file last
   * written before then is an earlier run's (a fixed path, and this run had no chunks): it is
   * replaced by a header-only file instead of being offered as this run's. Without it, any final
   * file counts as this run's.
   */
  runStartedAt?: number;
  /**
   * Written before the parts (e.g. a CSV header line); a function is called after `prepass`
   * (a header that depends on the rows).
   */
  header?: string | Uint8Array | (() => string);
  /** Start the file with a UTF-8 byte order mark. */
  bom?: boolean;
  /** Keep the parts after finalizing (default false: they are removed). */
  keepParts?: boolean;
  /**
   * Reads every part once before any is written, in chunk order (e.g. to gather what rows of
   * different chunks share).
   */
  prepass?: (data: Uint8Array, chunk: number) => void | Promise<void>;
  /**
   * Rewrites each part before it is appended, called once per part in chunk order (e.g. to drop
   * rows whose key an earlier part already wrote, or to turn a part's own format into the file's).
   */
  mapPart?: (data: Uint8Array, chunk: number) => Uint8Array | Promise<Uint8Array>;
  /**
   * Written after the last part: what `mapPart` held back (e.g. every row, to write them sorted
   * once all parts are read).
   */
  after?: () => Uint8Array | Promise<Uint8Array>;
}

/** What {@linkcode finalizeParts} did. */
export interface FinalizeResult {
  /** The final file. */
  path: string;
  /** Parts concatenated (0 when already finalized earlier). */
  parts: number;
  /** True when an earlier `finish` had already produced the file. */
  alreadyDone: boolean;
}

/**
 * Slack for file systems that keep modification times in whole (or even two) seconds: a file
 * this run wrote just after it started must never be taken for an earlier run's.
 */
const MTIME_SLACK_MS = 5_000;

/** True when `finalPath` exists and, given `runStartedAt`, was written by this run. */
async function finishedByThisRun(finalPath: string, runStartedAt?: number): Promise<boolean> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(finalPath);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
  if (runStartedAt === undefined || info.mtime === null) return true;
  return info.mtime.getTime() >= runStartedAt - MTIME_SLACK_MS;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * Concatenates the parts of `finalPath` in chunk order (header first) into a temp file and
 * renames it into place; idempotent. With no parts and no final file, writes just the header.
 */
export async function finalizeParts(
  finalPath: string,
  options: FinalizeOptions = {},
): Promise<FinalizeResult> {
  const dir = partsDir(finalPath, options.run);
  const names: string[] = [];
  if (await exists(dir)) {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && /^\d{10}\.part$/.test(e.name)) names.push(e.name);
    }
  } else if (await finishedByThisRun(finalPath, options.runStartedAt)) {
    return { path: finalPath, parts: 0, alreadyDone: true };
  }
  names.sort();
  if (options.prepass) {
    for (const n of names) {
      await options.prepass(await Deno.readFile(join(dir, n)), Number(n.slice(0, 10)));
    }
  }
  await makeFolderDurably(dirname(finalPath));
  // The final file's name is on disk (its folder synced) before the parts it replaces go.
  await writeFileDurablyWith(finalPath, async (write) => {
    if (options.bom) await write(new Uint8Array([0xef, 0xbb, 0xbf]));
    const header = typeof options.header === "function" ? options.header() : options.header;
    if (header !== undefined) {
      await write(typeof header === "string" ? enc.encode(header) : header);
    }
    for (const n of names) {
      const data = await Deno.readFile(join(dir, n));
      await write(options.mapPart ? await options.mapPart(data, Number(n.slice(0, 10))) : data);
    }
    if (options.after) await write(await options.after());
  });
  if (!options.keepParts) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    // The shared folder goes once no run has parts left in it.
    if (options.run !== undefined) await Deno.remove(partsDir(finalPath)).catch(() => {});
  }
  return { path: finalPath, parts: names.length, alreadyDone: false };
}
