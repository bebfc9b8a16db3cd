import assert from "node:assert/strict";
import os from "node:os";
import { PluginError } from "../engine/executor.ts";
import { parse as parseYaml } from "yaml";
import {
  DEFAULT_MAX_IDLE,
  SandboxExecutor,
  type SandboxLogRecord,
  type SandboxMetricRecord,
  type SandboxStage,
} from "./executor.ts";
import { isGone, loadTestPlugin, makeSpec } from "./testdata/support.ts";
import { rawItemBytesOf, rawItemsOf } from "../../sdk/raw_items.ts";
import { threadNiceness } from "../../sdk/runtime/process_nice.ts";

type Line = { level: string; msg: string; data?: unknown };
type SandboxStageProcess = SandboxStage["process"];

function ctx(chunk = 1, lines?: Line[], signal = new AbortController().signal) {
  return {
    chunk,
    signal,
    log: lines
      ? (level: string, msg: string, data?: unknown) => lines.push({ level, msg, data })
      : undefined,
  };
}

async function withTemp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_sandbox_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function rejectsWith(p: Promise<unknown>, pattern: RegExp, retryable: boolean) {
  const err = await p.then(() => undefined, (e) => e);
  assert.ok(err instanceof PluginError, `expected PluginError, got ${err}`);
  assert.match(err.message, pattern);
  assert.equal(err.retryable, retryable, err.message);
  return err;
}

Deno.test("sandbox runs a transform, reuses its instance and routes logs and metrics", async () => {
  await withTemp(async (tmp) => {
    const metrics: SandboxMetricRecord[] = [];
    const executor = new SandboxExecutor({ metric: (m) => metrics.push(m) });
    const plugin = await loadTestPlugin("echo");
    const stage = await executor.open(makeSpec(plugin, `${tmp}/data`, { config: { tag: "t1" } }));
    const lines: Line[] = [];
    const out = await stage.process([{ key: "a" }, { key: "b", op: "console" }], ctx(7, lines));
    assert.deepEqual(out.items, [
      { key: "a", seen: true, tag: "t1" },
      { key: "b", op: "console", seen: true, tag: "t1" },
    ]);
    assert.deepEqual(lines, [
      { level: "info", msg: "console line { chunk: 7 }", data: undefined },
      { level: "info", msg: "sdk line", data: { key: "b" } },
      { level: "error", msg: "console error line", data: undefined },
    ]);
    assert.deepEqual(metrics, [
      {
        runId: "run-1",
        stageId: "stage-a",
        plugin: "test-echo",
        kind: "count",
        name: "echoed",
        value: 2,
      },
    ]);
    // ctx.run: the run, the stage, and since the stage spec has them the pipeline and start.
    const spec = makeSpec(plugin, `${tmp}/data`, { pipeline: "weekly", startedAt: 1_700_000 });
    const withRun = await executor.open({ ...spec, runId: "run-2" });
    const seen = await withRun.process([{ key: "r", op: "run" }], ctx());
    assert.deepEqual(seen.items[0].run, {
      id: "run-2",
      stage: "stage-a",
      pipeline: "weekly",
      startedAt: 1_700_000,
    });
    await withRun.close();
    const first = await stage.process([{ key: "p", op: "pid" }], ctx());
    const second = await stage.process([{ key: "p", op: "pid" }], ctx());
    assert.equal(first.items[0].pid, second.items[0].pid, "the warm instance is reused");
    assert.equal(second.items[0].calls, 3, "setup state lives across calls");
    assert.deepEqual(stage.pids(), [first.items[0].pid]);
    await executor.close();
    assert.ok(await isGone(first.items[0].pid as number));
  });
});

Deno.test("sandbox takes a batch as stored JSON bytes, split anywhere, and answers as for items", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(makeSpec(await loadTestPlugin("echo"), `${tmp}/data`));
    const items = [{ key: "é-1", name: "Café “Zoë” 🍰" }, { key: "b", n: 2, note: "line\nbreak" }];
    const bytes = new TextEncoder().encode(JSON.stringify(items));
    // Parts as the store keeps them: here cut inside the four-byte emoji and inside "é".
    const cut = [3, bytes.indexOf(0xf0) + 2, bytes.length - 5];
    const parts = [0, ...cut].map((at, i) => bytes.subarray(at, cut[i] ?? bytes.length));
    assert.equal(parts.reduce((n, p) => n + p.length, 0), bytes.length);
    const out = await stage.processJson!({ parts, count: 2 }, ctx(3));
    assert.deepEqual(out.items, items.map((item) => ({ ...item, seen: true, tag: null })));
    // The answer's items come with the plugin's own JSON text of them, for the store to keep.
    assert.equal(rawItemsOf(out), JSON.stringify(out.items));
    assert.equal(
      rawItemsOf(await stage.process([{ key: "c" }], ctx(6))),
      '[{"key":"c","seen":true,"tag":null}]',
    );
    // Bytes that are not a JSON array fail the call like any broken request would.
    const broken = new TextEncoder().encode('[{"key":"x"}');
    await rejectsWith(
      stage.processJson!({ parts: [broken], count: 1 }, ctx(4)),
      /request is not valid JSON/,
      true,
    );
    const after = await stage.process([{ key: "ok" }], ctx(5));
    assert.deepEqual(after.items, [{ key: "ok", seen: true, tag: null }], "the stage serves");
    await executor.close();
  });
});

