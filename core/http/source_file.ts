/**
 * A pipeline's source file: the file its source (`csv-source`, `jsonl-source`) reads from its
 * `with.path` when a run has no input file of its own, as every scheduled run does. It lies in
 * the source plugin's data folder (`<dataDir>/plugin-data/<plugin>/`); this module finds it as a
 * run does, describes it (size, time, CSV header and row count) and replaces it atomically (a
 * synced temp file renamed over it), so people who cannot reach the server's disk can provide
 * the list a weekly schedule reads.
 * @module
 */
import { type SourcePath, sourcePath } from "../engine/prepare.ts";
import type { Pipeline } from "../pipeline/model.ts";
import { type PluginRegistry, resolvePluginRef } from "../plugins/manifest.ts";
import { basename, dirname, relative } from "../paths.ts";
import { isInside } from "../../sdk/runtime/sandbox_args.ts";
import { makeFolderDurably, writeFileDurablyWith } from "../../sdk/io/durable_files.ts";
import type { PipelineEntry } from "./deps.ts";
import { HttpProblem } from "./problem.ts";
import { copyUpload } from "./run_upload.ts";

/** A pipeline's source file, located (it may not exist yet). */
export interface SourceFileTarget {
  /** The pipeline's name. */
  pipeline: string;
  /** The source's plugin reference as the pipeline gives it (`csv-source@^1`). */
  source: string;
  /** The source plugin's name (`csv-source`). */
  plugin: string;
  /** The media types the source reads (its manifest's `accepts`). */
  accepts: string[];
  /** `with.path` as the pipeline gives it. */
  path: string;
  /** The absolute path of the file. */
  file: string;
  /** The source plugin's data folder. */
  folder: string;
  /** The file's path relative to the Sluice data folder (`plugin-data/csv-source/x.csv`). */
  location: string;
}

/** What {@link sourceFileInfo} tells about a source file. */
export interface SourceFileInfo {
  pipeline: string;
  source: string;
  plugin: string;
  accepts: string[];
  path: string;
  location: string;
  /** The file's own name (the base name of `path`), for downloads. */
  name: string;
  exists: boolean;
  bytes: number | null;
  /** Last modification, ISO 8601 (null when the file does not exist). */
  modifiedAt: string | null;
  /** A CSV file's first line (its header), without the line break; null otherwise. */
  header: string | null;
  /**
   * Rows: a CSV file's records after the header (quoted line breaks do not end one), a JSON
   * lines file's non-empty lines; null when there is no file or it is larger than
   * {@link COUNT_LIMIT} (not counted).
   */
  rows: number | null;
}

/** Files up to this size have their rows counted by {@link sourceFileInfo} (32 MiB). */
export const COUNT_LIMIT = 32 * 1024 * 1024;

/** Most bytes of a CSV file's first line that are shown as its header. */
const HEADER_MAX = 8 * 1024;

/** An example of a source with a `with.path`, for messages. */
function example(source: string, accepts: readonly string[]): string {
  const file = accepts.includes("text/csv") ? "crm-export.csv" : "items.jsonl";
  return `source: { plugin: ${source}, with: { path: ${file} } }`;
}

/**
 * The pipeline whose source file counts: the file's own when it is valid, else the last good
 * version that its schedules keep running; a 422 when it never was valid.
 */
function pipelineOf(entry: PipelineEntry): Pipeline {
  const p = entry.pipeline ?? entry.lastGood?.pipeline;
  if (!p) {
    throw new HttpProblem(
      422,
      `pipeline ${entry.name}'s file has ${entry.problems.length} problem(s) and never was ` +
        `valid, so it has no source file yet: fix it first (see GET /api/v1/pipelines/${entry.name})`,
    );
  }
  return p;
}

/**
 * Locates the source file of `entry` as a run without an input file reads it, or refuses with a
 * 422 that says what to change: a source that reads no input file (no `accepts` in its
 * manifest), no `with.path` (with an example to add), a templated path (a different file per
 * run), a path outside the plugin's data folder, a source plugin that is not installed.
 */
