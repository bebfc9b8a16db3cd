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
