import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { KvStore } from "../store/kv_backend.ts";
import type { RunRecord } from "../store/store.ts";
import { firstPerKey, writeRunRejected } from "./output.ts";

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
