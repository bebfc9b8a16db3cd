import assert from "node:assert/strict";
import type { SandboxError } from "@sluice/sdk/runtime/sandbox_error.ts";
import { DEFAULT_NETWORK } from "@sluice/sdk";
import { openPlugin, runPlugin } from "@sluice/sdk/testing.ts";
import { startSearchFake } from "../../testing/search_fake.ts";
import { AnswerCache } from "@sluice/sdk/io/answer_cache.ts";
import { CACHE_PREFIX } from "./mod.ts";
import type { Hit } from "./match.ts";

const dir = new URL(".", import.meta.url);
const network = {
  ...DEFAULT_NETWORK,
  allowPrivate: true,
  timeouts: { dns: 500, connect: 1000, request: 1000 },
};

const results = (q: string) =>
  q.includes("Schmidt")
    ? [{ url: "https://schmidt-brot.de/", title: "Bäckerei Schmidt", content: "Köln" }]
    : q.includes("Weber")
    ? [{ url: "https://www.instagram.com/weber.koeln", title: "Friseur Weber (@weber) Köln" }]
    : [{ url: "https://www.yelp.de/x", title: "Something else" }];

const items = [
  { key: "baeckerei-schmidt.de", name: "Bäckerei Schmidt", city: "Köln", lead: true },
  { key: "weber.de", name: "Friseur Weber", city: "Köln", lead: true },
  { key: "lonely.de", name: "Lonely Shop", city: "Bonn", lead: true },
  { key: "live.de", name: "Live Shop", city: "Bonn", lead: false },
  { key: "noname.de", lead: true },
];

for (const provider of ["searxng", "brave"] as const) {
  Deno.test(`search-verify (${provider}): finds websites and social pages elsewhere, flips lead`, async () => {
    await using fake = startSearchFake({ results });
    const { items: out } = await runPlugin({
      dir,
      network,
      secrets: { BRAVE_API_KEY: "test-brave-key" },
      config: { provider, baseUrl: fake.baseUrl, perSecond: 100 },
      items,
    });
    const by = Object.fromEntries(out.map((i) => [i.key, i]));
    assert.equal(by["baeckerei-schmidt.de"].lead, false);
    assert.match(String(by["baeckerei-schmidt.de"].lead_reason), /schmidt-brot\.de.*website/);
    assert.equal(
      (by["weber.de"].search as { evidence: { kind: string }[] }).evidence[0].kind,
      "social",
    );
    assert.equal(by["weber.de"].lead, false);
    assert.match(String(by["weber.de"].lead_reason), /facebook|instagram|\(social\)/);
    assert.equal(by["lonely.de"].lead, true);
    assert.equal((by["lonely.de"].search as { status: string }).status, "not_found");
    assert.equal(by["live.de"].search, undefined, "non-leads are not searched");
    assert.equal((by["noname.de"].search as { status: string }).status, "skipped");
    // One query per lead with a name, in whatever order they arrive (they go out concurrently).
    assert.deepEqual(fake.queries.map((q) => [q.provider, q.q]).sort(), [
      [provider, '"Bäckerei Schmidt" Köln'],
      [provider, '"Friseur Weber" Köln'],
      [provider, '"Lonely Shop" Bonn'],
    ]);
  });
}

Deno.test("search-verify: a 429 storm is waited out honouring Retry-After", async () => {
  await using fake = startSearchFake({ results });
  fake.setBehaviour({ kind: "status", status: 429, retryAfter: "1", times: 2 });
  const { items: out } = await runPlugin({
    dir,
    network,
    config: { baseUrl: fake.baseUrl, perSecond: 100, attempts: 3 },
    items: items.slice(0, 1),
  });
  assert.equal((out[0].search as { status: string }).status, "found_elsewhere");
  assert.equal(fake.queries.length, 3);
});

