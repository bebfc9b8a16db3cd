import assert from "node:assert/strict";
import { API_BASE } from "./app.ts";
import { genPipeline, testServer } from "./test_support.ts";

Deno.test("stopping the server mid-run and starting a new one on the same KV file loses nothing", async () => {
  const s1 = await testServer();
  let s2;
  try {
    await s1.writePipeline(
      "long",
      genPipeline(
        "long",
        200,
        `  - id: slow
    plugin: slow
    with: { ms: 30 }
`,
      ),
    );
    const res = await s1.call(`${API_BASE}/pipelines/long/runs`, {
      method: "POST",
      as: "operator",
      json: {},
    });
    const run = await res.json();
    for (;;) {
      const d = await (await s1.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
      if (d.stageDetails[2].counters.chunksDone >= 2) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await s1.stop();
    s2 = await testServer({ dir: s1.dir });
    const mid = await (await s2.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
    assert.equal(mid.state, "running");
    assert.ok(mid.stageDetails[2].counters.out < 200, "the restart happened mid-run");
    const sse = await (await s2.call(`${API_BASE}/runs/${run.id}/events`, { as: "viewer" })).text();
    assert.match(sse, /event: end\ndata: \{"state":"succeeded"\}/);
    const items = await (await s2.call(`${API_BASE}/runs/${run.id}/items/export?format=jsonl`, {
      as: "viewer",
    })).text();
    const keys = items.trim().split("\n").map((l) => JSON.parse(l).key);
    assert.equal(keys.length, 200);
    assert.equal(new Set(keys).size, 200);
    const done = await (await s2.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
    assert.equal(done.stageDetails[2].counters.out, 200);
  } finally {
    await s2?.stop();
    await s1.dispose();
  }
});