Deno.test("sandbox carries batches of several MiB both ways, as items and as bytes", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(makeSpec(await loadTestPlugin("echo"), `${tmp}/data`));
    // ~6 MiB: many pipe reads per request line, and a reply above the child's reused buffer.
    const items = Array.from(
      { length: 3000 },
      (_, i) => ({ key: `k${i}`, text: "é".repeat(1000) }),
    );
    const want = items.map((item) => ({ ...item, seen: true, tag: null }));
    assert.deepEqual((await stage.process(items, ctx(1))).items, want);
    const bytes = new TextEncoder().encode(JSON.stringify(items));
    const out = await stage.processJson!({ parts: [bytes], count: items.length }, ctx(2));
    assert.deepEqual(out.items, want);
    // The answer's bytes, gathered from many pipe reads, are the text's.
    const pieces = rawItemBytesOf(out)!;
    assert.ok(pieces.length > 1, "read in many pieces");
    assert.deepEqual(
      new Uint8Array(await new Blob(pieces as Uint8Array<ArrayBuffer>[]).arrayBuffer()),
      new TextEncoder().encode(rawItemsOf(out)),
    );
    const small = await stage.process([{ key: "after" }], ctx(3));
    assert.deepEqual(small.items, [{ key: "after", seen: true, tag: null }]);
    // Calls made at once: large pieces go to the pipe as they are, small ones joined, in order.
    const cuts = [0, 100, 40_000, 40_010, 2_000_000, bytes.length];
    const parts = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end));
    const tiny = new TextEncoder().encode('[{"key":"z"}]');
    const [a, b, c] = await Promise.all([
      stage.processJson!({ parts, count: items.length }, ctx(4)),
      stage.process([{ key: "mid" }], ctx(5)),
      stage.processJson!({ parts: [tiny], count: 1 }, ctx(6)),
    ]);
    assert.deepEqual(a.items, want);
    assert.deepEqual(b.items, [{ key: "mid", seen: true, tag: null }]);
    assert.deepEqual(c.items, [{ key: "z", seen: true, tag: null }]);
    await executor.close();
  });
});

Deno.test("sandbox turns stray stdout and stderr into log lines without breaking calls", async () => {
  await withTemp(async (tmp) => {
    const logged: SandboxLogRecord[] = [];
    const executor = new SandboxExecutor({ log: (e) => logged.push(e) });
    const stage = await executor.open(makeSpec(await loadTestPlugin("echo"), `${tmp}/data`));
    const out = await stage.process(
      [{ key: "s", op: "stdout" }, { key: "e", op: "stderr" }],
      ctx(4),
    );
    assert.equal(out.items.length, 2);
    const lines: Line[] = [];
    await stage.process([{ key: "s", op: "stdout" }], ctx(5, lines));
    assert.deepEqual(lines, [{ level: "info", msg: "raw stdout text", data: undefined }]);
    await stage.finish({ signal: new AbortController().signal });
    await executor.close();
    const stray = logged.find((l) => l.msg === "raw stdout text");
    assert.ok(stray, "stray stdout line is logged");
    assert.equal(stray.source, "stdout");
    assert.equal(stray.runId, "run-1");
    assert.equal(stray.stageId, "stage-a");
    const stderr = logged.find((l) => l.msg === "raw stderr text");
    assert.equal(stderr?.source, "stderr");
    assert.equal(stderr?.level, "warn");
    assert.equal(logged.filter((l) => l.msg === "raw stdout text").length, 1, "call log took it");
    const finished = logged.find((l) => l.msg === "finished");
    assert.equal(finished?.source, "plugin");
  });
});

Deno.test("sandbox pool keeps at most `concurrency` instances and queues the rest", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(
      makeSpec(await loadTestPlugin("echo"), `${tmp}/data`, { concurrency: 2 }),
    );
    const calls = [1, 2, 3, 4].map((i) =>
      stage.process([{ key: `k${i}`, op: "sleep", ms: 150 }, { key: `p${i}`, op: "pid" }], ctx(i))
    );
    const results = await Promise.all(calls);
    const pids = new Set(results.map((r) => r.items[0].pid));
    assert.equal(pids.size, 2, "four calls shared two instances");
    assert.equal(stage.pids().length, 2);
    await stage.close();
    assert.deepEqual(stage.pids(), []);
    // Closing the run's stage leaves the processes warm for the next run; closing the
    // executor stops them.
    assert.deepEqual(executor.pids().sort(), [...pids].sort());
    await executor.close();
    for (const pid of pids) assert.ok(await isGone(pid as number), `pid ${pid} is gone`);
  });
});

