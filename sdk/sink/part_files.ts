/**
 * Exactly-once file output for sink plugins under at-least-once delivery: each chunk writes its
 * own part file (atomically, so a retried chunk overwrites its part instead of adding rows; each
 * call of a chunk that the stage's `chunk:` splits, its own: `part`), and `finish` concatenates
 * the parts in chunk order into the final file (temp file + rename). A
 * second `finish` gives the same file. Paths stay inside the plugin's data folder. Given the run
 * (`{ run: ctx.run.id }`), parts live per run, so runs sharing a fixed path never mix rows.
 *
 * A fixed path (`path: latest.csv`, no `{run}`) holds the output of the most recently STARTED run
 * that finished, whatever order runs finish in: an owner record beside the file
 * (`<file>.owner.json`: run id and start) says whose it is, and a run that started before the
 * owner writes its file to its own place instead ({@linkcode ownOutputPath}, given as
 * `ownPath`), so an old run adopted and finished late never replaces a newer run's file.
 *
 * Every part, the final file and each new folder are synced before the call returns (see
 * `sdk/io/durable_files.ts`): the engine marks the chunk done once `process` returns, so after a
 * power loss a done chunk's rows must still be on disk, and the parts are removed only once the
 * final file that holds them is.
 * @module
 */
import { basename, dirname, isAbsolute, join, normalize, relative, resolve } from "node:path";
import {
  makeFolderDurably,
  syncFolder,
  writeFileDurably,
  writeFileDurablyWith,
} from "../io/durable_files.ts";
import {
  type FileOwner,
  MAX_PREVIOUS_OWNERS,
  ownerPath,
  readOwner,
  startedAfter,
  withFileLock,
} from "./path_owner.ts";

export {
  type FileOwner,
  MAX_PREVIOUS_OWNERS,
  ownerNote,
  ownerPath,
  readOwner,
} from "./path_owner.ts";

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
 * Where a run's file goes when its fixed output path (a `path` without `{run}`, such as
 * `latest.csv`) is held by a run that started later: the default per-run place with the fixed
 * file's name (`runs/<run>/latest.csv`). Undefined when `path` is per run (has `{run}`) or absent:
 * no other run writes there. Throws as {@linkcode resolveOutputPath} does.
 */
