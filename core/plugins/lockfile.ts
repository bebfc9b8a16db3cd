/**
 * `plugins.lock`: the installed community plugins, pinned by version and content hash, with the
 * permissions the operator approved. Format (JSON):
 *
 * ```json
 * { "lockfileVersion": 1,
 *   "plugins": { "<name>": { "<version>": {
 *     "version": "1.2.0", "source": "npm:acme-rdap@1.2.0", "integrity": "sha256-…",
 *     "approved": { "net": ["rdap.org:443"], "read": [], "write": [], "env": [] },
 *     "installedAt": "2025-01-01T00:00:00.000Z" } } } }
 * ```
 *
 * The file is always replaced atomically (written to a temporary file beside it, then renamed).
 * @module
 */
import { z } from "zod";
import { dirname } from "node:path";
import { ManifestPermissions } from "./manifest.ts";
import { writeFileDurably } from "../../sdk/io/durable_files.ts";

/** One installed version of one plugin. */
export const LockEntry = z.strictObject({
  version: z.string(),
  /** Where it was installed from: a folder, a .tgz path, an https URL or `npm:name@version`. */
  source: z.string(),
  /** `sha256-<base64>` over the installed files (see `integrity.ts`). */
  integrity: z.string().regex(/^sha256-[A-Za-z0-9+/]+=*$/),
  /** The permissions the operator approved; the sandbox grants these, never more. */
  approved: ManifestPermissions,
  /** ISO timestamp of the installation. */
  installedAt: z.string(),
});
/** One installed version of one plugin. */
export type LockEntry = z.infer<typeof LockEntry>;

/** The whole lock file. */
export const LockFile = z.strictObject({
  lockfileVersion: z.literal(1),
  plugins: z.record(z.string(), z.record(z.string(), LockEntry)),
});
/** The whole lock file. */
export type LockFile = z.infer<typeof LockFile>;

/** An empty lock. */
export function emptyLock(): LockFile {
  return { lockfileVersion: 1, plugins: {} };
}

/** Reads `path`; a missing file is an empty lock. Throws a readable error on a broken file. */
export async function readLock(path: string): Promise<LockFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return emptyLock();
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${path}: not valid JSON (${(e as Error).message}). Restore it from a backup or remove ` +
        `it and reinstall your plugins with \`sluice plugin install\`.`,
    );
  }
  const parsed = LockFile.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new Error(
      `${path}: ${first.path.join(".") || "(top level)"}: ${first.message}. The lock file was ` +
        `edited by hand or by another Sluice version; restore it or reinstall the plugins.`,
    );
  }
  return parsed.data;
}

/** Serializes the lock with sorted names and versions, so diffs stay small. */
export function formatLock(lock: LockFile): string {
  const plugins: LockFile["plugins"] = {};
  for (const name of Object.keys(lock.plugins).sort()) {
    const versions = lock.plugins[name];
    if (Object.keys(versions).length === 0) continue;
    plugins[name] = {};
    for (const v of Object.keys(versions).sort()) plugins[name][v] = versions[v];
  }
  return JSON.stringify({ lockfileVersion: 1, plugins }, null, 2) + "\n";
}

/**
 * Writes the lock atomically and durably (`writeFileDurably`: temp file beside it, synced,
 * renamed over `path`, folder synced). A crash or power loss leaves either the old or the new
 * lock, never half of one.
 */
export async function writeLock(path: string, lock: LockFile): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeFileDurably(path, formatLock(lock), { mode: 0o644 });
}

/**
 * Reads the lock, applies `change` and writes it back atomically. Reading right before writing
 * keeps changes made meanwhile by another command.
 */
export async function updateLock(
  path: string,
  change: (lock: LockFile) => void,
): Promise<LockFile> {
  const lock = await readLock(path);
  change(lock);
  await writeLock(path, lock);
  return lock;
}
