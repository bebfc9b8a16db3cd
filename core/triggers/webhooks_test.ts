import assert from "node:assert/strict";
import { createLogger } from "../telemetry/log.ts";
import { join, ROOT } from "../paths.ts";
import { runOutput } from "../engine/test_helpers.ts";
import { signRequest } from "./webhook_signatures.ts";
import { type TriggerEnv, triggerEnv } from "./test_support.ts";
import { WebhookIntake, type WebhookIntakeOptions } from "./webhooks.ts";
import { INLINE_INPUT_MAX } from "./run_launcher.ts";
import { KvTriggerStore } from "./kv_trigger_store.ts";

const SECRET = "s3cret-value";
const PIPELINE = `name: leads
inputs:
  tag: { type: string, default: none }
  limit: { type: integer, default: 10 }
source: { plugin: jsonl-source }
stages:
  - { id: mark, plugin: set-fields, with: { set: { via: hook } } }
triggers:
  - { webhook: sluice, auth: hmac, secret: "\${{ secrets.HOOK }}", inputs: { tag: from-hook } }
  - { webhook: gh, auth: github, secret: "\${{ secrets.HOOK }}" }
  - { webhook: stripe, auth: stripe, secret: "\${{ secrets.HOOK }}" }
  - { webhook: token, auth: bearer, secret: "\${{ secrets.HOOK }}" }
  - { webhook: params, auth: bearer, secret: "\${{ secrets.HOOK }}", body: inputs }
  - { webhook: unset, auth: bearer, secret: "\${{ secrets.NOT_SET }}" }
  - { webhook: off, auth: bearer, secret: "\${{ secrets.HOOK }}", enabled: false }
`;

/** A pipeline whose source reads CSV (csv-source's manifest: "accepts": ["text/csv"]). */
const CSV_PIPELINE = `name: people
source: { plugin: csv-source }
triggers:
  - { webhook: token, auth: bearer, secret: "\${{ secrets.HOOK }}" }
`;

async function setup(o: { startEngine?: boolean } = {}) {
  return await triggerEnv({
    builtinDir: join(ROOT, "plugins"),
    start: "2025-05-01T12:00:00Z",
    pipelines: { "leads.yaml": PIPELINE, "people.yaml": CSV_PIPELINE },
    startEngine: o.startEngine,
  });
}

async function intake(env: TriggerEnv, o: Partial<WebhookIntakeOptions> = {}) {
  return new WebhookIntake({
    catalog: env.catalog,
    store: await env.newStore(), // its own KV handle: claims are written apart from runs
    runs: env.launcher,
    registry: env.registry,
    secrets: (n) => (n === "HOOK" ? SECRET : undefined),
    dataDir: join(env.dir, "data"),
    clock: env.clock,
    ...o,
  });
}

const JSON_TYPE = { "content-type": "application/json" };

async function signed(
  env: TriggerEnv,
  auth: "hmac" | "github" | "stripe" | "bearer",
  body: string,
  o: { secret?: string; headers?: Record<string, string>; at?: number } = {},
): Promise<Request> {
  const [name, value] = await signRequest({
    auth,
    secret: o.secret ?? SECRET,
    body,
    now: o.at ?? env.clock.now(),
  });
  return new Request("http://sluice.test/hooks", {
    method: "POST",
    body,
    headers: { ...JSON_TYPE, [name]: value, ...o.headers },
  });
}

const HOOK_OF = { hmac: "sluice", github: "gh", stripe: "stripe", bearer: "token" } as const;

async function send(w: WebhookIntake, req: Request, hook: string, pipeline = "leads") {
  const res = await w.handle(req, pipeline, hook);
  return { status: res.status, body: await res.json(), location: res.headers.get("location") };
}

