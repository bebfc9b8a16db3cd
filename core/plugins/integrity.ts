/**
 * Content hashes of plugin folders, as pinned in `plugins.lock`.
 *
 * The hash is SHA-256 over every file of the folder, in the order of their relative paths
 * (`/`-separated, sorted by UTF-16 code units). Each file contributes
 * `path NUL size NUL bytes`; a symlink contributes `path NUL "symlink" NUL target` so replacing
 * a file by a link changes the hash. Empty folders do not count. The result is written as
 * `sha256-<base64>` (Subresource-Integrity style).
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { join } from "node:path";

/** One entry of a plugin folder as seen by the hash. */
export interface FolderEntry {
  /** Path relative to the folder, `/`-separated. */
  path: string;
  /** `file` for a regular file, `symlink` for a link (never followed). */
  type: "file" | "symlink";
}

/** Folders never copied into an install nor hashed. */
export const SKIPPED_FOLDERS: ReadonlySet<string> = new Set([".git", "node_modules"]);

/** Lists every file and symlink under `dir` (not following links), sorted by path. */
export function listFolderSync(dir: string): FolderEntry[] {
  const out: FolderEntry[] = [];
  const walk = (rel: string) => {
    for (const e of Deno.readDirSync(rel ? join(dir, rel) : dir)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymlink) out.push({ path, type: "symlink" });
      else if (e.isDirectory) {
        if (!SKIPPED_FOLDERS.has(e.name)) walk(path);
      } else if (e.isFile) out.push({ path, type: "file" });
    }
  };
  walk("");
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Async twin of {@linkcode listFolderSync}. */
export async function listFolder(dir: string): Promise<FolderEntry[]> {
  const out: FolderEntry[] = [];
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? join(dir, rel) : dir)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isSymlink) out.push({ path, type: "symlink" });
      else if (e.isDirectory) {
        if (!SKIPPED_FOLDERS.has(e.name)) await walk(path);
      } else if (e.isFile) out.push({ path, type: "file" });
    }
  };
  await walk("");
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const enc = new TextEncoder();

function feed(hash: Hash, path: string, kind: string, body: Uint8Array) {
  hash.update(enc.encode(`${path}\0${kind}\0`));
  hash.update(body);
}

/** The result of hashing a folder: its integrity string and the files it covered. */
export interface FolderHash {
  /** `sha256-<base64>`. */
  integrity: string;
  /** The entries that went into the hash. */
  entries: FolderEntry[];
  /** Contents of the files that were hashed, by path, when asked for with `keep`. */
  kept: Map<string, Uint8Array>;
}

/**
 * Hashes `dir` synchronously (used by `Registry.resolve`, which is synchronous). Paths listed in
 * `keep` have their bytes returned, so callers can parse exactly what was hashed.
 */
export function hashFolderSync(dir: string, keep: string[] = []): FolderHash {
  const hash = createHash("sha256");
  const entries = listFolderSync(dir);
  const kept = new Map<string, Uint8Array>();
  for (const e of entries) {
    const full = join(dir, e.path);
    if (e.type === "symlink") {
      feed(hash, e.path, "symlink", enc.encode(Deno.readLinkSync(full)));
      continue;
    }
    const bytes = Deno.readFileSync(full);
    feed(hash, e.path, String(bytes.byteLength), bytes);
    if (keep.includes(e.path)) kept.set(e.path, bytes);
  }
  return { integrity: `sha256-${hash.digest("base64")}`, entries, kept };
}

/** Hashes `dir` (see the module doc for the exact encoding) and returns `sha256-<base64>`. */
export async function hashFolder(dir: string): Promise<string> {
  const hash = createHash("sha256");
  for (const e of await listFolder(dir)) {
    const full = join(dir, e.path);
    if (e.type === "symlink") {
      feed(hash, e.path, "symlink", enc.encode(await Deno.readLink(full)));
      continue;
    }
    const bytes = await Deno.readFile(full);
    feed(hash, e.path, String(bytes.byteLength), bytes);
  }
  return `sha256-${hash.digest("base64")}`;
}

/**
 * Checks `bytes` against a Subresource-Integrity string such as npm's `dist.integrity`
 * (`sha512-<base64>`; several space-separated hashes are allowed, the strongest known one is
 * used) or, when `sri` is a 40-hex-digit string, a SHA-1 `shasum`. Returns the error text, or
 * `undefined` when the bytes match.
 */
export function checkSri(bytes: Uint8Array, sri: string): string | undefined {
  const sri1 = sri.trim();
  if (/^[0-9a-f]{40}$/i.test(sri1)) {
    const got = createHash("sha1").update(bytes).digest("hex");
    return got === sri1.toLowerCase() ? undefined : `sha1 ${got} does not match ${sri1}`;
  }
  const order = ["sha512", "sha384", "sha256"];
  const parts = sri1.split(/\s+/).map((p) => {
    const dash = p.indexOf("-");
    return { algo: p.slice(0, dash), value: p.slice(dash + 1).split("?")[0] };
  }).filter((p) => order.includes(p.algo)).sort((a, b) =>
    order.indexOf(a.algo) - order.indexOf(b.algo)
  );
  if (parts.length === 0) return `no sha512, sha384 or sha256 hash in integrity "${sri}"`;
  const { algo, value } = parts[0];
  const got = createHash(algo).update(bytes).digest("base64");
  return got === value ? undefined : `${algo}-${got} does not match ${algo}-${value}`;
}