Deno.test("sandbox: a plugin error is retryable and keeps the instance", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(makeSpec(await loadTestPlugin("echo"), `${tmp}/data`));
    const before = await stage.process([{ key: "p", op: "pid" }], ctx());
    const err = await rejectsWith(
      stage.process([{ key: "x", op: "throw" }], ctx()),
      /^stage "stage-a" \(plugin test-echo@1\.0\.0\) failed: bad item x \(at mod\.ts:\d+:\d+\)$/,
      true,
    );
    assert.match(String((err.cause as { remoteStack?: string }).remoteStack), /mod\.ts/);
    const after = await stage.process([{ key: "p", op: "pid" }], ctx());
    assert.equal(after.items[0].pid, before.items[0].pid);
    await executor.close();
  });
});

Deno.test("sandbox: an InputError from the plugin is not retryable", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(makeSpec(await loadTestPlugin("echo"), `${tmp}/data`));
    await rejectsWith(
      stage.process([{ key: "x", op: "input-error" }], ctx()),
      /^stage "stage-a" \(plugin test-echo@1\.0\.0\) failed: unusable input x$/,
      false,
    );
    await executor.close();
  });
});

Deno.test("sandbox watchdog: timeout, exit, out of memory and garbage kill the instance", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const spec = makeSpec(await loadTestPlugin("echo"), `${tmp}/data`, { timeoutMs: 2_000 });
    const stage = await executor.open(spec);
    const seen: number[] = [];
    const cases: [string, RegExp][] = [
      ["spin", /timed out after 2000 ms/],
      ["hang", /timed out after 2000 ms/],
      ["exit", /exited with code 3/],
      ["oom", /out of memory \(heap cap 64 MB\)/],
      ["garbage", /protocol error/],
    ];
    for (const [op, pattern] of cases) {
      const { items } = await stage.process([{ key: "p", op: "pid" }], ctx());
      const pid = items[0].pid as number;
      assert.ok(!seen.includes(pid), `${op}: a fresh instance after the previous kill`);
      seen.push(pid);
      await rejectsWith(stage.process([{ key: op, op }], ctx()), pattern, true);
      assert.ok(!stage.pids().includes(pid), `${op}: the broken instance left the pool`);
    }
    const last = await stage.process([{ key: "ok" }], ctx());
    assert.equal(last.items[0].seen, true, "the stage still serves calls");
    await executor.close();
    for (const pid of seen) assert.ok(await isGone(pid), `pid ${pid} is gone`);
  });
});

Deno.test("sandbox: aborting the call's signal kills its instance", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(makeSpec(await loadTestPlugin("echo"), `${tmp}/data`));
    const { items } = await stage.process([{ key: "p", op: "pid" }], ctx());
    const ac = new AbortController();
    const call = stage.process([{ key: "h", op: "hang" }], ctx(1, undefined, ac.signal));
    setTimeout(() => ac.abort(new Error("run cancelled")), 100);
    await rejectsWith(call, /call aborted: run cancelled/, true);
    await rejectsWith(
      stage.process([{ key: "x" }], ctx(1, undefined, ac.signal)),
      /aborted before it started/,
      true,
    );
    await executor.close();
    assert.ok(await isGone(items[0].pid as number));
  });
});

Deno.test("sandbox: a secret reaches ctx.secrets, not the env, and is masked in logs", async () => {
  await withTemp(async (tmp) => {
    const secret = "tok-9f8e7d6c5b";
    Deno.env.set("SLUICE_TEST_GRANTED_ENV", "visible");
    try {
      const executor = new SandboxExecutor();
      const stage = await executor.open(
        makeSpec(await loadTestPlugin("echo"), `${tmp}/data`, {
          secrets: { TOKEN: secret },
          permissions: { net: [], read: [], write: [], env: ["SLUICE_TEST_GRANTED_ENV"] },
        }),
      );
      const lines: Line[] = [];
      const out = await stage.process([{ key: "s", op: "secret" }], ctx(1, lines));
      assert.equal(out.items[0].secret, secret);
      assert.deepEqual(lines.map((l) => l.msg), ["secret is [secret]"]);
      const [pid] = stage.pids();
      const environ = (await Deno.readTextFile(`/proc/${pid}/environ`)).split("\0").filter(Boolean);
      const names = environ.map((kv) => kv.slice(0, kv.indexOf("="))).sort();
      assert.deepEqual(names.filter((n) => n !== "NPM_CONFIG_REGISTRY"), [
        "DENO_DIR",
        "NO_COLOR",
        "SLUICE_TEST_GRANTED_ENV",
      ]);
      assert.ok(!environ.some((kv) => kv.includes(secret)));
      await executor.close();
    } finally {
      Deno.env.delete("SLUICE_TEST_GRANTED_ENV");
    }
  });
});

