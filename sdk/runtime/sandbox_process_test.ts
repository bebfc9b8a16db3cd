import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Item } from "../types.ts";
import { SandboxError } from "./sandbox_error.ts";
import {
  type SandboxLogEntry,
  SandboxProcess,
  type StartSandboxOptions,
} from "./sandbox_process.ts";
import { CUT_MARK } from "./protocol.ts";
import { rawItemBytesOf, rawItemsOf } from "../raw_items.ts";
import { pluginOrigin } from "./sandbox_args.ts";
import { SharedSlots } from "../net/limiter.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PLUGIN_DIR = fileURLToPath(new URL("./testdata/noisy", import.meta.url));
const HOST_CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));
const SECRET = 'pa"ss\\word-123';

/** Starts the noisy test plugin in a real sandbox; the caller closes it. */
async function start(dataDir: string, opts: Partial<StartSandboxOptions> = {}) {
  const logs: SandboxLogEntry[] = [];
  const proc = await SandboxProcess.start({
    pluginDir: PLUGIN_DIR,
    entry: "mod.ts",
    permissions: {},
    memoryMb: 64,
    hostConfig: HOST_CONFIG,
    init: {
      config: {},
      secrets: { TOKEN: SECRET },
      inputs: {},
      run: { id: "test-run", stage: "noisy" },
      dataDir,
    },
    onLog: (e) => logs.push(e),
    ...opts,
  });
  return { proc, logs };
}

async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_sandbox_process_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const call = (op: string, bytes = 0): Item[] => [{ key: op, op, bytes }];

Deno.test("sandbox process: a stdout line over the limit kills the process and fails the call, retryable", async () => {
  await withDataDir(async (dir) => {
    const { proc } = await start(dir, { maxLineBytes: 1024 * 1024 });
    try {
      // An answer below the limit goes through.
      const big = await proc.process(call("big", 512 * 1024), 0, { timeoutMs: 30_000 });
      assert.equal((big.items[0].big as string).length, 512 * 1024);
      const err = await proc.process(call("stdout", 8 * 1024 * 1024), 1, { timeoutMs: 30_000 })
        .then(() => undefined, (e) => e);
      assert.ok(err instanceof SandboxError, `expected a SandboxError, got ${err}`);
      assert.equal(err.kind, "protocol");
      assert.equal(err.retryable, true);
      assert.match(err.message, /more than 1 MiB to stdout without a newline/);
      assert.match(err.message, /the instance was killed/);
      await proc.exited;
      assert.equal(proc.alive, false);
    } finally {
      await proc.kill();
    }
  });
});