Deno.test("webhooks: each signature format accepts valid requests and refuses bad ones", async () => {
  const env = await setup();
  const w = await intake(env);
  try {
    let expected = 0;
    for (const auth of ["hmac", "github", "stripe", "bearer"] as const) {
      const hook = HOOK_OF[auth];
      const body = JSON.stringify({ key: `k-${auth}`, name: "Acme" });
      const gh = (id: string): Record<string, string> =>
        auth === "github" ? { "x-github-delivery": id } : {};

      // Valid: 202 after the run is recorded, with the items as its input (kept in the record).
      const ok = await send(w, await signed(env, auth, body, { headers: gh("d-1") }), hook);
      assert.equal(ok.status, 202, `${auth}: ${JSON.stringify(ok.body)}`);
      expected++;
      const run = await env.backend.store.getRun(ok.body.runId);
      assert.equal(run?.state, "queued");
      // GitHub's delivery id serves as the Idempotency-Key (its redeliveries keep it).
      const detail = auth === "github" ? { idempotencyKey: "d-1" } : {};
      // The answer says where to poll the run (a Zapier/n8n step follows it).
      assert.equal(ok.body.url, `/api/v1/runs/${ok.body.runId}`);
      assert.equal(ok.location, ok.body.url);
      assert.deepEqual(run?.trigger, { kind: "webhook", id: hook, detail });
      assert.equal(run!.inputText, body + "\n");

      // Wrong secret.
      const wrong = await send(
        w,
        await signed(env, auth, body, { secret: "other", headers: gh("d-2") }),
        hook,
      );
      assert.equal(wrong.status, 401);
      // Tampered body: signed one text, sent another.
      const req = await signed(env, auth, body, { headers: gh("d-3") });
      const tampered = new Request(req.url, {
        method: "POST",
        headers: req.headers,
        body: body.replace("Acme", "Evil"),
      });
      const t = await send(w, tampered, hook);
      assert.equal(t.status, auth === "bearer" ? 202 : 401, auth);
      if (auth === "bearer") expected++; // a bearer secret does not sign the body
      // Missing header.
      const bare = await send(
        w,
        new Request(req.url, { method: "POST", headers: JSON_TYPE, body }),
        hook,
      );
      assert.equal(bare.status, 401);
      assert.match(bare.body.error, /missing/);
      assert.equal((await env.runs("leads")).length, expected, `${auth}: nothing else enqueued`);
    }
  } finally {
    await env.dispose();
  }
});

for (const shared of [false, true]) {
  const how = shared
    ? "the replay claim written with the run (shared KV handle)"
    : "the replay claim written first (own KV handle)";
  Deno.test(`webhooks: expired timestamps and replayed signatures are refused; ${how}`, async () => {
    const env = await setup();
    // Counts claimDelivery: with a shared handle only a request whose key is there calls it.
    const store = shared ? new KvTriggerStore(env.backend.kv!) : await env.newStore();
    let claims = 0;
    const claimDelivery = store.claimDelivery.bind(store);
    store.claimDelivery = (c) => (claims++, claimDelivery(c));
    const w = await intake(env, { store });
    try {
      await replayChecks(env, w);
      // 4 accepted, 3 replays refused, 1 redelivery answered with its run. The shared store
      // claimed only where the key was there (the 2 hmac/stripe replays) and for every GitHub
      // request (4: their X-GitHub-Delivery is an idempotency key, claimed with the replay key).
      // GitHub requests always claim: their delivery id is an idempotency key.
      assert.equal(claims, shared ? 6 : 8);
    } finally {
      await env.dispose();
    }
  });
}

