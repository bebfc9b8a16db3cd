import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { groupCommits, mergedOperation, type Pending } from "./kv_group_commit.ts";

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

Deno.test("group commit: sums of one key in a batch go as one sum, unless the key is also set", async () => {
  await withKv({}, async (kv, commits) => {
    await kv.set(["mixed"], new Deno.KvU64(100n));
    const minusOne = (1n << 64n) - 1n; // how a KV sum subtracts one
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => {
      const op = kv.atomic().sum(["hits"], 2n).sum(["hits"], i % 2 ? minusOne : 1n);
      // One operation in the middle resets ["mixed"]: sums before it are lost, after it count.
      if (i === 30) op.set(["mixed"], new Deno.KvU64(0n));
      else op.sum(["mixed"], 1n);
      return op.commit();
    }));
    assert.ok(results.every((r) => r.ok));
    assert.ok(commits.length < 60, `${commits.length} commits`);
    // 60 × 2, plus 30 × 1, minus 30 × 1.
    assert.equal((await kv.get<Deno.KvU64>(["hits"])).value?.value, 120n);
    const mixed = (await kv.get<Deno.KvU64>(["mixed"])).value?.value;
    // However the operations were batched, arrival order holds: the 100 and the 30 sums before
    // the reset are gone, the 29 after it count.
    assert.equal(mixed, 29n);
  });
});

Deno.test("group commit: a merged operation adds up the sums of a key and keeps the rest in order", () => {
  const calls: string[] = [];
  const recorder = {
    sum: (k: Deno.KvKey, n: bigint) => (calls.push(`sum ${k} ${n}`), recorder),
    set: (k: Deno.KvKey, v: unknown) => (calls.push(`set ${k} ${v}`), recorder),
    check: () => (calls.push("check"), recorder),
  };
  const kv = { atomic: () => recorder as unknown as Deno.AtomicOperation };
  const pending = (steps: Pending["steps"], replaces: string[] = []): Pending => ({
    steps,
    checks: new Set(),
    mutates: new Set(),
    replaces: new Set(replaces),
    mutations: steps.length,
    resolve() {},
    reject() {},
  });
  const sum = (k: string, n: bigint) => ({ key: [k], id: k, n });
  mergedOperation(kv, [
    pending([(op) => op.check(), sum("a", 1n), sum("b", 5n)]),
    pending([sum("a", 2n), (op) => op.set(["b"], 0)], ["b"]),
    pending([sum("a", (1n << 64n) - 1n), sum("b", 1n)]),
  ]);
  assert.deepEqual(calls, ["check", "sum b 5", "set b 0", "sum b 1", "sum a 2"]);
});

Deno.test("group commit: the next batch is on its way to the store before the last one's callers resume", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-group-commit-" });
  const raw = await Deno.openKv(join(dir, "g.kv"));
  const log: string[] = [];
  let commits = 0;
  // The raw handle, its commits logged when they are handed to the store.
  const spy = new Proxy(raw, {
    get(target, prop) {
      if (prop === "atomic") {
        return () => {
          const op = target.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => {
            log.push(`commit ${++commits}`);
            return commit();
          };
          return op;
        };
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as Deno.Kv;
  const kv = groupCommits(spy);
  try {
    const first = kv.atomic().set(["a"], 1).commit().then(() => log.push("first resumed"));
    // Queued while the first commit is in flight: the second batch.
    const rest = Promise.all([
      kv.atomic().set(["b"], 1).commit(),
      kv.atomic().set(["c"], 1).commit(),
    ]).then(() => log.push("rest resumed"));
    await Promise.all([first, rest]);
    assert.deepEqual(log, ["commit 1", "commit 2", "first resumed", "rest resumed"]);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