Deno.test("sandbox runs a source over the run's input file", async () => {
  await withTemp(async (tmp) => {
    const input = `${tmp}/input.txt`;
    await Deno.writeTextFile(input, "a.com\nb.com\n\nc.com\n");
    const executor = new SandboxExecutor();
    const stage = await executor.open(
      makeSpec(await loadTestPlugin("lines"), `${tmp}/data`, { inputFile: input, stageIndex: 0 }),
    );
    const first = await stage.read(null, 2, ctx(0));
    assert.deepEqual(first, {
      items: [{ key: "a.com" }, { key: "b.com" }],
      cursor: 2,
      done: false,
    });
    const second = await stage.read(first.cursor, 2, ctx(1));
    assert.deepEqual(second, { items: [{ key: "c.com" }], cursor: 3, done: true });
    await executor.close();
  });
});

Deno.test("sandbox: an entry without a default plugin fails clearly and is not retried", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(makeSpec(await loadTestPlugin("bad_entry"), `${tmp}/data`));
    await rejectsWith(
      stage.process([{ key: "a" }], ctx()),
      /^sandbox: stage "stage-a" \(plugin test-bad-entry@1\.0\.0\): could not load .*mod\.ts: .*must `export default definePlugin/,
      false,
    );
    await executor.close();
  });
});

Deno.test("sandbox refuses a write grant outside the data folder when the stage opens", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const spec = makeSpec(await loadTestPlugin("echo"), `${tmp}/data`, {
      permissions: { net: [], read: [], write: ["../elsewhere"], env: [] },
    });
    await rejectsWith(executor.open(spec), /outside the plugin's data folder/, false);
    await executor.close();
  });
});

Deno.test("sandbox: closing a stage fails its running call and leaves no process", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(makeSpec(await loadTestPlugin("echo"), `${tmp}/data`));
    const { items } = await stage.process([{ key: "p", op: "pid" }], ctx());
    const running = stage.process([{ key: "h", op: "hang" }], ctx());
    await new Promise((r) => setTimeout(r, 50));
    await executor.close();
    const err = await rejectsWith(running, /shut down during the call/, true);
    assert.match(err.message, /^sandbox: stage "stage-a"/);
    assert.ok(await isGone(items[0].pid as number));
    assert.deepEqual(stage.pids(), []);
  });
});

/** Waits (bounded) until `pid` has exited. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 500 && !(await isGone(pid)); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  return await isGone(pid);
}

Deno.test("sandbox: runs of one plugin share a warm process, each with its own config, secrets and setup state", async () => {
  await withTemp(async (tmp) => {
    const events: string[] = [];
    const logged: SandboxLogRecord[] = [];
    const executor = new SandboxExecutor({
      onInstance: (e) => events.push(`${e.event} ${e.runId}`),
      log: (e) => logged.push(e),
    });
    const plugin = await loadTestPlugin("echo");
    const data = `${tmp}/data`;
    const secret = "tok-aaaa-1111";
    const a = await executor.open(
      makeSpec(plugin, data, { runId: "run-a", config: { tag: "a" }, secrets: { TOKEN: secret } }),
    );
    const b = await executor.open(
      makeSpec(plugin, data, { runId: "run-b", config: { tag: "b" }, secrets: { TOKEN: secret } }),
    );
    const pidA = (await a.process([{ key: "p", op: "pid" }], ctx())).items[0];
    const pidB = (await b.process([{ key: "p", op: "pid" }], ctx())).items[0];
    assert.equal(pidB.pid, pidA.pid, "run b reuses the process run a started");
    assert.equal(pidA.calls, 1);
    assert.equal(pidB.calls, 1, "run b has its own setup() state");
    assert.deepEqual((await b.process([{ key: "x" }], ctx())).items, [
      { key: "x", seen: true, tag: "b" },
    ]);
    assert.deepEqual((await a.process([{ key: "x" }], ctx())).items, [
      { key: "x", seen: true, tag: "a" },
    ]);
    assert.equal((await a.process([{ key: "p", op: "pid" }], ctx())).items[0].calls, 3);
    // Each run gets the secrets granted to it (runs granted other secrets get another
    // process: see the next test), masked in its log lines.
    const linesA: Line[] = [];
    assert.equal(
      (await a.process([{ key: "s", op: "secret" }], ctx(1, linesA))).items[0].secret,
      secret,
    );
    assert.deepEqual(linesA.map((l) => l.msg), ["secret is [secret]"]);
    // finish() runs on each run's own instance and logs under its run.
    await a.finish({ signal: new AbortController().signal });
    await b.finish({ signal: new AbortController().signal });
    assert.deepEqual(logged.filter((l) => l.msg === "finished").map((l) => l.runId), [
      "run-a",
      "run-b",
    ]);
    // Closing run a leaves run b (and the process) working; a later run reuses it again.
    await a.close();
    assert.equal((await b.process([{ key: "p", op: "pid" }], ctx())).items[0].pid, pidA.pid);
    await b.close();
    assert.deepEqual(executor.pids(), [pidA.pid], "kept warm while no run uses it");
    const c = await executor.open(
      makeSpec(plugin, data, { runId: "run-c", secrets: { TOKEN: secret } }),
    );
    const pidC = (await c.process([{ key: "p", op: "pid" }], ctx())).items[0];
    assert.equal(pidC.pid, pidA.pid);
    assert.equal(pidC.calls, 1, "a new run starts with a fresh instance");
    assert.deepEqual(events, ["started run-a"], "one process for three runs");
    await executor.close();
    assert.ok(await isGone(pidA.pid as number));
  });
});

Deno.test("sandbox: different permissions, memory cap or input file get a different process", async () => {
  await withTemp(async (tmp) => {
    const input = `${tmp}/input.txt`;
    await Deno.writeTextFile(input, "a\n");
    const executor = new SandboxExecutor();
    const plugin = await loadTestPlugin("echo");
    const data = `${tmp}/data`;
    const none = { net: [], read: [], write: [], env: [] };
    const specs = [
      makeSpec(plugin, data, { runId: "r1" }),
      makeSpec(plugin, data, { runId: "r2", permissions: { ...none, net: ["example.com:443"] } }),
      makeSpec(plugin, data, { runId: "r3", permissions: { ...none, read: [input] } }),
      makeSpec(plugin, data, { runId: "r4", inputFile: input }),
      makeSpec(plugin, data, { runId: "r5", memoryMb: 96 }),
      // Same effective permissions written in another order: shares with r2.
      makeSpec(plugin, data, {
        runId: "r6",
        permissions: { ...none, net: ["example.com:443", "example.com:443"] },
      }),
      // Other granted secrets: a process of their own (a plugin's memory holds every run it
      // serves); the same secrets again share it.
      makeSpec(plugin, data, { runId: "r7", secrets: { TOKEN: "tok-one" } }),
      makeSpec(plugin, data, { runId: "r8", secrets: { TOKEN: "tok-two" } }),
      makeSpec(plugin, data, { runId: "r9", secrets: { TOKEN: "tok-one" } }),
    ];
    const pids: number[] = [];
    for (const spec of specs) {
      const stage = await executor.open(spec);
      pids.push((await stage.process([{ key: "p", op: "pid" }], ctx())).items[0].pid as number);
    }
    assert.equal(new Set(pids.slice(0, 5)).size, 5, `five processes: ${pids}`);
    assert.equal(pids[5], pids[1]);
    assert.equal(new Set([...pids.slice(0, 5), pids[6], pids[7]]).size, 7, `secrets: ${pids}`);
    assert.equal(pids[8], pids[6], "the same secrets share a process");
    await executor.close();
  });
});

Deno.test("sandbox: a stage's nice runs its plugin processes at that niceness, in processes of their own", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const plugin = await loadTestPlugin("echo");
    const data = `${tmp}/data`;
    const pidOf = async (nice?: number) => {
      const stage = await executor.open(makeSpec(plugin, data, nice ? { nice } : {}));
      return (await stage.process([{ key: "p", op: "pid" }], ctx())).items[0].pid as number;
    };
    try {
      const plain = await pidOf();
      const low = await pidOf(11);
      const lower = await pidOf(19);
      assert.equal(new Set([plain, low, lower]).size, 3, "one process per niceness");
      assert.equal(await pidOf(11), low, "the same niceness shares its process");
      // A process started without one keeps the host's (this test process's) niceness.
      for (const [pid, nice] of [[plain, os.getPriority()], [low, 11], [lower, 19]]) {
        const threads = threadNiceness(pid);
        assert.ok(threads.size > 1, `pid ${pid}: ${threads.size} thread(s)`);
        assert.deepEqual(new Set(threads.values()), new Set([nice]), `pid ${pid}: ${[...threads]}`);
      }
    } finally {
      await executor.close();
    }
  });
});

Deno.test("sandbox: a crash fails the calls in flight of every run in the process; an abort fails only its own", async () => {
  await withTemp(async (tmp) => {
    const base = await loadTestPlugin("echo");
    // Several calls per process and one shared process, so two runs' calls run side by side.
    const plugin = { ...base, manifest: { ...base.manifest, callsPerInstance: 4 } };
    const executor = new SandboxExecutor({ sharedProcesses: 1 });
    const data = `${tmp}/data`;
    const a = await executor.open(makeSpec(plugin, data, { runId: "run-a", config: { tag: "a" } }));
    const b = await executor.open(makeSpec(plugin, data, { runId: "run-b", config: { tag: "b" } }));
    const first = (await a.process([{ key: "p", op: "pid" }], ctx())).items[0].pid as number;
    assert.equal((await b.process([{ key: "p", op: "pid" }], ctx())).items[0].pid, first);

    // Run a's call makes the process exit while run b's call runs: both fail, retryably.
    const slowB = b.process([{ key: "w", op: "sleep", ms: 2_000 }], ctx());
    await new Promise((r) => setTimeout(r, 100));
    await rejectsWith(a.process([{ key: "e", op: "exit" }], ctx()), /exited with code 3/, true);
    await rejectsWith(slowB, /exited with code 3/, true);
    assert.ok(await gone(first));
    // Both runs go on in a fresh process, each with a fresh instance.
    const pa = (await a.process([{ key: "p", op: "pid" }], ctx())).items[0];
    const pb = (await b.process([{ key: "p", op: "pid" }], ctx())).items[0];
    assert.notEqual(pa.pid, first);
    assert.equal(pb.pid, pa.pid);
    assert.deepEqual([pa.calls, pb.calls], [1, 1]);

    // Aborting run a's call (its run was cancelled) does not fail run b's call in flight; the
    // process takes no new calls and is stopped once run b's call ended.
    const ac = new AbortController();
    const hangA = a.process([{ key: "h", op: "hang" }], ctx(1, undefined, ac.signal));
    const sleepB = b.process([{ key: "w", op: "sleep", ms: 300 }, { key: "p", op: "pid" }], ctx());
    await new Promise((r) => setTimeout(r, 100));
    ac.abort(new Error("run a cancelled"));
    await rejectsWith(hangA, /call aborted: run a cancelled/, true);
    const okB = await sleepB;
    assert.equal(okB.items[0].pid, pa.pid, "run b's call finished in the same process");
    assert.ok(await gone(pa.pid as number), "the process was stopped after run b's call");
    const next = (await b.process([{ key: "p", op: "pid" }], ctx())).items[0];
    assert.notEqual(next.pid, pa.pid);
    await executor.close();
  });
});

Deno.test("sandbox: processes serving no run are closed after idleMs, and at most maxIdle are kept", async () => {
  await withTemp(async (tmp) => {
    const plugin = await loadTestPlugin("echo");
    const data = `${tmp}/data`;
    const pidOf = async (stage: { process: SandboxStageProcess }) =>
      (await stage.process([{ key: "p", op: "pid" }], ctx())).items[0].pid as number;

    const quick = new SandboxExecutor({ idleMs: 50 });
    const s1 = await quick.open(makeSpec(plugin, data, { runId: "r1" }));
    const p1 = await pidOf(s1);
    await s1.close();
    assert.ok(await gone(p1), "closed after idleMs");
    await quick.close();

    const bounded = new SandboxExecutor({ idleMs: 60_000, maxIdle: 1 });
    const none = { net: [], read: [], write: [], env: [] };
    const x = await bounded.open(makeSpec(plugin, data, { runId: "x" }));
    const y = await bounded.open(
      makeSpec(plugin, data, { runId: "y", permissions: { ...none, net: ["example.com:443"] } }),
    );
    const [px, py] = [await pidOf(x), await pidOf(y)];
    await x.close();
    await y.close();
    assert.ok(await gone(px), "the oldest idle process made room");
    assert.ok(!(await isGone(py)), "the newest idle process is kept");
    assert.deepEqual(bounded.pids(), [py]);
    await bounded.close();
    assert.ok(await isGone(py));
  });
});

Deno.test("sandbox: by default every process of the flagship pipeline is kept for the next run", async () => {
  // What the flagship pipeline has alive at most: each stage's ceil(concurrency /
  // callsPerInstance) processes, and the source's warm process that checks uploads.
  const root = new URL("../../", import.meta.url);
  const pipeline = parseYaml(
    await Deno.readTextFile(new URL("pipelines/no-website-leads.yaml", root)),
  ) as { stages: { plugin: string; concurrency?: number }[] };
  let flagship = 1;
  for (const st of pipeline.stages) {
    const name = st.plugin.split("@")[0];
    const manifest = JSON.parse(
      await Deno.readTextFile(new URL(`plugins/${name}/plugin.json`, root)),
    ) as { callsPerInstance?: number };
    flagship += Math.ceil((st.concurrency ?? 1) / (manifest.callsPerInstance ?? 1));
  }
  assert.ok(flagship >= 12, `the count is the pipeline's (${flagship})`);
  assert.ok(flagship <= DEFAULT_MAX_IDLE, `${flagship} processes, ${DEFAULT_MAX_IDLE} kept`);

  await withTemp(async (tmp) => {
    const plugin = await loadTestPlugin("echo");
    const data = `${tmp}/data`;
    const executor = new SandboxExecutor({ idleMs: 60_000 });
    // One process per stage (each stage's permissions differ, so none shares another's).
    const runOnce = async (runId: string) => {
      const stages = await Promise.all(
        Array.from({ length: flagship }, (_, i) =>
          executor.open(makeSpec(plugin, data, {
            runId,
            stageIndex: i,
            permissions: { net: [`host${i}.example:443`], read: [], write: [], env: [] },
          }))),
      );
      const pids = [];
      for (const st of stages) {
        pids.push((await st.process([{ key: "p", op: "pid" }], ctx())).items[0].pid as number);
      }
      await Promise.all(stages.map((st) => st.close()));
      return pids;
    };
    try {
      const first = await runOnce("r1");
      assert.equal(new Set(first).size, flagship);
      assert.deepEqual(await runOnce("r2"), first, "the next run starts no process");
    } finally {
      await executor.close();
    }
  });
});

