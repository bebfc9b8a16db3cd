/**
 * The input preflight of webhooks and API uploads, end to end: a real server on loopback, the
 * real sandbox executor, csv-source as shipped. A body the pipeline's source cannot read at all
 * is refused (422, the source's message) and starts no run; anything else starts one as before.
 */
import assert from "node:assert/strict";
import type { StageExecutor } from "../engine/executor.ts";
import { preflightSource } from "../engine/source_preflight.ts";
import { parsePipeline } from "../pipeline/parse.ts";
import { join, ROOT } from "../paths.ts";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { createLogger } from "../telemetry/log.ts";
import { PipelineCatalog, startTriggers, type Triggers } from "../triggers/mod.ts";
import { API_BASE } from "./app.ts";
import { type TestServer, testServer } from "./test_support.ts";
import { catalogAdapter } from "./triggers_adapter.ts";

const HOOK = "hook-secret-123";

const pipeline = (name: string, source: string) =>
  `name: ${name}
source:
  plugin: ${source}
stages:
  - id: tag
    plugin: tag
    with: { field: band, value: B }
triggers:
  - webhook: push
    auth: bearer
    secret: \${{ secrets.HOOK }}
`;

const NO_WEBSITE = "name,city\nAcme Plumbing,Springfield\n";
/** A website column, and a row with a field too many (csv-source rejects that row alone). */
const GOOD = "name,domain\nAcme,acme.example\nBeta,beta.example,extra\n";

interface Harness {
  s: TestServer;
  url: string;
  /** Source reads the preflight made (opens of a `preflight-…` run's source). */
  preflights: () => number;
  post(path: string, init: RequestInit & { as?: "operator" | "viewer" }): Promise<Response>;
  runs(): Promise<{ id: string; pipeline: string; trigger: { kind: string } }[]>;
}

async function withServer(fn: (h: Harness) => Promise<void>) {
  const sandbox = new SandboxExecutor();
  let preflights = 0;
  // The real sandbox, counting the preflight's source instances (the runs' go through it too).
  const executor: StageExecutor = {
    takesInputText: sandbox.takesInputText,
    open(spec) {
      if (spec.runId.startsWith("preflight-")) preflights++;
      return sandbox.open(spec);
    },
    close: () => sandbox.close(),
  };
  const s = await testServer({
    executor,
    plugins: [join(ROOT, "core/http/testdata/broken-source")],
    deps: {
      hooks: {
        handle: (req, p, h) => triggers!.webhooks.handle(req, p, h),
        deliveries: (p, h, n) => triggers!.webhooks.deliveries(p, h, n),
      },
    },
  });
  const catalog = await PipelineCatalog.open({
    dir: join(s.dir, "pipelines"),
    registry: s.registry,
  });
  let triggers: Triggers | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, s.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  const ids: string[] = [];
  try {
    triggers = await startTriggers({
      engine: s.engine,
      backend: s.backend,
      kv: s.kv,
      catalog,
      registry: s.registry,
      secrets: (n) => (n === "HOOK" ? HOOK : undefined),
      dataDir: s.dir,
      defaults: s.deps.defaults,
      preflight: { executor },
      log: createLogger({ format: "json", level: "debug", write: (l) => s.logs.push(l) }),
    });
    s.deps.pipelines = catalogAdapter(catalog);
    await catalog.write("leads", pipeline("leads", "csv-source"));
    await catalog.write("broken", pipeline("broken", "broken-source"));
    const runs = async () => {
      const res = await fetch(`${url}${API_BASE}/runs`, {
        headers: { authorization: `Bearer ${s.token.viewer}` },
      });
      const list = (await res.json()).runs;
      for (const r of list) if (!ids.includes(r.id)) ids.push(r.id);
      return list;
    };
    await fn({
      s,
      url,
      preflights: () => preflights,
      post: (path, { as, ...init }) => {
        const headers = new Headers(init.headers);
        if (as) headers.set("authorization", `Bearer ${s.token[as]}`);
        return fetch(`${url}${path}`, { method: "POST", ...init, headers });
      },
      runs,
    });
    // The runs are not what is tested: stopped, not waited for to the end.
    await runs();
    for (const id of ids) await s.engine.cancelRun(id).catch(() => {});
    for (const id of ids) await s.engine.waitForRun(id);
  } finally {
    await server.shutdown();
    await triggers?.close();
    await catalog.close();
    await s.dispose();
  }
}

