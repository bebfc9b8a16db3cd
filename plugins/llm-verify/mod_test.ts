import assert from "node:assert/strict";
import { DEFAULT_NETWORK } from "@sluice/sdk";
import { runPlugin } from "@sluice/sdk/testing.ts";
import { startLlmFake } from "../../testing/llm_fake.ts";
import { type BudgetUse, RunBudget } from "./budget.ts";
import { buildMessages } from "./prompt.ts";

const dir = new URL(".", import.meta.url);

/**
 * Runs llm-verify, enabled against `fake` with the test key at 100 requests/s and `config`, on
 * `more.items` (default: the four items below) with the rest of `more`.
 */
function runOn(
  fake: { baseUrl: string },
  config: Record<string, unknown>,
  more: Partial<Parameters<typeof runPlugin>[0]> = {},
) {
  return runPlugin({
    dir,
    network,
    secrets: { OPENAI_API_KEY: "test-llm-key" },
    items,
    ...more,
    config: { enabled: true, baseUrl: fake.baseUrl, perSecond: 100, ...config },
  });
}

/** What run "test-run" used of its budget, as the plugin's file in `dataDir` holds it. */
async function usedIn(dataDir: string): Promise<BudgetUse> {
  const budget = await RunBudget.open(dataDir, "test-run", { tokens: 0 });
  try {
    return await budget.used();
  } finally {
    budget.close();
  }
}
const network = {
  ...DEFAULT_NETWORK,
  allowPrivate: true,
  timeouts: { dns: 500, connect: 1000, request: 1000 },
};

const page = (title: string) => ({
  status: "responded",
  best: { url: "https://x/", status: 200, title, text: title },
});
const items = [
  { key: "sure.com", website: { status: "live" }, lead: false },
  {
    key: "parked.com",
    website: { status: "unknown" },
    http: page("Buy this domain parking"),
    lead: false,
  },
  { key: "odd.com", website: { status: "unknown" }, http: page("weird"), lead: false },
  {
    key: "shop.com",
    website: { status: "placeholder", confidence: 0.3 },
    http: page("Shop"),
    lead: true,
  },
];

const respond = (req: { messages: { content: string }[] }) => {
  const u = req.messages[1].content;
  if (u.includes("parked.com")) return '{"label": "parked", "rationale": "Only ad links."}';
  if (u.includes("shop.com")) return '{"label": "live", "rationale": "A real shop with products."}';
  return '{"label": "definitely a website?", "rationale": "??"}';
};

Deno.test("llm-verify is off by default: items pass untouched, nothing is sent", async () => {
  await using fake = startLlmFake({ respond });
  const { items: out } = await runPlugin({
    dir,
    network,
    config: { baseUrl: fake.baseUrl },
    items,
  });
  assert.deepEqual(out, items);
  assert.equal(fake.requests.length, 0);
});

Deno.test("llm-verify labels uncertain items only; answers outside the vocabulary are refused", async () => {
  await using fake = startLlmFake({ respond });
  const { items: out } = await runPlugin({
    dir,
    network,
    secrets: { OPENAI_API_KEY: "test-llm-key" },
    config: { enabled: true, baseUrl: fake.baseUrl, model: "tiny", perSecond: 100 },
    items,
  });
  assert.equal(fake.requests.length, 3, "the confident verdict was not sent");
  assert.equal(fake.requests[0].model, "tiny");
  const by = Object.fromEntries(out.map((i) => [i.key, i]));
  assert.deepEqual(by["sure.com"], items[0]);
  assert.equal((by["parked.com"].website as { status: string }).status, "parked");
  assert.equal(by["parked.com"].lead, true);
  assert.match(String(by["parked.com"].lead_reason), /labelled it parked: Only ad links/);
  const odd = by["odd.com"];
  assert.equal((odd.llm as { status: string }).status, "rejected");
  assert.match((odd.llm as { reason: string }).reason, /outside the vocabulary/);
  assert.equal(
    (odd.website as { status: string }).status,
    "unknown",
    "a refused answer changes nothing",
  );
  assert.equal(by["shop.com"].lead, false, "the model may also say it is a live site");
});

