/**
 * Writing files so that they survive a power loss, not just a crash of the process: data synced
 * before a file is named in anything durable, and the folder synced after a new name appears in
 * it (syncing a file's data does not make its name durable on XFS, btrfs or ext4 without its
 * ordered journal). Folder syncs are shared by concurrent writers ({@linkcode FolderSyncs}).
 * @module
 */
import { dirname } from "node:path";

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

/**
 * Writes `data` to `path` so that after a crash or power loss `path` holds either its old content
 * or all of `data`: a temp file beside it, synced, renamed over `path`, then the folder synced.
 * A failed write leaves no temp file behind.
 */
export async function writeFileDurably(
  path: string,
  data: Uint8Array,
  folders: FolderSyncs = shared,
): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for (let at = 0; at < data.length;) at += await file.write(data.subarray(at));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
  await folders.sync(dirname(path));
}

/** Syncs the folder holding `path` (after a rename or a new file there), shared with concurrent callers. */
export function syncFolderOf(path: string, folders: FolderSyncs = shared): Promise<void> {
  return folders.sync(dirname(path));
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
