import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { groupCommits } from "./kv_group_commit.ts";

async function withKv(
  o: Parameters<typeof groupCommits>[1],
  fn: (kv: Deno.Kv, commits: number[]) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-group-commit-" });
  const commits: number[] = [];
  const kv = groupCommits(await Deno.openKv(join(dir, "g.kv")), {
    ...o,
    onCommit: (n) => commits.push(n),
  });
  try {
    await fn(kv, commits);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("group commit: concurrent writes share commits and all land", async () => {
  await withKv({}, async (kv, commits) => {
    const results = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) => kv.atomic().set(["a", i], { i }).sum(["count"], 1n).commit(),
      ),
    );
    assert.ok(results.every((r) => r.ok));
    const entries = await Array.fromAsync(kv.list<{ i: number }>({ prefix: ["a"] }));
    assert.equal(entries.length, 200);
    assert.equal((await kv.get<Deno.KvU64>(["count"])).value?.value, 200n);
    assert.equal(commits.reduce((a, b) => a + b, 0), 200);
    assert.ok(commits.length < 20, `${commits.length} commits for 200 writes`);
    // The versionstamp each caller got is the one its key has now.
    assert.equal(
      (await kv.get(["a", 199])).versionstamp,
      results[199].ok && results[199].versionstamp,
    );
  });
});

Deno.test("group commit: of 50 concurrent check-and-set claims on one key exactly one wins", async () => {
  await withKv({ maxInFlight: 1 }, async (kv) => {
    // The first write holds the only commit slot, so the 50 claims queue behind it together.
    const blocker = kv.atomic().set(["other"], 1).commit();
    const results = await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) =>
          kv.atomic().check({ key: ["claim"], versionstamp: null }).set(["claim"], i).commit(),
      ),
    );
    assert.ok((await blocker).ok);
    assert.equal(results.filter((r) => r.ok).length, 1);
    const winner = results.findIndex((r) => r.ok);
    assert.equal((await kv.get(["claim"])).value, winner);
  });
});

Deno.test("group commit: a failed check or an oversized value fails only its own operation", async () => {
  await withKv({ maxInFlight: 1 }, async (kv, commits) => {
    await kv.set(["taken"], "first");
    const ops = Array.from({ length: 10 }, (_, i) => {
      if (i === 4) {
        return kv.atomic().check({ key: ["taken"], versionstamp: null }).set(["taken"], "x")
          .commit();
      }
      if (i === 7) return kv.atomic().set(["big"], "x".repeat(70_000)).commit();
      return kv.atomic().set(["b", i], i).commit();
    });
    const settled = await Promise.allSettled(ops);
    for (const [i, s] of settled.entries()) {
      if (i === 7) assert.equal(s.status, "rejected");
      else if (i === 4) assert.deepEqual(s.status === "fulfilled" && s.value.ok, false);
      else assert.ok(s.status === "fulfilled" && s.value.ok, `op ${i}`);
    }
    assert.equal((await kv.get(["taken"])).value, "first");
    assert.equal((await Array.fromAsync(kv.list({ prefix: ["b"] }))).length, 8);
    assert.ok(commits.length >= 9, "the failed batch was retried one by one");
  });
});

Deno.test("group commit: set, delete and enqueue go through the combiner; the queue delivers", async () => {
  await withKv({}, async (kv) => {
    const got = new Promise<unknown>((resolve) => kv.listenQueue(resolve));
    await kv.set(["x"], 1);
    await kv.delete(["x"]);
    assert.equal((await kv.get(["x"])).value, null);
    await kv.enqueue({ hello: "queue" });
    assert.deepEqual(await got, { hello: "queue" });
  });
});
