import assert from "node:assert/strict";
import os from "node:os";
import { SandboxExecutor } from "../sandbox/executor.ts";
import type { StageExecutor, StageInstance, StageSpec } from "./executor.ts";
import { runOutput, testEngine } from "./test_helpers.ts";
import { isPassedInput } from "../../sdk/raw_items.ts";
import { noopEngineHooks } from "../telemetry/engine_telemetry.ts";
import { threadNiceness } from "../../sdk/runtime/process_nice.ts";

/**
 * A sandbox executor that counts which call each stage received, and the calls whose plugin
 * passed its input on (`passed`: stored bytes; `sameItems`: the very items it was sent).
 */
class CountingExecutor implements StageExecutor {
  inner = new SandboxExecutor();
  calls = new Map<string, { items: number; json: number; passed: number; sameItems: number }>();

  async open(spec: StageSpec): Promise<StageInstance> {
    const stage = await this.inner.open(spec);
    const n = { items: 0, json: 0, passed: 0, sameItems: 0 };
    this.calls.set(spec.stageId, n);
    return {
      read: (cursor, limit, ctx) => stage.read(cursor, limit, ctx),
      process: async (items, ctx) => {
        n.items++;
        const res = await stage.process(items, ctx);
        if (res.items === items) n.sameItems++;
        return res;
      },
      processJson: async (input, ctx) => {
        n.json++;
        const res = await stage.processJson(input, ctx);
        if (isPassedInput(res)) n.passed++;
        return res;
      },
      finish: (ctx) => stage.finish(ctx),
      close: () => stage.close(),
    };
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

Deno.test("stored chunks go to sandboxed stages as bytes unless the host must look at items", async () => {
  const executor = new CountingExecutor();
  const t = await testEngine({ executor });
  try {
    const run = await t.start(`
  name: bytes
  source: { plugin: gen-source, with: { count: 40, bad: 7 }, chunk: 10 }
  stages:
    - { id: plain, plugin: tag, with: { field: a, value: "Zoë 🍰" } }
    - { id: filtered, plugin: tag, with: { field: b }, when: "item.n < 20" }
    - { id: batched, plugin: tag, with: { field: c, drop: [3], part: p }, chunk: 4 }
    - { id: last, plugin: tag, with: { field: d } }
  `);
    const done = await t.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    const out = await runOutput(t.backend, run);
    // 40 generated, every 7th (5) has no key, item 3 dropped by `batched`.
    assert.equal(out.length, 40 - 5 - 1);
    // Each call of a chunk knows its part (ctx.part): the k-th keyed item of its chunk (n = 3
    // included, dropped by that stage) came in call floor(k / 4).
    const keyed = [...out.map((i) => i.n as number), 3].sort((x, y) => x - y);
    for (const i of out) {
      const n = i.n as number;
      const k = keyed.filter((m) => Math.floor(m / 10) === Math.floor(n / 10) && m < n).length;
      assert.equal(i.p, Math.floor(k / 4), `part of item ${n}`);
    }
    for (const i of out) {
      assert.equal(i.a, "Zoë 🍰");
      assert.equal(i.b, (i.n as number) < 20 ? true : undefined);
      assert.equal(i.c, true);
      assert.equal(i.d, true);
    }
    const c = await t.backend.store.counters(run.id, 5);
    assert.deepEqual([c[1].in, c[1].out], [35, 35]);
    assert.deepEqual([c[3].in, c[3].out, c[3].filtered], [35, 34, 1]);
    assert.deepEqual([c[4].in, c[4].out], [34, 34]);
    const calls = Object.fromEntries(executor.calls);
    // Four chunks: bytes for plain stages; parsed items where `when` or sub-batches need them.
    assert.deepEqual([calls.plain.items, calls.plain.json], [0, 4]);
    assert.deepEqual([calls.filtered.items, calls.filtered.json], [2, 0], "two chunks: n < 20");
    assert.equal(calls.batched.json, 0);
    assert.ok(calls.batched.items >= 8, "chunks of ~9 items in batches of 4");
    assert.deepEqual([calls.last.items, calls.last.json], [0, 4]);
    // Transforms always send their items back.
    assert.equal(calls.plain.passed + calls.filtered.sameItems + calls.last.passed, 0);
  } finally {
    await t.dispose();
  }
});

const SINKS_PIPELINE = `
  name: sinks
  source: { plugin: gen-source, with: { count: 40 }, chunk: 10 }
  stages:
    - { id: plain, plugin: tag, with: { field: a, value: "Zoë 🍰" } }
    - { id: export, plugin: mark-sink, with: { mark: marked, reject: [4, 25] } }
    - { id: filtered, plugin: mark-sink, with: { mark: marked }, when: "item.n < 20" }
    - { id: dropping, plugin: mark-sink, with: { mark: dropped, drop: [7] } }
    - { id: last, plugin: tag, with: { field: d } }
  `;

/** Runs {@linkcode SINKS_PIPELINE} and checks what every executor must give. */
async function checkSinksRun(t: Awaited<ReturnType<typeof testEngine>>): Promise<string> {
  const run = await t.start(SINKS_PIPELINE);
  const done = await t.engine.waitForRun(run.id);
  assert.equal(done.state, "succeeded", done.error);
  const out = await runOutput(t.backend, run);
  // A sink's changes to its items in place do not pass on; one returning another array
  // (without n 7) passes on what it returned.
  assert.equal(out.length, 39);
  assert.ok(out.every((i) => i.a === "Zoë 🍰" && i.d === true && i.marked === undefined));
  assert.ok(out.every((i) => i.dropped === true));
  assert.ok(!out.some((i) => i.n === 7));
  // A sink's rejections are kept and counted; the items it rejected still pass on.
  const c = await t.backend.store.counters(run.id, 6);
  assert.deepEqual([c[2].in, c[2].out, c[2].rejected, c[2].filtered], [40, 40, 2, 0]);
  assert.deepEqual([c[3].in, c[3].out, c[3].skipped], [40, 40, 20]);
  assert.deepEqual([c[4].in, c[4].out, c[4].filtered], [40, 39, 1]);
  const rejected = [];
  for await (const r of t.backend.store.readRejected(run.id)) rejected.push(r);
  assert.deepEqual(rejected.map((r) => [r.stage, r.key, r.reason]), [
    [2, "i-4", "n 4 is refused"],
    [2, "i-25", "n 25 is refused"],
  ]);
  return run.id;
}

Deno.test("a sandboxed sink that returns its items does not send them back: its stored input passes on", async () => {
  const executor = new CountingExecutor();
  const t = await testEngine({ executor });
  const raw = async (runId: string, stage: number, chunk: number) =>
    new Uint8Array(
      await new Blob(
        (await t.backend.store.readChunkRaw!(runId, stage, chunk))!.parts as Uint8Array<
          ArrayBuffer
        >[],
      ).arrayBuffer(),
    );
  try {
    const runId = await checkSinksRun(t);
    const calls = Object.fromEntries(executor.calls);
    assert.deepEqual(calls.export, { items: 0, json: 4, passed: 4, sameItems: 0 });
    assert.deepEqual(calls.filtered, { items: 2, json: 0, passed: 0, sameItems: 2 });
    assert.deepEqual(calls.dropping, { items: 0, json: 4, passed: 0, sameItems: 0 });
    // The sink's output is its input's very bytes.
    for (const chunk of [0, 1, 2, 3]) {
      assert.deepEqual(await raw(runId, 2, chunk), await raw(runId, 1, chunk));
    }
  } finally {
    await t.dispose();
  }
});

Deno.test("the in-process executor passes a sink's items on as the sandbox does", async () => {
  const t = await testEngine();
  try {
    await checkSinksRun(t);
  } finally {
    await t.dispose();
  }
});

Deno.test("a sandboxed plugin's error asking for a wait (Retry-After) delays the chunk's retry", async () => {
  const executor = new SandboxExecutor();
  const t = await testEngine({ executor });
  try {
    const run = await t.start(`
  name: wait
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 1, tag: wait, retryAfterMs: 1500 }, retry: { attempts: 3, delay: 5ms } }
  `);
    const started = Date.now();
    const done = await t.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    const att = await t.backend.store.getAttempts(run.id, 1, 0);
    assert.ok(att!.nextAt - started >= 1400, `retried after ${att!.nextAt - started} ms`);
  } finally {
    await t.dispose();
    await executor.close();
  }
});

Deno.test("a plugin's ConfigError in setup fails the run at once, saying to fix the pipeline file, not to retry", async () => {
  const executor = new SandboxExecutor();
  const t = await testEngine({ executor });
  try {
    const run = await t.start(`
  name: config
  source: { plugin: gen-source, with: { count: 30 }, chunk: 10 }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 0, tag: nope, setupError: config }, retry: { attempts: 3, delay: 5ms }, onError: skip }
  `);
    const done = await t.engine.waitForRun(run.id);
    assert.equal(done.state, "failed");
    assert.match(
      done.error!,
      /^stage "f" \(plugin flaky@1\.0\.0\): configuration error: with\.tag "nope" is not a tag this plugin knows\. Fix the stage's with: in the pipeline file \(check it with sluice validate\), then start a new run: a run keeps the pipeline version it started with, so sluice runs retry cannot help$/,
    );
    assert.doesNotMatch(done.error!, /mod\.ts/, "no plugin source location");
    // Whichever chunk reached the stage first failed the run: one attempt, never a second.
    const tries = await Promise.all(
      [0, 1, 2].map(async (c) => (await t.backend.store.getAttempts(run.id, 1, c))?.attempts ?? 0),
    );
    assert.ok(tries.every((n) => n <= 1) && tries.some((n) => n === 1), `not retried: ${tries}`);
    assert.deepEqual(await t.backend.store.listDeadLetters(run.id), [], "nothing to replay");
  } finally {
    await t.dispose();
    await executor.close();
  }
});

Deno.test("a plain error in a plugin's setup (a database not reachable yet) is still retried", async () => {
  const executor = new SandboxExecutor();
  const t = await testEngine({ executor });
  try {
    const run = await t.start(`
  name: transient
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: f, plugin: flaky, with: { failTimes: 0, tag: later, setupError: plain }, retry: { attempts: 3, delay: 5ms } }
  `);
    const done = await t.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    assert.equal((await t.backend.store.getAttempts(run.id, 1, 0))?.attempts, 1);
  } finally {
    await t.dispose();
    await executor.close();
  }
});

Deno.test("a run's stages take their plugin processes while its source reads, not when its first chunk reaches them", async () => {
  const events: string[] = [];
  const executor = new SandboxExecutor({
    onInstance: (e) => e.event === "started" && events.push(`started ${e.stageId}`),
  });
  const te = await testEngine({
    executor,
    telemetry: {
      ...noopEngineHooks,
      chunkCommitted: (ref) => events.push(`committed stage ${ref.stage}`),
    },
  });
  try {
    const run = await te.start(`
name: warm
source: { plugin: gen-source, with: { count: 1 } }
stages:
  - { id: wait, plugin: slow, with: { ms: 3000 } }
  - { id: a, plugin: tag, with: { field: a } }
  - { id: b, plugin: tag, with: { field: b }, memory: 96 }
`);
    const done = await te.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    assert.deepEqual((await runOutput(te.backend, run)).map((i) => [i.key, i.a, i.b]), [
      ["i-0", true, true],
    ]);
    // Stages a and b (two processes: their memory caps differ) were started before the chunk
    // left the 3 s stage; without the warm-up they start only when it reaches them.
    const left = events.indexOf("committed stage 1");
    assert.ok(left > 0, events.join(", "));
    for (const id of ["wait", "a", "b"]) {
      const at = events.indexOf(`started ${id}`);
      assert.ok(at >= 0 && at < left, `${id}: ${events.join(", ")}`);
    }
    assert.equal(events.filter((e) => e.startsWith("started")).length, 4, "one process each");
  } finally {
    await te.dispose();
  }
});

Deno.test("a stage's nice: reaches its plugin process, which runs at that niceness", async () => {
  const executor = new SandboxExecutor();
  const te = await testEngine({ executor });
  try {
    const run = await te.start(`
name: niced
source: { plugin: gen-source, with: { count: 3 } }
stages:
  - { id: a, plugin: tag, with: { field: a } }
  - { id: b, plugin: tag, with: { field: b }, nice: 13 }
`);
    const done = await te.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    assert.equal(run.stages.find((s) => s.id === "b")?.nice, 13, "the run's snapshot keeps it");
    assert.equal(run.stages.find((s) => s.id === "a")?.nice, undefined);
    // The run's processes stay for the next run: the source's, a's and b's (own: its niceness).
    const byPid = executor.pids().map((pid) => new Set(threadNiceness(pid).values()));
    assert.equal(byPid.length, 3);
    const host = os.getPriority();
    assert.equal(byPid.filter((s) => s.size === 1 && s.has(13)).length, 1, `${byPid}`);
    assert.equal(byPid.filter((s) => s.size === 1 && s.has(host)).length, 2, `${byPid}`);
  } finally {
    await te.dispose();
  }
});
