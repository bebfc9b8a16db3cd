import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { sourceSnapshotPath, takeSnapshot } from "../engine/source_snapshot.ts";
import { openKvBackend } from "./kv_backend.ts";
import { ORPHAN_AGE_MS, removeOrphanSnapshots, startOrphanSweep } from "./orphan_snapshots.ts";
import type { RunRecord } from "./store.ts";

const HOUR = 60 * 60_000;

function run(id: string): RunRecord {
  return {
    id,
    pipeline: "p",
    pipelineYaml: "name: p\n",
    pipelineFile: "p.yaml",
    stages: [],
    inputs: {},
    trigger: { kind: "cron" },
    state: "running",
    createdAt: Date.now(),
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("a source file's snapshot older than an hour whose run was never recorded is deleted; others stay", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-orphans-" });
  const backend = await openKvBackend(":memory:");
  try {
    const source = join(dir, "plugin-data", "csv-source", "crm.csv");
    await Deno.mkdir(join(dir, "plugin-data", "csv-source"), { recursive: true });
    await Deno.writeTextFile(source, "name\nAcme\n");
    const snap = (id: string) => sourceSnapshotPath(dir, id, source);
    const now = Date.now();
    const age = async (id: string, ms: number) => {
      const at = new Date(now - ms);
      for (const p of [join(dir, "runs", id, "input"), join(dir, "runs", id)]) {
        if (await exists(p)) await Deno.utime(p, at, at);
      }
    };
    // A run that exists (an old one still running), an orphan, an orphan beside the CLI's --out,
    // a snapshot taken a moment ago (its run is being created), and a folder whose name may be
    // another id's (run `a/b`'s is `a_b`).
    for (const id of ["rexists", "rorphan", "rwithout", "ryoung", "a_b"]) {
      await takeSnapshot(source, snap(id));
    }
    await backend.store.createRun(run("rexists"), []);
    await Deno.writeTextFile(join(dir, "runs", "rwithout", "cli.json"), "{}");
    // A run folder without a snapshot (only the CLI's --out) is not a snapshot's.
    await Deno.mkdir(join(dir, "runs", "rcli"));
    await Deno.writeTextFile(join(dir, "runs", "rcli", "cli.json"), "{}");
    for (const id of ["rexists", "rorphan", "rwithout", "a_b", "rcli"]) await age(id, 2 * HOUR);
    await age("ryoung", ORPHAN_AGE_MS - 60_000);

    const removed = await removeOrphanSnapshots({
      dataDir: dir,
      store: backend.store,
      now: () => now,
    });
    assert.deepEqual(removed.sort(), ["rorphan", "rwithout"]);
    assert.equal(await exists(join(dir, "runs", "rorphan")), false, "the orphan's folder is gone");
    assert.equal(await exists(join(dir, "runs", "rwithout", "input")), false);
    assert.equal(await exists(join(dir, "runs", "rwithout", "cli.json")), true, "only input/ goes");
    assert.equal(await exists(snap("rexists")), true, "a run that exists keeps its snapshot");
    assert.equal(await exists(snap("ryoung")), true, "a run being created keeps its snapshot");
    assert.equal(await exists(snap("a_b")), true, "a name that may be another id's stays");
    assert.equal(await exists(join(dir, "runs", "rcli", "cli.json")), true);
    assert.equal(await exists(source), true, "the source file itself stays");

    // The sweep of long-lived processes does the same; once old enough, the young one goes too.
    await age("ryoung", 2 * HOUR);
    const sweep = startOrphanSweep({ dataDir: dir, store: backend.store, firstAfterMs: HOUR });
    try {
      assert.deepEqual(await sweep.runOnce(), ["ryoung"]);
    } finally {
      await sweep.close();
    }
    assert.equal(await exists(join(dir, "runs", "ryoung")), false);
    assert.equal(await exists(snap("rexists")), true);
  } finally {
    backend.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sweeping orphaned snapshots: no runs folder is nothing to do", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-orphans-" });
  try {
    assert.deepEqual(
      await removeOrphanSnapshots({
        dataDir: dir,
        store: { getRun: () => Promise.resolve(undefined) },
      }),
      [],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
