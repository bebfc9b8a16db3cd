import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { KvStore } from "../store/kv_backend.ts";
import type { RunRecord, StageSnapshot } from "../store/store.ts";
import type { Item } from "../../sdk/types.ts";
import {
  firstPerKey,
  writeItemsJsonl,
  writeRunDuplicates,
  writeRunOutput,
  writeRunRejected,
} from "./output.ts";

const run: RunRecord = {
  id: "r",
  pipeline: "p",
  pipelineYaml: "",
  pipelineFile: "p.yaml",
  stages: [],
  inputs: {},
  trigger: { kind: "cli" },
  state: "succeeded",
  createdAt: 1,
};

/** Runs `fn` on a fresh KV store holding a one-stage run (`one`); removes it after. */
async function withOneStageRun(
  prefix: string,
  fn: (store: KvStore, one: RunRecord, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const kv = await Deno.openKv(`${dir}/s.kv`);
  try {
    const store = new KvStore(kv);
    const one: RunRecord = { ...run, stages: [{ id: "src" } as unknown as StageSnapshot] };
    await store.createRun(one, []);
    await fn(store, one, dir);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Commits `items` as chunk `chunk` of the run's only stage, stored as `json` when given. */
async function commitOutput(store: KvStore, chunk: number, items: Item[], json?: string) {
  await store.commitChunk({
    runId: "r",
    stage: 0,
    chunk,
    items,
    ...(json === undefined
      ? {}
      : { itemsJson: json, itemsBytes: [new TextEncoder().encode(json)] }),
    rejected: [],
    counters: {},
    next: [],
  });
}

Deno.test("runs rejected --out FILE.csv: a raw input line is written as it was, an item as JSON (as the UI's download)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-rejected-csv-" });
  const kv = await Deno.openKv(`${dir}/s.kv`);
  try {
    const store = new KvStore(kv);
    await store.createRun(run, []);
    await store.commitChunk({
      runId: "r",
      stage: 0,
      chunk: 0,
      items: [],
      rejected: [
        { key: "row-4", reason: "row has 5 fields", raw: 'Broken row,a,"b, c",d,e' },
        { key: "row-5", reason: "no domain", raw: { name: "Florist", website: "" } },
        { key: "row-6", reason: "no raw row" },
      ],
      counters: {},
      next: [],
    });
    const file = `${dir}/rej.csv`;
    assert.equal(await writeRunRejected(store, run, file), 3);
    const text = await Deno.readTextFile(file);
    assert.ok(text.startsWith("\ufeff"), "a byte order mark, so Excel reads UTF-8");
    const rows: string[][] = parse(text, { bom: true });
    assert.deepEqual(rows[0], ["stage", "chunk", "key", "reason", "raw"]);
    assert.deepEqual(rows.slice(1).map((r) => [r[2], r[4]]), [
      ["row-4", 'Broken row,a,"b, c",d,e'],
      ["row-5", '{"name":"Florist","website":""}'],
      ["row-6", ""],
    ]);
  } finally {
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("firstPerKey counts the rows a left-out item carries merged in (normalize's duplicates)", () => {
  const f = firstPerKey();
  f.keep([{ key: "a.de", row: 1 }]);
  const kept = f.keep([{ key: "a.de", row: 300, duplicates: [{ row: 310 }] }, { key: "b.de" }]);
  assert.deepEqual(kept.map((i) => i.key), ["b.de"]);
  assert.equal(f.dropped, 2, "row 300 and row 310 inside it");
});

Deno.test("--out's left-out rows: reported while the output is written (JSON lines and CSV) as a second read finds them", async () => {
  await withOneStageRun("sluice-dups-", async (store, one, dir) => {
    const chunks: Item[][] = [
      [{ key: "a", v: 1 }, { key: "b", v: 2 }],
      [{ key: "a", v: 3 }, { key: "c", v: 4 }, { key: "b", v: 5 }],
      [{ key: "a", v: 6 }],
    ];
    for (const [chunk, items] of chunks.entries()) await commitOutput(store, chunk, items);
    for (const out of ["o.jsonl", "o.csv"]) {
      const seen: Item[] = [];
      const r = await writeRunOutput(store, one, `${dir}/${out}`, {
        onDuplicate: (i) => seen.push(i),
      });
      assert.deepEqual([r.items, r.duplicates], [3, 3], out);
      assert.deepEqual(seen.map((i) => i.v), [3, 5, 6], `${out}: each left-out row once, in order`);
      assert.equal(await writeItemsJsonl(`${dir}/kept.jsonl`, seen), 3);
      assert.equal(await writeRunDuplicates(store, one, `${dir}/read.jsonl`), 3);
      assert.equal(
        await Deno.readTextFile(`${dir}/kept.jsonl`),
        await Deno.readTextFile(`${dir}/read.jsonl`),
        `${out}: the same file either way`,
      );
    }
    const all: Item[] = [];
    await writeRunOutput(store, one, `${dir}/all.jsonl`, {
      allRows: true,
      onDuplicate: (i) => all.push(i),
    });
    assert.equal(all.length, 0, "--all-rows leaves nothing out");
    assert.equal(await writeItemsJsonl(`${dir}/kept.jsonl`, []), 0);
    await assert.rejects(Deno.stat(`${dir}/kept.jsonl`), Deno.errors.NotFound, "none: no file");
  });
});

Deno.test("--out JSON lines: the stored items' own bytes (a chunk stored with line breaks re-serialized), the same lines as from parsed items", async () => {
  await withOneStageRun("sluice-out-raw-", async (store, one, dir) => {
    const chunks: Item[][] = [
      [{ key: "a", name: 'Café "Zur Post" – [1]', n: 1 }, { key: "b", nested: { key: "x" } }],
      [{ key: "a", v: 2, duplicates: [{ row: 9 }] }, { key: "c", text: "two\nlines" }],
      [{ key: "d", list: [1, { key: "e" }] }, { name: "no key" } as unknown as Item],
      [{ key: "f", n: 1 }],
    ];
    for (const [chunk, items] of chunks.entries()) {
      // The middle chunk as a plugin might have written it: indented, line breaks between tokens.
      // The last as only its bytes say: `1.0` (parsed and serialized it would be `1`).
      const json = chunk === 1
        ? JSON.stringify(items, null, 2)
        : chunk === 3
        ? '[{"key":"f","n":1.0}]'
        : JSON.stringify(items);
      await commitOutput(store, chunk, items, json);
    }
    assert.match(
      new TextDecoder().decode((await store.readChunkRaw("r", 0, 1))!.parts[0]),
      /\n {2}/,
      "stored indented",
    );
    const dropped: Item[] = [];
    const r = await writeRunOutput(store, one, `${dir}/raw.jsonl`, {
      onDuplicate: (i) => dropped.push(i),
    });
    assert.deepEqual([r.items, r.duplicates], [6, 2], "a left out with the row merged into it");
    assert.deepEqual(dropped, [chunks[1][0]]);
    const lines = (await Deno.readTextFile(`${dir}/raw.jsonl`)).split("\n");
    assert.equal(lines.pop(), "", "ends with a newline");
    assert.deepEqual(
      lines,
      [
        chunks[0][0],
        chunks[0][1],
        chunks[1][1],
        chunks[2][0],
        chunks[2][1],
      ].map((i) => JSON.stringify(i)).concat('{"key":"f","n":1.0}'),
      "as stored",
    );
    // A store that gives parsed items only: the same lines, serialized again.
    const parsedOnly = {
      doneChunks: store.doneChunks.bind(store),
      readChunk: store.readChunk.bind(store),
    } as unknown as KvStore;
    const p = await writeRunOutput(parsedOnly, one, `${dir}/parsed.jsonl`);
    assert.deepEqual([p.items, p.duplicates], [6, 2]);
    assert.equal(
      await Deno.readTextFile(`${dir}/parsed.jsonl`),
      (await Deno.readTextFile(`${dir}/raw.jsonl`)).replace('"n":1.0}', '"n":1}'),
    );
  });
});
