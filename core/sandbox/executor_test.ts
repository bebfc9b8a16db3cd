import assert from "node:assert/strict";
import { PluginError } from "../engine/executor.ts";
import { SandboxExecutor, type SandboxLogRecord, type SandboxMetricRecord } from "./executor.ts";
import { isGone, loadTestPlugin, makeSpec } from "./testdata/support.ts";

type Line = { level: string; msg: string; data?: unknown };

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
    const small = await stage.process([{ key: "after" }], ctx(3));
    assert.deepEqual(small.items, [{ key: "after", seen: true, tag: null }]);
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
    for (const pid of pids) assert.ok(await isGone(pid as number), `pid ${pid} is gone`);
    await executor.close();
  });
});

Deno.test("sandbox: a plugin error is retryable and keeps the instance", async () => {
  await withTemp(async (tmp) => {
    const executor = new SandboxExecutor();
    const stage = await executor.open(makeSpec(await loadTestPlugin("echo"), `${tmp}/data`));
    const before = await stage.process([{ key: "p", op: "pid" }], ctx());
    const err = await rejectsWith(
      stage.process([{ key: "x", op: "throw" }], ctx()),
      /^stage "stage-a" \(plugin test-echo@1\.0\.0\) failed: bad item x$/,
      true,
    );
    assert.match(String((err.cause as { remoteStack?: string }).remoteStack), /mod\.ts/);
    const after = await stage.process([{ key: "p", op: "pid" }], ctx());
    assert.equal(after.items[0].pid, before.items[0].pid);
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
