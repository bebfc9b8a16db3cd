import assert from "node:assert/strict";
import { dirname, relative } from "node:path";
import { chunkDirFor, ChunkFiles } from "./chunk_files.ts";
import { heldSyncs, until } from "../../testing/held_syncs.ts";

Deno.test("chunk files: written once per token, read back, removed by run; odd run ids stay inside", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-chunks-" });
  try {
    const files = new ChunkFiles(chunkDirFor(`${dir}/sluice.kv`));
    assert.equal(files.dir, `${dir}/sluice.kv.chunks`);
    const bytes = new TextEncoder().encode('[{"key":"a"}]');
    await files.write("run-1", 2, 7, "t1", bytes);
    assert.deepEqual(await files.read("run-1", 2, 7, "t1"), bytes);
    // A token is written once: a second write under it is refused, the first stays.
    await assert.rejects(() => files.write("run-1", 2, 7, "t1", new Uint8Array([1])));
    assert.deepEqual(await files.read("run-1", 2, 7, "t1"), bytes);
    await files.remove("run-1", 2, 7, "t1");
    await assert.rejects(() => files.read("run-1", 2, 7, "t1"), /marked done but its file/);

    // Run ids that are not plain names cannot leave the folder or collide.
    for (const id of ["../escape", "a/b", ".", "..", "a b"]) {
      const path = files.path(id, 0, 0, "t");
      const rel = relative(files.dir, path);
      assert.ok(!rel.startsWith("..") && dirname(rel) !== ".", `${id} -> ${rel}`);
      await files.write(id, 0, 0, "t", bytes);
    }
    assert.notEqual(files.path("a/b", 0, 0, "t"), files.path("a_b", 0, 0, "t"));
    await files.removeRun("../escape");
    await assert.rejects(() => files.read("../escape", 0, 0, "t"), /missing/);
    assert.deepEqual(await files.read("a/b", 0, 0, "t"), bytes);
    await files.removeRun("never-written"); // nothing to remove is fine
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("chunk files: a write returns only after its name is synced (run folder; chunk and data folders for a new run)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-chunks-" });
  try {
    const held = heldSyncs();
    const chunkDir = chunkDirFor(`${dir}/sluice.kv`);
    const files = new ChunkFiles(chunkDir, { syncFolder: held.sync });
    const bytes = new TextEncoder().encode("[]");
    let written = false;
    const first = files.write("run-1", 0, 0, "t", bytes).then(() => written = true);
    // A new run folder: the folders holding it are synced before any file goes in.
    await until("the chunk and data folders are being synced", () => held.calls.length === 2);
    assert.deepEqual(held.calls.map((c) => c.path).sort(), [dir, chunkDir].sort());
    for (const c of held.calls) c.done.resolve();
    await until("the run folder is being synced", () => held.calls.length === 3);
    assert.equal(held.calls[2].path, `${chunkDir}/run-1`);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(written, false, "write returned before its run folder was synced");
    held.calls[2].done.resolve();
    await first;
    assert.deepEqual(await files.read("run-1", 0, 0, "t"), bytes);

    // Later writes of the run sync only its folder; a failed sync fails the write (no commit).
    const second = files.write("run-1", 0, 1, "t", bytes);
    await until("the run folder is synced again", () => held.calls.length === 4);
    assert.equal(held.calls[3].path, `${chunkDir}/run-1`);
    held.calls[3].done.reject(new Error("EIO"));
    await assert.rejects(second, /EIO/);

    // The real folder sync works on a real folder.
    const real = new ChunkFiles(chunkDir);
    await real.write("run-2", 1, 0, "t", bytes);
    assert.deepEqual(await real.read("run-2", 1, 0, "t"), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
