import assert from "node:assert/strict";
import { join } from "node:path";
import {
  finalizeParts,
  ownerNote,
  ownerPath,
  ownOutputPath,
  partsDir,
  readOwner,
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
    assert.deepEqual(r, { path: file, parts: 3, chunks: 3, alreadyDone: false });
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
  await assert.rejects(
    writePart("/nonexistent/x", 1, "", { part: 1.5 }),
    /part must be a whole number/,
  );
});

Deno.test("each call of a split chunk keeps its own part, joined in chunk then call order", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "out.txt");
    // Calls finish in any order; a retried call overwrites only its own part.
    await writePart(file, 1, "1.2\n", { part: 2 });
    await writePart(file, 0, "0.0\n");
    await writePart(file, 1, "1.0\n", { part: 0 });
    await writePart(file, 0, "0.10 first try\n", { part: 10 });
    await writePart(file, 1, "1.1\n", { part: 1 });
    await writePart(file, 0, "0.10\n", { part: 10 });
    await writePart(file, 0, "0.9\n", { part: 9 });
    const seen: number[] = [];
    const r = await finalizeParts(file, {
      mapPart: (data, chunk) => {
        seen.push(chunk);
        return data;
      },
    });
    assert.deepEqual(r, { path: file, parts: 6, chunks: 2, alreadyDone: false });
    assert.equal(await Deno.readTextFile(file), "0.0\n0.9\n0.10\n1.0\n1.1\n1.2\n");
    assert.deepEqual(seen, [0, 0, 0, 1, 1, 1], "mapPart gets each part with its chunk");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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
    assert.deepEqual(r, { path: file, parts: 1, chunks: 1, alreadyDone: false });
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

Deno.test("ownOutputPath: a fixed path's runs get runs/<run>/<its name>; a per-run path none", () => {
  const dataDir = "/data/p";
  assert.equal(
    ownOutputPath({ dataDir, runId: "r/1", path: "exports/latest.csv", defaultName: "leads.csv" }),
    "/data/p/runs/r_1/latest.csv",
  );
  assert.equal(ownOutputPath({ dataDir, runId: "r", defaultName: "leads.csv" }), undefined);
  assert.equal(
    ownOutputPath({ dataDir, runId: "r", path: "x/{run}.csv", defaultName: "leads.csv" }),
    undefined,
  );
});

/** Writes a run's rows as parts and finishes it at the fixed path `file`. */
async function finishRun(
  dataDir: string,
  file: string,
  run: string,
  startedAt: number,
  rows: string[],
) {
  for (const [i, row] of rows.entries()) await writePart(file, i, `${row}\n`, { run });
  const ownPath = ownOutputPath({ dataDir, runId: run, path: "latest.csv", defaultName: "x" });
  return await finalizeParts(file, { header: "H\n", run, runStartedAt: startedAt, ownPath });
}

Deno.test("a fixed path keeps the most recently started run's file, whatever order runs finish in", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const file = join(dataDir, "latest.csv");
    // Two runs at once: "new" started later but finished first.
    const newer = await finishRun(dataDir, file, "new", 2_000, ["n1", "n2"]);
    assert.deepEqual(newer, { path: file, parts: 2, chunks: 2, alreadyDone: false });
    const older = await finishRun(dataDir, file, "old", 1_000, ["o1"]);
    assert.equal(await Deno.readTextFile(file), "H\nn1\nn2\n", "the newer run's file stays");
    const own = join(dataDir, "runs", "old", "latest.csv");
    assert.equal(older.path, own, "the older run's rows are in its own place");
    assert.equal(older.newerRun?.run, "new");
    assert.equal(await Deno.readTextFile(own), "H\no1\n");
    assert.deepEqual(await readOwner(file), { run: "new", startedAt: 2_000, previous: [] });
    const note = ownerNote("csv-export", file, "old", older);
    assert.match(note, /holds the file of run new, started later/);
    assert.ok(note.includes(own), note);
    // Repeated finishes give the same files.
    const again = await finishRun(dataDir, file, "old", 1_000, []);
    assert.equal(again.alreadyDone, true);
    assert.equal(again.path, own);
    assert.equal(await Deno.readTextFile(own), "H\no1\n");
    const newAgain = await finishRun(dataDir, file, "new", 2_000, []);
    assert.deepEqual(newAgain, { path: file, parts: 0, chunks: 0, alreadyDone: true });
    assert.equal(await Deno.readTextFile(file), "H\nn1\nn2\n");
    await assert.rejects(Deno.stat(partsDir(file)), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${file}.lock`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a newer run replaces an older run's file; the older's repeated finish is told so", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const file = join(dataDir, "latest.csv");
    await finishRun(dataDir, file, "r1", 1_000, ["a"]);
    const r2 = await finishRun(dataDir, file, "r2", 2_000, ["b"]);
    assert.equal(r2.path, file);
    assert.equal(await Deno.readTextFile(file), "H\nb\n");
    assert.deepEqual(await readOwner(file), { run: "r2", startedAt: 2_000, previous: ["r1"] });
    const again = await finishRun(dataDir, file, "r1", 1_000, []);
    assert.equal(again.replaced, true);
    assert.equal(again.newerRun?.run, "r2");
    assert.equal(await Deno.readTextFile(file), "H\nb\n", "not a header-only file of r1");
    assert.match(ownerNote("csv-export", file, "r1", again), /has since replaced it/);
    // A newer run without chunks still takes the path (an empty list gives an empty file).
    const r3 = await finishRun(dataDir, file, "r3", 3_000, []);
    assert.equal(r3.path, file);
    assert.equal(await Deno.readTextFile(file), "H\n");
    assert.equal(ownerPath(file), `${file}.owner.json`);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("runs finishing a fixed path at the same moment leave the latest started one's file", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const file = join(dataDir, "latest.csv");
    const runs = Array.from({ length: 8 }, (_, i) => i);
    const results = await Promise.all(
      // The later a run started, the sooner it begins finishing.
      runs.map(async (i) => {
        await new Promise((r) => setTimeout(r, i * 3));
        return await finishRun(dataDir, file, `r${i}`, 2_000 - i, [`row-${i}`]);
      }),
    );
    // Run 0 started last.
    assert.equal(await Deno.readTextFile(file), "H\nrow-0\n");
    for (const i of runs.filter((i) => i !== 0)) {
      const own = join(dataDir, "runs", `r${i}`, "latest.csv");
      // A run that finished while an earlier-started one held the path held it for a while.
      if (results[i].path === own) assert.equal(await Deno.readTextFile(own), `H\nrow-${i}\n`);
      else assert.equal(results[i].path, file);
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