Deno.test("llm-verify stops at the run's token budget", async () => {
  await using fake = startLlmFake({
    respond,
    usage: () => ({ prompt_tokens: 400, completion_tokens: 100 }),
  });
  const { items: out } = await runPlugin({
    dir,
    network,
    secrets: { OPENAI_API_KEY: "test-llm-key" },
    config: {
      enabled: true,
      baseUrl: fake.baseUrl,
      budgetTokens: 600,
      concurrency: 1,
      perSecond: 100,
    },
    items,
  });
  assert.equal(fake.requests.length, 1);
  const skipped = out.filter((i) =>
    (i.llm as { status?: string } | undefined)?.status === "skipped"
  );
  assert.equal(skipped.length, 2);
  assert.match((skipped[0].llm as { reason: string }).reason, /token budget \(600\) is used up/);
});

Deno.test("llm-verify prices each answer and stops at the run's cost budget", async () => {
  // Prompt tokens as the plugin estimates them (characters / 4), 100 answer tokens.
  const promptTokens = (messages: { content: string }[]) =>
    Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / 4);
  await using fake = startLlmFake({
    respond,
    usage: (req) => ({ prompt_tokens: promptTokens(req.messages), completion_tokens: 100 }),
  });
  // At 1,000 and 2,000 per million tokens, in millionths: a call's estimate reserves its prompt
  // and max_tokens (120), its answer costs its prompt and 100 answer tokens.
  const [p1, p2, p3] = items.slice(1).map((i) => promptTokens(buildMessages(i, 1500)));
  const estimate = (p: number) => p * 1000 + 120 * 2000;
  const answered = (p: number) => p * 1000 + 100 * 2000;
  // Room for the first answer and less than either next call's estimate: one call, two skipped
  // (the three estimates together do not fit either, so none is reserved for the whole chunk).
  const budget = answered(p1) + Math.min(estimate(p2), estimate(p3)) - 1;
  const dataDir = await Deno.makeTempDir({ prefix: "llm_budget_" });
  try {
    const { items: out } = await runOn(fake, {
      pricing: { inputPerMillion: 1000, outputPerMillion: 2000 },
      budgetCost: budget / 1e6,
      concurrency: 1,
    }, { dataDir });
    assert.equal(fake.requests.length, 1, "the run's token budget (200,000) was far from used up");
    const llm = out.slice(1).map((i) =>
      i.llm as { status: string; cost?: number; reason?: string }
    );
    assert.deepEqual(llm.map((l) => l.status), ["accepted", "skipped", "skipped"]);
    assert.equal(llm[0].cost, answered(p1) / 1e6);
    assert.match(llm[1].reason!, /cost budget \([\d.]+\) is used up .*raise with\.budgetCost/);
    assert.deepEqual(await usedIn(dataDir), { tokens: p1 + 100, cost: answered(p1) });
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("llm-verify prices a total-only count at the dearer price; no cap without budgetCost", async () => {
  // An API that reports only total_tokens.
  await using fake = startLlmFake({ respond, usage: () => ({ total_tokens: 1000 }) });
  const { items: out } = await runOn(fake, {
    pricing: { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  });
  const costs = out.filter((i) => i.llm).map((i) => (i.llm as { cost?: number }).cost);
  assert.deepEqual(costs, [0.0006, 0.0006, 0.0006], "1,000 tokens at 0.6 per million each");
});

Deno.test("llm-verify prices an answer without a count at its estimate", async () => {
  await using fake = startLlmFake({ respond, usage: () => null });
  const { items: out } = await runOn(fake, {
    pricing: { inputPerMillion: 1000, outputPerMillion: 2000 },
  });
  // The estimate: prompt characters / 4 at the input price, max_tokens (120) at the output price.
  const prompt = (i: typeof items[number]) =>
    Math.ceil(buildMessages(i, 1500).reduce((n, m) => n + m.content.length, 0) / 4);
  assert.deepEqual(
    out.slice(1).map((i) => (i.llm as { cost?: number; tokens?: number })),
    items.slice(1).map((i) => ({
      ...(out.find((o) => o.key === i.key)!.llm as object),
      tokens: prompt(i) + 120,
      cost: (prompt(i) * 1000 + 120 * 2000) / 1e6,
    })),
  );
});

Deno.test("llm-verify: budgetCost without a pricing is refused by the schema, and by the plugin when it gets one", async () => {
  await using fake = startLlmFake({ respond });
  const o = {
    dir,
    network,
    secrets: { OPENAI_API_KEY: "test-llm-key" },
    config: { enabled: true, baseUrl: fake.baseUrl, budgetCost: 5 },
    items,
  };
  // As `sluice validate` and the run's start check a stage's with: (the harness does the same).
  await assert.rejects(runPlugin(o), /missing key "pricing" \(needed with "budgetCost"\)/);
  // A ${{ inputs.X }} template can still bring one: the plugin's own check stops the run.
  await assert.rejects(
    runPlugin({ ...o, checkConfig: false }),
    /with\.budgetCost needs with\.pricing: \{ inputPerMillion, outputPerMillion \}/,
  );
  assert.equal(fake.requests.length, 0);
});

Deno.test("llm-verify: 429 storms are waited out; a bad key or garbage trips the breaker", async () => {
  await using fake = startLlmFake({ respond });
  fake.setBehaviour({ kind: "status", status: 429, retryAfter: "1", times: 1 });
  const ok = await runPlugin({
    dir,
    network,
    secrets: { OPENAI_API_KEY: "test-llm-key" },
    config: { enabled: true, baseUrl: fake.baseUrl, perSecond: 100 },
    items: items.slice(1, 2),
  });
  assert.equal((ok.items[0].llm as { status: string }).status, "accepted");

  fake.setBehaviour({ kind: "malformed" });
  const bad = await runPlugin({
    dir,
    network,
    secrets: { OPENAI_API_KEY: "test-llm-key" },
    config: {
      enabled: true,
      baseUrl: fake.baseUrl,
      breakerThreshold: 1,
      concurrency: 1,
      perSecond: 100,
    },
    items: items.slice(1),
  });
  const reasons = bad.items.slice(0, 3).map((i) => (i.llm as { reason: string }).reason);
  assert.match(reasons[0], /not JSON/);
  assert.match(reasons[1], /paused after 1 failures/);
  assert.equal((bad.items[0].website as { status: string }).status, "unknown", "nothing changed");

  fake.setBehaviour(undefined);
  const wrongKey = await runPlugin({
    dir,
    network,
    secrets: { OPENAI_API_KEY: "nope" },
    config: { enabled: true, baseUrl: fake.baseUrl },
    items: items.slice(1, 2),
  });
  assert.match(
    (wrongKey.items[0].llm as { reason: string }).reason,
    /HTTP 401 \(check the API key\)/,
  );
});

Deno.test("llm-verify reserves a call's tokens at once and settles them to what the API used", async () => {
  await using fake = startLlmFake({
    respond,
    usage: () => ({ prompt_tokens: 40, completion_tokens: 10 }),
  });
  const dataDir = await Deno.makeTempDir({ prefix: "llm_budget_" });
  try {
    const { items: out } = await runPlugin({
      dir,
      network,
      dataDir,
      secrets: { OPENAI_API_KEY: "test-llm-key" },
      config: { enabled: true, baseUrl: fake.baseUrl, budgetTokens: 100_000, perSecond: 100 },
      items,
    });
    const asked = out.filter((i) => i.llm !== undefined).length;
    assert.equal(fake.requests.length, asked);
    assert.deepEqual(
      await usedIn(dataDir),
      { tokens: 50 * asked, cost: 0 },
      "the run's use is what the API reported (no pricing: no cost)",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("llm-verify does not bring back a lead that web search found elsewhere", async () => {
  await using fake = startLlmFake({ respond });
  const elsewhere = {
    key: "parked.com",
    website: { status: "parked", confidence: 0.4 },
    http: page("Buy this domain parking"),
    search: { status: "found_elsewhere", evidence: [{ url: "https://parked-shop.de/" }] },
    lead: false,
    lead_reason: "search found the business elsewhere: https://parked-shop.de/ (website)",
  };
  const { items: out } = await runPlugin({
    dir,
    network,
    secrets: { OPENAI_API_KEY: "test-llm-key" },
    config: { enabled: true, baseUrl: fake.baseUrl, perSecond: 100 },
    items: [elsewhere],
  });
  assert.equal((out[0].llm as { status: string }).status, "accepted");
  assert.equal((out[0].website as { status: string }).status, "parked");
  assert.equal(out[0].lead, false, "the business has a website elsewhere");
  assert.equal(out[0].lead_reason, elsewhere.lead_reason);
});

Deno.test("llm-verify: calls that got no answer cost no budget", async () => {
  await using fake = startLlmFake({ respond });
  fake.setBehaviour({ kind: "status", status: 503 });
  const dataDir = await Deno.makeTempDir({ prefix: "llm_budget_" });
  try {
    for (const batch of [items.slice(1, 2), items.slice(1)]) { // alone, and pooled
      const { items: out } = await runPlugin({
        dir,
        network,
        dataDir,
        secrets: { OPENAI_API_KEY: "test-llm-key" },
        config: { enabled: true, baseUrl: fake.baseUrl, attempts: 1, perSecond: 100 },
        items: batch,
      });
      assert.ok(out.every((i) => !i.llm || (i.llm as { status: string }).status === "unknown"));
    }
    assert.deepEqual(
      await usedIn(dataDir),
      { tokens: 0, cost: 0 },
      "a 503 (or an open circuit) spends nothing",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("llm-verify refuses a label the probes contradict (no page at all, but a page came)", async () => {
  await using fake = startLlmFake({
    respond: (req: { messages: { content: string }[] }) =>
      req.messages[1].content.includes("served.com")
        ? '{"label": "unreachable", "rationale": "Looks down."}'
        : '{"label": "no_dns", "rationale": "No such name."}',
  });
  const { items: out } = await runPlugin({
    dir,
    network,
    secrets: { OPENAI_API_KEY: "test-llm-key" },
    config: { enabled: true, baseUrl: fake.baseUrl, perSecond: 100 },
    items: [
      { key: "served.com", website: { status: "unknown" }, http: page("Hello"), lead: false },
      {
        key: "resolves.com",
        website: { status: "unknown" },
        dns: { status: "ok" },
        http: { status: "unknown", attempts: [] },
        lead: false,
      },
    ],
  });
  for (const item of out) {
    const llm = item.llm as { status: string; reason?: string };
    assert.equal(llm.status, "rejected", item.key);
    assert.equal((item.website as { status: string }).status, "unknown", item.key);
    assert.equal(item.lead, false, item.key);
  }
  assert.match(String((out[0].llm as { reason: string }).reason), /probe got a page \(HTTP 200/);
  assert.match(String((out[1].llm as { reason: string }).reason), /DNS answered/);
});

Deno.test("llm-verify keeps answers: the same questions again ask nothing, cost nothing, label alike", async () => {
  await using fake = startLlmFake({ respond });
  const dataDir = await Deno.makeTempDir({ prefix: "llm_cache_" });
  const run = () =>
    runOn(fake, { pricing: { inputPerMillion: 0.15, outputPerMillion: 0.6 } }, { dataDir });
  try {
    const first = await run();
    assert.equal(fake.requests.length, 3);
    const spent = await usedIn(dataDir);
    const again = await run();
    assert.equal(fake.requests.length, 3, "no question went out again");
    const strip = (o: Record<string, unknown>[]) =>
      o.map((i) => {
        const { tokens: _t, cost: _c, cached: _k, ...llm } = (i.llm ?? {}) as Record<
          string,
          unknown
        >;
        return { ...i, llm };
      });
    assert.deepEqual(strip(again.items), strip(first.items), "the same labels, leads and reasons");
    const llm = again.items.slice(1).map((i) => i.llm as Record<string, unknown>);
    assert.ok(
      llm.every((l) => l.cached === true && l.tokens === undefined && l.cost === undefined),
    );
    assert.deepEqual(await usedIn(dataDir), spent, "kept answers spend nothing");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("llm-verify asks again when the item's facts changed or the call failed; cacheDays: 0 keeps nothing", async () => {
  await using fake = startLlmFake({ respond });
  const dataDir = await Deno.makeTempDir({ prefix: "llm_cache_" });
  const run = (batch: typeof items, config: Record<string, unknown> = {}) =>
    runOn(fake, { attempts: 1, ...config }, { dataDir, items: batch });
  try {
    fake.setBehaviour({ kind: "status", status: 503 });
    const failed = await run(items.slice(1, 2));
    assert.equal((failed.items[0].llm as { status: string }).status, "unknown");
    fake.setBehaviour(undefined);
    const n = fake.requests.length;
    const ok = await run(items.slice(1, 2));
    assert.equal(fake.requests.length, n + 1, "a failure was not kept");
    assert.equal((ok.items[0].llm as { status: string }).status, "accepted");
    // The page changed since: a new question.
    const changed = { ...items[1], http: page("Buy this domain now, parking by Sedo") };
    await run([changed]);
    assert.equal(fake.requests.length, n + 2, "a changed title is a new question");
    await run([changed]);
    assert.equal(fake.requests.length, n + 2, "asked once");
    await run([changed], { cacheDays: 0 });
    await run([changed], { cacheDays: 0 });
    assert.equal(fake.requests.length, n + 4, "cacheDays: 0 asks every time");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
