import assert from "node:assert/strict";
import { Scheduler, type SchedulerOptions, TriggerError } from "./scheduler.ts";
import { ManualClock } from "./clock.ts";
import { scheduledTimes, type TriggerEnv, triggerEnv } from "./test_support.ts";

const cronPipeline = (name: string, triggers: string) =>
  `name: ${name}
source: { plugin: gen-source, with: { count: 1 } }
triggers:
${triggers}`;

async function scheduler(
  env: TriggerEnv,
  o: Partial<SchedulerOptions> = {},
): Promise<Scheduler> {
  const s = new Scheduler({
    catalog: env.catalog,
    store: await env.newStore(),
    runs: env.launcher,
    clock: env.clock,
    ...o,
  });
  await s.start();
  return s;
}

async function fireOutcomes(s: Scheduler, pipeline: string, trigger: string) {
  return (await s.fires(pipeline, trigger, 100)).reverse()
    .map((f) => `${new Date(f.scheduledAt).toISOString().slice(11, 16)} ${f.outcome}`);
}

Deno.test("scheduler: two schedulers on one KV file fire each occurrence exactly once", async () => {
  const env = await triggerEnv({
    pipelines: {
      "p.yaml": cronPipeline("p", `  - { id: every-minute, cron: "* * * * *", overlap: allow }`),
    },
  });
  // Each "process" has its own clock; both move together until process A dies.
  const clockA = env.clock;
  const clockB = new ManualClock(clockA.now());
  const a = await scheduler(env, { owner: "A", clock: clockA });
  const b = await scheduler(env, { owner: "B", clock: clockB });
  try {
    const both = async (ms: number) => {
      for (let t = 0; t < ms; t += 1000) {
        await clockA.advance(1000);
        await clockB.advance(1000);
      }
    };
    await both(5 * 60_000); // 10:00:30 -> 10:05:30
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    assert.deepEqual(scheduledTimes(await env.runs("p")).map((t) => t.slice(11, 16)), [
      "10:01",
      "10:02",
      "10:03",
      "10:04",
      "10:05",
    ]);
    // A dies without giving up its lease: only B's clock moves on. B takes over when the lease
    // expires and fires the occurrence A missed meanwhile (it is within the grace period).
    for (let t = 0; t < 3 * 60_000; t += 1000) await clockB.advance(1000);
    assert.equal(b.isLeader, true);
    const times = scheduledTimes(await env.runs("p")).map((t) => t.slice(11, 16));
    assert.deepEqual(times, [
      "10:01",
      "10:02",
      "10:03",
      "10:04",
      "10:05",
      "10:06",
      "10:07",
      "10:08",
    ]);
  } finally {
    await a.stop();
    await b.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: overlap skip drops occurrences while the previous run is unfinished", async () => {
  const env = await triggerEnv({
    pipelines: { "p.yaml": cronPipeline("p", `  - { id: t, cron: "* * * * *", overlap: skip }`) },
  });
  const s = await scheduler(env);
  try {
    await env.clock.advance(60_000); // 10:01 starts
    const [first] = await env.runs("p");
    assert.equal(first.trigger.id, "t");
    await env.clock.advance(2 * 60_000); // 10:02, 10:03 skipped
    assert.equal((await env.runs("p")).length, 1);
    await env.engine.cancelRun(first.id);
    await env.clock.advance(60_000); // 10:04 starts
    assert.deepEqual(await fireOutcomes(s, "p", "t"), [
      "10:01 started",
      "10:02 skipped",
      "10:03 skipped",
      "10:04 started",
    ]);
    const fires = await s.fires("p", "t");
    assert.match(fires[1].reason!, new RegExp(`run ${first.id} .*still running`));
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: overlap queue keeps one occurrence waiting and starts it when the run ends", async () => {
  const env = await triggerEnv({
    pipelines: { "p.yaml": cronPipeline("p", `  - { id: t, cron: "* * * * *", overlap: queue }`) },
  });
  const s = await scheduler(env);
  try {
    await env.clock.advance(3 * 60_000); // 10:01 started, 10:02 queued, 10:03 skipped
    let runs = await env.runs("p");
    assert.equal(runs.length, 1);
    await env.engine.cancelRun(runs[0].id);
    await env.clock.advance(1000); // the next tick starts the waiting 10:02
    runs = await env.runs("p");
    assert.equal(runs.length, 2);
    assert.equal(runs[1].trigger.detail?.scheduledAt, "2025-01-06T10:02:00.000Z");
    assert.equal(runs[1].trigger.detail?.queued, true);
    assert.deepEqual(await fireOutcomes(s, "p", "t"), [
      "10:01 started",
      "10:02 started",
      "10:03 skipped",
    ]);
    await env.clock.advance(60_000); // 10:04 waits for the 10:02 run
    assert.equal((await env.runs("p")).length, 2);
    assert.equal((await s.fires("p", "t"))[0].outcome, "queued");
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: overlap allow starts every occurrence", async () => {
  const env = await triggerEnv({
    pipelines: { "p.yaml": cronPipeline("p", `  - { id: t, cron: "* * * * *", overlap: allow }`) },
  });
  const s = await scheduler(env);
  try {
    await env.clock.advance(3 * 60_000);
    const runs = await env.runs("p");
    assert.equal(runs.length, 3);
    assert.ok(runs.every((r) => r.state === "queued"), "all three are unfinished at once");
  } finally {
    await s.stop();
    await env.dispose();
  }
});

const catchUpTriggers =
  `  - { id: none, cron: "0 * * * *", overlap: allow, catchUp: none, catchUpLimit: 3 }
  - { id: last, cron: "0 * * * *", overlap: allow, catchUp: last, catchUpLimit: 3 }
  - { id: all, cron: "0 * * * *", overlap: allow, catchUp: all, catchUpLimit: 3 }
`;

const byTrigger = async (env: TriggerEnv, id: string) =>
  scheduledTimes((await env.runs("p")).filter((r) => r.trigger.id === id))
    .map((t) => t.slice(11, 16));

Deno.test("scheduler: catch-up none, last and all after downtime", async () => {
  const env = await triggerEnv({ pipelines: { "p.yaml": cronPipeline("p", catchUpTriggers) } });
  const opts = { pollMs: 60_000, leaseMs: 3 * 3_600_000 };
  let s = await scheduler(env, opts);
  try {
    await env.clock.advanceTo("2025-01-06T11:30:00Z"); // 11:00 fires for all three
    await s.stop();
    env.clock.jumpTo("2025-01-06T16:30:00Z"); // down: 12, 13, 14, 15, 16 were missed
    s = await scheduler(env, opts);
    assert.deepEqual(await byTrigger(env, "none"), ["11:00"]);
    assert.deepEqual(await byTrigger(env, "last"), ["11:00", "16:00"]);
    assert.deepEqual(await byTrigger(env, "all"), ["11:00", "14:00", "15:00", "16:00"]);
    const late = (await env.runs("p")).filter((r) => r.trigger.detail?.catchUp === true);
    assert.equal(late.length, 4);
    assert.deepEqual(await fireOutcomes(s, "p", "none"), [
      "11:00 started",
      "14:00 missed",
      "15:00 missed",
      "16:00 missed",
    ]);
    // Back to normal: 17:00 fires once for each.
    await env.clock.advanceTo("2025-01-06T17:00:10Z");
    assert.deepEqual((await byTrigger(env, "none")).at(-1), "17:00");
    assert.equal((await env.runs("p")).length, 1 + 2 + 4 + 3);
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: an on-time occurrence at restart makes catch-up last redundant", async () => {
  const env = await triggerEnv({ pipelines: { "p.yaml": cronPipeline("p", catchUpTriggers) } });
  const opts = { pollMs: 60_000, leaseMs: 3 * 3_600_000 };
  let s = await scheduler(env, opts);
  try {
    await s.stop();
    env.clock.jumpTo("2025-01-06T15:00:20Z"); // 11..14 late, 15:00 on time
    s = await scheduler(env, opts);
    assert.deepEqual(await byTrigger(env, "none"), ["15:00"]);
    assert.deepEqual(await byTrigger(env, "last"), ["15:00"]);
    assert.deepEqual(await byTrigger(env, "all"), ["12:00", "13:00", "14:00", "15:00"]);
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: a short restart fires one occurrence of a frequent pattern on time; the rest follow catchUp", async () => {
  // A 6-field pattern every 10 s and a 45 s restart: all four missed occurrences fall within
  // the 60 s grace period, but the scheduler was down for them. Only the latest counts as on
  // time; the others are late, so catchUp none fires nothing more and all at most catchUpLimit.
  const every10 = (id: string, catchUp: string) =>
    `  - { id: ${id}, cron: "*/10 * * * * *", overlap: allow, catchUp: ${catchUp}, catchUpLimit: 2 }\n`;
  const env = await triggerEnv({
    start: "2025-01-06T10:00:05Z",
    pipelines: {
      "p.yaml": cronPipeline(
        "p",
        every10("none", "none") + every10("last", "last") + every10("all", "all"),
      ),
    },
  });
  const opts = { pollMs: 60_000, leaseMs: 3_600_000 };
  const secs = async (id: string) =>
    scheduledTimes((await env.runs("p")).filter((r) => r.trigger.id === id))
      .map((t) => t.slice(14, 19));
  let s = await scheduler(env, opts);
  try {
    await env.clock.advanceTo("2025-01-06T10:00:12Z"); // 10:00:10 fires for all three
    await s.stop();
    env.clock.jumpTo("2025-01-06T10:00:57Z"); // down for 10:00:20, :30, :40 and :50
    s = await scheduler(env, opts);
    assert.deepEqual(await secs("none"), ["00:10", "00:50"]);
    assert.deepEqual(await secs("last"), ["00:10", "00:50"]);
    assert.deepEqual(await secs("all"), ["00:10", "00:30", "00:40", "00:50"]);
    const outcomes = (await s.fires("p", "none", 10)).reverse()
      .map((f) => `${new Date(f.scheduledAt).toISOString().slice(14, 19)} ${f.outcome}`);
    assert.deepEqual(outcomes, ["00:10 started", "00:30 missed", "00:40 missed", "00:50 started"]);
    // Running on, every occurrence fires on time again.
    await env.clock.advanceTo("2025-01-06T10:01:21Z");
    assert.deepEqual((await secs("none")).slice(-3), ["01:00", "01:10", "01:20"]);
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: pause and resume are persisted and do not replay paused occurrences", async () => {
  const env = await triggerEnv({
    pipelines: {
      "p.yaml": cronPipeline(
        "p",
        `  - { id: a, cron: "* * * * *", overlap: allow, catchUp: all }
  - { id: b, cron: "* * * * *", overlap: allow }
`,
      ),
    },
  });
  let s = await scheduler(env);
  try {
    await s.pause("p", "a");
    await env.clock.advance(2 * 60_000); // 10:01, 10:02: a paused, b runs
    assert.deepEqual(await byTrigger(env, "a"), []);
    assert.deepEqual(await byTrigger(env, "b"), ["10:01", "10:02"]);
    assert.deepEqual(await fireOutcomes(s, "p", "a"), ["10:01 skipped", "10:02 skipped"]);

    // The pause survives a restart (it is in the store, not in memory).
    await s.stop();
    s = await scheduler(env);
    const info = await s.schedules({ pipeline: "p", count: 2 });
    assert.deepEqual(info.map((i) => [i.trigger, i.paused]), [["a", true], ["b", false]]);
    assert.deepEqual(info[0].next, ["2025-01-06T10:03:00.000Z", "2025-01-06T10:04:00.000Z"]);

    await s.pause("p"); // the whole pipeline
    await env.clock.advance(60_000); // 10:03: nothing
    await s.resume("p");
    await s.resume("p", "a");
    await env.clock.advance(60_000); // 10:04: both; the paused occurrences are not replayed
    assert.deepEqual(await byTrigger(env, "a"), ["10:04"]);
    assert.deepEqual(await byTrigger(env, "b"), ["10:01", "10:02", "10:04"]);

    await assert.rejects(s.pause("p", "nope"), TriggerError);
    await assert.rejects(s.pause("missing"), /no pipeline missing/);
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: resuming one trigger of a paused pipeline resumes it; its siblings stay paused", async () => {
  const env = await triggerEnv({
    pipelines: {
      "p.yaml": cronPipeline(
        "p",
        `  - { id: a, cron: "* * * * *", overlap: allow }
  - { id: b, cron: "* * * * *", overlap: allow }
  - { id: c, cron: "* * * * *", overlap: allow }
`,
      ),
    },
  });
  const s = await scheduler(env);
  const state = async () =>
    (await s.schedules({ pipeline: "p" })).map((i) => `${i.trigger}:${i.paused ? "paused" : "on"}`);
  try {
    await s.pause("p", "c");
    await s.pause("p"); // the whole pipeline: POST /api/v1/schedules/p/pause
    assert.deepEqual(await state(), ["a:paused", "b:paused", "c:paused"]);
    // The UI and POST /api/v1/schedules/p%2Fa/resume name one schedule: it must run again.
    await s.resume("p", "a");
    assert.deepEqual(await state(), ["a:on", "b:paused", "c:paused"]);
    await env.clock.advance(60_000);
    assert.deepEqual(await byTrigger(env, "a"), ["10:01"]);
    assert.deepEqual(await byTrigger(env, "b"), []);
    // Resuming the pipeline resumes every one of its schedules.
    await s.resume("p");
    assert.deepEqual(await state(), ["a:on", "b:on", "c:on"]);
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: disabled triggers never fire and do not catch up when enabled", async () => {
  const env = await triggerEnv({
    pipelines: {
      "p.yaml": cronPipeline("p", `  - { id: t, cron: "* * * * *", catchUp: all, enabled: false }`),
    },
  });
  const s = await scheduler(env);
  try {
    await env.clock.advance(3 * 60_000);
    assert.deepEqual(await env.runs("p"), []);
    await env.catalog.write(
      "p",
      cronPipeline("p", `  - { id: t, cron: "* * * * *", catchUp: all, enabled: true }`),
    );
    await env.clock.advance(60_000);
    assert.deepEqual(await byTrigger(env, "t"), ["10:04"]);
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: time zones and DST give correct fire times", async () => {
  const env = await triggerEnv({
    start: "2025-10-25T12:00:00Z",
    pipelines: {
      "p.yaml": cronPipeline(
        "p",
        `  - { id: berlin-0230, cron: "30 2 * * *", timezone: Europe/Berlin, overlap: allow }
  - { id: berlin-hourly, cron: "0 * * * *", timezone: Europe/Berlin, overlap: allow }
  - { id: ny-9, cron: "0 9 * * 1-5", timezone: America/New_York }
  - { id: secs, cron: "*/20 * * * * *", timezone: Asia/Kolkata }
`,
      ),
    },
  });
  const s = await scheduler(env, { pollMs: 3_600_000, leaseMs: 48 * 3_600_000 });
  try {
    const info = Object.fromEntries(
      (await s.schedules({ count: 3 })).map((i) => [i.trigger, i.next]),
    );
    // 02:30 in Berlin: CEST (+2) on the 26th before the fall-back at 03:00, CET (+1) after.
    assert.deepEqual(info["berlin-0230"], [
      "2025-10-26T00:30:00.000Z",
      "2025-10-27T01:30:00.000Z",
      "2025-10-28T01:30:00.000Z",
    ]);
    // New York is still on EDT (-4) until 2 November, then EST (-5); weekends are skipped.
    assert.deepEqual(info["ny-9"], [
      "2025-10-27T13:00:00.000Z",
      "2025-10-28T13:00:00.000Z",
      "2025-10-29T13:00:00.000Z",
    ]);
    assert.deepEqual(info.secs, [
      "2025-10-25T12:00:20.000Z",
      "2025-10-25T12:00:40.000Z",
      "2025-10-25T12:01:00.000Z",
    ]);
    await s.pause("p", "secs");
    // Run through the fall-back night: 02:30 fires once; hourly fires every real hour, once.
    await env.clock.advanceTo("2025-10-26T12:00:00Z");
    assert.deepEqual(await byTriggerDates(env, "berlin-0230"), ["2025-10-26T00:30"]);
    const hourly = await byTriggerDates(env, "berlin-hourly");
    assert.equal(hourly.length, 24);
    assert.equal(new Set(hourly).size, 24);
    assert.equal(hourly[0], "2025-10-25T13:00");
    assert.equal(hourly[23], "2025-10-26T12:00");
    const ms = hourly.map((h) => Date.parse(h + ":00Z"));
    assert.ok(ms.every((t, i) => i === 0 || t - ms[i - 1] === 3_600_000), "one per real hour");
  } finally {
    await s.stop();
    await env.dispose();
  }
});

async function byTriggerDates(env: TriggerEnv, id: string) {
  return scheduledTimes((await env.runs("p")).filter((r) => r.trigger.id === id))
    .map((t) => t.slice(0, 16));
}

Deno.test("scheduler: spring forward fires a skipped local time once, at the next valid time", async () => {
  const env = await triggerEnv({
    start: "2025-03-29T12:00:00Z",
    pipelines: {
      "p.yaml": cronPipeline(
        "p",
        `  - { id: t, cron: "30 2 * * *", timezone: Europe/Berlin, overlap: allow }`,
      ),
    },
  });
  const s = await scheduler(env, { pollMs: 3_600_000, leaseMs: 48 * 3_600_000 });
  try {
    await env.clock.advanceTo("2025-03-31T12:00:00Z");
    // 02:30 does not exist on 30 March (02:00 -> 03:00 CEST): it fires at 03:00 CEST = 01:00Z.
    assert.deepEqual(await byTriggerDates(env, "t"), ["2025-03-30T01:00", "2025-03-31T00:30"]);
  } finally {
    await s.stop();
    await env.dispose();
  }
});

Deno.test("scheduler: a cursor left in the future by a fast leader does not stall the next one", async () => {
  const env = await triggerEnv({
    pipelines: {
      "p.yaml": cronPipeline("p", `  - { id: every-minute, cron: "* * * * *", overlap: allow }`),
    },
  });
  // Leader A's clock runs 10 minutes fast: it sees the new trigger at 10:10:30 and stores that
  // as the trigger's cursor, then steps down before firing anything.
  const fast = new ManualClock(env.clock.now() + 10 * 60_000);
  const a = await scheduler(env, { owner: "A", clock: fast });
  assert.equal(a.isLeader, true);
  await a.stop();
  const b = await scheduler(env, { owner: "B" });
  try {
    assert.equal(b.isLeader, true);
    await env.clock.advance(3 * 60_000); // 10:00:30 -> 10:03:30
    assert.deepEqual(scheduledTimes(await env.runs("p")).map((t) => t.slice(11, 16)), [
      "10:01",
      "10:02",
      "10:03",
    ]);
  } finally {
    await b.stop();
    await env.dispose();
  }
});