export function sourceFileTarget(
  entry: PipelineEntry,
  registry: PluginRegistry,
  dataDir: string,
): SourceFileTarget {
  const pipeline = pipelineOf(entry);
  const ref = pipeline.source.plugin;
  const plugin = resolvePluginRef(registry, ref)?.manifest;
  if (!plugin) {
    throw new HttpProblem(
      422,
      `pipeline ${entry.name}'s source plugin ${ref} is not installed, so where its file lies ` +
        "is unknown: install the plugin (sluice plugin install) or change the source",
    );
  }
  const accepts = plugin.accepts ?? [];
  if (!accepts.length) {
    throw new HttpProblem(
      422,
      `pipeline ${entry.name}'s source ${plugin.name} reads no input file (its manifest lists ` +
        "no media types it accepts), so it has no source file to show or replace",
    );
  }
  const given = pipeline.source.with?.path;
  if (typeof given !== "string" || given === "") {
    throw new HttpProblem(
      422,
      `pipeline ${entry.name}'s source ${ref} has no with.path, so runs without an uploaded ` +
        "file (scheduled runs) have no file to read and there is none to replace: add one to " +
        `the pipeline's source, e.g. \`${example(ref, accepts)}\` (a path relative to the ` +
        `plugin's data folder plugin-data/${plugin.name}/), then upload the file here`,
    );
  }
  if (given.includes("${{")) {
    throw new HttpProblem(
      422,
      `pipeline ${entry.name}'s source reads with.path ${JSON.stringify(given)}, a template that ` +
        "may name another file in each run, so there is no one file to show or replace: give a " +
        `fixed path relative to the plugin's data folder, e.g. \`${example(ref, accepts)}\``,
    );
  }
  const p = sourcePath(pipeline, registry, dataDir) as SourcePath;
  if (!p.inside) {
    throw new HttpProblem(
      422,
      `pipeline ${entry.name}'s source reads with.path ${JSON.stringify(given)}, which leads ` +
        `outside the plugin's data folder (plugin-data/${plugin.name}/): only files in that ` +
        "folder can be shown or replaced here; give a path relative to it, e.g. " +
        `\`${example(ref, accepts)}\``,
    );
  }
  return {
    pipeline: entry.name,
    source: ref,
    plugin: plugin.name,
    accepts: [...accepts],
    path: given,
    file: p.file,
    folder: p.folder,
    location: relative(dataDir, p.file).replaceAll("\\", "/"),
  };
}

/** True when `path` (or, while it does not exist, its nearest existing folder) is in `folder`. */
async function realInside(folder: string, path: string): Promise<boolean> {
  let realFolder: string;
  try {
    realFolder = await Deno.realPath(folder);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return true; // nothing there to lead elsewhere
    throw e;
  }
  for (let p = path;;) {
    try {
      return isInside(realFolder, await Deno.realPath(p));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const up = dirname(p);
      if (up === p) return false;
      p = up;
    }
  }
}

/** Refuses (422) a file that a link leads outside the plugin's data folder. */
async function needRealInside(t: SourceFileTarget): Promise<void> {
  if (await realInside(t.folder, t.file)) return;
  throw new HttpProblem(
    422,
    `the source file of pipeline ${t.pipeline} (${t.location}) is a link that leads outside ` +
      `the plugin's data folder plugin-data/${t.plugin}/: replace the link with the file itself`,
  );
}

/** The file's status, or undefined when nothing is there. */
async function statOf(file: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Counts a CSV file's records (quote-aware) or a JSON lines file's non-empty lines. */
async function countRows(f: Deno.FsFile, csv: boolean): Promise<number> {
  await f.seek(0, Deno.SeekMode.Start);
  let records = 0;
  let quoted = false;
  let content = false; // the current record has something besides line breaks and blanks
  const buf = new Uint8Array(64 * 1024);
  for (let n; (n = await f.read(buf)) !== null;) {
    for (const b of buf.subarray(0, n)) {
      if (csv && b === 0x22) quoted = !quoted;
      if (b === 0x0a && !quoted) {
        if (content) records++;
        content = false;
      } else if (b !== 0x0d && b !== 0x20 && b !== 0x09) {
        content = true;
      }
    }
  }
  if (content) records++;
  return csv ? Math.max(0, records - 1) : records;
}

/** A CSV file's first line, without its line break and a byte order mark. */
async function firstLine(f: Deno.FsFile): Promise<string> {
  await f.seek(0, Deno.SeekMode.Start);
  const buf = new Uint8Array(HEADER_MAX);
  let n = 0;
  while (n < buf.length) {
    const got = await f.read(buf.subarray(n));
    if (got === null) break;
    n += got;
    if (buf.subarray(0, n).includes(0x0a)) break;
  }
  // The first line alone: the bytes read after it may end inside a character of a later row,
  // which would make a UTF-8 file fail the check below (a Cyrillic header read as Windows-1252).
  const end = buf.subarray(0, n).indexOf(0x0a);
  const bytes = buf.subarray(0, end >= 0 ? end : n);
  let text: string;
  try {
    // `stream`: a first line longer than HEADER_MAX may be cut inside a character.
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: end < 0 });
  } catch {
    // Not UTF-8 (or cut inside a character): CSV exports of Excel are often Windows-1252.
    text = new TextDecoder("windows-1252").decode(bytes);
  }
  return text.split(/\r?\n/)[0].replace(/^\uFEFF/, "");
}

