/**
 * Chunk item data of the embedded store as files beside the Deno KV file. A chunk's output is
 * hundreds of KB of JSON per stage; in KV values (64 KiB parts) it cost SQLite about 20 ms of CPU
 * per MB written and read back, more than any plugin but the prober in the flagship pipeline. A
 * file per chunk output costs a write, an fsync and a read.
 *
 * Crash safety: a file is written and synced under a name no other attempt uses (a random token)
 * before the KV commit that marks the chunk done and names the token. A crash before the commit
 * leaves an unreferenced file (removed with its run); a commit that loses to another attempt
 * removes its own file. A done mark therefore always names a complete file.
 *
 * Syncing a file's data does not make its name durable: after a power loss the file could be
 * gone from its folder on some file systems (XFS, btrfs, ext4 without its ordered journal) while
 * the KV commit, which SQLite syncs, names it. So the run's folder is synced too before `write`
 * returns (and, when the run's folder is new, the chunk folder and the data folder that hold it).
 * Writes that finish while a folder's sync is running share the next one, so a busy run pays
 * about one folder sync per batch of concurrent commits, not one per chunk.
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { FolderSyncs } from "../../sdk/io/durable_files.ts";

/** Options of {@linkcode ChunkFiles}. */
export interface ChunkFilesOptions {
  /** Syncs a folder's entries (default: `syncFolder` of `sdk/io/durable_files.ts`; tests record the calls). */
  syncFolder?: (path: string) => Promise<void>;
}

/** The chunk folder of the KV file at `kvPath` (`<kvPath>.chunks`). */
export function chunkDirFor(kvPath: string): string {
  return `${kvPath}.chunks`;
}

/** Chunk output files under one folder: `<dir>/<run id>/<stage>-<chunk>-<token>.json`. */
export class ChunkFiles {
  #dir: string;
  #made = new Set<string>();
  #folders: FolderSyncs;

  constructor(dir: string, opts: ChunkFilesOptions = {}) {
    this.#dir = dir;
    this.#folders = new FolderSyncs(opts.syncFolder);
  }

  /** The folder. */
  get dir(): string {
    return this.#dir;
  }

  /** Path of a chunk output written with `token`. */
  path(runId: string, stage: number, chunk: number, token: string): string {
    return join(this.#dir, safeName(runId), `${stage}-${chunk}-${token}.json`);
  }

  /** Writes a new file (never replaces one) and syncs it and its name (see the module doc). */
  async write(
    runId: string,
    stage: number,
    chunk: number,
    token: string,
    bytes: Uint8Array | readonly Uint8Array[],
  ): Promise<void> {
    const runDir = join(this.#dir, safeName(runId));
    if (!this.#made.has(runDir)) {
      await Deno.mkdir(runDir, { recursive: true });
      // The run's folder (and a new chunk folder) must outlive a power loss like the files in it.
      await Promise.all([
        this.#folders.sync(this.#dir),
        this.#folders.sync(dirname(this.#dir)),
      ]);
      this.#made.add(runDir);
      if (this.#made.size > 1000) this.#made.delete(this.#made.values().next().value!);
    }
    const file = await Deno.open(this.path(runId, stage, chunk, token), {
      write: true,
      createNew: true,
    });
    try {
      for (const piece of Array.isArray(bytes) ? bytes : [bytes]) {
        for (let at = 0; at < piece.length;) at += await file.write(piece.subarray(at));
      }
      await file.syncData();
    } finally {
      file.close();
    }
    await this.#folders.sync(runDir);
  }

  /** Reads a chunk output; a missing file is a corrupt store (its done mark names it). */
  async read(runId: string, stage: number, chunk: number, token: string): Promise<Uint8Array> {
    const path = this.path(runId, stage, chunk, token);
    try {
      return await Deno.readFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new Error(
        `store corrupt: chunk ${chunk} of stage ${stage} of run ${runId} is marked done but its ` +
          `file ${path} is missing (restore the data folder from the same backup as the KV file, ` +
          `or delete the run)`,
      );
    }
  }

  /** Removes one file if it exists (a commit that lost to another attempt). */
  async remove(runId: string, stage: number, chunk: number, token: string): Promise<void> {
    await Deno.remove(this.path(runId, stage, chunk, token)).catch(() => {});
  }

  /** Removes every file of a run. */
  async removeRun(runId: string): Promise<void> {
    const runDir = join(this.#dir, safeName(runId));
    this.#made.delete(runDir);
    await Deno.remove(runDir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

/** A run id as one path segment (ids are generated, but a store must not trust them). */
function safeName(runId: string): string {
  if (/^[A-Za-z0-9_-]{1,200}$/.test(runId)) return runId;
  return `~${createHash("sha256").update(runId).digest("hex")}`;
}
