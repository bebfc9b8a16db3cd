import assert from "node:assert/strict";
import { join } from "../paths.ts";
import {
  PipelineCatalog,
  startTriggers,
  type Triggers,
  type WebhookIntake,
} from "../triggers/mod.ts";
import { API_BASE } from "./app.ts";
import { type TestServer, testServer } from "./test_support.ts";

const CSV_PIPELINE = "name: csv\nsource:\n  plugin: csv-source\nstages:\n  - id: tag\n" +
  "    plugin: tag\n    with: { field: band, value: B }\n";

/** Line 3 has a field too many: csv-source rejects it with `FILE:3: …`. */
const BAD_ROW = "name,domain\nAcme,acme.example\nBeta,beta.example,extra\nGamma,gamma.example\n";

/** Starts a run of pipeline `csv` with `init` and returns its rejected reasons and detail. */
async function runOf(s: TestServer, init: RequestInit, query = "") {
  const res = await s.call(`${API_BASE}/pipelines/csv/runs${query}`, {
    method: "POST",
    as: "operator",
    ...init,
  });
  assert.equal(res.status, 201, await res.clone().text());
  const { id } = await res.json();
  assert.equal((await s.engine.waitForRun(id)).state, "succeeded");
  const reasons: string[] = [];
  for await (const r of s.backend.store.readRejected(id)) reasons.push(r.reason);
  const detail = await (await s.call(`${API_BASE}/runs/${id}`, { as: "viewer" })).json();
  return { id, reasons, detail };
}

function form(file: Blob, name?: string, sets: string[] = []): FormData {
  const f = new FormData();
  if (name === undefined) f.append("file", file);
  else f.append("file", file, name);
  for (const s of sets) f.append("set", s);
  return f;
}

Deno.test("a multipart upload's rejected rows name the file as uploaded (businesses.csv:3)", async () => {
  const s = await testServer({ deps: { limits: { uploadBytes: 4000 } } });
  try {
    await s.writePipeline("csv", CSV_PIPELINE);
    const run = await runOf(s, {
      body: form(new Blob([BAD_ROW], { type: "text/csv" }), "businesses.csv"),
    });
    assert.deepEqual(run.reasons, [
      "businesses.csv:3: row has 3 fields but the header has 2; check the delimiter and quotes " +
      "of this row",
    ]);
    assert.equal(run.detail.inputName, "businesses.csv");
    // Read by the file's name, not its form type: Excel's CSV is often sent as vnd.ms-excel.
    const excel = await runOf(s, {
      body: form(new Blob([BAD_ROW], { type: "application/vnd.ms-excel" }), "Leads 2026.csv"),
    });
    assert.match(excel.reasons[0], /^Leads 2026\.csv:3: row has 3 fields/);
    // A form without a file, and a file too large, are refused.
    const noFile = await s.call(`${API_BASE}/pipelines/csv/runs`, {
      method: "POST",
      as: "operator",
      body: (() => {
        const f = new FormData();
        f.append("set", "a=b");
        return f;
      })(),
    });
    assert.equal(noFile.status, 400);
    assert.match((await noFile.json()).detail, /no file: send the input file as its `file` field/);
    const big = await s.call(`${API_BASE}/pipelines/csv/runs`, {
      method: "POST",
      as: "operator",
      body: form(new Blob(["name,domain\n" + "x,y.example\n".repeat(8000)]), "big.csv"),
    });
    assert.equal(big.status, 413);
    assert.match((await big.json()).detail, /larger than 4000 bytes/);
  } finally {
    await s.dispose();
  }
});

