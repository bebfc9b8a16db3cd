import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { GuardFailedError, type RunRecord } from "../store/store.ts";
import { runOutput, type TestEngine, testEngine } from "./test_helpers.ts";
import { sameContent, sourceSnapshotPath, takeSnapshot } from "./source_snapshot.ts";

/** A CSV of `n` businesses whose domains start with `prefix` (`a0.example`, `a1.example`…). */
function csv(prefix: string, n: number): string {
  const rows = Array.from({ length: n }, (_, i) => `${prefix}${i},${prefix}${i}.example`);
  return ["name,domain", ...rows].join("\n") + "\n";
}

/** Rewrites `file` in place, as `cp new.csv file` does: same inode, truncated and written. */
async function rewriteInPlace(file: string, text: string): Promise<void> {
  await using f = await Deno.open(file, { write: true, truncate: true });
  await f.write(new TextEncoder().encode(text));
}

/** Replaces `file` by renaming a new one over it, as the source-file upload does. */
async function replaceByRename(file: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${file}.new`, text);
  await Deno.rename(`${file}.new`, file);
}

/** Resolves once the run's last stage has finished `n` chunks (within 30 s: a busy machine). */
async function chunksDone(te: TestEngine, run: RunRecord, n: number): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const c = await te.backend.store.counters(run.id, run.stages.length);
    if (c[c.length - 1].chunksDone >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`run ${run.id} did not finish ${n} chunk(s)`);
}

const OLD = csv("a", 20);
const NEW = csv("bee", 25); // longer rows: its bytes at the old offsets are mid-row

/** The source folder of csv-source under the engine's data folder, with `crm.csv` = OLD. */
async function sourceFolder(te: TestEngine): Promise<string> {
  const folder = join(te.dir, "plugin-data", "csv-source");
  await Deno.mkdir(folder, { recursive: true });
  await Deno.writeTextFile(join(folder, "crm.csv"), OLD);
  return folder;
}

const domains = (items: Record<string, unknown>[]) => items.map((i) => String(i.domain)).sort();
const OLD_DOMAINS = Array.from({ length: 20 }, (_, i) => `a${i}.example`).sort();

Deno.test("takeSnapshot: a copy keeps the content across an in-place edit; a link across a replacement by rename", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-snapshot-" });
  try {
    const file = join(dir, "crm.csv");
    await Deno.writeTextFile(file, OLD);
    const copy = join(dir, "runs", "r1", "input", "crm.csv");
    assert.equal(await takeSnapshot(file, copy), "copy");
    await rewriteInPlace(file, NEW);
    assert.equal(await Deno.readTextFile(copy), OLD, "a copy is not the file's inode");

    // Larger than `copyMax`: linked, which keeps the inode the file had.
    const link = join(dir, "runs", "r2", "input", "crm.csv");
    assert.equal(await takeSnapshot(file, link, { copyMax: 0 }), "link");
    await replaceByRename(file, OLD);
    assert.equal(await Deno.readTextFile(link), NEW, "the link keeps the replaced file");
    assert.equal(await Deno.readTextFile(file), OLD);

    // Never over a file that is there; a missing file says so and leaves nothing behind.
    await assert.rejects(takeSnapshot(file, copy), Deno.errors.AlreadyExists);
    assert.equal(await Deno.readTextFile(copy), OLD);
    const none = join(dir, "runs", "r3", "input", "x.csv");
    await assert.rejects(takeSnapshot(join(dir, "nope.csv"), none), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(none), Deno.errors.NotFound);

    // A symbolic link is followed: the snapshot is the file it leads to, not a link again.
    await Deno.symlink("crm.csv", join(dir, "latest.csv"));
    const viaLink = join(dir, "runs", "r4", "input", "latest.csv");
    assert.equal(await takeSnapshot(join(dir, "latest.csv"), viaLink, { copyMax: 0 }), "link");
    assert.ok((await Deno.lstat(viaLink)).isFile);
    assert.equal(await Deno.readTextFile(viaLink), OLD);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("takeSnapshot: a file with an earlier snapshot's bytes shares it; any other byte, a copy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-snapshot-" });
  try {
    const file = join(dir, "crm.csv");
    // Over two compare blocks, so the last block decides.
    const big = "x".repeat(2_500_000);
    await Deno.writeTextFile(file, big + "1\n");
    const snap = (run: string) => join(dir, "runs", run, "input", "crm.csv");
    assert.equal(await takeSnapshot(file, snap("r1")), "copy");
    const inode = async (p: string) => (await Deno.stat(p)).ino;
    // Missing earlier snapshots are passed over; one with the same bytes is shared.
    const kind = await takeSnapshot(file, snap("r2"), { earlier: [snap("gone"), snap("r1")] });
    assert.equal(kind, "shared");
    assert.equal(await inode(snap("r2")), await inode(snap("r1")));
    assert.notEqual(await inode(snap("r2")), await inode(file), "not the file's own inode");
    // The file edited in place (its last byte): the shared snapshots keep what they had.
    await rewriteInPlace(file, big + "2\n");
    assert.equal(await Deno.readTextFile(snap("r2")), big + "1\n");
    assert.equal(await takeSnapshot(file, snap("r3"), { earlier: [snap("r2")] }), "copy");
    assert.notEqual(await inode(snap("r3")), await inode(snap("r2")));
    assert.equal(await Deno.readTextFile(snap("r3")), big + "2\n");
    // A run's snapshot deleted (retention): the one sharing it still reads.
    await Deno.remove(join(dir, "runs", "r1"), { recursive: true });
    assert.equal(await Deno.readTextFile(snap("r2")), big + "1\n");
    // Larger than copyMax: a link to the file, whatever the earlier snapshots hold.
    await rewriteInPlace(file, big + "1\n");
    assert.equal(
      await takeSnapshot(file, snap("r4"), { copyMax: 0, earlier: [snap("r2")] }),
      "link",
    );
    assert.equal(await inode(snap("r4")), await inode(file));
    // Such a link is the file itself, no copy to share: a file within copyMax is copied.
    assert.equal(await takeSnapshot(file, snap("r5"), { earlier: [snap("r4")] }), "copy");
    assert.notEqual(await inode(snap("r5")), await inode(file));
    // Never over a file that is there, shared or not.
    await assert.rejects(
      takeSnapshot(file, snap("r2"), { earlier: [snap("r2")] }),
      Deno.errors.AlreadyExists,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sameContent: equal only when every byte is, sizes first; missing files and folders are not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-snapshot-" });
  try {
    const put = async (name: string, bytes: Uint8Array) => {
      await Deno.writeFile(join(dir, name), bytes);
      return join(dir, name);
    };
    const base = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7) % 251);
    const a = await put("a", base);
    const same = await put("same", base.slice());
    const first = await put("first", base.slice().fill(base[0] ^ 1, 0, 1));
    const middle = base.slice();
    middle[1024 * 1024] ^= 1; // the first byte of the second block
    const mid = await put("mid", middle);
    const shorter = await put("shorter", base.slice(0, -1));
    const empty1 = await put("empty1", new Uint8Array());
    const empty2 = await put("empty2", new Uint8Array());
    assert.equal(await sameContent(a, same), true);
    assert.equal(await sameContent(empty1, empty2), true);
    for (const other of [first, mid, shorter, empty1, join(dir, "nope"), dir]) {
      assert.equal(await sameContent(a, other), false, other);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("takeSnapshot: copies where a hard link cannot be made (another filesystem)", async () => {
  const other = await Deno.makeTempDir({ dir: "/dev/shm", prefix: "sluice-snapshot-" })
    .catch(() => undefined);
  const dir = await Deno.makeTempDir({ prefix: "sluice-snapshot-" });
  try {
    const file = join(dir, "crm.csv");
    await Deno.writeTextFile(file, OLD);
    const probe = other && join(other, "probe");
    const linkable = probe && await Deno.link(file, probe).then(() => true, () => false);
    if (!other || linkable) return; // no second filesystem here
    const snap = join(other, "runs", "r1", "input", "crm.csv");
    assert.equal(await takeSnapshot(file, snap, { copyMax: 0 }), "copy");
    await rewriteInPlace(file, NEW);
    assert.equal(await Deno.readTextFile(snap), OLD);
  } finally {
    await Deno.remove(dir, { recursive: true });
    if (other) await Deno.remove(other, { recursive: true });
  }
});

Deno.test("a with.path run reads its snapshot in the sandbox: the file rewritten mid-run does not reach it", async () => {
  const executor = new SandboxExecutor();
  const te = await testEngine({
    firstParty: true,
    executor,
    maxSourceAhead: 1, // the source reads a chunk as one leaves the pipeline
    sourceAheadPollMs: 20,
  });
  try {
    const folder = await sourceFolder(te);
    const run = await te.start(
      `name: weekly
source: { plugin: csv-source, with: { path: crm.csv }, chunk: 2 }
stages:
  - { id: mark, plugin: set-fields, with: { set: { seen: true } }, rateLimit: { rate: 20, per: 1s, burst: 1 } }
`,
      { dataDir: te.dir },
    );
    assert.equal(join(te.dir, run.sourceFile!), join(folder, "crm.csv"));
    assert.equal(run.inputFile, join("runs", run.id, "input", "crm.csv"));
    assert.equal(run.inputName, "crm.csv", "named as the file is, not as its snapshot");
    await chunksDone(te, run, 1);
    // `cp new.csv crm.csv` while the run reads: the same inode, truncated and rewritten.
    await rewriteInPlace(join(folder, "crm.csv"), NEW);
    const done = await te.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    const out = await runOutput(te.backend, done);
    assert.deepEqual(domains(out), OLD_DOMAINS);
    assert.ok(out.every((i) => i.seen === true));
    assert.equal(await Deno.readTextFile(join(te.dir, done.inputFile!)), OLD);
  } finally {
    await te.dispose();
    await executor.close();
  }
});

Deno.test("a retry of a failed with.path run reads the file as it was when the run was created", async () => {
  const te = await testEngine({ firstParty: true, maxSourceAhead: 1, sourceAheadPollMs: 20 });
  try {
    const folder = await sourceFolder(te);
    const run = await te.start(
      `name: weekly
source: { plugin: csv-source, with: { path: crm.csv }, chunk: 2 }
stages:
  - { id: f, plugin: flaky, with: { failTimes: 2, chunks: [0], tag: snap }, retry: { attempts: 2, delay: 1ms }, onError: fail }
  - { id: wait, plugin: slow, with: { ms: 100 } }
`,
      { dataDir: te.dir },
    );
    const failed = await te.engine.waitForRun(run.id);
    assert.equal(failed.state, "failed");
    const progress = await te.backend.store.sourceProgress(run.id);
    // The last stage takes 100 ms a chunk, and the source reads at most one chunk ahead of it.
    assert.ok(!progress.done, "the source stopped with the run, before the end of the file");
    // Replaced meanwhile (the source-file upload's way), then the run is retried.
    await replaceByRename(join(folder, "crm.csv"), NEW);
    await te.engine.retryRun(run.id);
    const done = await te.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    assert.deepEqual(domains(await runOutput(te.backend, done)), OLD_DOMAINS);
  } finally {
    await te.dispose();
  }
});

Deno.test("a with.path run whose file is not there reads the path itself; a run not recorded leaves no snapshot", async () => {
  const te = await testEngine({ firstParty: true });
  try {
    const yaml = "name: weekly\nsource: { plugin: csv-source, with: { path: crm.csv } }\n" +
      "stages:\n  - { id: mark, plugin: set-fields, with: { set: { seen: true } } }\n";
    // No file to take: the run fails on the file as before (its onFailure alert says so), and
    // its retry reads the file put there meanwhile.
    const missing = await te.start(yaml, { dataDir: te.dir });
    assert.equal(missing.inputFile, join("plugin-data", "csv-source", "crm.csv"));
    assert.equal(missing.sourceFile, undefined);
    assert.equal((await te.engine.waitForRun(missing.id)).state, "failed");
    await sourceFolder(te);
    await te.engine.retryRun(missing.id);
    const retried = await te.engine.waitForRun(missing.id);
    assert.equal(retried.state, "succeeded", retried.error);
    assert.deepEqual(domains(await runOutput(te.backend, retried)), OLD_DOMAINS);

    const run = await te.start(yaml, { dataDir: te.dir });
    assert.equal((await te.engine.waitForRun(run.id)).state, "succeeded");
    // A second record with the run's id is refused and leaves the run's snapshot as it was.
    await assert.rejects(te.engine.createRun({ ...run, state: "queued" }), /is there already/);
    assert.equal(await Deno.readTextFile(join(te.dir, run.inputFile!)), OLD);
    // A run its guard refuses (a schedule's overlap: skip) leaves no snapshot behind.
    const kv = (te.backend as unknown as { kv: Deno.Kv }).kv;
    const id = "refused";
    const refused = { ...run, id, inputFile: sourceSnapshotPath(te.dir, id, run.sourceFile!) };
    const guard = {
      kv,
      apply: (op: Deno.AtomicOperation) =>
        op.check({ key: ["no such key"], versionstamp: "00000000000000010000" }),
    };
    await assert.rejects(te.engine.createRun(refused, guard), GuardFailedError);
    await assert.rejects(Deno.stat(join(te.dir, "runs", id)), Deno.errors.NotFound);
  } finally {
    await te.dispose();
  }
});

Deno.test("a data folder moved to another path: its unfinished run reads its snapshot there", async () => {
  const te = await testEngine({ firstParty: true, maxSourceAhead: 1, sourceAheadPollMs: 20 });
  const moved = `${te.dir}-moved`;
  let again: TestEngine | undefined;
  try {
    await sourceFolder(te);
    const run = await te.start(
      `name: weekly
source: { plugin: csv-source, with: { path: crm.csv }, chunk: 2 }
stages:
  - { id: wait, plugin: slow, with: { ms: 150 } }
`,
      { dataDir: te.dir },
    );
    await chunksDone(te, run, 1);
    await te.stop();
    // Restored (or mounted) at another path: nothing is left at the old one.
    await Deno.rename(te.dir, moved);
    again = await testEngine({ dir: moved, firstParty: true });
    const done = await again.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    assert.deepEqual(domains(await runOutput(again.backend, done)), OLD_DOMAINS);
  } finally {
    if (again) await again.dispose();
    else await Deno.remove(moved, { recursive: true }).catch(() => {});
    await Deno.remove(te.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("runs of an unchanged with.path file share one snapshot; a changed file gets its own", async () => {
  const te = await testEngine({ firstParty: true });
  try {
    const folder = await sourceFolder(te);
    const yaml = "name: hourly\nsource: { plugin: csv-source, with: { path: crm.csv } }\n" +
      "stages:\n  - { id: mark, plugin: set-fields, with: { set: { seen: true } } }\n";
    const other = yaml.replace("name: hourly", "name: other");
    const start = async (text = yaml) => {
      const run = await te.start(text, { dataDir: te.dir });
      const done = await te.engine.waitForRun(run.id);
      assert.equal(done.state, "succeeded", done.error);
      return { run: done, ino: (await Deno.stat(join(te.dir, done.inputFile!))).ino };
    };
    const first = await start();
    const second = await start();
    assert.equal(second.ino, first.ino, "the unchanged file is not copied again");
    assert.notEqual(second.run.inputFile, first.run.inputFile, "each run has its own name for it");
    // Another pipeline's runs are not looked at.
    assert.notEqual((await start(other)).ino, first.ino);
    // `cp new.csv crm.csv`: the next run copies; the earlier runs still read what they had.
    await rewriteInPlace(join(folder, "crm.csv"), NEW);
    const third = await start();
    assert.notEqual(third.ino, first.ino);
    assert.equal(await Deno.readTextFile(join(te.dir, third.run.inputFile!)), NEW);
    assert.equal(await Deno.readTextFile(join(te.dir, second.run.inputFile!)), OLD);
    assert.equal((await start()).ino, third.ino);
  } finally {
    await te.dispose();
  }
});
