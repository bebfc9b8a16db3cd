import assert from "node:assert/strict";
import { dirname, relative } from "node:path";
import { chunkDirFor, ChunkFiles } from "./chunk_files.ts";

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