/**
 * Why the source file of `t` could not be read (a permission error, a file where a folder is on
 * its path, a link loop), as a problem: the operator's to fix, so it says what failed and where,
 * in the data folder's terms (the system's message without the absolute path).
 */
function unreadable(t: SourceFileTarget, e: unknown): HttpProblem {
  const err = e as Error & { code?: string };
  const reason = (err?.message ?? String(e)).replace(/:\s[\s\S]*$/, "");
  const code = typeof err?.code === "string" && !reason.includes(err.code) ? ` [${err.code}]` : "";
  return new HttpProblem(
    500,
    `the source file of pipeline ${t.pipeline} (${t.location}) could not be read: ` +
      `${reason}${code}; the operator must make it (and the folders on its way) readable by ` +
      "the user Sluice runs as, or replace it",
    { extra: { location: t.location, ...(err?.code ? { code: err.code } : {}) } },
  );
}

/** Describes the source file of `t`: whether it exists, its size and time, header and rows. */
export async function sourceFileInfo(t: SourceFileTarget): Promise<SourceFileInfo> {
  try {
    return await describe(t);
  } catch (e) {
    if (e instanceof HttpProblem) throw e;
    throw unreadable(t, e);
  }
}

/** What reading a file's content tells: its header (CSV) and row count (null: not counted). */
interface Contents {
  header: string | null;
  rows: number | null;
}

/** Most files whose {@link Contents} {@link contentsCache} keeps. */
export const CONTENTS_CACHE_MAX = 64;

/**
 * Header and row count of the files read lately, by file, kind, size, modification time and
 * inode: a page view of an unchanged file reads nothing (counting 32 MiB takes ~0.3 s); a file
 * replaced (renamed over: another inode, size or time) or changed is read again. At most
 * {@link CONTENTS_CACHE_MAX} files, the least recently used dropped first.
 */
const contentsCache = new Map<string, Contents>();

/** Empties {@link contentsCache} (tests). */
export function clearContentsCache(): void {
  contentsCache.clear();
}

/** The header and rows of the open file `f` (status `st`), from the cache when unchanged. */
async function contentsOf(
  file: string,
  f: Deno.FsFile,
  st: Deno.FileInfo,
  csv: boolean,
): Promise<Contents> {
  const key = JSON.stringify([file, csv, st.size, st.mtime?.getTime() ?? null, st.ino, st.dev]);
  const cached = contentsCache.get(key);
  if (cached) {
    contentsCache.delete(key); // most recently used last
    contentsCache.set(key, cached);
    return cached;
  }
  const got: Contents = {
    header: csv ? await firstLine(f) : null,
    rows: st.size <= COUNT_LIMIT ? await countRows(f, csv) : null,
  };
  // An earlier version of the same file is of no use any more.
  const prefix = JSON.stringify([file, csv]).slice(0, -1) + ",";
  for (const k of contentsCache.keys()) if (k.startsWith(prefix)) contentsCache.delete(k);
  contentsCache.set(key, got);
  while (contentsCache.size > CONTENTS_CACHE_MAX) {
    contentsCache.delete(contentsCache.keys().next().value!);
  }
  return got;
}

