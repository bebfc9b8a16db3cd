/**
 * Previous versions of pipeline files, kept as `<dir>/.versions/<name>/<timestamp>.yaml` where
 * the timestamp is UTC in the form `20250102T030405123Z` (sortable, safe in file names). A version
 * is on disk (data and name synced) before the file it keeps is replaced.
 * @module
 */
import { join } from "../paths.ts";
import { createFileDurably, makeFolderDurably } from "../../sdk/io/durable_files.ts";

/** One saved version of a pipeline file. */
export interface PipelineVersion {
  /** The version's id: its timestamp, e.g. `20250102T030405123Z` (with `-N` on collisions). */
  id: string;
  /** When it was replaced or removed (epoch ms). */
  savedAt: number;
  /** Path of the saved copy. */
  path: string;
  /** Size in bytes. */
  size: number;
}

const VERSION_ID = /^(\d{8}T\d{9}Z)(-\d+)?$/;

/** The folder holding versions of pipeline `name`. */
export function versionsDir(dir: string, name: string): string {
  return join(dir, ".versions", name);
}

/** Formats epoch ms as a version timestamp: `20250102T030405123Z`. */
export function versionStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, "");
}

function parseStamp(id: string): number {
  const m = VERSION_ID.exec(id);
  if (!m) return NaN;
  const s = m[1];
  return Date.UTC(
    +s.slice(0, 4),
    +s.slice(4, 6) - 1,
    +s.slice(6, 8),
    +s.slice(9, 11),
    +s.slice(11, 13),
    +s.slice(13, 15),
    +s.slice(15, 18),
  );
}

/** Saves `text` as a new version of `name` stamped `now`; returns it. */
export async function saveVersion(
  dir: string,
  name: string,
  text: string,
  now: number,
): Promise<PipelineVersion> {
  const folder = versionsDir(dir, name);
  await makeFolderDurably(folder);
  const stamp = versionStamp(now);
  for (let n = 0;; n++) {
    const id = n === 0 ? stamp : `${stamp}-${n}`;
    const path = join(folder, `${id}.yaml`);
    try {
      await createFileDurably(path, text);
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) continue;
      throw e;
    }
    return { id, savedAt: now, path, size: new TextEncoder().encode(text).length };
  }
}

/** Versions of `name`, newest first (empty when there are none). */
export async function listVersions(dir: string, name: string): Promise<PipelineVersion[]> {
  const folder = versionsDir(dir, name);
  const out: PipelineVersion[] = [];
  try {
    for await (const e of Deno.readDir(folder)) {
      if (!e.isFile || !e.name.endsWith(".yaml")) continue;
      const id = e.name.slice(0, -5);
      const savedAt = parseStamp(id);
      if (Number.isNaN(savedAt)) continue;
      const path = join(folder, e.name);
      out.push({ id, savedAt, path, size: (await Deno.stat(path)).size });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  const seq = (id: string) => Number(VERSION_ID.exec(id)?.[2]?.slice(1) ?? 0);
  return out.sort((a, b) => b.savedAt - a.savedAt || seq(b.id) - seq(a.id));
}

/** The text of version `id` of `name`; throws `Deno.errors.NotFound` when there is none. */
export async function readVersion(dir: string, name: string, id: string): Promise<string> {
  if (!VERSION_ID.test(id)) {
    throw new Deno.errors.NotFound(
      `version "${id}" of pipeline ${name} does not exist: version ids look like 20250102T030405123Z`,
    );
  }
  try {
    return await Deno.readTextFile(join(versionsDir(dir, name), `${id}.yaml`));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `version ${id} of pipeline ${name} does not exist; list versions with the history API`,
      );
    }
    throw e;
  }
}

/** Deletes all but the newest `keep` versions of `name`. */
export async function pruneVersions(dir: string, name: string, keep: number): Promise<void> {
  const all = await listVersions(dir, name);
  for (const v of all.slice(keep)) await Deno.remove(v.path).catch(() => {});
}
