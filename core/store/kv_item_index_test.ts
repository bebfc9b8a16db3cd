import assert from "node:assert/strict";
import type { Item } from "../../sdk/types.ts";
import type { IndexCondition, ItemIndexQuery, ItemRef } from "./item_index.ts";
import { itemIndexStage, refPosition } from "./item_index.ts";
import { KvStore } from "./kv_backend.ts";
import { planCommit } from "./kv_item_index.ts";
import type { RunRecord } from "./store.ts";

async function withStore(fn: (store: KvStore) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-itemix-" });
  const kv = await Deno.openKv(`${dir}/s.kv`);
  try {
    await fn(new KvStore(kv));
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const kinds = ["source", "transform", "transform", "sink"];

function run(id: string): RunRecord {
  return {
    id,
    pipeline: "leads",
    pipelineYaml: "",
    pipelineFile: "leads.yaml",
    stages: kinds.map((kind, i) => ({
      id: `s${i}`,
      plugin: "x@^1",
      resolved: { manifest: { kind } },
    })) as unknown as RunRecord["stages"],
    inputs: {},
    trigger: { kind: "api" },
    state: "running",
    createdAt: 1,
  };
}

const STATUSES = ["live", "parked", "for_sale"];

/** Item `i`: every 7th has no score, every 11th has no website. */
function item(i: number): Item {
  const it: Item = { key: `d${i}`, band: ["hot", "cold"][i % 2], lead: i % 3 !== 0 };
  if (i % 7 !== 0) it.score = (i * 37) % 10;
  if (i % 11 !== 0) it.website = { status: STATUSES[i % 3] };
  return it;
}

/**
 * Commits `chunks` chunks of `size` items to `stage`; `asBytes`: as a count and the items' bytes
 * only (as a sink's stored input is passed on).
 */
async function fill(
  store: KvStore,
  id: string,
  chunks: number,
  size: number,
  stage = 2,
  asBytes = false,
) {
  await store.createRun(run(id), []);
  for (let c = 0; c < chunks; c++) {
    const items = Array.from({ length: size }, (_, k) => item(c * size + k));
    const data = asBytes
      ? {
        items: [],
        count: items.length,
        itemsBytes: [new TextEncoder().encode(JSON.stringify(items))],
      }
      : { items };
    assert.ok(
      await store.commitChunk({
        runId: id,
        stage,
        chunk: c,
        ...data,
        rejected: [],
        counters: { out: items.length },
        next: [],
      }),
    );
  }
}

/** Every ref of a query, page by page. */
async function all(store: KvStore, q: Omit<ItemIndexQuery, "limit" | "after">, limit: number) {
  const out: ItemRef[] = [];
  let after;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await store.queryItemIndex({ ...q, limit, after });
    assert.ok(page);
    out.push(...page.refs);
    if (page.done) return out;
    assert.equal(page.refs.length, limit);
    after = refPosition(page.refs.at(-1)!, q.sort?.field);
  }
  throw new Error("no end");
}

const N = 6 * 25;
const positions = (refs: ItemRef[]) => refs.map((r) => r.chunk * 25 + r.offset);
const range = (pred: (i: number) => boolean) => Array.from({ length: N }, (_, i) => i).filter(pred);

Deno.test("the index stage is the last stage that is not a sink", () => {
  assert.equal(itemIndexStage(run("x")), 2);
});

Deno.test("= queries return matching items in item order, page by page", async () => {
  await withStore(async (store) => {
    await fill(store, "r", 6, 25);
    const where: IndexCondition[] = [{ field: "website.status", op: "=", value: "parked" }];
    const want = range((i) => i % 11 !== 0 && i % 3 === 1);
    for (const limit of [1, 4, 50]) {
      assert.deepEqual(positions(await all(store, { runId: "r", stage: 2, where }, limit)), want);
    }
    // Several conditions: the smallest value drives, the others are checked on the rows.
    const two: IndexCondition[] = [
      { field: "band", op: "=", value: "hot" },
      { field: "lead", op: "=", value: false },
      { field: "score", op: ">=", value: 5 },
    ];
    assert.deepEqual(
      positions(await all(store, { runId: "r", stage: 2, where: two }, 3)),
      range((i) => i % 2 === 0 && i % 3 === 0 && i % 7 !== 0 && (i * 37) % 10 >= 5),
    );
    // Rows hold every field's value, null for missing ones, but nulls are not scanned.
    const lead = await all(store, {
      runId: "r",
      stage: 2,
      where: [{ field: "lead", op: "=", value: false }, {
        field: "website.status",
        op: "=",
        value: null,
      }],
    }, 2);
    assert.deepEqual(positions(lead), range((i) => i % 3 === 0 && i % 11 === 0));
    await assert.rejects(
      () =>
        store.queryItemIndex({
          runId: "r",
          stage: 2,
          where: [{ field: "website.status", op: "=", value: null }],
          limit: 5,
        }),
      RangeError,
    );
    const rows = (await store.queryItemIndex({ runId: "r", stage: 2, where, limit: 1 }))!;
    assert.deepEqual(rows.refs[0].values, ["parked", "cold", true, 7]);
  });
});

Deno.test("sorted queries: by value, ties in item order, items without a value left out", async () => {
  await withStore(async (store) => {
    await fill(store, "r", 6, 25);
    const score = (i: number) => (i % 7 === 0 ? null : (i * 37) % 10);
    const order = (desc: boolean) =>
      range((i) => score(i) !== null).sort((a, b) => {
        const x = score(a)!, y = score(b)!;
        if (x === y) return a - b;
        return desc ? y - x : x - y;
      });
    for (const desc of [false, true]) {
      for (const limit of [1, 6, 1000]) {
        const refs = await all(
          store,
          { runId: "r", stage: 2, where: [], sort: { field: "score", desc } },
          limit,
        );
        assert.deepEqual(positions(refs), order(desc), `desc ${desc}, pages of ${limit}`);
      }
    }
    // A range on the sort field bounds the scan; other conditions filter rows.
    const where: IndexCondition[] = [
      { field: "score", op: ">", value: 2 },
      { field: "score", op: "<=", value: 6 },
      { field: "band", op: "=", value: "cold" },
    ];
    for (const desc of [false, true]) {
      const refs = await all(
        store,
        { runId: "r", stage: 2, where, sort: { field: "score", desc } },
        4,
      );
      const s = (i: number) => score(i);
      assert.deepEqual(
        positions(refs),
        order(desc).filter((i) => i % 2 === 1 && s(i) !== null && s(i)! > 2 && s(i)! <= 6),
      );
      // An empty range (from above to) matches nothing, in either order, without an error.
      const empty = await all(store, {
        runId: "r",
        stage: 2,
        where: [{ field: "score", op: ">=", value: 90 }, { field: "score", op: "<=", value: 10 }],
        sort: { field: "score", desc },
      }, 4);
      assert.deepEqual(empty, [], `empty range, desc ${desc}`);
    }
  });
});

Deno.test("a chunk of the index stage committed as a count and bytes only is indexed from its bytes", async () => {
  await withStore(async (store) => {
    await fill(store, "r", 2, 30, 2, true);
    const stats = (await store.itemIndexStats("r", 2))!;
    assert.equal(stats.items, 60);
    assert.deepEqual(stats.types["score"], { null: 9, number: 51 });
    const lead = stats.values["lead"].find((v) => v.value === true)!;
    assert.equal(lead.count, range((i) => i < 60 && i % 3 !== 0).length);
  });
});

Deno.test("counts of the index; other stages and too-large chunks have no usable index", async () => {
  await withStore(async (store) => {
    await fill(store, "r", 2, 30);
    const stats = (await store.itemIndexStats("r", 2))!;
    assert.equal(stats.items, 60);
    assert.deepEqual(stats.types["score"], { null: 9, number: 51 });
    const lead = stats.values["lead"].find((v) => v.value === true)!;
    assert.equal(lead.count, range((i) => i < 60 && i % 3 !== 0).length);
    assert.equal(await store.itemIndexStats("r", 1), undefined);
    assert.equal(
      await store.queryItemIndex({
        runId: "r",
        stage: 1,
        where: [],
        sort: { field: "score" },
        limit: 1,
      }),
      undefined,
    );
    // A chunk with more distinct values than one commit can index turns the run's index off;
    // the chunk itself is committed.
    await store.createRun(run("wide"), []);
    const wide = Array.from({ length: 1200 }, (_, i) => ({ key: `w${i}`, score: i / 7 }));
    assert.ok(
      await store.commitChunk({
        runId: "wide",
        stage: 2,
        chunk: 0,
        items: wide,
        rejected: [],
        counters: {},
        next: [],
      }),
    );
    assert.equal((await store.readChunk("wide", 2, 0))!.length, 1200);
    // Rows of the sort field carry their items, unless the chunk is too large to carry them.
    await store.createRun(run("carry"), []);
    const pad = "x".repeat(800);
    for (const [chunk, n, text] of [[0, 10, ""], [1, 900, pad]] as const) {
      const items = Array.from({ length: n }, (_, k) => ({ ...item(chunk * 1000 + k), text }));
      await store.commitChunk({
        runId: "carry",
        stage: 2,
        chunk,
        items,
        rejected: [],
        counters: {},
        next: [],
      });
    }
    assert.equal((await store.itemIndexStats("carry", 2))?.items, 910);
    const sorted = await all(store, {
      runId: "carry",
      stage: 2,
      where: [{ field: "score", op: ">=", value: 9 }],
      sort: { field: "score" },
    }, 5);
    assert.ok(sorted.length > 20);
    for (const ref of sorted) {
      if (ref.chunk === 0) assert.deepEqual(ref.item, { ...item(ref.offset), text: "" });
      else assert.equal(ref.item, undefined);
    }
    await store.deleteRun("r");
    assert.equal(await store.itemIndexStats("r", 2), undefined);
  });
});

Deno.test("planCommit: items too large for the commit are left out of the sort rows without serializing them", () => {
  let serialized = 0;
  // 200 items of ~3.4 KB, as the flagship's: with their rows they pass one commit's budget.
  const items = Array.from({ length: 200 }, (_, i) => ({
    key: `k${i}`,
    score: i % 7,
    website: { status: "parked" },
    lead: true,
    text: "x".repeat(3400),
    toJSON() {
      serialized++;
      const { toJSON: _, ...rest } = this;
      return rest;
    },
  }));
  const base = {
    runId: "r",
    stage: 3,
    chunk: 0,
    items,
    indexed: true,
    partBytes: 0,
    partCount: 0,
    fixed: 21,
  };
  const unhinted = planCommit(base);
  assert.ok(serialized >= 200, "without the hint the rows were built with the items first");
  const itemBytes = new TextEncoder().encode(JSON.stringify(items)).length;
  serialized = 0;
  const hinted = planCommit({ ...base, itemBytes });
  assert.equal(serialized, 0, "never serialized");
  assert.deepEqual(hinted, unhinted, "the same writes");
  assert.ok(hinted.sets.length > 0 && !hinted.off);
  // Small items still go into the sort rows.
  const small = items.slice(0, 3).map(({ text: _, ...rest }) => rest);
  serialized = 0;
  const withRows = planCommit({ ...base, items: small, itemBytes: 300 });
  assert.equal(serialized, 3, "small items are serialized into their sort rows");
  assert.deepEqual(withRows, planCommit({ ...base, items: small }));
});