async function describe(t: SourceFileTarget): Promise<SourceFileInfo> {
  await needRealInside(t);
  const csv = t.accepts.includes("text/csv");
  let st = await statOf(t.file);
  let contents: Contents = { header: null, rows: null };
  if (st?.isFile) {
    // Status and content of one open file: one replaced meanwhile is described as it is now.
    let f: Deno.FsFile | undefined;
    try {
      f = await Deno.open(t.file, { read: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      st = undefined; // removed since
    }
    if (f) {
      using file = f;
      st = await file.stat();
      if (st.isFile) contents = await contentsOf(t.file, file, st, csv);
    }
  }
  const exists = !!st?.isFile;
  return {
    pipeline: t.pipeline,
    source: t.source,
    plugin: t.plugin,
    accepts: t.accepts,
    path: t.path,
    location: t.location,
    name: basename(t.file),
    exists,
    bytes: exists ? st!.size : null,
    modifiedAt: exists && st!.mtime ? st!.mtime.toISOString() : null,
    header: exists ? contents.header : null,
    rows: exists ? contents.rows : null,
  };
}

/** Opens the source file of `t` for download; 404 when there is none yet. */
export async function openSourceFile(
  t: SourceFileTarget,
): Promise<{ body: ReadableStream<Uint8Array>; bytes: number }> {
  try {
    return await openIt(t);
  } catch (e) {
    if (e instanceof HttpProblem) throw e;
    throw unreadable(t, e);
  }
}

async function openIt(
  t: SourceFileTarget,
): Promise<{ body: ReadableStream<Uint8Array>; bytes: number }> {
  await needRealInside(t);
  const none = () =>
    new HttpProblem(
      404,
      `pipeline ${t.pipeline} has no source file yet (${t.location}): upload one with ` +
        `PUT /api/v1/pipelines/${t.pipeline}/source-file`,
    );
  let f: Deno.FsFile;
  try {
    f = await Deno.open(t.file, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw none();
    throw e;
  }
  // The size of the file opened: one replaced (renamed over) meanwhile stays the one sent.
  const st = await f.stat();
  if (!st.isFile) {
    f.close();
    throw none();
  }
  return { body: f.readable, bytes: st.size };
}

/** Options of {@link replaceSourceFile}. */
export interface ReplaceOptions {
  /** Most bytes taken (413 beyond). */
  max: number;
  /**
   * Checks the new file's first `headBytes` bytes once it is written, before it replaces the old
   * one; what it throws refuses the upload and leaves the old file as it was.
   */
  check?: (head: Uint8Array) => Promise<void>;
  /** How many bytes of the beginning `check` gets (default 64 KiB + 1). */
  headBytes?: number;
}

/**
 * Replaces the source file of `t` with `body` atomically: the bytes go to a temp file in the same
 * folder (created when missing), synced, checked (not empty, at most `max` bytes), then renamed
 * over the file and the folder synced. A failed upload leaves the old file as it was. Returns the
 * new file's size. Runs read their own snapshots of the file, taken whole when they were created
 * (`core/engine/source_snapshot.ts`), so nothing waits for them: a replacement, even while a
 * run's source is reading, changes only what the runs created after it read.
 */
export async function replaceSourceFile(
  t: SourceFileTarget,
  body: ReadableStream<Uint8Array>,
  o: ReplaceOptions,
): Promise<number> {
  const folder = dirname(t.file);
  // Checked first: making the folder follows a link on the way (a folder made outside).
  await needRealInside(t);
  await makeFolderDurably(folder);
  if ((await statOf(t.file))?.isDirectory) {
    throw new HttpProblem(
      409,
      `a folder is at pipeline ${t.pipeline}'s with.path (${t.location}), not a file: ` +
        "point with.path at a file in it, or ask the operator to remove the folder",
    );
  }
  let bytes = 0;
  const want = o.headBytes ?? 64 * 1024 + 1;
  const head: Uint8Array[] = [];
  let kept = 0;
  await writeFileDurablyWith(t.file, async (write) => {
    bytes = await copyUpload(
      body,
      async (chunk) => {
        if (o.check && kept < want) {
          const part = chunk.slice(0, want - kept);
          head.push(part);
          kept += part.length;
        }
        await write(chunk);
      },
      o.max,
      "send a smaller file",
    );
    if (bytes === 0) throw new HttpProblem(400, "the upload is empty: send the file's content");
    if (o.check) {
      const first = new Uint8Array(kept);
      let at = 0;
      for (const part of head) {
        first.set(part, at);
        at += part.length;
      }
      await o.check(first);
    }
  });
  return bytes;
}