Deno.test("sandbox: the preflight's warm process outlasts the others over maxIdle; a run's input-file process does not push it out", async () => {
  await withTemp(async (tmp) => {
    const input = `${tmp}/input.txt`;
    await Deno.writeTextFile(input, "a\n");
    const plugin = await loadTestPlugin("lines");
    const data = `${tmp}/data`;
    const executor = new SandboxExecutor({ idleMs: 60_000, maxIdle: 1 });
    const pidOf = (stage: { pids(): number[] }) => stage.pids()[0];
    // The warm process an upload's preflight reads with (the text inline, no file of its own).
    const warm = await executor.open(makeSpec(plugin, data, {
      runId: "preflight",
      stageIndex: 0,
      inputFile: `${tmp}/uploads/preflight.csv`,
      inputText: "x\n",
    }));
    await warm.read(null, 10, ctx(0));
    const pw = pidOf(warm);
    await warm.close();
    // The run then reads the stored file: a process whose permissions name that file.
    const run = await executor.open(
      makeSpec(plugin, data, { runId: "run", stageIndex: 0, inputFile: input }),
    );
    assert.deepEqual((await run.read(null, 10, ctx(0))).items.map((i) => i.key), ["a"]);
    const pr = pidOf(run);
    assert.notEqual(pr, pw);
    await run.close();
    assert.ok(await gone(pr), "the input file's process is closed at once");
    assert.ok(!(await isGone(pw)), "the warm process is kept");
    assert.deepEqual(executor.pids(), [pw]);
    // Over maxIdle, a process without an inbox goes first, even the newest (another stage of the
    // run, going idle after the preflight's process).
    const echo = await loadTestPlugin("echo");
    const stage = await executor.open(makeSpec(echo, data, { runId: "run", stageIndex: 1 }));
    const pe = (await stage.process([{ key: "p", op: "pid" }], ctx())).items[0].pid as number;
    await stage.close();
    assert.ok(await gone(pe), "the stage's process made room");
    assert.deepEqual(executor.pids(), [pw], "the preflight's process is kept");
    // The next preflight is served by it.
    const again = await executor.open(makeSpec(plugin, data, {
      runId: "preflight-2",
      stageIndex: 0,
      inputFile: `${tmp}/uploads/preflight-2.csv`,
      inputText: "y\n",
    }));
    assert.deepEqual((await again.read(null, 10, ctx(0))).items.map((i) => i.key), ["y"]);
    assert.equal(pidOf(again), pw);
    await executor.close();
  });
});

