import assert from "node:assert/strict";
import { API_BASE } from "./app.ts";
import { genPipeline, testServer } from "./test_support.ts";
import { PluginIntegrityError } from "../plugins/registry.ts";

async function sseEvents(res: Response): Promise<{ event: string; data: unknown }[]> {
  const text = await res.text();
  return text.split("\n\n").filter((b) => b.trim()).map((block) => {
    const ev = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
    const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6))
      .join("\n");
    return { event: ev, data: JSON.parse(data) };
  });
}

Deno.test("start a run, follow its progress over SSE to the end, then show it", async () => {
  const s = await testServer();
  try {
    await s.writePipeline(
      "gen",
      genPipeline(
        "gen",
        95,
        `  - id: slow
    plugin: slow
    with:
      ms: 15
`,
      ),
    );
    const start = await s.call(`${API_BASE}/pipelines/gen/runs`, {
      method: "POST",
      as: "operator",
      json: { inputs: {} },
    });
    assert.equal(start.status, 201);
    const run = await start.json();
    assert.equal(start.headers.get("location"), `${API_BASE}/runs/${run.id}`);
    assert.equal(run.trigger.kind, "api");
    assert.equal(run.trigger.id, "test-operator");
    const events = await sseEvents(
      await s.call(`${API_BASE}/runs/${run.id}/events`, { as: "viewer" }),
    );
    assert.equal(events.at(-1)!.event, "end");
    assert.deepEqual(events.at(-1)!.data, { state: "succeeded" });
    const progress = events.filter((e) => e.event === "progress").map((e) =>
      e.data as { stageDetails: { counters: { out: number } }[]; state: string }
    );
    assert.ok(progress.length >= 2, `several progress events, got ${progress.length}`);
    const outs = progress.map((p) => p.stageDetails[2].counters.out);
    assert.deepEqual(outs, [...outs].sort((a, b) => a - b), "progress only grows");
    assert.equal(outs.at(-1), 95);
    const shown = await (await s.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
    assert.equal(shown.state, "succeeded");
    assert.deepEqual(shown.stages, ["source", "tag", "slow"]);
    assert.equal(shown.stageDetails[0].counters.out, 95);
    assert.equal(shown.stageDetails[1].counters.chunksDone, 10);
    assert.ok(shown.durationMs >= 0);
    assert.equal(shown.deadLetters, 0);
    assert.ok(s.logs.some((l) => l.includes('"msg":"run started"') && l.includes(run.id)));
  } finally {
    await s.dispose();
  }
});

Deno.test("run list filters by pipeline, state, trigger and time, with cursor pagination", async () => {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const s = await testServer({ deps: { now: () => now } });
  try {
    await s.writePipeline("a", genPipeline("a", 3));
    await s.writePipeline("b", genPipeline("b", 3));
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      now += 60_000;
      const name = i % 2 ? "b" : "a";
      const r = await (await s.call(`${API_BASE}/pipelines/${name}/runs`, {
        method: "POST",
        as: "operator",
        json: {},
      })).json();
      ids.push(r.id);
      await s.engine.waitForRun(r.id);
    }
    const page1 = await (await s.call(`${API_BASE}/runs?limit=3`, { as: "viewer" })).json();
    assert.deepEqual(page1.runs.map((r: { id: string }) => r.id), ids.slice(4).reverse());
    const page2 =
      await (await s.call(`${API_BASE}/runs?limit=3&cursor=${page1.cursor}`, { as: "viewer" }))
        .json();
    assert.deepEqual(page2.runs.map((r: { id: string }) => r.id), ids.slice(1, 4).reverse());
    const page3 =
      await (await s.call(`${API_BASE}/runs?limit=3&cursor=${page2.cursor}`, { as: "viewer" }))
        .json();
    assert.deepEqual(page3.runs.map((r: { id: string }) => r.id), [ids[0]]);
    assert.equal(page3.cursor, undefined);

    const onlyB =
      await (await s.call(`${API_BASE}/runs?pipeline=b&state=succeeded`, { as: "viewer" })).json();
    assert.deepEqual(onlyB.runs.map((r: { id: string }) => r.id), [ids[5], ids[3], ids[1]]);
    const since = new Date(Date.parse("2026-01-01T00:03:00Z")).toISOString();
    const until = new Date(Date.parse("2026-01-01T00:06:00Z")).toISOString();
    const window = await (await s.call(`${API_BASE}/runs?since=${since}&until=${until}&limit=2`, {
      as: "viewer",
    })).json();
    assert.deepEqual(window.runs.map((r: { id: string }) => r.id), [ids[4], ids[3]]);
    const w2 = await (await s.call(
      `${API_BASE}/runs?since=${since}&until=${until}&limit=2&cursor=${window.cursor}`,
      { as: "viewer" },
    )).json();
    assert.deepEqual(w2.runs.map((r: { id: string }) => r.id), [ids[2]]);
    const cron = await (await s.call(`${API_BASE}/runs?trigger=cron`, { as: "viewer" })).json();
    assert.deepEqual(cron.runs, []);
    const api = await (await s.call(`${API_BASE}/runs?trigger=api&limit=100`, { as: "viewer" }))
      .json();
    assert.equal(api.runs.length, 7);
    const bad = await s.call(`${API_BASE}/runs?since=yesterday`, { as: "viewer" });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).detail, /since=yesterday is not a time/);
  } finally {
    await s.dispose();
  }
});