Deno.test("search-verify: malformed answers and a bad key trip the breaker; items pass as unknown", async () => {
  await using fake = startSearchFake({ results });
  fake.setBehaviour({ kind: "malformed" });
  const many = Array.from(
    { length: 6 },
    (_, i) => ({ key: `s${i}.de`, name: `Shop ${i}`, city: "Bonn", lead: true }),
  );
  const { items: out } = await runPlugin({
    dir,
    network,
    config: { baseUrl: fake.baseUrl, perSecond: 100, breakerThreshold: 2, concurrency: 1 },
    items: many,
  });
  assert.equal(out.length, 6);
  assert.ok(out.every((i) => i.lead === true), "API trouble never flips a lead");
  assert.match((out[0].search as { reason: string }).reason, /not JSON/);
  assert.match((out[5].search as { reason: string }).reason, /paused after 2 failures/);
  assert.equal(fake.queries.length, 2);

  const bad = await runPlugin({
    dir,
    network,
    secrets: { BRAVE_API_KEY: "wrong" },
    config: { provider: "brave", baseUrl: fake.baseUrl, breakerThreshold: 1, concurrency: 1 },
    items: many.slice(0, 2),
  });
  assert.match((bad.items[0].search as { reason: string }).reason, /HTTP 422 \(check the API key/);
  assert.match((bad.items[1].search as { reason: string }).reason, /paused/);
});

Deno.test("search-verify without a configured API passes items unchanged; enabled: true demands it", async () => {
  const { items: out } = await runPlugin({ dir, network, items });
  assert.deepEqual(out, items);
  await assert.rejects(
    runPlugin({ dir, network, config: { enabled: true }, items }),
    (e: SandboxError) => {
      assert.match(e.message, /set with\.baseUrl to your SearXNG instance/);
      assert.equal(e.kind, "config", "the pipeline file must change: not retried");
      return true;
    },
  );
});

Deno.test("search-verify: a tripped breaker reports circuit_open 1, then 0 after recovery; rate-limit waits count", async () => {
  await using fake = startSearchFake({ results });
  fake.setBehaviour({ kind: "malformed" });
  await using plugin = await openPlugin({
    dir,
    network,
    config: {
      baseUrl: fake.baseUrl,
      perSecond: 20,
      attempts: 1,
      breakerThreshold: 1,
      breakerCooldownSeconds: 0,
      concurrency: 1,
    },
  });
  await plugin.process(items.slice(0, 1));
  assert.equal(plugin.metrics.circuit_open, 1, "open after the failure");
  fake.setBehaviour(undefined);
  // Cooldown 0: the next call is the probe; it succeeds and closes the breaker.
  const { items: out } = await plugin.process(items.slice(0, 3));
  assert.equal((out[0].search as { status: string }).status, "found_elsewhere");
  assert.equal(plugin.metrics.circuit_open, 0, "closed after recovery");
  assert.ok(plugin.metrics.rate_limit_wait_ms > 0, "waits for the per-host rate limit count");
});

Deno.test("search-verify: flipOnSocial: false keeps a business found only on a social page a lead", async () => {
  await using fake = startSearchFake({ results });
  const { items: out } = await runPlugin({
    dir,
    network,
    config: { baseUrl: fake.baseUrl, perSecond: 100, flipOnSocial: false },
    items,
  });
  const by = Object.fromEntries(out.map((i) => [i.key, i]));
  assert.equal((by["weber.de"].search as { status: string }).status, "found_elsewhere");
  assert.equal(by["weber.de"].lead, true, "only a social page: still a lead");
  assert.equal(by["baeckerei-schmidt.de"].lead, false, "a website elsewhere still flips");
});

/** Runs search-verify on `items` against `fake` with the data folder `dataDir`. */
function runIn(
  dataDir: string,
  fake: { baseUrl: string },
  config: Record<string, unknown> = {},
) {
  return runPlugin({
    dir,
    network,
    dataDir,
    config: { baseUrl: fake.baseUrl, perSecond: 100, ...config },
    items,
  });
}

/** The items' `search` results, by key, without `cached`. */
const searches = (out: Record<string, unknown>[]) =>
  Object.fromEntries(out.map((i) => {
    const { cached: _, ...s } = (i.search ?? {}) as { cached?: true };
    return [i.key, s];
  }));

Deno.test("search-verify keeps answers: the same list again asks nothing and finds the same", async () => {
  await using fake = startSearchFake({ results });
  const dataDir = await Deno.makeTempDir({ prefix: "search_cache_" });
  try {
    const first = await runIn(dataDir, fake);
    assert.equal(fake.queries.length, 3);
    const again = await runIn(dataDir, fake);
    assert.equal(fake.queries.length, 3, "no query went out again");
    assert.deepEqual(searches(again.items), searches(first.items));
    assert.deepEqual(again.items.map((i) => i.lead), first.items.map((i) => i.lead));
    const cached = again.items.filter((i) => (i.search as { cached?: true })?.cached);
    assert.deepEqual(cached.map((i) => i.key).sort(), [
      "baeckerei-schmidt.de",
      "lonely.de",
      "weber.de",
    ]);
    assert.ok(first.items.every((i) => !(i.search as { cached?: true })?.cached));
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("search-verify keeps no failure, and nothing with cacheDays: 0", async () => {
  await using fake = startSearchFake({ results });
  const dataDir = await Deno.makeTempDir({ prefix: "search_cache_" });
  try {
    fake.setBehaviour({ kind: "status", status: 503 });
    const failed = await runIn(dataDir, fake, { attempts: 1, breakerThreshold: 10 });
    assert.ok(
      failed.items.filter((i) => i.lead === true && i.name)
        .every((i) => (i.search as { status: string }).status === "unknown"),
    );
    fake.setBehaviour(undefined);
    const asked = fake.queries.length;
    const ok = await runIn(dataDir, fake);
    assert.equal(fake.queries.length, asked + 3, "the failed queries are asked again");
    assert.equal(
      (ok.items[0].search as { status: string }).status,
      "found_elsewhere",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
  const none = await Deno.makeTempDir({ prefix: "search_cache_" });
  try {
    const before = fake.queries.length;
    await runIn(none, fake, { cacheDays: 0 });
    await runIn(none, fake, { cacheDays: 0 });
    assert.equal(fake.queries.length, before + 6, "cacheDays: 0 asks every time");
  } finally {
    await Deno.remove(none, { recursive: true });
  }
});

Deno.test("search-verify matches a kept answer as it would a new one; an answer older than cacheDays is asked again", async () => {
  await using fake = startSearchFake({ results });
  const dataDir = await Deno.makeTempDir({ prefix: "search_cache_" });
  try {
    // Answers kept in the plugin's file, as a run 8 days ago and one an hour ago left them.
    const cache = await AnswerCache.open<Hit[]>(dataDir, "search", 7 * 86_400_000, CACHE_PREFIX);
    const key = (q: string) => AnswerCache.keyOf(["searxng", fake.baseUrl, 10, q]);
    try {
      await cache.putMany(
        [[await key('"Bäckerei Schmidt" Köln'), []]],
        Date.now() - 8 * 86_400_000,
      );
      await cache.putMany([[await key('"Lonely Shop" Bonn'), [
        { url: "https://lonely-shop.de/", title: "Lonely Shop", content: "Lonely Shop in Bonn" },
      ]]], Date.now() - 3_600_000);
    } finally {
      cache.close();
    }
    const { items: out } = await runIn(dataDir, fake);
    const by = Object.fromEntries(out.map((i) => [i.key, i.search as Record<string, unknown>]));
    assert.deepEqual(
      fake.queries.map((q) => q.q).sort(),
      ['"Bäckerei Schmidt" Köln', '"Friseur Weber" Köln'],
      "the 8-day-old answer is asked again, the hour-old one is not",
    );
    assert.equal(by["baeckerei-schmidt.de"].status, "found_elsewhere");
    assert.equal(by["baeckerei-schmidt.de"].cached, undefined);
    // The kept hits were matched against the item: a website elsewhere, though the service
    // would answer "nothing" now.
    assert.equal(by["lonely.de"].status, "found_elsewhere");
    assert.equal(by["lonely.de"].cached, true);
    assert.match(JSON.stringify(by["lonely.de"].evidence), /lonely-shop\.de/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("search-verify without its data folder (permissions narrowed) still searches and says why it keeps nothing", async () => {
  await using fake = startSearchFake({ results });
  const { items: out, logs } = await runPlugin({
    dir,
    network,
    permissions: { net: ["*"] },
    config: { baseUrl: fake.baseUrl, perSecond: 100 },
    items,
  });
  assert.equal((out[0].search as { status: string }).status, "found_elsewhere");
  assert.ok(
    logs.some((l) => l.level === "warn" && /answers are not kept .*cannot be opened/.test(l.msg)),
    JSON.stringify(logs),
  );
  assert.equal(fake.queries.length, 3);
});
