import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { KvRunClaims, STALE_AFTER_MS } from "./kv_run_claims.ts";

/** Writes the records another process (pid 999999) would: its beat and its claim of `run`. */
async function otherProcess(kv: Deno.Kv, run: string, o: { host?: string; beat: number }) {
  const rec = {
    id: "other",
    pid: 999999,
    host: o.host ?? Deno.hostname(),
    command: "sluice serve",
    since: 1,
    beat: o.beat,
  };
  await kv.set(["process", "other"], rec);
  await kv.set(["run_owner", run], rec);
}

Deno.test("run claims: a live other process keeps its run; a killed, silent or closed one does not", async () => {
  const kv = await Deno.openKv(":memory:");
  let now = 1_000_000;
  let alive = true;
  const claims = new KvRunClaims(kv, {
    command: "sluice run x.yaml",
    now: () => now,
    alive: () => alive,
  });
  try {
    await claims.start();
    // A new run: this process's.
    assert.deepEqual(await claims.claim("r1"), { taken: true });
    assert.deepEqual(
      await claims.claim("r1"),
      { taken: false },
      "claiming again: already this one's",
    );

    await otherProcess(kv, "r2", { beat: now });
    assert.deepEqual(await claims.claim("r2"), {
      held: { pid: 999999, host: Deno.hostname(), command: "sluice serve", since: 1 },
    });
    // Killed (no such process on this host): taken at once.
    alive = false;
    assert.deepEqual(await claims.claim("r2"), { taken: true });
    assert.equal((await kv.get<{ pid: number }>(["run_owner", "r2"])).value?.pid, Deno.pid);

    // On another host only its beat tells: fresh keeps the run, stale gives it up.
    await otherProcess(kv, "r3", { host: "elsewhere", beat: now });
    const far = await claims.claim("r3");
    assert.equal("held" in far && far.held.host, "elsewhere");
    now += STALE_AFTER_MS + 1;
    assert.deepEqual(await claims.claim("r3"), { taken: true });

    // A process that closed removed its record: its runs are free.
    alive = true;
    await otherProcess(kv, "r4", { beat: now });
    await kv.delete(["process", "other"]);
    assert.deepEqual(await claims.claim("r4"), { taken: true });

    // A finished run's claim goes; another process's claim is not this one's to remove.
    await claims.release("r1");
    assert.equal((await kv.get(["run_owner", "r1"])).value, null);
    await otherProcess(kv, "r5", { beat: now });
    await claims.release("r5");
    assert.equal((await kv.get<{ id: string }>(["run_owner", "r5"])).value?.id, "other");
  } finally {
    await claims.close();
    kv.close();
  }
});

Deno.test("run claims: close removes this process's record, so its runs resume elsewhere at once", async () => {
  const kv = await Deno.openKv(":memory:");
  const a = new KvRunClaims(kv, { command: "sluice serve" });
  await a.start();
  await a.claim("r1");
  const ids: unknown[] = [];
  for await (const e of kv.list({ prefix: ["process"] })) ids.push(e.key[1]);
  assert.equal(ids.length, 1);
  await a.close();
  const left: unknown[] = [];
  for await (const e of kv.list({ prefix: ["process"] })) left.push(e.key[1]);
  assert.deepEqual(left, []);
  kv.close();
});

Deno.test("run claims: claiming and releasing go through another process's lock on the KV file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-claims-lock-" });
  const path = `${dir}/sluice.kv`;
  const kv = await Deno.openKv(path);
  const claims = new KvRunClaims(kv, { command: "sluice run x.yaml" });
  // Another process committing on the file: it holds SQLite's write lock for a moment.
  const hold = (ms: number) => {
    const db = new DatabaseSync(path);
    db.exec("BEGIN IMMEDIATE");
    db.exec("UPDATE data_version SET version = version + 1 WHERE k = 0");
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        db.exec("COMMIT");
        db.close();
        resolve();
      }, ms)
    );
  };
  try {
    await claims.start();
    let held = hold(250);
    assert.deepEqual(await claims.claim("r1"), { taken: true }); // a checked commit
    await held;
    held = hold(250);
    await claims.release("r1");
    await held;
    assert.equal((await kv.get(["run_owner", "r1"])).versionstamp, null);
  } finally {
    await claims.close();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
