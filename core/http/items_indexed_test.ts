import assert from "node:assert/strict";
import type { Item } from "../../sdk/types.ts";
import { KvStore } from "../store/kv_backend.ts";
import type { RunRecord, Store } from "../store/store.ts";
import { type ItemQuery, parseFilter, queryItems } from "./items.ts";
import { knownMatches, planIndexQuery } from "./items_indexed.ts";

const STATUSES = ["live", "parked", "for_sale", "no_dns", "placeholder"];

function run(id: string): RunRecord {
  return {
    id,
    pipeline: "leads",
    pipelineYaml: "",
    pipelineFile: "leads.yaml",
    stages: ["source", "transform", "sink"].map((kind, i) => ({
      id: `s${i}`,
      plugin: "x@^1",
      resolved: { manifest: { kind } },
    })) as unknown as RunRecord["stages"],
    inputs: {},
    trigger: { kind: "api" },
    state: "succeeded",
    createdAt: 1,
  };
}

function item(i: number, stringScores: boolean): Item {
  const status = STATUSES[i % 5];
  const it: Item = {
    key: `d${i}.example`,
    domain: `d${i}.example`,
    name: `Business ${i}`,
    lead: status !== "live",
    band: ["hot", "warm", "cool", "cold"][i % 4],
  };
  if (i % 13 !== 0) it.score = stringScores && i % 17 === 0 ? String(i % 101) : i % 101;
  if (i % 19 !== 0) it.website = { status };
  return it;
}

