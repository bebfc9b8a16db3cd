import assert from "node:assert/strict";
import { join } from "node:path";
import { withFileLock } from "./path_owner.ts";

const TEN_MINUTES_AGO = () => new Date(Date.now() - 600_000);

/** Runs `n` withFileLock calls at once on `finalPath`; the most that were inside at one time. */
async function mostInside(finalPath: string, n: number): Promise<number> {
  let inside = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: n }, () =>
      withFileLock(finalPath, async () => {
        most = Math.max(most, ++inside);
        for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
        inside--;
      }, { waitMs: 20_000 })),
  );
  return most;
}

Deno.test("withFileLock: callers breaking a crashed holder's stale lock at once are let in one at a time", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const finalPath = join(dir, "latest.csv");
    for (let round = 0; round < 50; round++) {
      // What a crash leaves: an older Sluice's empty lock, or one holding a token.
      await Deno.writeTextFile(`${finalPath}.lock`, round % 2 ? crypto.randomUUID() : "");
      await Deno.utime(`${finalPath}.lock`, TEN_MINUTES_AGO(), TEN_MINUTES_AGO());
      assert.equal(await mostInside(finalPath, 4), 1, `round ${round}: never two inside`);
    }
    const left = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
    assert.deepEqual(left, [], "no lock, break or temp file is left");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("withFileLock: a holder whose lock was broken (it ran past staleMs) leaves the new holder's lock", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const finalPath = join(dir, "latest.csv");
    const lock = `${finalPath}.lock`;
    let release!: () => void;
    const slowInside = new Promise<void>((r) => release = r);
    const slow = withFileLock(finalPath, () => slowInside);
    while (!(await Deno.stat(lock).then(() => true, () => false))) {
      await new Promise((r) => setTimeout(r, 1));
    }
    await Deno.utime(lock, TEN_MINUTES_AGO(), TEN_MINUTES_AGO());
    let afterSlow = "";
    await withFileLock(finalPath, async () => {
      release();
      await slow;
      afterSlow = await Deno.readTextFile(lock).catch(() => "gone");
    });
    assert.notEqual(afterSlow, "gone", "the slow holder's end did not delete this holder's lock");
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound, "the lock is gone at the end");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
