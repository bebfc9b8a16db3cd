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
