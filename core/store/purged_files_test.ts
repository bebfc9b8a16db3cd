import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { silentLogger } from "../telemetry/log.ts";
import { type PurgedRun, removeRunFiles } from "./purged_files.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function write(path: string, text = "x\n"): Promise<string> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, text);
  return path;
}

/** A purged run of the given plugins (only what removeRunFiles reads). */
function purged(
  id: string,
  state: PurgedRun["state"],
  plugins: string[],
  more: { with?: Record<string, unknown>; artifacts?: string[] } = {},
): PurgedRun {
  return {
    id,
    state,
    stages: plugins.map((name) => ({
      id: name,
      resolved: { manifest: { name } },
      with: more.with,
    })),
    artifacts: more.artifacts?.map((path) => ({ stage: plugins[0], name: "x", path, bytes: 2 })),
  } as unknown as PurgedRun;
}

Deno.test("retention deletes a purged run's part folders at fixed paths under every plugin's folder", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const pd = join(dataDir, "plugin-data");
    const csvParts = join(pd, "csv-export", "exports", "latest.csv.parts");
    const gone = await write(join(csvParts, "r-cancelled", "0000000000.part"));
    const live = await write(join(csvParts, "r-running", "0000000000.part"));
    // A plugin the run's record does not name (the stage was renamed since), deeper down.
    const deep = await write(
      join(pd, "jsonl-export", "a", "b", "x.jsonl.parts", "r-cancelled", "0000000001.part"),
    );
    // A file named after the run outside a seen-before ledger: its parts may be another run's.
    const named = await write(
      join(pd, "custom", "out", "r-cancelled.csv.parts", "0000000000.part"),
    );
    const other = await write(
      join(pd, "custom", "out", "r-cancelled-2.csv.parts", "0000000000.part"),
    );
    await removeRunFiles(
      dataDir,
      [purged("r-cancelled", "cancelled", ["csv-export"])],
      silentLogger,
    );
    assert.equal(await exists(dirname(gone)), false, "the cancelled run's parts are gone");
    assert.equal(await exists(dirname(deep)), false, "in every plugin's folder");
    assert.ok(await exists(named), "a file named after the run elsewhere: its parts stay");
    assert.ok(await exists(live), "a running run's parts stay");
    assert.ok(await exists(other), "another run's (a longer id with the same start) stay");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("retention deletes seen-before ledgers of purged runs that did not succeed; a succeeded run's stays", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const ledger = join(dataDir, "plugin-data", "seen-before", "ledger");
    const ok = await write(join(ledger, "weekly", "r-ok.jsonl"), '["a.de",1]\n');
    const failed = await write(join(ledger, "weekly", "r-failed.jsonl"), '["b.de",1]\n');
    const failedParts = await write(
      join(ledger, "other", "r-failed.jsonl.parts", "0000000000.part"),
    );
    const cancelledParts = await write(
      join(ledger, "weekly", "r-cancel.jsonl.parts", "0000000002.part"),
    );
    const unknown = await write(join(ledger, "weekly", "r-old.jsonl"), '["c.de",1]\n');
    const kept = await write(join(ledger, "weekly", "r-newer.jsonl"), '["d.de",1]\n');
    await removeRunFiles(dataDir, [
      purged("r-ok", "succeeded", ["csv-source", "seen-before"]),
      purged("r-failed", "failed", ["seen-before"]),
      purged("r-cancel", "cancelled", ["seen-before"]),
      purged("r-old", undefined, ["seen-before"]), // a record without its state
    ], silentLogger);
    assert.ok(await exists(ok), "the memory of delivered leads stays (forgetAfterDays governs it)");
    assert.equal(await exists(failed), false, "a failed run delivered nothing");
    assert.equal(await exists(dirname(failedParts)), false);
    assert.equal(await exists(dirname(cancelledParts)), false);
    assert.ok(await exists(unknown), "without a state the ledger stays");
    assert.ok(await exists(kept), "a run not purged keeps its ledger");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("retention sweeps temp files of crashed durable writes older than a day", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const pd = join(dataDir, "plugin-data", "csv-export");
    const now = Date.now();
    const uuid = () => crypto.randomUUID();
    const old = await write(join(pd, "exports", `.latest.csv.${uuid()}.tmp`));
    const oldInParts = await write(
      join(pd, "x.csv.parts", "r-live", `.0000000000.part.${uuid()}.tmp`),
    );
    const fresh = await write(join(pd, "exports", `.latest.csv.${uuid()}.tmp`));
    const notOurs = await write(join(pd, "exports", ".notes.tmp"));
    const twoDaysAgo = new Date(now - 2 * 86_400_000);
    for (const f of [old, oldInParts, notOurs]) await Deno.utime(f, twoDaysAgo, twoDaysAgo);
    // Without purged runs, retention does not walk the folders.
    await removeRunFiles(dataDir, [], silentLogger, { now: () => now });
    assert.ok(await exists(old));
    await removeRunFiles(dataDir, [purged("r-gone", "succeeded", [])], silentLogger, {
      now: () => now,
    });
    assert.equal(await exists(old), false, "a crashed write's temp file is gone");
    assert.equal(await exists(oldInParts), false, "in a part folder too");
    assert.ok(await exists(fresh), "a write under way (or of today) keeps its temp file");
    assert.ok(await exists(notOurs), "a file not named as our temp files stays");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("retention of run weekly keeps the fixed weekly.csv and the parts other runs write there", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const csv = join(dataDir, "plugin-data", "csv-export");
    const fixed = await write(join(csv, "weekly.csv"));
    const running = await write(join(csv, "weekly.csv.parts", "other-run", "0000000000.part"));
    const own = await write(join(csv, "weekly.csv.parts", "weekly", "0000000000.part"));
    // The purged run wrote the fixed path (`path: weekly.csv`), so it lists it as its artifact.
    await removeRunFiles(
      dataDir,
      [purged("weekly", "cancelled", ["csv-export"], {
        with: { path: "weekly.csv" },
        artifacts: ["plugin-data/csv-export/weekly.csv"],
      })],
      silentLogger,
    );
    assert.ok(await exists(fixed), "a fixed path stays, though named like the run");
    assert.ok(await exists(running), "a running run's finished chunks at that path stay");
    assert.equal(await exists(dirname(own)), false, "the purged run's own parts are gone");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("retention deletes artifacts named after the run by whole path, never by part of a name", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const csv = join(dataDir, "plugin-data", "csv-export");
    const templated = await write(join(csv, "exports", "weekly.csv"));
    const perRun = await write(join(csv, "runs", "weekly", "leads.csv"));
    const longer = await write(join(csv, "exports", "weekly-2.csv"));
    const folder = await write(join(csv, "weekly", "latest.csv"));
    const ledgerParts = await write(
      join(
        dataDir,
        "plugin-data",
        "seen-before",
        "ledger",
        "s",
        "weekly.jsonl.parts",
        "0000000000.part",
      ),
    );
    const rel = (p: string) => p.slice(dataDir.length + 1);
    await removeRunFiles(
      dataDir,
      [purged("weekly", "succeeded", ["csv-export"], {
        with: { path: "exports/{run}.csv" },
        artifacts: [templated, perRun, longer, folder].map(rel),
      })],
      silentLogger,
    );
    assert.equal(await exists(templated), false, "the file its {run} path names is gone");
    assert.equal(await exists(perRun), false, "its per-run folder's file is gone");
    assert.ok(await exists(longer), "a name merely holding the run id stays");
    assert.ok(await exists(folder), "a fixed folder named like the run stays");
    assert.equal(await exists(dirname(ledgerParts)), false, "its seen-before ledger's parts go");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