Deno.test("sandbox: sources of runs whose input the record holds share a process; each reads only its own input", async () => {
  await withTemp(async (tmp) => {
    const events: string[] = [];
    const executor = new SandboxExecutor({ onInstance: (e) => events.push(e.event) });
    const plugin = await loadTestPlugin("lines");
    const data = `${tmp}/data`;
    const other = `${tmp}/other.txt`;
    await Deno.writeTextFile(other, "not yours\n");
    const source = (
      runId: string,
      text: string,
      config: Record<string, unknown> = {},
      inputName?: string,
    ) =>
      executor.open(makeSpec(plugin, data, {
        runId,
        stageIndex: 0,
        inputFile: `${tmp}/webhooks/${runId}.jsonl`, // never written: the text goes to the inbox
        inputText: text,
        inputName,
        config,
      }));
    // An inbox left by a server that was killed (its pid is gone) is removed.
    const probe = await Deno.makeTempDir();
    await Deno.remove(probe);
    const stale = `${probe.slice(0, probe.lastIndexOf("/"))}/sluice-inbox-999999999-stale`;
    await Deno.mkdir(`${stale}/p-old`, { recursive: true });
    await Deno.writeTextFile(`${stale}/p-old/old.jsonl`, "{}\n");
    const a = await source("r1", "a\nb\n", { showPath: true }, "businesses.jsonl");
    const b = await source("r2", "c\n", { peek: other, showPath: true });
    const ra = await a.read(null, 10, ctx(0));
    const rb = await b.read(null, 10, ctx(0));
    // Without a name of its own, the input is named as the stored file (the run's id), not by
    // the inbox path, a temporary folder of the process that means nothing to the user.
    const pb = rb.items.find((i) => i.key === "path")!;
    assert.equal(pb.name, "r2.jsonl");
    rb.items = rb.items.filter((i) => i.key !== "path");
    const path = ra.items.find((i) => i.key === "path")!.path as string;
    assert.deepEqual(ra.items.filter((i) => i.key !== "path").map((i) => i.key), ["a", "b"]);
    assert.ok(path.endsWith("/r1.jsonl"), path);
    // The upload's own name reaches the plugin of its run (ctx.inputName), for its messages.
    assert.equal(ra.items.find((i) => i.key === "path")!.name, "businesses.jsonl");
    assert.deepEqual(rb.items, [{ key: "c" }, { key: "peek", readable: false }]);
    assert.deepEqual(a.pids(), b.pids(), "one process for both runs");
    assert.ok(!(await Deno.stat(stale).catch(() => undefined)), "the stale inbox is gone");
    assert.deepEqual(events, ["started"]);
    // A closed run's input leaves the inbox: a later run in the same process cannot read it.
    await a.close();
    const c = await source("r3", "d\n", { peek: path });
    assert.deepEqual((await c.read(null, 10, ctx(0))).items, [
      { key: "d" },
      { key: "peek", readable: false },
    ]);
    assert.deepEqual(c.pids(), b.pids());
    await executor.close();
    assert.ok(!(await Deno.stat(path).catch(() => undefined)), "the inbox is removed");
  });
});