export function ownOutputPath(options: OutputPathOptions): string | undefined {
  if (options.path === undefined || options.path.includes("{run}")) return undefined;
  const fixed = resolveOutputPath(options);
  const own = resolveOutputPath({ ...options, path: undefined, defaultName: basename(fixed) });
  return own === fixed ? undefined : own;
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

/** Options of {@linkcode writePart}. */
export interface WritePartOptions extends PartScope {
  /**
   * Which call of the chunk writes (`ctx.part`, default 0): a chunk the stage's `chunk:` splits
   * into several calls has a part file per call, joined in call order after the chunk's first.
   */
  part?: number;
}

/** Part file names: the chunk (10 digits), then `-` and the part (6 digits) when above 0. */
const PART_NAME = /^(\d{10})(?:-(\d{6}))?\.part$/;

function partName(chunk: number, part = 0): string {
  if (!Number.isInteger(chunk) || chunk < 0) {
    throw new RangeError(`part files: chunk must be a whole number >= 0, got ${chunk}`);
  }
  if (!Number.isInteger(part) || part < 0 || part > 999_999) {
    throw new RangeError(`part files: part must be a whole number from 0 to 999999, got ${part}`);
  }
  const c = String(chunk).padStart(10, "0");
  return part === 0 ? `${c}.part` : `${c}-${String(part).padStart(6, "0")}.part`;
}

/** A part file's chunk and part, from its name. */
interface PartFile {
  name: string;
  chunk: number;
  part: number;
}

const enc = new TextEncoder();

/** Writes (or overwrites, on retry) the part of `chunk` (and `options.part`) for `finalPath`. */
export async function writePart(
  finalPath: string,
  chunk: number,
  content: string | Uint8Array,
  options: WritePartOptions = {},
): Promise<void> {
  const dir = partsDir(finalPath, options.run);
  await makeFolderDurably(dir);
  await writeFileDurably(join(dir, partName(chunk, options.part)), content);
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
  /**
   * This run's own place for its file ({@linkcode ownOutputPath}): given with `run` and
   * `runStartedAt`, `finalPath` is a fixed path shared by runs. It then keeps the file of the
   * most recently started run that finished: an owner record (`<finalPath>.owner.json`) names
   * that run, and when it started after this run, this run's file is written here instead
   * (and {@linkcode FinalizeResult.newerRun} says so).
   */
  ownPath?: string;
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
  /**
   * The file holding this run's rows: the final file, or `ownPath` when a run that started later
   * holds the final file ({@linkcode newerRun}). This is the file to offer for download.
   */
  path: string;
  /** Part files concatenated (0 when already finalized earlier). */
  parts: number;
  /** Chunks whose parts were concatenated (fewer than `parts` when calls split chunks). */
  chunks: number;
  /** True when an earlier `finish` had already produced the file. */
  alreadyDone: boolean;
  /** The run holding the fixed final file, when it started after this run (see `ownPath`). */
  newerRun?: FileOwner;
  /**
   * True when an earlier `finish` of this run wrote the fixed final file and a run that started
   * later has since replaced it: no file holds this run's rows any more (`path` is the final
   * file, now the newer run's; offer nothing).
   */
  replaced?: boolean;
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
 * With `ownPath` (a fixed path shared by runs), see {@linkcode FinalizeOptions.ownPath}.
 */
export async function finalizeParts(
  finalPath: string,
  options: FinalizeOptions = {},
): Promise<FinalizeResult> {
  const fixed = options.ownPath !== undefined && options.run !== undefined &&
    options.runStartedAt !== undefined;
  const dir = partsDir(finalPath, options.run);
  const files: PartFile[] = [];
  if (await exists(dir)) {
    for await (const e of Deno.readDir(dir)) {
      const m = e.isFile ? PART_NAME.exec(e.name) : null;
      if (m) files.push({ name: e.name, chunk: Number(m[1]), part: Number(m[2] ?? 0) });
    }
  } else if (fixed) {
    const done = await finishedEarlier(finalPath, options.ownPath!, options.run!);
    if (done) return done;
  } else if (await finishedByThisRun(finalPath, options.runStartedAt)) {
    return { path: finalPath, parts: 0, chunks: 0, alreadyDone: true };
  }
  files.sort((a, b) => a.chunk - b.chunk || a.part - b.part);
  const chunks = new Set(files.map((f) => f.chunk)).size;
  if (options.prepass) {
    for (const f of files) await options.prepass(await Deno.readFile(join(dir, f.name)), f.chunk);
  }
  const fill = async (write: (bytes: Uint8Array) => Promise<void>) => {
    if (options.bom) await write(new Uint8Array([0xef, 0xbb, 0xbf]));
    const header = typeof options.header === "function" ? options.header() : options.header;
    if (header !== undefined) {
      await write(typeof header === "string" ? enc.encode(header) : header);
    }
    for (const f of files) {
      const data = await Deno.readFile(join(dir, f.name));
      await write(options.mapPart ? await options.mapPart(data, f.chunk) : data);
    }
    if (options.after) await write(await options.after());
  };
  let result: FinalizeResult = { path: finalPath, parts: files.length, chunks, alreadyDone: false };
  if (!fixed) {
    await makeFolderDurably(dirname(finalPath));
    // The final file's name is on disk (its folder synced) before the parts it replaces go.
    await writeFileDurablyWith(finalPath, fill);
  } else {
    // The file is built among this run's parts, then (holding the path's lock) renamed to the
    // final file when this run started after its owner, else to this run's own place.
    const staged = join(dir, "final.out");
    await makeFolderDurably(dir);
    await writeFileDurablyWith(staged, fill);
    const me = { run: options.run!, startedAt: options.runStartedAt! };
    result = await withFileLock(finalPath, async () => {
      const owner = await readOwner(finalPath);
      if (owner && owner.run !== me.run && !startedAfter(me, owner)) {
        await makeFolderDurably(dirname(options.ownPath!));
        await Deno.rename(staged, options.ownPath!);
        await syncFolder(dirname(options.ownPath!));
        return {
          path: options.ownPath!,
          parts: files.length,
          chunks,
          alreadyDone: false,
          newerRun: owner,
        };
      }
      // The owner record first: once it names this run, no older run takes the path, and a
      // crash before the rename below leaves this run's parts to finish again.
      if (owner?.run !== me.run) {
        const previous = owner
          ? [owner.run, ...(owner.previous ?? [])].slice(0, MAX_PREVIOUS_OWNERS)
          : [];
        await writeFileDurably(ownerPath(finalPath), JSON.stringify({ ...me, previous }) + "\n");
      }
      await Deno.rename(staged, finalPath);
      await syncFolder(dirname(finalPath));
      return { path: finalPath, parts: files.length, chunks, alreadyDone: false };
    });
  }
  if (!options.keepParts) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    // The shared folder goes once no run has parts left in it.
    if (options.run !== undefined) await Deno.remove(partsDir(finalPath)).catch(() => {});
  }
  return result;
}

/**
 * For a fixed path, whether an earlier `finish` of `run` (its parts are gone) already placed its
 * file: at the final file (owned by it), at its own place (a newer run owned the final file), or
 * at the final file since replaced by a newer run. Undefined when it never finished (a run without
 * chunks): its header-only file is still to be written.
 */
async function finishedEarlier(
  finalPath: string,
  ownPath: string,
  run: string,
): Promise<FinalizeResult | undefined> {
  const owner = await readOwner(finalPath);
  if (owner?.run === run && await exists(finalPath)) {
    return { path: finalPath, parts: 0, chunks: 0, alreadyDone: true };
  }
  if (owner && await exists(ownPath)) {
    return { path: ownPath, parts: 0, chunks: 0, alreadyDone: true, newerRun: owner };
  }
  if (owner?.previous?.includes(run)) {
    return {
      path: finalPath,
      parts: 0,
      chunks: 0,
      alreadyDone: true,
      newerRun: owner,
      replaced: true,
    };
  }
  return undefined;
}
