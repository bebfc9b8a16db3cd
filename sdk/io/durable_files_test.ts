import assert from "node:assert/strict";
import {
  createFileDurably,
  FolderSyncs,
  makeFolderDurably,
  writeFileDurably,
  writeFileDurablyWith,
} from "./durable_files.ts";
import { heldSyncs, until } from "../../testing/held_syncs.ts";

/** Folder syncs that only record the folders asked for, and a temp folder to write in. */
async function recordedSyncs(): Promise<{ dir: string; synced: string[]; folders: FolderSyncs }> {
  const synced: string[] = [];
  const folders = new FolderSyncs((path) => {
    synced.push(path);
    return Promise.resolve();
  });
  return { dir: await Deno.makeTempDir({ prefix: "sluice-durable-" }), synced, folders };
}

Deno.test("folder syncs: callers during a running sync share the one queued after it; failures reach every waiter", async () => {
  const held = heldSyncs();
  const syncs = new FolderSyncs(held.sync);
  const settled = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    p.then(() => settled.add(p), () => settled.add(p));
    return p;
  };
  const a = track(syncs.sync("/d"));
  assert.equal(held.calls.length, 1);
  // Arriving while a sync runs: their entries may postdate it, so they wait for the next one,
  // which they share.
  const b = track(syncs.sync("/d"));
  const c = track(syncs.sync("/d"));
  assert.equal(b, c);
  const other = track(syncs.sync("/e"));
  assert.equal(held.calls.length, 2);
  held.calls[0].done.resolve();
  await a;
  await until("the queued sync starts", () => held.calls.length === 3);
  assert.equal(held.calls[2].path, "/d");
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(!settled.has(b), "a caller was released by a sync that started before its call");
  held.calls[2].done.reject(new Error("EIO"));
  await assert.rejects(b, /EIO/);
  await assert.rejects(c, /EIO/);
  assert.ok(!settled.has(other));
  held.calls[1].done.resolve();
  await other;
  // After a failure the next caller gets a sync of its own.
  const d = syncs.sync("/d");
  assert.equal(held.calls.length, 4);
  held.calls[3].done.resolve();
  await d;
});

Deno.test("writeFileDurably: replaces the file whole, syncs its folder before returning, leaves no temp file on failure", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-durable-" });
  try {
    const held = heldSyncs();
    const folders = new FolderSyncs(held.sync);
    const path = `${dir}/out.csv`;
    await Deno.writeTextFile(path, "old");
    let done = false;
    const w = writeFileDurably(path, new TextEncoder().encode("new content"), { folders }).then(
      () => done = true,
    );
    await until("the folder is being synced", () => held.calls.length === 1);
    assert.equal(held.calls[0].path, dir);
    // The rename happened before the folder sync, and the write waits for that sync.
    assert.equal(await Deno.readTextFile(path), "new content");
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, "returned before the folder was synced");
    held.calls[0].done.resolve();
    await w;

    // A folder that does not exist: the error comes back and nothing is left behind.
    await assert.rejects(() => writeFileDurably(`${dir}/missing/x`, new Uint8Array([1])));
    // The real folder sync on a real folder.
    await writeFileDurably(path, new TextEncoder().encode("again"));
    assert.equal(await Deno.readTextFile(path), "again");
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["out.csv"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("makeFolderDurably: syncs each folder a new folder is named in, nothing when it exists", async () => {
  const { dir, synced: calls, folders } = await recordedSyncs();
  try {
    await makeFolderDurably(`${dir}/a/b/c`, folders);
    assert.ok((await Deno.stat(`${dir}/a/b/c`)).isDirectory);
    assert.deepEqual(calls, [dir, `${dir}/a`, `${dir}/a/b`]);
    await makeFolderDurably(`${dir}/a/b/c`, folders);
    assert.equal(calls.length, 3);
    await makeFolderDurably(`${dir}/a/d`, folders);
    assert.deepEqual(calls.slice(3), [`${dir}/a`]);
    // A file in the way is an error, not a silent success.
    await Deno.writeTextFile(`${dir}/f`, "");
    await assert.rejects(() => makeFolderDurably(`${dir}/f/g`, folders));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileDurablyWith: streams into a hidden temp file; a failing fill leaves the old file and no temp file", async () => {
  const { dir, synced, folders } = await recordedSyncs();
  try {
    const path = `${dir}/out.jsonl`;
    await Deno.writeTextFile(path, "old\n");
    const seen: string[] = [];
    await assert.rejects(
      () =>
        writeFileDurablyWith(path, async (write) => {
          await write(new TextEncoder().encode("half"));
          for await (const e of Deno.readDir(dir)) seen.push(e.name);
          throw new Error("the source broke");
        }, { folders }),
      /the source broke/,
    );
    // While filling, the temp file was hidden beside the target.
    assert.ok(seen.some((n) => /^\.out\.jsonl\.[0-9a-f-]{36}\.tmp$/.test(n)), seen.join(", "));
    assert.equal(await Deno.readTextFile(path), "old\n");
    assert.deepEqual(synced, [], "nothing renamed, nothing to sync");
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["out.jsonl"]);

    await writeFileDurablyWith(path, async (write) => {
      for (const line of ["a\n", "b\n"]) await write(new TextEncoder().encode(line));
    }, { folders, mode: 0o640 });
    assert.equal(await Deno.readTextFile(path), "a\nb\n");
    assert.deepEqual(synced, [dir]);
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(path)).mode! & 0o777, 0o640);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createFileDurably: creates only a new file, synced with its folder; an existing one is kept", async () => {
  const { dir, synced, folders } = await recordedSyncs();
  try {
    await createFileDurably(`${dir}/v1.yaml`, "first", folders);
    assert.equal(await Deno.readTextFile(`${dir}/v1.yaml`), "first");
    assert.deepEqual(synced, [dir]);
    await assert.rejects(
      () => createFileDurably(`${dir}/v1.yaml`, "second", folders),
      Deno.errors.AlreadyExists,
    );
    assert.equal(await Deno.readTextFile(`${dir}/v1.yaml`), "first");
    assert.deepEqual(synced, [dir]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