Deno.test("items of a run: filter any field, where, sort, paginate, export CSV and JSONL", async () => {
  const s = await testServer();
  try {
    await s.writePipeline(
      "g",
      `name: g
source:
  plugin: gen-source
  with: { count: 30 }
stages:
  - id: hi
    plugin: tag
    when: item.n >= 20
    with: { field: website, value: { status: parked, code: 200 } }
  - id: band
    plugin: tag
    with: { field: band, value: A }
  - id: note
    plugin: tag
    with: { field: note, value: "=1+2" }
`,
    );
    const run = await (await s.call(`${API_BASE}/pipelines/g/runs`, {
      method: "POST",
      as: "operator",
      json: {},
    })).json();
    assert.equal((await s.engine.waitForRun(run.id)).state, "succeeded");
    const get = async (q: string) => {
      const res = await s.call(`${API_BASE}/runs/${run.id}/items?${q}`, { as: "viewer" });
      assert.equal(res.status, 200, await res.clone().text());
      return await res.json() as { items: { key: string; n: number }[]; cursor?: string };
    };
    const parked = await get("filter=website.status=parked&limit=100");
    assert.deepEqual(parked.items.map((i) => i.n).sort((a, b) => a - b), [
      20,
      21,
      22,
      23,
      24,
      25,
      26,
      27,
      28,
      29,
    ]);
    assert.equal((await get("filter=website.status=parked&filter=n<22")).items.length, 2);
    const none = await get("filter=band!=A") as { items: unknown[]; hints?: string[] };
    assert.equal(none.items.length, 0);
    assert.equal(none.hints, undefined, "band exists: no hint");
    const typo = await get("filter=webiste.status=parked") as {
      items: unknown[];
      hints?: string[];
    };
    assert.equal(typo.items.length, 0);
    assert.deepEqual(typo.hints, [
      'filter webiste.status=parked: no item has "webiste" (webiste.status), but they have ' +
      '"website"; did you mean filter=website.status=parked?',
    ]);
    assert.equal((await get("where=" + encodeURIComponent("item.n % 10 == 0"))).items.length, 3);
    const sorted = await get("sort=-n&limit=4");
    assert.deepEqual(sorted.items.map((i) => i.n), [29, 28, 27, 26]);
    const next = await get(`sort=-n&limit=4&cursor=${sorted.cursor}`);
    assert.deepEqual(next.items.map((i) => i.n), [25, 24, 23, 22]);
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const p = await get(`limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...p.items.map((i) => i.n));
      cursor = p.cursor;
    } while (cursor);
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i));
    const firstStage = await get("stage=source&limit=1");
    assert.equal((firstStage.items[0] as Record<string, unknown>).band, undefined);
    // A sort field no item has is a typo, not an order.
    const badSort = await s.call(`${API_BASE}/runs/${run.id}/items?sort=-nope`, { as: "viewer" });
    assert.equal(badSort.status, 400);
    assert.match(
      (await badSort.json()).detail,
      /sort=-nope: no matching item has the field nope; sort by one of .*\bn\b/,
    );
    const badStage = await s.call(`${API_BASE}/runs/${run.id}/items?stage=nope`, { as: "viewer" });
    assert.equal(badStage.status, 400);
    assert.match((await badStage.json()).detail, /no stage "nope"; stages: source, hi, band/);
    const badFilter = await s.call(`${API_BASE}/runs/${run.id}/items?filter=%3Dx`, {
      as: "viewer",
    });
    assert.equal(badFilter.status, 400);

    const csv = await s.call(`${API_BASE}/runs/${run.id}/items/export?format=csv&filter=n>=28`, {
      as: "viewer",
    });
    assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
    const lines = (await csv.text()).trim().split("\n");
    assert.deepEqual(lines[0].split(","), [
      "key",
      "n",
      "website.status",
      "website.code",
      "band",
      "note",
    ]);
    assert.equal(lines.length, 3);
    // A cell a spreadsheet would run as a formula is written as text (a leading ').
    assert.ok(lines.slice(1).every((l) => /,parked,200,A,'=1\+2$/.test(l)), lines.join("\n"));
    const jsonl = await s.call(`${API_BASE}/runs/${run.id}/items/export?format=jsonl`, {
      as: "viewer",
    });
    const rows = (await jsonl.text()).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(rows.length, 30);
    assert.match(jsonl.headers.get("content-disposition")!, /attachment; filename="g-r.*\.jsonl"/);
    // Chosen columns, in order, and the order of sort=, as the items list sorts.
    const chosen = await s.call(
      `${API_BASE}/runs/${run.id}/items/export?format=csv&filter=n>=26&sort=-n&columns=n,website.status,missing`,
      { as: "viewer" },
    );
    assert.deepEqual((await chosen.text()).trim().split("\n"), [
      "n,website.status,missing",
      "29,parked,",
      "28,parked,",
      "27,parked,",
      "26,parked,",
    ]);
    const picked = await s.call(
      `${API_BASE}/runs/${run.id}/items/export?format=jsonl&filter=n>=28&sort=n&columns=n,website`,
      { as: "viewer" },
    );
    assert.deepEqual(
      (await picked.text()).trim().split("\n").map((l) => JSON.parse(l)),
      [28, 29].map((n) => ({ n, website: { status: "parked", code: 200 } })),
    );
    const badColumns = await s.call(
      `${API_BASE}/runs/${run.id}/items/export?format=csv&columns=a..b`,
      { as: "viewer" },
    );
    assert.equal(badColumns.status, 400);
  } finally {
    await s.dispose();
  }
});

Deno.test("cancel, retry failed chunks and replay dead letters", async () => {
  const s = await testServer();
  try {
    await s.writePipeline(
      "f",
      `name: f
source:
  plugin: gen-source
  with: { count: 20 }
stages:
  - id: flaky
    plugin: flaky
    retry: { attempts: 2, delay: 5ms }
    with: { failTimes: 2, chunks: [1], tag: http-retry }
`,
    );
    const run = await (await s.call(`${API_BASE}/pipelines/f/runs`, {
      method: "POST",
      as: "operator",
      json: {},
    })).json();
    assert.equal((await s.engine.waitForRun(run.id)).state, "failed");
    const dead = await (await s.call(`${API_BASE}/runs/${run.id}/dead-letters`, { as: "viewer" }))
      .json();
    assert.equal(dead.deadLetters.length, 1);
    assert.equal(dead.deadLetters[0].stageId, "flaky");
    assert.equal(dead.deadLetters[0].chunk, 1);
    assert.match(dead.deadLetters[0].error, /flaky failure 2 of chunk 1/);
    const shown = await (await s.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
    assert.match(shown.error, /dead-letter/);
    const replay = await s.call(`${API_BASE}/runs/${run.id}/dead-letters/replay`, {
      method: "POST",
      as: "operator",
    });
    assert.equal(replay.status, 200);
    assert.equal((await replay.json()).replayed, 1);
    assert.equal((await s.engine.waitForRun(run.id)).state, "succeeded");
    const again = await s.call(`${API_BASE}/runs/${run.id}/retry`, {
      method: "POST",
      as: "operator",
    });
    assert.equal(again.status, 409);
    assert.match(
      (await again.json()).detail,
      /succeeded; only failed or running runs can be retried/,
    );

    await s.writePipeline(
      "slow",
      genPipeline(
        "slow",
        200,
        `  - id: slow
    plugin: slow
    with: { ms: 50 }
`,
      ),
    );
    const r2 = await (await s.call(`${API_BASE}/pipelines/slow/runs`, {
      method: "POST",
      as: "operator",
      json: {},
    })).json();
    const cancel = await s.call(`${API_BASE}/runs/${r2.id}/cancel`, {
      method: "POST",
      as: "operator",
    });
    assert.equal(cancel.status, 200);
    assert.equal((await cancel.json()).state, "cancelled");
    const twice = await s.call(`${API_BASE}/runs/${r2.id}/cancel`, {
      method: "POST",
      as: "operator",
    });
    assert.equal(twice.status, 409);
    const missing = await s.call(`${API_BASE}/runs/nope/cancel`, {
      method: "POST",
      as: "operator",
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("content-type"), "application/problem+json");
  } finally {
    await s.dispose();
  }
});

Deno.test("dead letters in the API say they wait for a replay and how, as the CLI and UI do", async () => {
  const s = await testServer();
  try {
    await s.writePipeline(
      "f",
      `name: f
source:
  plugin: gen-source
  with: { count: 20 }
stages:
  - id: flaky
    plugin: flaky
    retry: { attempts: 2, delay: 5ms }
    with: { failTimes: 2, chunks: [1], tag: http-retry }
`,
    );
    const run = await (await s.call(`${API_BASE}/pipelines/f/runs`, {
      method: "POST",
      as: "operator",
      json: {},
    })).json();
    assert.equal((await s.engine.waitForRun(run.id)).state, "failed");
    const path = `${API_BASE}/runs/${run.id}/dead-letters/replay`;
    const dead = await (await s.call(`${API_BASE}/runs/${run.id}/dead-letters`, { as: "viewer" }))
      .json();
    assert.equal(dead.deadLetters.length, 1);
    assert.deepEqual(
      { ...dead.replay, note: undefined },
      {
        method: "POST",
        path,
        role: "operator",
        cli: `sluice runs retry ${run.id}`,
        note: undefined,
      },
    );
    assert.match(
      dead.replay.note,
      /1 dead-lettered chunk\(s\) were parked after their last attempt/,
    );
    assert.match(dead.replay.note, /nothing retries them until they are replayed/);
    assert.ok(dead.replay.note.includes(`POST ${path}`));
    assert.ok(dead.replay.note.includes(`sluice runs retry ${run.id}`));
    const shown = await (await s.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
    assert.equal(shown.deadLetters, 1);
    assert.deepEqual(shown.deadLetterReplay, dead.replay);

    // Documented: the schema names the hint on both responses.
    const doc = await (await s.call(`${API_BASE}/openapi.json`)).json();
    const replaySchema = doc.components.schemas.DeadLetterReplay;
    assert.deepEqual(Object.keys(replaySchema.properties).sort(), [
      "cli",
      "method",
      "note",
      "path",
      "role",
    ]);
    const listed = doc.paths["/runs/{id}/dead-letters"].get.responses["200"]
      .content["application/json"].schema;
    assert.ok(JSON.stringify(listed.properties.replay).includes("DeadLetterReplay"));
    assert.ok(
      JSON.stringify(doc.components.schemas.RunDetail.allOf[1].properties.deadLetterReplay)
        .includes("DeadLetterReplay"),
    );

    // The hint is what it says: following it replays them, and then there is none.
    const replayed = await s.call(dead.replay.path, {
      method: dead.replay.method,
      as: dead.replay.role,
    });
    assert.equal(replayed.status, 200);
    assert.equal((await replayed.json()).replayed, 1);
    assert.equal((await s.engine.waitForRun(run.id)).state, "succeeded");
    const after = await (await s.call(`${API_BASE}/runs/${run.id}/dead-letters`, { as: "viewer" }))
      .json();
    assert.deepEqual(after, { deadLetters: [] });
    const done = await (await s.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
    assert.equal(done.deadLetterReplay, undefined);
  } finally {
    await s.dispose();
  }
});

Deno.test("a run started from an uploaded CSV body reads it as its input file", async () => {
  const s = await testServer({ deps: { limits: { uploadBytes: 2000 } } });
  try {
    await s.writePipeline(
      "csv",
      `name: csv
source:
  plugin: csv-source
stages:
  - id: tag
    plugin: tag
    with: { field: band, value: B }
`,
    );
    const csv = "name,domain\nAcme,acme.example\nBeta,beta.example\nGamma,gamma.example\n";
    const res = await s.call(`${API_BASE}/pipelines/csv/runs`, {
      method: "POST",
      as: "operator",
      headers: { "content-type": "text/csv" },
      body: csv,
    });
    assert.equal(res.status, 201, await res.clone().text());
    const run = await res.json();
    assert.equal((await s.engine.waitForRun(run.id)).state, "succeeded");
    const items =
      await (await s.call(`${API_BASE}/runs/${run.id}/items?sort=domain`, { as: "viewer" })).json();
    assert.deepEqual(items.items.map((i: { domain: string }) => i.domain), [
      "acme.example",
      "beta.example",
      "gamma.example",
    ]);
    const big = await s.call(`${API_BASE}/pipelines/csv/runs`, {
      method: "POST",
      as: "operator",
      headers: { "content-type": "text/csv" },
      body: new Blob(["name,domain\n" + "x,y.example\n".repeat(300)]).stream(),
    });
    assert.equal(big.status, 413);
    assert.match((await big.json()).detail, /larger than 2000 bytes/);
    // JSON lines for a CSV source: refused before anything is stored, as a webhook would be.
    const wrongType = await s.call(`${API_BASE}/pipelines/csv/runs`, {
      method: "POST",
      as: "operator",
      headers: { "content-type": "application/x-ndjson" },
      body: '{"name":"Acme","domain":"acme.example"}\n',
    });
    assert.equal(wrongType.status, 415);
    // No upload at all: the CSV source has nothing to read; refused instead of a failing run.
    const none = await s.call(`${API_BASE}/pipelines/csv/runs`, {
      method: "POST",
      as: "operator",
      json: {},
    });
    assert.equal(none.status, 422);
    assert.match(
      (await none.json()).detail,
      /reads its items from an input file .*upload the file/,
    );
    assert.match((await wrongType.json()).detail, /its source csv-source reads text\/csv/);
  } finally {
    await s.dispose();
  }
});

Deno.test("a run's finished export file is listed on the run and downloads; gone or unknown files say why", async () => {
  const s = await testServer();
  try {
    await s.writePipeline(
      "gen",
      genPipeline(
        "gen",
        30,
        `  - id: sheet
    plugin: csv-export
    with:
      leadsOnly: false
      columns: [key, band]
`,
      ),
    );
    const start = await s.call(`${API_BASE}/pipelines/gen/runs`, {
      method: "POST",
      as: "operator",
      json: { inputs: {} },
    });
    const { id } = await start.json();
    const early = await s.call(`${API_BASE}/runs/${id}/artifacts/sheet/leads.csv`, {
      as: "viewer",
    });
    assert.equal(early.status, 404, "nothing to download before the run ends");
    assert.match((await early.json()).detail, /lists its files when it succeeds/);
    await sseEvents(await s.call(`${API_BASE}/runs/${id}/events`, { as: "viewer" }));
    const shown = await (await s.call(`${API_BASE}/runs/${id}`, { as: "viewer" })).json();
    assert.equal(shown.state, "succeeded");
    const file = `${s.dir}/plugin-data/csv-export/runs/${id}/leads.csv`;
    const text = await Deno.readTextFile(file);
    assert.equal(text.split("\r\n").length, 32, "header, 30 rows, and the last line's end");
    assert.deepEqual(shown.artifacts, [{
      stage: "sheet",
      name: "leads.csv",
      bytes: new TextEncoder().encode(text).length,
      url: `${API_BASE}/runs/${id}/artifacts/sheet/leads.csv`,
    }]);

    const res = await s.call(shown.artifacts[0].url, { as: "viewer" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/csv; charset=utf-8");
    assert.equal(
      res.headers.get("content-disposition"),
      `attachment; filename="gen-${id}-leads.csv"`,
    );
    assert.equal(await res.text(), text, "the file as the stage wrote it");
    assert.equal((await s.call(shown.artifacts[0].url)).status, 401, "a token is needed");

    const other = await s.call(`${API_BASE}/runs/${id}/artifacts/sheet/other.csv`, {
      as: "viewer",
    });
    assert.equal(other.status, 404);
    assert.match(
      (await other.json()).detail,
      /has no file sheet\/other\.csv; it has sheet\/leads\.csv/,
    );

    await Deno.remove(file);
    const gone = await s.call(shown.artifacts[0].url, { as: "viewer" });
    assert.equal(gone.status, 410);
    assert.match((await gone.json()).detail, /no longer in the data folder/);
  } finally {
    await s.dispose();
  }
});

Deno.test("a store whose disk is full answers 507 saying what to do, not an internal error", async () => {
  const s = await testServer();
  try {
    await s.writePipeline("gen", genPipeline("gen", 5));
    // What Deno KV (SQLite) throws when its disk is full, on the write that records the run.
    const full = () => Promise.reject(new TypeError("database or disk is full"));
    s.deps.engine.createRun = full;
    const res = await s.call(`${API_BASE}/pipelines/gen/runs`, {
      method: "POST",
      as: "operator",
      json: { inputs: {} },
    });
    assert.equal(res.status, 507);
    const body = await res.json();
    assert.equal(body.title, "Insufficient Storage");
    assert.match(body.detail, /the server's disk is full .* free space on the data folder's disk/);
    assert.ok(
      s.logs.some((l) => l.includes("the disk is full") && l.includes("database or disk is full")),
    );
  } finally {
    await s.dispose();
  }
});

Deno.test("a plugin changed since install: starting a run is refused with 422 and the registry's advice", async () => {
  const s = await testServer();
  try {
    await s.writePipeline("p", genPipeline("p", 3));
    const real = s.deps.registry;
    s.deps.registry = {
      ...real,
      list: () => real.list(),
      resolve: (name, range) => {
        if (name === "tag") {
          throw new PluginIntegrityError({
            plugin: "tag",
            version: "1.0.0",
            dir: "/plugins/tag@1.0.0",
            expected: "sha256-aaa",
            actual: "sha256-bbb",
            source: "./tag",
          });
        }
        return real.resolve(name, range);
      },
    } as typeof real;
    const res = await s.call(`${API_BASE}/pipelines/p/runs`, {
      method: "POST",
      as: "operator",
      json: {},
    });
    const body = await res.json();
    assert.equal(res.status, 422, JSON.stringify(body));
    assert.match(body.detail, /tag.*plugins\.lock/s);
    assert.doesNotMatch(body.detail, /internal error/);
  } finally {
    await s.dispose();
  }
});

Deno.test("two runs at one fixed export path: each run's download holds its own rows; the file keeps the later-started run's", async () => {
  const s = await testServer();
  try {
    const sheet = `  - id: sheet
    plugin: csv-export
    with:
      path: latest.csv
      leadsOnly: false
      columns: [key]
`;
    // The earlier run is slow, so the later one finishes first.
    await s.writePipeline(
      "early",
      genPipeline("early", 5, `  - { id: wait, plugin: slow, with: { ms: 1500 } }\n${sheet}`),
    );
    await s.writePipeline("late", genPipeline("late", 3, sheet));
    const start = async (name: string) => {
      const res = await s.call(`${API_BASE}/pipelines/${name}/runs`, {
        method: "POST",
        as: "operator",
        json: { inputs: {} },
      });
      return (await res.json()).id as string;
    };
    const early = await start("early");
    await new Promise((r) => setTimeout(r, 50));
    const late = await start("late");
    const shown: Record<string, { state: string; artifacts: { bytes: number; url: string }[] }> =
      {};
    for (const id of [late, early]) {
      await sseEvents(await s.call(`${API_BASE}/runs/${id}/events`, { as: "viewer" }));
      shown[id] = await (await s.call(`${API_BASE}/runs/${id}`, { as: "viewer" })).json();
      assert.equal(shown[id].state, "succeeded");
    }
    const latest = await Deno.readTextFile(`${s.dir}/plugin-data/csv-export/latest.csv`);
    assert.equal(latest, "key\r\ni-0\r\ni-1\r\ni-2\r\n", "the later-started run's rows");
    const own = `${s.dir}/plugin-data/csv-export/runs/${early}/latest.csv`;
    for (const [id, rows] of [[late, 3], [early, 5]] as const) {
      const [a] = shown[id].artifacts;
      const body = await (await s.call(a.url, { as: "viewer" })).text();
      assert.equal(body.split("\r\n").length, rows + 2, `run ${id}: header, its rows, line end`);
      assert.equal(new TextEncoder().encode(body).length, a.bytes, "the record describes it");
    }
    assert.equal(
      await Deno.readTextFile(own),
      await (await s.call(
        shown[early].artifacts[0].url,
        { as: "viewer" },
      )).text(),
    );
    assert.ok(
      s.logs.some((l) => l.includes(`holds the file of run ${late}, started later`)),
      "the earlier run's log names both runs",
    );
  } finally {
    await s.dispose();
  }
});

Deno.test("a run's rejectedItems counts the items of chunks a stage skipped (onError: skip) with its rejected rows", async () => {
  const s = await testServer();
  try {
    // gen-source gives chunks of 10: chunk 0's 10 items fail for good and are skipped.
    await s.writePipeline(
      "skips",
      genPipeline(
        "skips",
        25,
        `  - id: check
    plugin: flaky
    with: { failTimes: 99, chunks: [0], tag: skips, permanent: true }
    onError: skip
`,
      ),
    );
    const start = await s.call(`${API_BASE}/pipelines/skips/runs`, {
      method: "POST",
      as: "operator",
      json: { inputs: {} },
    });
    const run = await start.json();
    await s.engine.waitForRun(run.id);
    const detail = await (await s.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
    const check = detail.stageDetails.find((x: { id: string }) => x.id === "check");
    assert.deepEqual([check.counters.failed, check.counters.rejected], [10, 0]);
    assert.equal(detail.rejectedItems, 10);
    let listed = 0;
    for await (const _ of s.backend.store.readRejected(run.id)) listed++;
    assert.equal(listed, 10, "the run's rejected list holds them");
  } finally {
    await s.dispose();
  }
});
