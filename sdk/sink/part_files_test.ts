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

Deno.test("parts of another run at the same path never reach this run's file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "exports", "leads.csv"); // a fixed path: every run writes it
    // Run r1 wrote three chunks and never finished (cancelled, or failed for good).
    for (const c of [0, 1, 2]) await writePart(file, c, `r1-${c}\n`, { run: "r1" });
    // Run r2 has one chunk.
    await writePart(file, 0, "r2-0\n", { run: "r2" });
    const r = await finalizeParts(file, { header: "H\n", run: "r2" });
    assert.deepEqual(r, { path: file, parts: 1, alreadyDone: false });
    assert.equal(await Deno.readTextFile(file), "H\nr2-0\n");
    await assert.rejects(Deno.stat(partsDir(file, "r2")), Deno.errors.NotFound);
    assert.ok((await Deno.stat(partsDir(file, "r1"))).isDirectory, "r1's parts are r1's");
    assert.equal((await finalizeParts(file, { header: "H\n", run: "r2" })).alreadyDone, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a run without chunks replaces an earlier run's file at the same path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "latest.csv");
    await writePart(file, 0, "old row\n", { run: "r1" });
    await finalizeParts(file, { header: "H\n", run: "r1" });
    const hourAgo = new Date(Date.now() - 3_600_000);
    await Deno.utime(file, hourAgo, hourAgo); // r1 ran an hour ago
    const startedAt = Date.now() - 1_000; // r2 started a second ago and had no chunks
    const r = await finalizeParts(file, { header: "H\n", run: "r2", runStartedAt: startedAt });
    assert.equal(r.alreadyDone, false);
    assert.equal(await Deno.readTextFile(file), "H\n", "not r1's rows under r2's name");
    const again = await finalizeParts(file, { header: "X\n", run: "r2", runStartedAt: startedAt });
    assert.equal(again.alreadyDone, true, "a repeated finish of the same run keeps its file");
    assert.equal(await Deno.readTextFile(file), "H\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