Deno.test("sandbox: ctx.limits holds across a plugin's processes, of one stage and of other runs", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const plugin = await loadTestPlugin("echo");
    const data = `${tmp}/data`;
    // Two processes for one stage, and a run whose other secrets give it a process of its own.
    const one = await executor.open(makeSpec(plugin, data, { runId: "r1", concurrency: 2 }));
    const other = await executor.open(
      makeSpec(plugin, data, { runId: "r2", secrets: { TOKEN: "other" } }),
    );
    const hold = (i: number) => [{ key: `h${i}`, op: "hold", k: "ip:192.0.2.7", limit: 1, ms: 80 }];
    const results = await Promise.all([
      one.process(hold(1), ctx(1)),
      one.process(hold(2), ctx(2)),
      other.process(hold(3), ctx(3)),
    ]);
    const items = results.map((r) => r.items[0]);
    assert.equal(new Set(items.map((i) => i.pid)).size, 3, "three processes");
    const spans = items.map((i) => i.held as [number, number]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) {
      assert.ok(spans[i][0] >= spans[i - 1][1], `one holder at a time: ${JSON.stringify(spans)}`);
    }
    await executor.close();
  });
});

Deno.test("sandbox: a stage warmed before its first call starts one process, also when the call comes during the warm-up", async () => {
  await withTemp(async (tmp) => {
    const started: string[] = [];
    const executor = new SandboxExecutor({
      onInstance: (e) => e.event === "started" && started.push(e.runId),
    });
    try {
      const plugin = await loadTestPlugin("echo");
      // Two processes allowed: a call that did not wait for the warm-up would start a second.
      const spec = makeSpec(plugin, `${tmp}/data`, { runId: "w1", concurrency: 2 });
      const stage = await executor.open(spec);
      const warming = stage.warm();
      const out = await stage.process([{ key: "a", op: "pid" }], ctx());
      await warming;
      assert.deepEqual(started, ["w1"]);
      assert.deepEqual(stage.pids(), [out.items[0].pid]);
      // Warm once it holds a process: nothing to do.
      await stage.warm();
      assert.deepEqual(started, ["w1"]);
      await stage.close();
      // The next run's stage takes the idle process.
      const next = await executor.open({ ...spec, runId: "w2" });
      await next.warm();
      assert.deepEqual(next.pids(), [out.items[0].pid]);
      assert.deepEqual(started, ["w1"]);
      await next.close();
    } finally {
      await executor.close();
    }
  });
});