async function replayChecks(env: TriggerEnv, w: WebhookIntake) {
  {
    const body = '{"key":"a"}';
    for (const auth of ["hmac", "stripe"] as const) {
      const hook = HOOK_OF[auth];
      const old = await signed(env, auth, body, { at: env.clock.now() - 5 * 60_000 - 1000 });
      const r1 = await send(w, old, hook);
      assert.equal(r1.status, 401);
      assert.match(r1.body.error, /5 minutes/);
      const future = await signed(env, auth, body, { at: env.clock.now() + 6 * 60_000 });
      assert.equal((await send(w, future, hook)).status, 401);

      const first = await signed(env, auth, body);
      const again = first.clone();
      assert.equal((await send(w, first, hook)).status, 202);
      await env.clock.advance(60_000);
      const replay = await send(w, again, hook);
      assert.equal(replay.status, 401);
      assert.match(replay.body.error, /replay/);
      // The answer says how a sender retries a delivery without starting it twice.
      assert.match(replay.body.error, /same Idempotency-Key header/);
    }
    // GitHub: the signed body is remembered for 24 hours.
    const gh = () => signed(env, "github", body, { headers: { "x-github-delivery": "guid-1" } });
    const firstGh = await send(w, await gh(), "gh");
    assert.equal(firstGh.status, 202);
    await env.clock.advance(23 * 3_600_000);
    // GitHub's "Redeliver" (same delivery id, same body) is the same delivery: it starts
    // nothing and gets the first run back, so GitHub shows it delivered, not refused.
    const redelivery = await send(w, await gh(), "gh");
    assert.equal(redelivery.status, 200, JSON.stringify(redelivery.body));
    assert.deepEqual(redelivery.body, {
      runId: firstGh.body.runId,
      url: `/api/v1/runs/${firstGh.body.runId}`,
      duplicate: true,
    });
    // The delivery id is not signed: the same signed body under a new id is a replay.
    const renamed = await signed(env, "github", body, {
      headers: { "x-github-delivery": "guid-2" },
    });
    const sneaked = await send(w, renamed, "gh");
    assert.equal(sneaked.status, 401, JSON.stringify(sneaked.body));
    assert.match(sneaked.body.error, /replay/);
    assert.match(sneaked.body.error, /another X-GitHub-Delivery id/);
    await env.clock.advance(2 * 3_600_000);
    assert.equal((await send(w, await gh(), "gh")).status, 202);
    assert.equal((await env.runs("leads")).length, 4);
  }
}

