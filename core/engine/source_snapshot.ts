/**
 * A run's snapshot of its source file. A run without an input file of its own (every scheduled
 * run, `sluice run` and API runs without `--input` or an upload) reads the file its source's
 * `with.path` names in the plugin's data folder, in chunks, reopening it at a saved offset for
 * each one; a file replaced or edited meanwhile would give the run's later chunks (and a retry or
 * resume days later) another file's bytes. So the run reads its own snapshot of the file, taken
 * when the run is created ({@linkcode Engine.createRun}): `<dataDir>/runs/<run id>/input/<name>`,
 * in the run's folder of Sluice's own files, which retention deletes with the run
 * (`core/store/purged_files.ts`).
 *
 * The snapshot is a copy (`Deno.copyFile`: the kernel's `copy_file_range`, a reflink that shares
 * the blocks on btrfs and XFS) of a file up to {@linkcode SNAPSHOT_COPY_MAX}: a copy keeps the
 * old content also when the file is edited in place (`cp new.csv crm-export.csv` truncates and
 * rewrites the same inode, as editors and many export tools do). A larger file is hard-linked
 * (copied where linking fails: another filesystem, or one without hard links), which costs
 * nothing whatever its size and keeps the content across a replacement by rename (the
 * source-file upload, the README's copy-and-rename), though not across an in-place edit.
 *
 * A file that did not change since an earlier run's snapshot (a scheduled run of the same export
 * every hour) is not copied again: the new snapshot is a hard link to that snapshot when its bytes
 * are the file's, compared in full ({@linkcode sameContent}). Snapshots are never written after they
 * are taken (a retry's new one is renamed over the old name, a new inode), so sharing one is as good
 * as a copy of its own; retention deletes a run's name for it, and the content goes with the last.
 * An hourly run of a 100 MB file kept for 30 days takes 100 MB, not 72 GB.
 * @module
 */
import { Buffer } from "node:buffer";
import { safeSegment } from "../../sdk/sink/part_files.ts";
import { makeFolderDurably, syncFolder } from "../../sdk/io/durable_files.ts";
import { basename, dirname, join } from "../paths.ts";
import { runFolder } from "./run_artifacts.ts";

/**
 * Source files up to this size (bytes) are copied for a run's snapshot; larger ones are
 * hard-linked.
 */
export const SNAPSHOT_COPY_MAX = 256 * 1024 * 1024;

/** Where run `runId`'s snapshot of `file` lies: `<dataDir>/runs/<run id>/input/<file's name>`. */
export function sourceSnapshotPath(dataDir: string, runId: string, file: string): string {
  return join(runFolder(dataDir, runId), "input", safeSegment(basename(file)));
}

/** Options of {@linkcode takeSnapshot}. */
export interface SnapshotOptions {
  /** Files up to this size are copied, larger ones linked (default {@linkcode SNAPSHOT_COPY_MAX}). */
  copyMax?: number;
  /**
   * Earlier snapshots of the same file, newest first: one whose bytes are the file's is shared
   * (hard-linked) instead of copied. Missing ones are passed over.
   */
  earlier?: readonly string[];
}

/** How {@linkcode takeSnapshot} took a snapshot: copied, linked to the file, or shared. */
export type SnapshotKind = "copy" | "link" | "shared";

/** Bytes compared at a time by {@linkcode sameContent}. */
const COMPARE_BLOCK = 1024 * 1024;

/**
 * True when the files `a` and `b` hold the same bytes (both read to the end, block by block; a
 * file that is not there or not a file is not the same).
 */
export async function sameContent(a: string, b: string): Promise<boolean> {
  let fa: Deno.FsFile | undefined, fb: Deno.FsFile | undefined;
  try {
    fa = await Deno.open(a, { read: true });
    fb = await Deno.open(b, { read: true });
    const [sa, sb] = await Promise.all([fa.stat(), fb.stat()]);
    if (!sa.isFile || !sb.isFile || sa.size !== sb.size) return false;
    const ba = new Uint8Array(COMPARE_BLOCK), bb = new Uint8Array(COMPARE_BLOCK);
    for (;;) {
      const [na, nb] = await Promise.all([readBlock(fa, ba), readBlock(fb, bb)]);
      if (na !== nb) return false;
      if (na === 0) return true;
      if (Buffer.compare(ba.subarray(0, na), bb.subarray(0, nb)) !== 0) return false;
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory) return false;
    throw e;
  } finally {
    fa?.close();
    fb?.close();
  }
}

/** Fills `buf` from `f` as far as the file goes; returns the bytes read (0 at its end). */
async function readBlock(f: Deno.FsFile, buf: Uint8Array): Promise<number> {
  let n = 0;
  while (n < buf.length) {
    const got = await f.read(buf.subarray(n));
    if (got === null) break;
    n += got;
  }
  return n;
}

/**
 * Makes `to` (which must not exist: `Deno.errors.AlreadyExists`) a snapshot of the file `from`
 * (links followed; `Deno.errors.NotFound` when it is not there or not a file), durably: the data
 * of a copy synced and its folder synced, so a run recorded after this finds all of it after a
 * power loss. Returns how it was taken: a copy, a link to the file (larger than `copyMax`), or a
 * link to an earlier snapshot with the same bytes (`earlier`). A failed copy leaves no file at
 * `to`.
 */
export async function takeSnapshot(
  from: string,
  to: string,
  o: SnapshotOptions = {},
): Promise<SnapshotKind> {
  // The file itself: a hard link to a symbolic link would be a link again, read from elsewhere.
  const real = await Deno.realPath(from);
  const file = await Deno.stat(real);
  const { size, isFile } = file;
  if (!isFile) throw new Deno.errors.NotFound(`${from} is not a file`);
  await makeFolderDurably(dirname(to));
  if (size <= (o.copyMax ?? SNAPSHOT_COPY_MAX)) {
    for (const earlier of o.earlier ?? []) {
      // An earlier snapshot that is the file itself (linked when it was larger) is no copy.
      const e = await Deno.stat(earlier).catch(() => undefined);
      if (!e || (file.ino !== null && e.ino === file.ino && e.dev === file.dev)) continue;
      if (!(await sameContent(real, earlier))) continue;
      const shared = await Deno.link(earlier, to).then(() => true, (e) => {
        if (e instanceof Deno.errors.AlreadyExists) throw e;
        return false; // gone meanwhile (retention), or no hard links here: copied below
      });
      if (!shared) break;
      await syncFolder(dirname(to));
      return "shared";
    }
  }
  const linked = size > (o.copyMax ?? SNAPSHOT_COPY_MAX) &&
    await Deno.link(real, to).then(() => true, (e) => {
      if (e instanceof Deno.errors.AlreadyExists) throw e;
      return false; // another filesystem, or one without hard links: copied below
    });
  if (linked) {
    await syncFolder(dirname(to));
    return "link";
  }
  // Created here first: `copyFile` would replace a file that is there.
  const f = await Deno.open(to, { write: true, createNew: true });
  try {
    await Deno.copyFile(real, to);
    await f.syncData();
  } catch (e) {
    f.close();
    await Deno.remove(to).catch(() => {});
    throw e;
  }
  f.close();
  await syncFolder(dirname(to));
  return "copy";
}

/** Deletes a snapshot a run was not created with, and its folders when they are left empty. */
export async function removeSnapshot(to: string): Promise<void> {
  await Deno.remove(to).catch(() => {});
  for (const dir of [dirname(to), dirname(dirname(to))]) {
    if (!(await Deno.remove(dir).then(() => true, () => false))) return;
  }
}