async function withRuns(fn: (store: KvStore, runs: RunRecord[]) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-items-ix-" });
  const kv = await Deno.openKv(`${dir}/s.kv`);
  const store = new KvStore(kv);
  try {
    const runs = [run("plain"), run("mixed")];
    for (const r of runs) {
      await store.createRun(r, []);
      for (let c = 0; c < 12; c++) {
        const items = Array.from({ length: 40 }, (_, k) => item(c * 40 + k, r.id === "mixed"));
        await store.commitChunk({
          runId: r.id,
          stage: 1,
          chunk: c,
          items,
          rejected: [],
          counters: { out: items.length },
          next: [],
        });
      }
    }
    await fn(store, runs);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The same store without its optional read models: queries scan every chunk. */
function scanning(store: Store): Store {
  return {
    doneChunks: (id: string, s: number) => store.doneChunks(id, s),
    readChunk: (id: string, s: number, c: number) => store.readChunk(id, s, c),
  } as unknown as Store;
}

async function everyPage(store: Store, r: RunRecord, q: ItemQuery, limit: number) {
  const keys: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await queryItems(store, r, q, { limit, cursor });
    assert.ok(page.items.length <= limit);
    if (page.cursor) assert.equal(page.items.length, limit);
    keys.push(...page.items.map((i) => i.key));
    cursor = page.cursor;
    pages++;
  } while (cursor && pages < 500);
  return keys;
}

const QUERIES: { filters: string[]; sort?: string; where?: string }[] = [
  { filters: ["website.status=parked", "score>=50"] },
  { filters: ["website.status=for_sale"], sort: "-score" },
  { filters: [], sort: "score" },
  { filters: ["lead=true", "band=hot"] },
  { filters: ["band=warm"], where: 'item.name.matches("1")' },
  { filters: ["score=50"] },
  { filters: ["website.status=null"] },
  { filters: ["score<10", "band!=hot"], sort: "-score" },
  { filters: ["lead=false", "name~business 3"] },
  { filters: ["band=none"] },
  { filters: [], sort: "band" },
  { filters: ["score>=50"], sort: "-lead" },
  { filters: ["website.status=parked"], sort: "-band" },
  { filters: [], sort: "website.status" },
];

Deno.test("pages through the item index equal the scanning path's, in order", async () => {
  await withRuns(async (store, runs) => {
    for (const r of runs) {
      for (const spec of QUERIES) {
        const q: ItemQuery = {
          stage: 1,
          filters: spec.filters.map(parseFilter),
          sort: spec.sort,
          where: spec.where,
        };
        const want = await everyPage(scanning(store), r, q, 1000);
        for (const limit of [7, 50]) {
          const got = await everyPage(store, r, q, limit);
          assert.deepEqual(got, want, `${r.id} ${JSON.stringify(spec)} pages of ${limit}`);
        }
      }
    }
  });
});

Deno.test("the planner uses the index only where it answers exactly or with a superset", async () => {
  await withRuns(async (store) => {
    const plain = (await store.itemIndexStats("plain", 1))!;
    const mixed = (await store.itemIndexStats("mixed", 1))!;
    const f = (...xs: string[]) => xs.map(parseFilter);
    assert.deepEqual(planIndexQuery(plain, f("website.status=parked", "score>=50")), {
      where: [
        { field: "website.status", op: "=", value: "parked" },
        { field: "score", op: ">=", value: 50 },
      ],
    });
    // No = condition and no sort: the index cannot keep item order cheaply.
    assert.equal(planIndexQuery(plain, f("score>=50")), undefined);
    assert.deepEqual(planIndexQuery(plain, f("score>=50"), "-score")?.sort, {
      field: "score",
      desc: true,
    });
    // Items without a score are not in the index: sorting needs a range that leaves them out.
    assert.equal(planIndexQuery(plain, f("band=hot"), "score"), undefined);
    // Strings among the scores compare as text: neither ranges nor sorting use the index.
    assert.equal(planIndexQuery(mixed, f("score>=50"), "score"), undefined);
    assert.deepEqual(planIndexQuery(mixed, f("band=hot", "score>=50"))?.where, [
      { field: "band", op: "=", value: "hot" },
    ]);
    assert.equal(planIndexQuery(plain, f("name=x"), "name"), undefined);
    // Text values sort through the index value by value, in the order sort= gives them.
    assert.deepEqual(planIndexQuery(plain, [], "-band")?.sort, {
      field: "band",
      desc: true,
      order: ["warm", "hot", "cool", "cold"],
    });
    assert.deepEqual(planIndexQuery(plain, [], "lead")?.sort?.order, [false, true]);
    // Some items have no status: they would be left out, so status sorts scan.
    assert.equal(planIndexQuery(plain, [], "website.status"), undefined);
  });
});

Deno.test("a sorted page through the index reads no chunk: its rows carry the items", async () => {
  await withRuns(async (store, runs) => {
    const read: number[] = [];
    const counting = new Proxy(store, {
      get(target, prop) {
        if (prop === "readChunk") {
          return (id: string, s: number, c: number) => {
            read.push(c);
            return target.readChunk(id, s, c);
          };
        }
        if (prop === "readChunks") {
          return (id: string, s: number, cs: number[]) => {
            read.push(...cs);
            return target.readChunks(id, s, cs);
          };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const q: ItemQuery = {
      stage: 1,
      filters: f("website.status=parked", "score>=0"),
      sort: "-score",
    };
    const page = await queryItems(counting, runs[0], q, { limit: 3 });
    // Parked items are i % 5 == 1 with score i % 101 (480 items): 100 (i=201), 99 (301), 98 (401).
    assert.deepEqual(page.items.map((i) => i.key), [
      "d201.example",
      "d301.example",
      "d401.example",
    ]);
    assert.deepEqual(read, []);
    // An = scan in item order reads the chunks holding the page: here the first two.
    const parked = await queryItems(counting, runs[0], {
      stage: 1,
      filters: f("website.status=parked"),
    }, { limit: 10 });
    assert.equal(parked.items.length, 10);
    assert.deepEqual(read, [0, 1]);
  });
});

const f = (...xs: string[]) => xs.map(parseFilter);

Deno.test("the scanning path pages across windows of chunks in item order", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-items-scan-" });
  const kv = await Deno.openKv(`${dir}/s.kv`);
  try {
    const store = new KvStore(kv);
    const r = run("many");
    await store.createRun(r, []);
    const keys: string[] = [];
    for (let c = 0; c < 45; c += c % 3 === 0 ? 2 : 1) {
      const items = Array.from({ length: 3 }, (_, k) => ({ key: `c${c}k${k}`, name: `n${c + k}` }));
      keys.push(...items.map((i) => i.key));
      await store.commitChunk({
        runId: "many",
        stage: 1,
        chunk: c,
        items,
        rejected: [],
        counters: {},
        next: [],
      });
    }
    for (const limit of [1, 5, 16, 200]) {
      const all = await everyPage(store, r, { stage: 1, filters: [] }, limit);
      assert.deepEqual(all, keys, `pages of ${limit}`);
      const some = await everyPage(store, r, { stage: 1, filters: f("name~1") }, limit);
      assert.deepEqual(some, keys.filter((_, i) => keyName(keys[i]).includes("1")));
    }
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

function keyName(key: string) {
  const [, c, k] = /^c(\d+)k(\d+)$/.exec(key)!;
  return `n${Number(c) + Number(k)}`;
}

Deno.test("a bounded scan returns partial pages whose cursors still reach every match once", async () => {
  await withRuns(async (store, runs) => {
    const r = runs[0];
    for (
      const spec of [
        { filters: f("name~business 3") },
        { filters: f("band=warm"), where: 'item.name.matches("7")' },
      ]
    ) {
      const q: ItemQuery = { stage: 1, ...spec };
      const want = await everyPage(store, r, q, 1000);
      const got: string[] = [];
      let cursor: string | undefined;
      let partials = 0;
      for (let guard = 0; guard < 1000; guard++) {
        const page = await queryItems(store, r, q, { limit: 4, cursor, maxScan: 5 });
        got.push(...page.items.map((i) => i.key));
        if (page.partial) partials++;
        cursor = page.cursor;
        if (!cursor) break;
      }
      assert.deepEqual(got, want, JSON.stringify(spec));
      assert.ok(partials > 0, `some pages stopped at the scan bound: ${JSON.stringify(spec)}`);
    }
  });
});

Deno.test("the index's counts tell how many items match a lone = filter, without reading", async () => {
  await withRuns(async (store, runs) => {
    const r = runs[0];
    const all = (await everyPage(store, r, { stage: 1, filters: [] }, 1000)).length;
    assert.equal(await knownMatches(store, r, 1, []), all);
    for (const text of ["band=hot", "lead=true", "website.status=parked", "band=none"]) {
      const n = (await everyPage(store, r, { stage: 1, filters: f(text) }, 1000)).length;
      assert.equal(await knownMatches(store, r, 1, f(text)), n, text);
    }
    assert.equal(await knownMatches(store, r, 1, f("score=5")), undefined);
    assert.equal(await knownMatches(store, r, 1, f("band=hot", "lead=true")), undefined);
    assert.equal(await knownMatches(store, r, 1, f("band!=hot")), undefined);
  });
});
