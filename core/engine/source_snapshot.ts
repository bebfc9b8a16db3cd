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
 * @module
 */
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
}

/**
 * Makes `to` (which must not exist: `Deno.errors.AlreadyExists`) a snapshot of the file `from`
 * (links followed; `Deno.errors.NotFound` when it is not there or not a file), durably: the data
 * of a copy synced and its folder synced, so a run recorded after this finds all of it after a
 * power loss. Returns how it was taken. A failed copy leaves no file at `to`.
 */
export async function takeSnapshot(
  from: string,
  to: string,
  o: SnapshotOptions = {},
): Promise<"copy" | "link"> {
  // The file itself: a hard link to a symbolic link would be a link again, read from elsewhere.
  const real = await Deno.realPath(from);
  const { size, isFile } = await Deno.stat(real);
  if (!isFile) throw new Deno.errors.NotFound(`${from} is not a file`);
  await makeFolderDurably(dirname(to));
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
