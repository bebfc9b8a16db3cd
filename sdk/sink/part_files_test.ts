import assert from "node:assert/strict";
import { join } from "node:path";
import {
  finalizeParts,
  partsDir,
  resolveOutputPath,
  safeSegment,
  writePart,
} from "./part_files.ts";

Deno.test("resolveOutputPath keeps outputs inside the data folder", () => {
  const dataDir = "/data/p";
  assert.equal(
    resolveOutputPath({ dataDir, runId: "r/1", defaultName: "leads.csv" }),
    "/data/p/runs/r_1/leads.csv",
  );
  assert.equal(
    resolveOutputPath({ dataDir, runId: "r1", path: "out/{run}.csv", defaultName: "x" }),
    "/data/p/out/r1.csv",
  );
  assert.throws(
    () => resolveOutputPath({ dataDir, runId: "r", path: "../etc/passwd", defaultName: "x" }),
    /outside the plugin's data folder/,
  );
  assert.throws(
    () => resolveOutputPath({ dataDir, runId: "r", path: "/tmp/x.csv", defaultName: "x" }),
    /outside the plugin's data folder/,
  );
  assert.equal(safeSegment(".."), "_");
});

Deno.test("parts are concatenated in chunk order; retries overwrite; finish is idempotent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "runs", "r", "out.txt");
    await writePart(file, 10, "ten\n");
    await writePart(file, 2, "two-first-try\n");
    await writePart(file, 2, "two\n");
    await writePart(file, 0, "");
    const r = await finalizeParts(file, { header: "H\n", bom: true });
    assert.deepEqual(r, { path: file, parts: 3, alreadyDone: false });
    const bytes = await Deno.readFile(file);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(new TextDecoder().decode(bytes.subarray(3)), "H\ntwo\nten\n");
    await assert.rejects(Deno.stat(partsDir(file)), Deno.errors.NotFound);
    const again = await finalizeParts(file, { header: "H\n", bom: true });
    assert.equal(again.alreadyDone, true);
    assert.deepEqual(await Deno.readFile(file), bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run without chunks gives a header-only file; no temp files are left", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "a", "b.csv");
    await finalizeParts(file, { header: "x,y\r\n" });
    assert.equal(await Deno.readTextFile(file), "x,y\r\n");
    const names = [];
    for await (const e of Deno.readDir(join(dir, "a"))) names.push(e.name);
    assert.deepEqual(names, ["b.csv"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("part chunk numbers must be whole", async () => {
  await assert.rejects(writePart("/nonexistent/x", -1, ""), /chunk must be a whole number/);
});
