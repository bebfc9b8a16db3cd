import assert from "node:assert/strict";
import { join } from "../paths.ts";
import {
  clearContentsCache,
  CONTENTS_CACHE_MAX,
  sourceFileInfo,
  type SourceFileTarget,
} from "./source_file.ts";

function target(folder: string, name: string): SourceFileTarget {
  return {
    pipeline: "weekly",
    source: "csv-source@^1",
    plugin: "csv-source",
    accepts: ["text/csv"],
    path: name,
    file: join(folder, name),
    folder,
    location: `plugin-data/csv-source/${name}`,
  };
}

Deno.test("source file info: the header and rows of an unchanged file are read once; a replaced or changed file is read again", async () => {
  clearContentsCache();
  const folder = await Deno.makeTempDir({ prefix: "sluice-source-file-" });
  try {
    const t = target(folder, "crm.csv");
    const at = new Date(Date.UTC(2026, 10, 30, 9, 0, 0));
    await Deno.writeTextFile(t.file, "h\nx\ny\n");
    await Deno.utime(t.file, at, at);
    let info = await sourceFileInfo(t);
    assert.deepEqual([info.header, info.rows, info.bytes], ["h", 2, 6]);

    // The same bytes count, time and inode: taken as unchanged, not read again (the cache).
    await Deno.writeTextFile(t.file, "g\nxxy\n");
    await Deno.utime(t.file, at, at);
    info = await sourceFileInfo(t);
    assert.deepEqual([info.header, info.rows], ["h", 2], "not counted again");

    // Changed (another time): read again.
    const later = new Date(at.getTime() + 1000);
    await Deno.utime(t.file, later, later);
    info = await sourceFileInfo(t);
    assert.deepEqual([info.header, info.rows], ["g", 1]);

    // Replaced by a rename (another inode), even with the same size and time: read again.
    await Deno.writeTextFile(join(folder, "new.tmp"), "k\n1\n2\n");
    await Deno.utime(join(folder, "new.tmp"), later, later);
    await Deno.rename(join(folder, "new.tmp"), t.file);
    info = await sourceFileInfo(t);
    assert.deepEqual([info.header, info.rows], ["k", 2]);

    // Removed: nothing cached is shown.
    await Deno.remove(t.file);
    info = await sourceFileInfo(t);
    assert.deepEqual([info.exists, info.header, info.rows], [false, null, null]);
  } finally {
    await Deno.remove(folder, { recursive: true });
    clearContentsCache();
  }
});

Deno.test("source file info: the cache keeps at most CONTENTS_CACHE_MAX files, the least recently used dropped", async () => {
  clearContentsCache();
  const folder = await Deno.makeTempDir({ prefix: "sluice-source-file-" });
  try {
    const at = new Date(Date.UTC(2026, 10, 30, 9, 0, 0));
    const files = Array.from(
      { length: CONTENTS_CACHE_MAX + 1 },
      (_, i) => target(folder, `f${i}.csv`),
    );
    for (const t of files) {
      await Deno.writeTextFile(t.file, "h\n1\n");
      await Deno.utime(t.file, at, at);
      await sourceFileInfo(t);
    }
    // Changed in place without a sign (same size, time, inode): the cache decides what is shown.
    for (const t of files) {
      await Deno.writeTextFile(t.file, "H\n2\n");
      await Deno.utime(t.file, at, at);
    }
    // f0 was dropped when the last one came in: read again, which drops the least recently
    // used, f1; f2 .. f64 are still cached (reading f2 makes it the most recently used).
    assert.equal((await sourceFileInfo(files[0])).header, "H");
    assert.equal((await sourceFileInfo(files[2])).header, "h");
    assert.equal((await sourceFileInfo(files[CONTENTS_CACHE_MAX])).header, "h");
    assert.equal((await sourceFileInfo(files[1])).header, "H");
    // Reading f1 again dropped the least recently used then: f3, not f2.
    assert.equal((await sourceFileInfo(files[2])).header, "h");
    assert.equal((await sourceFileInfo(files[3])).header, "H");
    // (Reading f3 dropped f4 in turn; f5 is still there.)
    assert.equal((await sourceFileInfo(files[5])).header, "h");
  } finally {
    await Deno.remove(folder, { recursive: true });
    clearContentsCache();
  }
});