const hook = (body: string, headers: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${HOOK}`, "content-type": "text/csv", ...headers },
  body,
});

Deno.test("a webhook CSV without a website column is refused 422 with csv-source's message and starts no run", async () => {
  await withServer(async (h) => {
    const refused = await h.post(
      "/hooks/leads/push",
      hook(NO_WEBSITE, { "idempotency-key": "k1" }),
    );
    assert.equal(refused.status, 422);
    const { error } = await refused.json();
    assert.match(error, /^the pipeline's source \(csv-source\) cannot read this body/);
    assert.match(
      error,
      /body:1: no website column: the header has "name", "city"; name the column/,
    );
    assert.match(error, /set with\.domainColumn/);
    assert.deepEqual(await h.runs(), [], "no run was created");

    // Named by the sender: the message names the file as the sender has it.
    const named = await h.post(
      "/hooks/leads/push",
      hook(NO_WEBSITE, { "content-disposition": "attachment; filename=crm.csv" }),
    );
    assert.equal(named.status, 422);
    assert.match((await named.json()).error, /crm\.csv:1: no website column/);

    // The same key with a body the source reads: the refused delivery held no claim. A row the
    // source rejects alone (a field too many) does not refuse the body.
    const ok = await h.post("/hooks/leads/push", hook(GOOD, { "idempotency-key": "k1" }));
    assert.equal(ok.status, 202, await ok.clone().text());
    const { runId } = await ok.json();
    const runs = await h.runs();
    assert.deepEqual(runs.map((r) => [r.id, r.trigger.kind]), [[runId, "webhook"]]);
    assert.equal(h.preflights(), 3);

    // A replay of the accepted delivery answers as before, without a preflight.
    const again = await h.post("/hooks/leads/push", hook(GOOD, { "idempotency-key": "k1" }));
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { runId, url: `/api/v1/runs/${runId}`, duplicate: true });
    assert.equal(h.preflights(), 3, "no preflight for a repeated Idempotency-Key");
    assert.equal((await h.runs()).length, 1);

    // The delivery history keeps the refusal and its reason, as it keeps 400/415.
    const d = await (await fetch(`${h.url}${API_BASE}/hooks/leads/push/deliveries`, {
      headers: { authorization: `Bearer ${h.s.token.viewer}` },
    })).json();
    const rows = d.deliveries.map((x: { status: number; runId?: string; reason?: string }) => [
      x.status,
      x.runId,
      x.reason?.match(/no website column/)?.[0],
    ]);
    assert.deepEqual(rows, [
      [200, runId, undefined],
      [202, runId, undefined],
      [422, undefined, "no website column"],
      [422, undefined, "no website column"],
    ]);
  });
});

Deno.test("a webhook whose source fails for a reason other than its input is accepted as before", async () => {
  await withServer(async (h) => {
    // broken-source throws a plain Error: not the input's fault, so the check lets it through.
    const res = await h.post("/hooks/broken/push", hook(NO_WEBSITE));
    assert.equal(res.status, 202, await res.clone().text());
    const { runId } = await res.json();
    assert.deepEqual((await h.runs()).map((r) => r.id), [runId]);
    assert.equal(h.preflights(), 1);
    const warned = h.s.logs.map((l) => JSON.parse(l))
      .find((l) => l.msg === "webhook body not checked by its source; accepted");
    assert.ok(warned, "a warning says the body was not checked");
    assert.match(warned.reason, /something inside the plugin broke/);
  });
});

Deno.test("an API upload without a website column is refused 422 (problem+json) and starts no run", async () => {
  await withServer(async (h) => {
    const path = `${API_BASE}/pipelines/leads/runs`;
    const raw = await h.post(path, {
      as: "operator",
      headers: { "content-type": "text/csv" },
      body: NO_WEBSITE,
    });
    assert.equal(raw.status, 422);
    assert.equal(raw.headers.get("content-type"), "application/problem+json");
    const problem = await raw.json();
    assert.equal(problem.title, "Unprocessable Content");
    assert.match(problem.detail, /^the pipeline's source \(csv-source\) cannot read this upload/);
    assert.match(
      problem.detail,
      /upload:1: no website column: the header has "name", "city"; name the column/,
    );
    // A multipart form names its file; a large one is read only at its beginning (64 KiB).
    const big = new FormData();
    big.append(
      "file",
      new Blob([NO_WEBSITE + "Beta Roofing,Shelbyville\n".repeat(20_000)]),
      "crm.csv",
    );
    const form = await h.post(path, { as: "operator", body: big });
    assert.equal(form.status, 422);
    assert.match((await form.json()).detail, /crm\.csv:1: no website column/);
    // Not UTF-8 (Excel's Windows-1252 CSV): the source reads the sample's bytes as it would
    // read the file's.
    const latin1 = (t: string) => Uint8Array.from(t, (ch) => ch.charCodeAt(0));
    const cp1252 = await h.post(path, {
      as: "operator",
      headers: { "content-type": "text/csv" },
      body: latin1("Caf\xe9,Ville\nChez Lou,Paris\n"),
    });
    assert.equal(cp1252.status, 422);
    assert.match((await cp1252.json()).detail, /the header has "Caf\u00e9", "Ville"/);
    assert.deepEqual(await h.runs(), [], "no run was created");
    const leftovers = [...Deno.readDirSync(join(h.s.dir, "uploads"))];
    assert.deepEqual(leftovers, [], "the refused uploads and the samples were removed");

    const good = new FormData();
    good.append("file", new Blob([GOOD + "Gamma,gamma.example\n".repeat(4_000)]), "ok.csv");
    const created = await h.post(path, { as: "operator", body: good });
    assert.equal(created.status, 201, await created.clone().text());
    const { id } = await created.json();
    const cpGood = await h.post(path, {
      as: "operator",
      headers: { "content-type": "text/csv" },
      body: latin1("name,domain\nCaf\xe9 Lou,cafe.example\n"),
    });
    assert.equal(cpGood.status, 201, await cpGood.clone().text());
    const cpId = (await cpGood.json()).id;
    // A source failing for another reason than its input: the upload is taken as before.
    const broken = await h.post(`${API_BASE}/pipelines/broken/runs`, {
      as: "operator",
      headers: { "content-type": "text/csv" },
      body: NO_WEBSITE,
    });
    assert.equal(broken.status, 201, await broken.clone().text());
    const ids = (await h.runs()).map((r) => r.id).sort();
    assert.deepEqual(ids, [id, cpId, (await broken.json()).id].sort());
  });
});

Deno.test("preflightSource: refused, read, unchecked, and let through when it takes too long", async () => {
  const executor = new SandboxExecutor();
  const s = await testServer({ executor });
  try {
    const check = async (source: string, body: string, timeoutMs?: number) => {
      const yaml = pipeline("p", source);
      return await preflightSource({ ...s.deps, timeoutMs }, {
        pipeline: parsePipeline(yaml, "p.yaml", { registry: s.registry }).pipeline!,
        yaml,
        file: "p.yaml",
        inputs: {},
        body,
        format: "csv",
        inputName: "body",
        trigger: { kind: "api", id: "test" },
      });
    };
    const refused = await check("csv-source", NO_WEBSITE);
    assert.ok("refused" in refused, JSON.stringify(refused));
    assert.match(refused.refused, /^body:1: no website column/);
    const read = await check("csv-source", GOOD);
    assert.deepEqual("items" in read && [read.items, read.rejected], [1, 1]);
    // gen-source reads no input file (no `accepts`): nothing to ask it.
    const gen = await check("gen-source", NO_WEBSITE);
    assert.ok("unchecked" in gen, JSON.stringify(gen));
    // Too slow (here: 1 ms for a sandbox to start): not refused, whatever the body.
    const slow = await check("csv-source", NO_WEBSITE, 1);
    assert.ok("skipped" in slow, JSON.stringify(slow));
    assert.match(slow.skipped, /no answer within 1 ms/);
  } finally {
    await s.dispose();
  }
});