Deno.test("webhooks: 100 parallel duplicates with one Idempotency-Key start exactly one run", async () => {
  const env = await setup();
  // Two intakes on two KV handles of one file, as two server processes would be.
  const a = await intake(env);
  const b = await intake(env);
  try {
    const body = '[{"key":"x"},{"key":"y"}]';
    const template = await signed(env, "hmac", body, {
      headers: { "idempotency-key": "order-42" },
    });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => send(i % 2 ? a : b, template.clone(), "sluice")),
    );
    const runs = await env.runs("leads");
    assert.equal(runs.length, 1);
    assert.equal(results.filter((r) => r.status === 202).length, 1);
    assert.equal(results.filter((r) => r.status === 200 && r.body.duplicate).length, 99);
    assert.ok(results.every((r) => r.body.runId === runs[0].id));
    assert.deepEqual(runs[0].trigger.detail, { idempotencyKey: "order-42" });
    assert.equal(runs[0].inputs.tag, "from-hook");

    // The same signed request without the key is a replay.
    const noKey = new Request(template.url, {
      method: "POST",
      body,
      headers: { ...JSON_TYPE, "x-sluice-signature": template.headers.get("x-sluice-signature")! },
    });
    assert.equal((await send(a, noKey, "sluice")).status, 401);
    // A new signature with the same key within 24 h: the first run's id, nothing started.
    await env.clock.advance(3_600_000);
    const later = await send(
      a,
      await signed(env, "hmac", body, { headers: { "idempotency-key": "order-42" } }),
      "sluice",
    );
    assert.deepEqual([later.status, later.body.runId], [200, runs[0].id]);
    // After 24 h the key is forgotten.
    await env.clock.advance(24 * 3_600_000);
    const fresh = await send(
      b,
      await signed(env, "hmac", body, { headers: { "idempotency-key": "order-42" } }),
      "sluice",
    );
    assert.equal(fresh.status, 202);
    assert.notEqual(fresh.body.runId, runs[0].id);
    assert.equal((await env.runs("leads")).length, 2);
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: a server that crashed after recording the run but before marking the key done starts no second run", async () => {
  const env = await setup();
  const w = await intake(env);
  try {
    // The state a SIGKILL leaves between the run's creation and the claim's completion: the
    // Idempotency-Key claimed (pending, naming the run id) and that run recorded.
    const store = await env.newStore();
    const crashed = "rcrashed000000000001";
    const claim = await store.claimDelivery({
      pipeline: "leads",
      hook: "token",
      replayTtlMs: 300_000,
      idempotencyKey: "crm-7",
      idempotencyTtlMs: 86_400_000,
      pendingStaleMs: 60_000,
      runId: crashed,
      now: env.clock.now(),
    });
    assert.equal(claim.ok, true);
    const entry = (await env.catalog.get("leads"))!;
    await env.launcher.start({ entry, trigger: { kind: "webhook", id: "token" }, id: crashed });
    // The sender retries after a minute: the first request's claim is taken over ...
    const retry = () =>
      signed(env, "bearer", '[{"key":"x"}]', {
        headers: { "idempotency-key": "crm-7" },
      }).then((r) => send(w, r, "token"));
    // ... and the run that request recorded is the answer.
    await env.clock.advance(61_000);
    const late = await retry();
    assert.deepEqual([late.status, late.body], [200, {
      runId: crashed,
      url: `/api/v1/runs/${crashed}`,
      duplicate: true,
    }]);
    assert.deepEqual((await env.runs("leads")).map((r) => r.id), [crashed], "no second run");
    const again = await retry();
    assert.deepEqual([again.status, again.body.runId], [200, crashed], JSON.stringify(again.body));
    // A claim whose owner died before recording its run is taken over and runs as new.
    await store.claimDelivery({
      pipeline: "leads",
      hook: "token",
      replayTtlMs: 300_000,
      idempotencyKey: "crm-8",
      idempotencyTtlMs: 86_400_000,
      pendingStaleMs: 60_000,
      runId: "rneverrecorded000001",
      now: env.clock.now(),
    });
    await env.clock.advance(61_000);
    const fresh = await send(
      w,
      await signed(env, "bearer", '[{"key":"x"}]', {
        headers: { "idempotency-key": "crm-8" },
      }),
      "token",
    );
    assert.equal(fresh.status, 202);
    assert.equal((await env.runs("leads")).length, 2);
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: oversized bodies get 413 and invalid bodies 400 with the reason", async () => {
  const env = await setup();
  const w = await intake(env, { maxBodyBytes: 200 });
  try {
    const big = JSON.stringify({ key: "k", pad: "x".repeat(300) });
    const r1 = await send(w, await signed(env, "bearer", big), "token");
    assert.equal(r1.status, 413);
    // No Content-Length: a streamed body is cut off at the limit.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode("x".repeat(50)));
        c.close();
      },
    });
    const r2 = await w.handle(
      new Request("http://sluice.test/hooks", {
        method: "POST",
        body: stream,
        headers: { ...JSON_TYPE, authorization: `Bearer ${SECRET}` },
      }),
      "leads",
      "token",
    );
    assert.equal(r2.status, 413);
    await r2.body?.cancel();

    const cases: [string, string, string, number, RegExp][] = [
      ["leads", "application/json", "{nope", 400, /not valid JSON/],
      ["leads", "application/json", "[1, {}]", 400, /element \[0\] is a number/],
      ["leads", "application/json", "[]", 400, /empty/],
      ["leads", "application/json", '"text"', 400, /a string/],
      ["leads", "application/x-ndjson", '{"a":1}\n\n[2]\n', 400, /line 3 is an array/],
      ["leads", "application/x-ndjson", '{"a":1}\n{bad\n', 400, /line 2 is not valid JSON/],
      [
        "people",
        "text/csv",
        'domain,name\n"a.com,Acme\n',
        400,
        /CSV body is malformed: Quote Not Closed/,
      ],
      ["people", "text/csv", "domain,name\n", 400, /no rows/],
      ["leads", "application/json", "  ", 400, /empty/],
      ["leads", "text/plain", "hello", 415, /text\/plain is not what this pipeline's source/],
    ];
    for (const [pipeline, type, body, status, reason] of cases) {
      const req = await signed(env, "bearer", body, { headers: { "content-type": type } });
      const r = await send(w, req, "token", pipeline);
      assert.equal(r.status, status, `${type} ${body}`);
      assert.match(r.body.error, reason);
    }
    assert.equal((await env.runs("leads")).length, 0, "nothing was enqueued");
    assert.equal((await env.runs("people")).length, 0, "nothing was enqueued");
    const deliveries = await w.deliveries("leads", "token");
    assert.equal(deliveries.length, cases.filter((c) => c[0] === "leads").length + 2);
    assert.equal(deliveries[0].status, 415);
    assert.match(deliveries[0].reason!, /not what this pipeline's source reads/);
    // A ragged row does not refuse the body: csv-source rejects that row alone, the others run.
    const ragged = await send(
      w,
      await signed(env, "bearer", "domain,name\na.com\nb.com,B\n", {
        headers: { "content-type": "text/csv" },
      }),
      "token",
      "people",
    );
    assert.equal(ragged.status, 202, JSON.stringify(ragged.body));
    // A huge Idempotency-Key (anyone may send one, unsigned): 400, and the history keeps it short.
    const huge = await send(
      w,
      await signed(env, "bearer", '{"key":"k"}', {
        headers: { "idempotency-key": "k".repeat(70_000) },
      }),
      "token",
    );
    assert.equal(huge.status, 400);
    assert.match(huge.body.error, /longer than 255 characters/);
    const [last] = await w.deliveries("leads", "token", 1);
    assert.equal(last.status, 400, "the refused delivery is in the history");
    assert.equal(last.deliveryId, `${"k".repeat(255)}…`);
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: NDJSON and CSV bodies become the run's input file", async () => {
  const env = await setup();
  const w = await intake(env);
  try {
    const nd = await send(
      w,
      await signed(env, "bearer", '{"key":"a"}\r\n\n{"key":"b","n":2}\n', {
        headers: { "content-type": "application/x-ndjson; charset=utf-8" },
      }),
      "token",
    );
    assert.equal(nd.status, 202);
    const run1 = (await env.backend.store.getRun(nd.body.runId))!;
    assert.ok(run1.inputFile!.endsWith(`${run1.id}.jsonl`));
    assert.equal(run1.inputText, '{"key":"a"}\n{"key":"b","n":2}\n');
    // Small bodies are not written at intake: the record is their durable copy.
    await assert.rejects(Deno.stat(run1.inputFile!), Deno.errors.NotFound);

    const csv = "domain,name\nacme.com,Acme\nbeta.org,Beta\n";
    const c = await send(
      w,
      await signed(env, "bearer", csv, { headers: { "content-type": "text/csv" } }),
      "token",
      "people",
    );
    assert.equal(c.status, 202);
    const run2 = (await env.backend.store.getRun(c.body.runId))!;
    assert.ok(run2.inputFile!.endsWith(".csv"));
    assert.equal(run2.inputText, csv);
    const d = await w.deliveries("people", "token", 1);
    assert.deepEqual([d[0].status, d[0].items, d[0].runId], [202, 2, run2.id]);
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: a large body is written and flushed to the input file before the answer", async () => {
  const env = await setup();
  const w = await intake(env);
  try {
    const items = Array.from({ length: 400 }, (_, i) => ({ key: `k${i}`, text: "x".repeat(60) }));
    const body = JSON.stringify(items);
    assert.ok(body.length > INLINE_INPUT_MAX);
    const res = await send(w, await signed(env, "hmac", body), "sluice");
    assert.equal(res.status, 202);
    const run = (await env.backend.store.getRun(res.body.runId))!;
    assert.equal(run.inputText, undefined, "too large for the record");
    const want = items.map((it) => JSON.stringify(it)).join("\n") + "\n";
    assert.equal(await Deno.readTextFile(run.inputFile!), want);
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: body: inputs maps a JSON object to run inputs", async () => {
  const env = await setup();
  const w = await intake(env);
  try {
    const ok = await send(w, await signed(env, "bearer", '{"tag":"vip","limit":"5"}'), "params");
    assert.equal(ok.status, 202);
    const run = (await env.backend.store.getRun(ok.body.runId))!;
    assert.deepEqual(run.inputs, { tag: "vip", limit: 5 });
    assert.equal(run.inputFile, undefined);

    const bad = await send(w, await signed(env, "bearer", '{"tga":"x"}'), "params");
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /unknown input "tga".*did you mean "tag"/);
    const arr = await send(w, await signed(env, "bearer", "[1]"), "params");
    assert.equal(arr.status, 400);
    assert.equal((await env.runs("leads")).length, 1);
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: unknown, disabled and misconfigured hooks start nothing", async () => {
  const env = await setup();
  const w = await intake(env);
  try {
    const body = '{"key":"a"}';
    const nope = await w.handle(await signed(env, "bearer", body), "nope", "token");
    assert.equal(nope.status, 404);
    const missing = await send(w, await signed(env, "bearer", body), "missing");
    assert.equal(missing.status, 404);
    const off = await send(w, await signed(env, "bearer", body), "off");
    assert.equal(off.status, 404);
    // Nor a pipeline whose file has problems (no valid version) from one that does not exist.
    const broken = await intake(env, {
      catalog: { get: (name) => ({ name, file: `${name}.yaml`, problems: [] }) },
    });
    const b = await broken.handle(await signed(env, "bearer", body), "draft", "token");
    assert.equal(b.status, 404);
    assert.equal(
      (await b.json()).error,
      "no webhook draft/token on this server (unknown or disabled)",
    );
    // An unsigned caller cannot tell an unknown pipeline from an unknown or disabled hook.
    assert.equal(
      (await nope.json()).error,
      "no webhook nope/token on this server (unknown or disabled)",
    );
    assert.match(
      missing.body.error,
      /^no webhook \S+\/missing on this server \(unknown or disabled\)$/,
    );
    assert.match(off.body.error, /^no webhook \S+\/off on this server \(unknown or disabled\)$/);
    const unset = await send(w, await signed(env, "bearer", body), "unset");
    assert.equal(unset.status, 500);
    // The caller learns nothing about the server's secrets; the server log names the variable.
    assert.match(unset.body.error, /not configured on the server; the server log names/);
    assert.doesNotMatch(unset.body.error, /NOT_SET/);
    const logged: string[] = [];
    const emptySecret = await intake(env, {
      secrets: () => "", // set, but to nothing
      log: createLogger({ write: (l) => logged.push(l) }),
    });
    const empty = await send(emptySecret, await signed(env, "bearer", body), "token");
    assert.equal(empty.status, 500);
    assert.doesNotMatch(empty.body.error, /SLUICE_SECRET|HOOK/);
    assert.ok(
      logged.some((l) => /start the server with SLUICE_SECRET_HOOK set/.test(l)),
      `the server log names the variable: ${logged.join("\n")}`,
    );
    await emptySecret.settled();
    assert.match((await w.deliveries("leads", "unset"))[0].reason!, /secret "NOT_SET" is not set/);
    const longKey = await send(
      w,
      await signed(env, "bearer", body, { headers: { "idempotency-key": "k".repeat(256) } }),
      "token",
    );
    assert.equal(longKey.status, 400);
    const get = await w.handle(new Request("http://sluice.test/hooks"), "leads", "token");
    assert.equal(get.status, 405);
    await get.body?.cancel();
    assert.equal((await env.runs("leads")).length, 0);
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: an accepted delivery runs the pipeline over the posted items", async () => {
  const env = await setup({ startEngine: true });
  const w = await intake(env);
  try {
    const items = [{ key: "a", n: 1 }, { key: "b", n: 2 }, { key: "c", n: 3 }];
    const res = await send(w, await signed(env, "hmac", JSON.stringify(items)), "sluice");
    assert.equal(res.status, 202);
    const done = await env.engine.waitForRun(res.body.runId);
    assert.equal(done.state, "succeeded", done.error);
    const out = await runOutput(env.backend, done);
    assert.deepEqual(
      out.map((i) => [i.key, i.n, i.via]),
      [["a", 1, "hook"], ["b", 2, "hook"], ["c", 3, "hook"]],
    );
    // The source read the input written from the record; it is removed when the run ends.
    assert.ok(done.inputText);
    const gone = async () => !(await Deno.stat(done.inputFile!).catch(() => undefined));
    for (let i = 0; i < 500 && !(await gone()); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(await gone(), "the input file written from the record is removed at run end");
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: a body the pipeline's source does not read is refused with 415 naming what it reads", async () => {
  const env = await setup();
  const w = await intake(env);
  try {
    const json = JSON.stringify([{ name: "Acme", domain: "acme.example" }]);
    const cases: [string, string, string, RegExp][] = [
      [
        "people",
        "application/json",
        json,
        /^Content-Type application\/json is not what this pipeline's source reads: its source csv-source reads text\/csv; send the items as text\/csv/,
      ],
      [
        "people",
        "application/x-ndjson; charset=utf-8",
        json,
        /application\/x-ndjson is not .* reads text\/csv/,
      ],
      [
        "leads",
        "text/csv",
        "domain,name\nacme.com,Acme\n",
        /^Content-Type text\/csv is not .* its source jsonl-source reads application\/json or application\/x-ndjson/,
      ],
      ["leads", "application/csv", "domain\nacme.com\n", /source jsonl-source reads/],
    ];
    for (const [pipeline, type, body, reason] of cases) {
      const req = await signed(env, "bearer", body, { headers: { "content-type": type } });
      const r = await send(w, req, "token", pipeline);
      assert.equal(r.status, 415, `${pipeline} ${type}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error, reason);
    }
    assert.equal((await env.runs("people")).length, 0, "nothing was enqueued");
    assert.equal((await env.runs("leads")).length, 0, "nothing was enqueued");

    // What the source reads is taken, under any of its names.
    const ok: [string, string, string][] = [
      ["people", "application/csv", "domain\nacme.com\n"],
      ["people", "text/csv; charset=utf-8", "domain\nacme.com\n"],
      ["leads", "application/json", json],
      ["leads", "application/ndjson", '{"key":"a"}\n'],
    ];
    for (const [pipeline, type, body] of ok) {
      const req = await signed(env, "bearer", body, { headers: { "content-type": type } });
      const r = await send(w, req, "token", pipeline);
      assert.equal(r.status, 202, `${pipeline} ${type}: ${JSON.stringify(r.body)}`);
    }
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: a source without accepts in its manifest takes any body it can map", async () => {
  const env = await triggerEnv({
    start: "2025-05-01T12:00:00Z",
    pipelines: {
      "gen.yaml": `name: gen
source: { plugin: gen-source, with: { count: 1 } }
triggers:
  - { webhook: token, auth: bearer, secret: "\${{ secrets.HOOK }}" }
`,
    },
  });
  const w = await intake(env);
  try {
    assert.equal(env.registry.resolve("gen-source")?.manifest.accepts, undefined);
    for (const [type, body] of [["text/csv", "a\n1\n"], ["application/json", '{"a":1}']]) {
      const req = await signed(env, "bearer", body, { headers: { "content-type": type } });
      assert.equal((await send(w, req, "token", "gen")).status, 202, type);
    }
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: a hook whose secret is not set is named at start, with the variable to set", async () => {
  const env = await setup();
  const logged: string[] = [];
  const w = await intake(env, { log: createLogger({ write: (l) => logged.push(l) }) });
  try {
    const warnings = w.warnUnsetSecrets(env.catalog.list());
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /^webhook leads\/unset: .*SLUICE_SECRET_NOT_SET.*answered 500$/);
    assert.ok(logged.some((l) => l.includes('"level":"warn"') && l.includes("leads/unset")));
    // The disabled hook and the ones whose secret is set are not named.
    assert.doesNotMatch(warnings.join("\n"), /\/off|\/token/);
  } finally {
    await env.dispose();
  }
});

Deno.test("webhooks: authentication comes before the content type (401 before 415)", async () => {
  const env = await setup();
  const w = await intake(env);
  try {
    const form = "payload=%7B%7D";
    const type = { "content-type": "application/x-www-form-urlencoded" };
    // Signed as GitHub does, but without its delivery header: not authenticated yet.
    const bare = await send(w, await signed(env, "github", form, { headers: type }), "gh");
    assert.equal(bare.status, 401, JSON.stringify(bare.body));
    assert.match(bare.body.error, /missing X-GitHub-Delivery header: GitHub sends one/);
    // Unsigned: 401 too, so a caller without the secret learns nothing about the pipeline.
    const unsigned = await send(
      w,
      new Request("http://sluice.test/hooks", { method: "POST", headers: type, body: form }),
      "gh",
    );
    assert.equal(unsigned.status, 401);
    // Authenticated: now the content type is judged.
    const full = await send(
      w,
      await signed(env, "github", form, {
        headers: { ...type, "x-github-delivery": "guid-form" },
      }),
      "gh",
    );
    assert.equal(full.status, 415, JSON.stringify(full.body));
    assert.equal((await env.runs("leads")).length, 0, "nothing was enqueued");
  } finally {
    await env.dispose();
  }
});