Deno.test("a raw upload named by Content-Disposition (the web UI's way) names the file so; without a name, as before", async () => {
  const s = await testServer();
  try {
    await s.writePipeline("csv", CSV_PIPELINE);
    const named = await runOf(s, {
      headers: {
        "content-type": "text/csv",
        "content-disposition": `attachment; filename*=UTF-8''Kunden%20M%C3%A4rz.csv`,
      },
      body: BAD_ROW,
    });
    assert.match(named.reasons[0], /^Kunden März\.csv:3: row has 3 fields/);
    assert.equal(named.detail.inputName, "Kunden März.csv");
    // No name: the reason names the stored file (under the run's id), as it always did.
    const plain = await runOf(s, { headers: { "content-type": "text/csv" }, body: BAD_ROW });
    assert.equal(plain.detail.inputName, undefined);
    const stored = join(s.dir, "uploads", `${plain.id}.csv`);
    assert.ok(plain.reasons[0].startsWith(`${stored}:3: row has 3 fields`), plain.reasons[0]);
    // A multipart file without a name (a blob) keeps that behaviour too.
    const blob = await runOf(s, { body: form(new Blob([BAD_ROW], { type: "text/csv" }), "") });
    assert.equal(blob.detail.inputName, undefined);
    assert.match(blob.reasons[0], new RegExp(`/${blob.id}\\.csv:3: row has 3 fields`));
  } finally {
    await s.dispose();
  }
});

Deno.test("hostile upload names are cut to a short base name without control characters", async () => {
  const s = await testServer();
  try {
    await s.writePipeline("csv", CSV_PIPELINE);
    const traversal = await runOf(s, {
      body: form(new Blob([BAD_ROW], { type: "text/csv" }), "../../etc/passwd"),
    });
    assert.equal(traversal.detail.inputName, "passwd");
    assert.match(traversal.reasons[0], /^passwd:3: /);
    const newlines = await runOf(s, {
      headers: {
        "content-type": "text/csv",
        "content-disposition": `attachment; filename*=UTF-8''a%0Aforged%3A1%3A%20ok%0D%0A.csv`,
      },
      body: BAD_ROW,
    });
    assert.equal(newlines.detail.inputName, "aforged:1: ok.csv");
    assert.ok(!/[\r\n]/.test(newlines.reasons[0]));
    const long = await runOf(s, {
      body: form(new Blob([BAD_ROW], { type: "text/csv" }), "y".repeat(500) + ".csv"),
    });
    assert.ok([...long.detail.inputName].length <= 120, long.detail.inputName);
    assert.match(long.detail.inputName, /^y+…y+\.csv$/);
    assert.ok(long.reasons[0].startsWith(`${long.detail.inputName}:3: `));
  } finally {
    await s.dispose();
  }
});

Deno.test("a webhook body named by Content-Disposition: its rejected rows name that file", async () => {
  let intake: WebhookIntake | undefined;
  const s = await testServer({
    deps: { hooks: { handle: (req, p, h) => intake!.handle(req, p, h) } },
  });
  const catalog = await PipelineCatalog.open({
    dir: join(s.dir, "pipelines"),
    registry: s.registry,
  });
  let triggers: Triggers | undefined;
  try {
    triggers = await startTriggers({
      engine: s.engine,
      backend: s.backend,
      kv: s.kv,
      catalog,
      registry: s.registry,
      secrets: (n) => (n === "HOOK" ? "hook-secret-123" : undefined),
      dataDir: s.dir,
    });
    intake = triggers.webhooks;
    await s.writePipeline(
      "crm",
      CSV_PIPELINE.replace("name: csv", "name: crm") +
        "triggers:\n  - webhook: push\n    auth: bearer\n    secret: ${{ secrets.HOOK }}\n",
    );
    await catalog.reload();
    const send = async (headers: Record<string, string>) => {
      const res = await s.call("/hooks/crm/push", {
        method: "POST",
        headers: {
          authorization: "Bearer hook-secret-123",
          "content-type": "text/csv",
          ...headers,
        },
        body: BAD_ROW,
      });
      assert.equal(res.status, 202, await res.clone().text());
      const { runId } = await res.json();
      assert.equal((await s.engine.waitForRun(runId)).state, "succeeded");
      const reasons: string[] = [];
      for await (const r of s.backend.store.readRejected(runId)) reasons.push(r.reason);
      return { runId, reasons };
    };
    const named = await send({
      "content-disposition": 'attachment; filename="crm-export.csv"',
      "idempotency-key": "one",
    });
    assert.match(named.reasons[0], /^crm-export\.csv:3: row has 3 fields/);
    const plain = await send({ "idempotency-key": "two" });
    assert.match(plain.reasons[0], new RegExp(`${plain.runId}\\.csv:3: row has 3 fields`));
  } finally {
    await triggers?.close();
    await catalog.close();
    await s.dispose();
  }
});
