import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";
import type { SandboxError } from "@sluice/sdk/runtime/sandbox_error.ts";
import { SCORER_CACHE_SIZE, scorerFor } from "./mod.ts";

Deno.test("score runs in the sandbox with rules from the pipeline", async () => {
  const { items } = await runPlugin({
    dir: new URL(".", import.meta.url),
    config: {
      now: "2025-06-01",
      rules: [
        { id: "lead", when: "item.lead == true", points: 50, reason: "no website" },
        { id: "old", when: "daysSince(item.rdap.registered) > 365.0", points: 30, reason: "old" },
      ],
      bands: { hot: 80, warm: 50, cool: 10 },
    },
    items: [
      { key: "a.com", lead: true, rdap: { registered: "2020-01-01" } },
      { key: "b.com", lead: true, rdap: { registered: "2025-05-01" } },
      { key: "c.com", lead: false },
    ],
  });
  assert.deepEqual(items.map((i) => [i.key, i.score, i.band]), [
    ["a.com", 80, "hot"],
    ["b.com", 50, "warm"],
    ["c.com", 0, "cold"],
  ]);
  assert.deepEqual(items[0].score_reasons, [
    { rule: "lead", points: 50, reason: "no website" },
    { rule: "old", points: 30, reason: "old" },
  ]);
  assert.equal(items[0].score_summary, "no website (+50); old (+30)");
  assert.deepEqual(items[1].rdap, { registered: "2025-05-01" }, "other fields pass through");
});

Deno.test("score refuses a rule that does not compile, naming it", async () => {
  await assert.rejects(
    runPlugin({
      dir: new URL(".", import.meta.url),
      config: { rules: [{ id: "bad", when: "item.lead ==", points: 1 }] },
      items: [{ key: "a.com" }],
    }),
    /rules\[0\] \(bad\)/,
  );
});

Deno.test("score's setup errors are configuration errors: not retried, no plugin source line", async () => {
  for (
    const config of [
      { rules: [{ id: "age", when: "daySince(item.d) > 1.0", points: 1 }] },
      { bands: { hot: 60, warm: 85, cool: 35 } },
      { now: "yesterday" },
    ]
  ) {
    await assert.rejects(
      runPlugin({ dir: new URL(".", import.meta.url), config, items: [{ key: "a.com" }] }),
      (e: SandboxError) => {
        assert.equal(e.kind, "config", e.message);
        assert.equal(e.retryable, false);
        assert.doesNotMatch(e.message, /\(at .*\.ts:\d+/);
        return true;
      },
    );
  }
});

Deno.test("score warns in the run log when the rules can never reach the hot band", async () => {
  const { items, logs } = await runPlugin({
    dir: new URL(".", import.meta.url),
    config: { rules: [{ id: "lead", when: "item.lead == true", points: 50, reason: "lead" }] },
    items: [{ key: "a.com", lead: true }],
  });
  assert.equal(items[0].band, "cool");
  const warn = logs.find((l) => l.level === "warn");
  assert.match(String(warn?.msg), /no item can reach band "hot" \(85 points\)/);
});

Deno.test("score names a rule's misspelt field once in the run log, with the close name", async () => {
  const { items, logs } = await runPlugin({
    dir: new URL(".", import.meta.url),
    config: {
      rules: [
        { id: "parked", when: 'item.webiste.status == "parked"', points: 80, reason: "parked" },
        { id: "named", when: 'item.name.lowerAscii().contains("bau")', points: 5 },
        { id: "old", when: "daysSince(item.rdap.registered) > 365.0", points: 10 },
      ],
    },
    items: [
      { key: "a.com", name: "Bau", website: { status: "parked" } },
      { key: "b.com", name: "Bar", website: { status: "live" } },
    ],
    chunkSize: 1,
  });
  assert.deepEqual(items.map((i) => i.score), [5, 0]);
  const warned = logs.filter((l) => l.level === "warn").map((l) => String(l.msg));
  assert.deepEqual(warned, [
    'score: rules[0] (parked): no item of this chunk has "webiste" (webiste.status), but they ' +
    'have "website"; did you mean website.status? The rule does not fire until the name is ' +
    "fixed in the stage's `with.rules`.",
  ]);
});

Deno.test("score tallies a rule that did not evaluate, per chunk, for the run's summary", async () => {
  const { items, logs, metrics } = await runPlugin({
    dir: new URL(".", import.meta.url),
    config: {
      rules: [
        { id: "big", when: "item.employees > 10", points: 20, reason: "a larger business" },
        { id: "lead", when: "item.lead == true", points: 30 },
      ],
    },
    items: [
      { key: "a.com", lead: true, employees: 12 },
      { key: "b.com", lead: true, employees: "12" },
      { key: "c.com", lead: true, employees: "40" },
      { key: "d.com", lead: true, employees: "7" },
    ],
    chunkSize: 2,
  });
  assert.deepEqual(items.map((i) => i.score), [50, 30, 30, 30]);
  assert.equal(metrics.score_rule_errors, 3);
  const tallies = logs.map((l) => ({
    msg: l.msg,
    level: l.level,
    tally: (l.data as { runTally?: { key: string; count: number; line: string } })?.runTally,
  })).filter((t) => t.tally);
  assert.ok(tallies.every((t) => t.level === "warn"));
  assert.equal(tallies.length, 2, "one line per rule and chunk");
  assert.match(
    String(tallies[0].msg),
    /^score: rule "a larger business" \(id big\) did not evaluate for 1 item\(s\) of this chunk: .+ \(first: item b\.com\)$/,
  );
  assert.deepEqual(tallies.map((t) => [t.tally?.key, t.tally?.count]), [["rule:big", 1], [
    "rule:big",
    2,
  ]]);
  assert.match(
    String(tallies[1].tally?.line),
    /^rule "a larger business" \(id big\) did not evaluate for \{count\} item\(s\): .+ \(first: item c\.com\); they miss its points: fix its `when`/,
  );
});

Deno.test("score compiles a configuration once per process: equal configurations share the scorer, at most SCORER_CACHE_SIZE are kept", () => {
  const rules = [{ id: "lead", when: "item.lead == true", points: 50, reason: "no website" }];
  const first = scorerFor({ rules, bands: { hot: 40, warm: 30, cool: 20 }, now: "2025-06-01" });
  // Another run's instance: the same configuration as its own copy.
  const again = scorerFor(
    structuredClone({ rules, bands: { hot: 40, warm: 30, cool: 20 }, now: "2025-06-01" }),
  );
  assert.equal(again, first);
  assert.equal(again.score({ key: "a", lead: true }).band, "hot");
  assert.notEqual(
    scorerFor({ rules, bands: { hot: 40, warm: 30, cool: 20 }, now: "2025-07-01" }),
    first,
  );
  assert.notEqual(
    scorerFor({ rules, bands: { hot: 45, warm: 30, cool: 20 }, now: "2025-06-01" }),
    first,
  );
  for (let i = 0; i < SCORER_CACHE_SIZE; i++) scorerFor({ rules, base: i });
  assert.notEqual(
    scorerFor({ rules, bands: { hot: 40, warm: 30, cool: 20 }, now: "2025-06-01" }),
    first,
    "dropped",
  );
  assert.throws(() => scorerFor({ rules, now: "June" }), /with\.now "June" is not an ISO date/);
});
