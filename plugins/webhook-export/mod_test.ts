import assert from "node:assert/strict";
import { DEFAULT_NETWORK } from "@sluice/sdk";
import { openPlugin, runPlugin } from "@sluice/sdk/testing.ts";
import { verifySignature } from "@sluice/sdk/api/signature.ts";
import type { SandboxError } from "@sluice/sdk/runtime/sandbox_error.ts";
import { startDnsServer } from "../../testing/dns_server.ts";

const dir = new URL(".", import.meta.url);

interface Received {
  host: string | null;
  key: string | null;
  signature: string | null;
  body: string;
}

/** A receiver on loopback answering with the given statuses in turn, then 200. */
function receiver(statuses: number[] = []) {
  const got: Received[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    got.push({
      host: req.headers.get("host"),
      key: req.headers.get("idempotency-key"),
      signature: req.headers.get("x-sluice-signature"),
      body: await req.text(),
    });
    const status = statuses.shift() ?? 200;
    return new Response(status === 200 ? "ok" : "bad input", {
      status,
      headers: status === 503 ? { "retry-after": "0" } : {},
    });
  });
  return { got, port: server.addr.port, [Symbol.asyncDispose]: () => server.shutdown() };
}

const items = [
  { key: "a.com", lead: true, score: 80 },
  { key: "b.com", lead: false },
  { key: "c.com", lead: true, score: 50 },
  { key: "d.com", lead: true, score: 20 },
];

Deno.test("webhook-export: signed batches with stable idempotency keys, via our DNS", async () => {
  await using r = receiver([503]);
  await using dns = await startDnsServer({ zones: { "hooks.crm.test": { A: ["127.0.0.1"] } } })
    .then((s) => Object.assign(s, { [Symbol.asyncDispose]: () => s.close() }));
  const out = await runPlugin({
    dir,
    network: { ...DEFAULT_NETWORK, dnsServers: [dns.address], allowPrivate: true },
    secrets: { WEBHOOK_SECRET: "s3cret" },
    config: { url: `http://hooks.crm.test:${r.port}/in`, batchSize: 2, columns: ["key", "score"] },
    items,
  });
  assert.deepEqual(out.items, items, "items pass through unchanged");
  assert.equal(r.got.length, 3, "first batch retried once after a 503");
  assert.equal(r.got[0].key, "test-run:webhook-export:0:0");
  assert.equal(r.got[1].key, r.got[0].key, "a retry keeps its Idempotency-Key");
  assert.equal(r.got[1].body, r.got[0].body);
  assert.equal(r.got[2].key, "test-run:webhook-export:0:1");
  assert.equal(r.got[0].host, `hooks.crm.test:${r.port}`, "Host header kept");
  for (const g of r.got) assert.ok(await verifySignature("s3cret", g.signature, g.body));
  assert.deepEqual(JSON.parse(r.got[1].body), {
    run: "test-run",
    stage: "webhook-export",
    chunk: 0,
    batch: 0,
    items: [{ key: "a.com", score: 80 }, { key: "c.com", score: 50 }],
  });
  assert.deepEqual(JSON.parse(r.got[2].body).items, [{ key: "d.com", score: 20 }]);
});

Deno.test("webhook-export: an empty secret is refused, not sent unsigned", async () => {
  await using r = receiver();
  await assert.rejects(
    runPlugin({
      dir,
      network: { ...DEFAULT_NETWORK, allowPrivate: true },
      config: { url: `http://127.0.0.1:${r.port}/in`, secret: "" },
      items,
    }),
    /with\.secret is empty, so requests would go out unsigned: set the secret it names/,
  );
  assert.equal(r.got.length, 0, "nothing was sent");
});

/** What the stage logged at run end (chunk -1): its line in the run's summary. */
const finishLines = (logs: { level: string; msg: string; chunk?: number }[]) =>
  logs.filter((l) => l.chunk === -1 && l.level === "info").map((l) => l.msg);

