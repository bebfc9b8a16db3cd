/**
 * Writing files so that they survive a power loss, not just a crash of the process: data synced
 * before a file is named in anything durable, and the folder synced after a new name appears in
 * it (syncing a file's data does not make its name durable on XFS, btrfs or ext4 without its
 * ordered journal). Folder syncs are shared by concurrent writers ({@linkcode FolderSyncs}).
 * @module
 */
import { basename, dirname, join } from "node:path";

/**
 * Syncs a folder's entries (the names of new files and folders in it) to disk. On Windows, where
 * a folder cannot be opened as a file and NTFS journals names itself, it does nothing.
 */
export async function syncFolder(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const dir = await Deno.open(path, { read: true });
  try {
    await dir.sync();
  } finally {
    dir.close();
  }
}

/**
 * Folder syncs shared by concurrent callers: a caller waits for a sync that starts after its
 * call (a sync already running may have missed its entry), and every caller that arrives while
 * one is running shares the single sync queued after it.
 */
export class FolderSyncs {
  #sync: (path: string) => Promise<void>;
  #state = new Map<string, { running?: Promise<void>; queued?: Promise<void> }>();

  constructor(sync: (path: string) => Promise<void> = syncFolder) {
    this.#sync = sync;
  }

  /** Resolves once a sync of `path` that started after this call has finished. */
  sync(path: string): Promise<void> {
    let s = this.#state.get(path);
    if (!s) this.#state.set(path, s = {});
    const state = s;
    if (state.queued) return state.queued;
    if (!state.running) return this.#start(path, state);
    const queued = state.running.catch(() => {}).then(() => {
      state.queued = undefined;
      return this.#start(path, state);
    });
    state.queued = queued;
    return queued;
  }

  #start(path: string, state: { running?: Promise<void>; queued?: Promise<void> }) {
    const running: Promise<void> = this.#sync(path).finally(() => {
      if (state.running !== running) return;
      state.running = undefined;
      if (!state.queued) this.#state.delete(path);
    });
    state.running = running;
    return running;
  }
}

const shared = new FolderSyncs();

/** Options of {@linkcode writeFileDurably}. */
export interface DurableWriteOptions {
  /** Folder syncs to share (default: the process's). */
  folders?: FolderSyncs;
  /** Permission bits of the new file (default: 0o666 less the umask). */
  mode?: number;
}

/**
 * Writes `data` to `path` so that after a crash or power loss `path` holds either its old content
 * or all of `data` (see {@linkcode writeFileDurablyWith}).
 */
export function writeFileDurably(
  path: string,
  data: Uint8Array | string,
  opts: DurableWriteOptions = {},
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return writeFileDurablyWith(path, (write) => write(bytes), opts);
}

/**
 * Writes what `fill` hands to its `write` to `path` so that after a crash or power loss `path`
 * holds either its old content or all of the new: a hidden temp file beside it
 * (`.<name>.<uuid>.tmp`, so folder watchers and listings by extension pass it by), synced,
 * renamed over `path`, then the folder synced. A failed write (`fill` throwing included) leaves
 * `path` as it was and no temp file behind.
 */
export async function writeFileDurablyWith(
  path: string,
  fill: (write: (bytes: Uint8Array) => Promise<void>) => Promise<void>,
  opts: DurableWriteOptions = {},
): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true, mode: opts.mode });
    try {
      await fill(async (bytes) => {
        for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
      });
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await (opts.folders ?? shared).sync(dirname(path));
}

/**
 * Creates `path` with `data`, failing with `Deno.errors.AlreadyExists` when it exists, and makes
 * both durable: the data synced, then the folder. A failed write removes the partial file.
 */
export async function createFileDurably(
  path: string,
  data: Uint8Array | string,
  folders: FolderSyncs = shared,
): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const file = await Deno.open(path, { write: true, createNew: true });
  try {
    try {
      for (let at = 0; at < bytes.length;) at += await file.write(bytes.subarray(at));
      await file.syncData();
    } finally {
      file.close();
    }
  } catch (err) {
    await Deno.remove(path).catch(() => {});
    throw err;
  }
  await folders.sync(dirname(path));
}

/**
 * Makes the folder `dir` and any missing parents, syncing each folder a new one was named in (an
 * existing `dir` costs one `mkdir` call and no sync).
 */
export async function makeFolderDurably(
  dir: string,
  folders: FolderSyncs = shared,
): Promise<void> {
  try {
    await Deno.mkdir(dir);
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return;
    if (!(e instanceof Deno.errors.NotFound) || dirname(dir) === dir) throw e;
    await makeFolderDurably(dirname(dir), folders);
    try {
      await Deno.mkdir(dir);
    } catch (e2) {
      if (e2 instanceof Deno.errors.AlreadyExists) return;
      throw e2;
    }
  }
  await folders.sync(dirname(dir));
}