Deno.test("sandbox process: a long stderr line is cut, and the process keeps serving", async () => {
  await withDataDir(async (dir) => {
    const { proc, logs } = await start(dir, { maxStderrLineBytes: 64 * 1024 });
    try {
      await proc.process(call("stderr", 4 * 1024 * 1024), 0, { timeoutMs: 30_000 });
      const after = await proc.process(call("fine"), 1, { timeoutMs: 30_000 });
      assert.deepEqual(after.items, [{ key: "fine", op: "fine", bytes: 0, ok: true }]);
      for (let i = 0; i < 100 && !logs.some((l) => l.msg === "after the long line"); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const stderr = logs.filter((l) => l.source === "stderr");
      const long = stderr.find((l) => l.msg.startsWith("xxx"));
      assert.ok(long, "the long line was logged");
      assert.ok(long.msg.endsWith(CUT_MARK), "and marked as cut");
      assert.equal(long.msg.length, 64 * 1024 + CUT_MARK.length);
      assert.ok(stderr.some((l) => l.msg === "after the long line"), "later lines still come");
    } finally {
      await proc.close();
    }
  });
});

Deno.test("sandbox process: a log sink that throws kills the process instead of the host", async () => {
  await withDataDir(async (dir) => {
    // Before, the error escaped the stdout reader as an unhandled rejection (the test failed).
    const { proc } = await start(dir, {
      onLog: () => {
        throw new Error("broken sink");
      },
    });
    try {
      const err = await proc.process(call("secret"), 0, { timeoutMs: 30_000 })
        .then(() => undefined, (e) => e);
      assert.ok(err instanceof SandboxError, `expected a SandboxError, got ${err}`);
      assert.equal(err.kind, "protocol");
      assert.match(err.message, /reading the plugin's stdout failed: Error: broken sink/);
      await proc.exited;
    } finally {
      await proc.kill();
    }
  });
});

Deno.test("sandbox process: a secret with quotes and backslashes is masked in messages and data", async () => {
  await withDataDir(async (dir) => {
    const { proc, logs } = await start(dir);
    try {
      await proc.process(call("secret"), 0, { timeoutMs: 30_000 });
      const plugin = logs.filter((l) => l.source === "plugin");
      assert.deepEqual(plugin.map((l) => l.msg), [
        'token [secret] as JSON: {"token":"[secret]"}',
        "structured",
      ]);
      assert.deepEqual(plugin[1].data, {
        token: "[secret]",
        nested: { list: ["Bearer [secret]"] },
      });
      const escaped = JSON.stringify(SECRET).slice(1, -1);
      for (const l of logs) {
        const text = JSON.stringify(l);
        assert.ok(!text.includes(escaped) && !l.msg.includes(SECRET), `leaks: ${text}`);
      }
    } finally {
      await proc.close();
    }
  });
});

Deno.test("sandbox process: the plugin runs at an origin of its own (--location)", async () => {
  await withDataDir(async (dir) => {
    const { proc } = await start(dir);
    try {
      const out = await proc.process(call("location"), 0, { timeoutMs: 30_000 });
      assert.equal(out.items[0].location, pluginOrigin(PLUGIN_DIR));
    } finally {
      await proc.close();
    }
  });
});

Deno.test("sandbox process: a result's items keep the JSON text they came as, and its bytes", async () => {
  await withDataDir(async (dir) => {
    const { proc } = await start(dir);
    try {
      const res = await proc.process([
        { key: "a", op: "x", name: "Zoë ✓ 🍰" },
        { key: "b", op: "big", bytes: 3 },
      ], 1);
      assert.deepEqual(res.items, [
        { key: "a", op: "x", name: "Zoë ✓ 🍰", ok: true },
        { key: "b", op: "big", bytes: 3, big: "yyy" },
      ]);
      assert.equal(rawItemsOf(res), JSON.stringify(res.items));
      const pieces = rawItemBytesOf(res)!;
      assert.deepEqual(
        new Uint8Array(await new Blob(pieces as Uint8Array<ArrayBuffer>[]).arrayBuffer()),
        new TextEncoder().encode(rawItemsOf(res)),
      );
      // The text rides on the result but never into its JSON.
      assert.deepEqual(Object.keys(res), ["items"]);
      assert.equal(JSON.stringify(res), JSON.stringify({ items: res.items }));
    } finally {
      await proc.close();
    }
  });
});

Deno.test("sandbox process: an answer whose items line is broken is a protocol error", async () => {
  await withDataDir(async (dir) => {
    const { proc } = await start(dir);
    try {
      const err = await proc.process(call("forge"), 1, { timeoutMs: 30_000 }).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(err instanceof SandboxError, String(err));
      assert.equal(err.kind, "protocol");
      assert.match(err.message, /broken items line after the answer to call 987654: not an array/);
    } finally {
      await proc.close();
    }
  });
});

/** Items that each hold a slot of `ctx.limits` key `k` (at most `limit` holders) for `ms`. */
const holds = (n: number, k: string, limit: number, ms: number): Item[] =>
  Array.from({ length: n }, (_, i) => ({ key: `h${i}`, op: "hold", k, limit, ms }));

/** Most intervals [from, to) of `items`' `held` that overlap at one instant. */
function mostAtOnce(items: Item[]): number {
  const events = items.flatMap((i) => {
    const [from, to] = i.held as [number, number];
    return [[from, 1], [to, -1]];
  }).sort((a, b) => a[0] - b[0] || a[1] - b[1]); // an end before a start at the same ms
  let now = 0, most = 0;
  for (const [, d] of events) most = Math.max(most, now += d);
  return most;
}

Deno.test("sandbox process: ctx.limits holds across the processes that share the host's slots", async () => {
  await withDataDir(async (dir) => {
    const slots = new SharedSlots();
    const shared = await Promise.all([start(dir, { slots }), start(dir, { slots })]);
    // Without shared slots each process has its own: the control that the check can fail.
    const apart = await Promise.all([start(dir), start(dir)]);
    try {
      const together = async (procs: typeof shared) =>
        (await Promise.all(
          procs.map(({ proc }) =>
            proc.process(holds(4, "ip:192.0.2.1", 2, 60), 0, { timeoutMs: 30_000 })
          ),
        )).flatMap((r) => r.items ?? []);
      const both = await together(shared);
      assert.equal(both.length, 8);
      assert.equal(mostAtOnce(both), 2, "two holders at once in all, never more");
      assert.equal(slots.size, 0, "every slot was given back");
      assert.equal(mostAtOnce(await together(apart)), 4, "two processes of their own: 2 each");
    } finally {
      await Promise.all([...shared, ...apart].map(({ proc }) => proc.close()));
    }
  });
});

Deno.test("sandbox process: slots a dead process held or waited for are given back", async () => {
  await withDataDir(async (dir) => {
    const slots = new SharedSlots();
    const [a, b] = await Promise.all([start(dir, { slots }), start(dir, { slots })]);
    try {
      // a holds the only slot of k for a minute and waits for a second one; b waits behind it.
      const held = a.proc.process(holds(2, "k", 1, 60_000), 0, { timeoutMs: 120_000 }).catch((e) =>
        e
      );
      for (let i = 0; i < 200 && slots.active("k") === 0; i++) await delay(20);
      assert.equal(slots.active("k"), 1);
      const waiting = b.proc.process(holds(1, "k", 1, 10), 0, { timeoutMs: 30_000 });
      await delay(200);
      await a.proc.kill();
      assert.ok((await held) instanceof SandboxError);
      const done = await waiting;
      assert.equal(done.items?.length, 1, "b got the slot once a was gone");
      assert.equal(slots.size, 0, "a's held slot and its waiting request are both gone");
    } finally {
      await Promise.all([a.proc.close(), b.proc.close()]);
    }
  });
});

Deno.test("sandbox process: a slot request with a bad key is a protocol error", async () => {
  await withDataDir(async (dir) => {
    const { proc } = await start(dir);
    try {
      const err = await proc.process(call("forge-acquire"), 1, { timeoutMs: 30_000 }).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(err instanceof SandboxError, String(err));
      assert.equal(err.kind, "protocol");
      assert.match(
        err.message,
        /asked for a shared slot wrongly: .*key must be a string of 1 to 256/,
      );
    } finally {
      await proc.close();
    }
  });
});

Deno.test("sandbox process: a niceness the system refuses leaves the process at the host's, with a warning", async () => {
  await withDataDir(async (dir) => {
    // 40 is out of range (refused before the system is asked): the path a system's refusal
    // takes too (an unprivileged host asking for less than it has), which root cannot provoke.
    const { proc, logs } = await start(dir, { nice: 40 });
    try {
      const warn = logs.find((e) => e.source === "host");
      assert.ok(warn, JSON.stringify(logs));
      assert.equal(warn.level, "warn");
      assert.equal(warn.pid, proc.pid);
      assert.match(warn.msg, /runs at the host's CPU priority: the system refused .*nice: 40/);
      const res = await proc.process(call("location"), 0, { timeoutMs: 30_000 });
      assert.equal(res.items.length, 1, "the process serves as usual");
    } finally {
      await proc.close();
    }
  });
});