Deno.test("webhook-export: at run end it reports what it sent, over every chunk and process", async () => {
  await using r = receiver();
  const dataDir = await Deno.makeTempDir({ prefix: "sluice_webhook_" });
  try {
    const options = {
      dir,
      dataDir,
      network: { ...DEFAULT_NETWORK, allowPrivate: true },
      config: { url: `http://127.0.0.1:${r.port}/hooks/s3cr3t`, batchSize: 1 },
    };
    // Two processes (a stage's chunks may run in several), one chunk retried.
    await using a = await openPlugin(options);
    await using b = await openPlugin(options);
    await a.process(items.slice(0, 2), 0);
    await b.process(items.slice(2), 1);
    await a.process(items.slice(0, 2), 0);
    await b.finish();
    assert.deepEqual(finishLines(b.logs), [
      `webhook-export: sent 3 leads in 3 batches to http://127.0.0.1:${r.port}/… ` +
      "(1 item was no lead)",
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("webhook-export: each call of a split chunk has keys and counts of its own", async () => {
  await using r = receiver();
  const dataDir = await Deno.makeTempDir({ prefix: "sluice_webhook_" });
  try {
    await using p = await openPlugin({
      dir,
      dataDir,
      network: { ...DEFAULT_NETWORK, allowPrivate: true },
      config: { url: `http://127.0.0.1:${r.port}/in`, batchSize: 1 },
    });
    // Chunk 4 in two calls (the stage's chunk: smaller than the chunk): parts 0 and 1.
    await p.process(items.slice(0, 2), 4, 0);
    await p.process(items.slice(2), 4, 1);
    await p.process(items.slice(2), 4, 1); // that call retried
    assert.deepEqual(r.got.map((g) => g.key), [
      "test-run:webhook-export:4:0",
      "test-run:webhook-export:4.1:0",
      "test-run:webhook-export:4.1:1",
      "test-run:webhook-export:4.1:0",
      "test-run:webhook-export:4.1:1",
    ]);
    const bodies = r.got.map((g) => JSON.parse(g.body));
    assert.equal(bodies[0].part, undefined, "the first call's body is as before");
    assert.deepEqual(bodies.slice(1).map((b) => [b.chunk, b.part, b.batch]), [
      [4, 1, 0],
      [4, 1, 1],
      [4, 1, 0],
      [4, 1, 1],
    ]);
    await p.finish();
    assert.deepEqual(finishLines(p.logs), [
      `webhook-export: sent 3 leads in 3 batches to http://127.0.0.1:${r.port}/… ` +
      "(1 item was no lead)",
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("webhook-export: a run without leads says it sent nothing", async () => {
  await using r = receiver();
  const out = await runPlugin({
    dir,
    network: { ...DEFAULT_NETWORK, allowPrivate: true },
    config: { url: `http://127.0.0.1:${r.port}/in` },
    items: items.map((i) => ({ ...i, lead: false })),
    chunkSize: 3,
  });
  assert.equal(r.got.length, 0);
  assert.deepEqual(finishLines(out.logs), [
    `webhook-export: 0 of 4 items have lead == true; nothing sent to http://127.0.0.1:${r.port}/…`,
  ]);
});

Deno.test("webhook-export: private addresses are refused unless allowed", async () => {
  await using r = receiver();
  await assert.rejects(
    runPlugin({
      dir,
      config: { url: `http://127.0.0.1:${r.port}/in` },
      items,
    }),
    /private or reserved address; refused/,
  );
  assert.equal(r.got.length, 0, "nothing was sent");
});

Deno.test("webhook-export: a receiver that rejects the batch fails the chunk clearly", async () => {
  await using r = receiver([400]);
  await assert.rejects(
    runPlugin({
      dir,
      network: { ...DEFAULT_NETWORK, allowPrivate: true },
      config: { url: `http://127.0.0.1:${r.port}/in` },
      items,
    }),
    /refused batch test-run:webhook-export:0:0 with HTTP 400: bad input/,
  );
  assert.equal(r.got.length, 1, "a 400 is not retried");
  assert.equal(r.got[0].signature, null, "no secret: unsigned");
});

Deno.test("webhook-export: errors name the receiver's host, never its URL path", async () => {
  await using r = receiver([500, 500]);
  const url = `http://127.0.0.1:${r.port}/hooks/catch/123/s3cr3t-path-token/?k=v`;
  const err = await runPlugin({
    dir,
    network: { ...DEFAULT_NETWORK, allowPrivate: true },
    config: { url, attempts: 2 },
    items,
  }).catch((e: Error) => e);
  assert.ok(err instanceof Error);
  assert.match(err.message, new RegExp(`batch test-run:webhook-export:0:0 to 127.0.0.1:${r.port}`));
  assert.match(err.message, /answered HTTP 500/);
  assert.doesNotMatch(err.message, /s3cr3t-path-token/);
});

Deno.test("webhook-export: a 413 says to lower batchSize", async () => {
  await using r = receiver([413]);
  await assert.rejects(
    runPlugin({
      dir,
      network: { ...DEFAULT_NETWORK, allowPrivate: true },
      config: { url: `http://127.0.0.1:${r.port}/in` },
      items,
    }),
    /HTTP 413: bad input; the batch is too large for the receiver: lower batchSize/,
  );
});

Deno.test("webhook-export: a receiver verifies with the README's recipe alone", async () => {
  // The README's recipe, written out as a receiver would, without Sluice's code.
  const secret = "whsec-from-the-vault";
  const hex = async (data: string) => {
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(data));
    return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
  };
  const verify = async (header: string | null, rawBody: string) => {
    const m = /^t=(\d+),sha256=([0-9a-f]{64})$/.exec(header ?? "");
    if (!m || Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
    return (await hex(`${m[1]}.${rawBody}`)) === m[2];
  };
  await using r = receiver([429]);
  await runPlugin({
    dir,
    network: { ...DEFAULT_NETWORK, allowPrivate: true },
    secrets: { WEBHOOK_SECRET: secret },
    config: { url: `http://127.0.0.1:${r.port}/in` },
    items: [{ key: "bücher.de", lead: true, name: "Bücher Müller" }],
  });
  assert.equal(r.got.length, 2, "retried after the 429");
  for (const g of r.got) assert.ok(await verify(g.signature, g.body), g.signature ?? "unsigned");
  assert.equal(r.got[0].key, r.got[1].key);
});

/** A receiver on loopback that answers every request with `answer()`. */
function answering(answer: () => Response) {
  let calls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    calls++;
    await req.arrayBuffer();
    return answer();
  });
  return {
    get calls() {
      return calls;
    },
    port: server.addr.port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("webhook-export: a receiver down after every retry: the error says what it answered", async () => {
  const path = "/hooks/catch/123/s3cr3t-path-token/";
  await using r = answering(() =>
    new Response(`upstream database unavailable for ${path}`, {
      status: 503,
      headers: { "retry-after": "0" },
    })
  );
  const err = await runPlugin({
    dir,
    network: { ...DEFAULT_NETWORK, allowPrivate: true },
    config: { url: `http://127.0.0.1:${r.port}${path}`, attempts: 2 },
    items,
  }).catch((e: Error) => e);
  assert.ok(err instanceof Error);
  assert.equal(r.calls, 2);
  assert.match(err.message, /answered HTTP 503: upstream database unavailable for \/…/);
  assert.doesNotMatch(err.message, /s3cr3t-path-token/);
});

Deno.test("webhook-export: a Retry-After too long to wait for is named as the reason", async () => {
  await using r = answering(() =>
    new Response("quota exceeded", { status: 429, headers: { "retry-after": "3600" } })
  );
  await assert.rejects(
    runPlugin({
      dir,
      network: { ...DEFAULT_NETWORK, allowPrivate: true },
      config: { url: `http://127.0.0.1:${r.port}/in` },
      items,
    }),
    /HTTP 429: quota exceeded; it asked to wait 3600 s \(Retry-After\), longer than a call waits/,
  );
  assert.equal(r.calls, 1, "not retried within the batch");
});

Deno.test("webhook-export: a Retry-After past the stage's timeout fails the chunk at once, saying why", async () => {
  await using r = answering(() =>
    new Response("slow down, quota for this minute used", {
      status: 429,
      headers: { "retry-after": "90" },
    })
  );
  // Before, the batch waited the 90 s and the sandbox killed the call at its 10 s timeout
  // ("process() timed out … the instance was killed"), naming neither the 429 nor the wait.
  await assert.rejects(
    runPlugin({
      dir,
      network: { ...DEFAULT_NETWORK, allowPrivate: true },
      config: { url: `http://127.0.0.1:${r.port}/in` },
      timeoutMs: 10_000,
      items,
    }),
    new RegExp(
      "batch test-run:webhook-export:0:0 to 127\\.0\\.0\\.1:\\d+: POST http://127\\.0\\.0\\.1:\\d+/… " +
        "answered HTTP 429: slow down, quota for this minute used; it asked to wait 90 s " +
        "\\(Retry-After\\), longer than the \\d+ s left before this call's deadline \\(the stage's " +
        "timeout\\); the engine retries the chunk later",
    ),
  );
  assert.equal(r.calls, 1);
});

Deno.test("webhook-export: a chunk held by the receiver's pause fails at once with the 429 that paused it", async () => {
  await using r = answering(() =>
    new Response("quota exceeded", { status: 429, headers: { "retry-after": "200" } })
  );
  await using plugin = await openPlugin({
    dir,
    network: { ...DEFAULT_NETWORK, allowPrivate: true },
    config: { url: `http://127.0.0.1:${r.port}/in` },
    timeoutMs: 10_000,
  });
  await assert.rejects(plugin.process(items, 0), /asked to wait 200 s \(Retry-After\)/);
  // Before, chunk 1 waited on the host's 200 s pause until the sandbox killed it.
  await assert.rejects(
    plugin.process(items, 1),
    new RegExp(
      "batch test-run:webhook-export:1:0 to 127\\.0\\.0\\.1:\\d+: POST http://127\\.0\\.0\\.1:\\d+/… not " +
        "sent: an earlier request to 127\\.0\\.0\\.1:\\d+ was answered HTTP 429: quota exceeded; it " +
        "asked to wait 200 s \\(Retry-After\\) and \\d+ s of that pause are left, longer than a " +
        "call waits \\(120 s\\); the engine retries the chunk later",
    ),
  );
  assert.equal(r.calls, 1, "the paused receiver got nothing more");
});

Deno.test("webhook-export: a redirect names where it points (origin only), and is not followed", async () => {
  await using r = answering(() =>
    new Response(null, {
      status: 308,
      headers: { location: "https://hooks.example.com/catch/9/s3cr3t/" },
    })
  );
  const err = await runPlugin({
    dir,
    network: { ...DEFAULT_NETWORK, allowPrivate: true },
    config: { url: `http://127.0.0.1:${r.port}/in` },
    items,
  }).catch((e: Error) => e);
  assert.ok(err instanceof Error);
  assert.match(
    err.message,
    /HTTP 308 to https:\/\/hooks\.example\.com; the receiver redirects, which is not followed/,
  );
  assert.doesNotMatch(err.message, /s3cr3t/);
  assert.equal(r.calls, 1);
});

Deno.test("webhook-export: with.headers may not set the stage's own headers or one twice", async () => {
  for (
    const [headers, message] of [
      [{ "Content-Type": "text/plain" }, /sets Content-Type, which the stage sets itself/],
      [{ "X-Sluice-Signature": "x" }, /sets X-Sluice-Signature, which the stage sets itself/],
      [{ "X-Source": "a", "x-source": "b" }, /names x-source twice/],
    ] as const
  ) {
    await assert.rejects(
      runPlugin({
        dir,
        network: { ...DEFAULT_NETWORK, allowPrivate: true },
        config: { url: "http://127.0.0.1:9/in", headers },
        items,
      }),
      message,
    );
  }
});

Deno.test("webhook-export: a bad url or header in with: is a configuration error (not retried)", async () => {
  for (
    const config of [
      { url: "not a url" },
      { url: "ftp://crm.example/hooks" },
      { url: "https://crm.example/hooks", headers: { "X-Sluice-Signature": "x" } },
      { url: "https://crm.example/hooks", headers: { "X-Team": "a", "x-team": "b" } },
    ]
  ) {
    await assert.rejects(
      runPlugin({ dir, config, items: [{ key: "a.com", lead: true }] }),
      (e: SandboxError) => {
        assert.equal(e.kind, "config", e.message);
        assert.equal(e.retryable, false);
        return true;
      },
    );
  }
});
