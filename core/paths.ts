/**
 * Path helpers over `node:path` and `node:url` (no @std/path: JSR is unreachable).
 * @module
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";

/** Joins path segments. */
export const join: (...parts: string[]) => string = path.join;
/** Resolves to an absolute path. */
export const resolve: (...parts: string[]) => string = path.resolve;
/** Parent folder of a path. */
export const dirname: (p: string) => string = path.dirname;
/** Last segment of a path. */
export const basename: (p: string, ext?: string) => string = path.basename;
/** Relative path from `from` to `to`. */
export const relative: (from: string, to: string) => string = path.relative;
/** Whether a path is absolute. */
export const isAbsolute: (p: string) => boolean = path.isAbsolute;

/** A `file:` URL for a path. */
export function toFileUrl(p: string): URL {
  return pathToFileURL(p);
}

/** The repository root (folder holding `deno.json`). */
export const ROOT: string = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

/**
 * How a run record keeps the path of a file in the data folder (its upload, webhook body or
 * snapshot of the source's file): relative to `dataDir`, so a data folder restored or mounted at
 * another path, or a worker with a data folder of its own on a shared PostgreSQL store, finds the
 * file under its own data folder. A file outside the data folder (`sluice run --input`) keeps its
 * absolute path, as does every path when there is no `dataDir`. Read back with
 * {@linkcode inDataDir}.
 */
export function dataRelative(dataDir: string | undefined, file: string): string {
  if (dataDir === undefined) return file;
  const rel = path.relative(path.resolve(dataDir), path.resolve(file));
  const outside = rel === "" || rel === ".." || rel.startsWith(`..${path.sep}`) ||
    path.isAbsolute(rel);
  return outside ? file : rel;
}

/**
 * The absolute path of a path a run record keeps ({@linkcode dataRelative}): a relative one lies in
 * `dataDir`; an absolute one (a file outside the data folder, or a record written before paths were
 * kept relative) is itself.
 */
export function inDataDir(dataDir: string, stored: string): string {
  return path.resolve(dataDir, stored);
}
