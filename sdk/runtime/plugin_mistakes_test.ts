/**
 * What a plugin author sees when a plugin gets something wrong, in the real sandbox: a result
 * that is not JSON, a malformed result, a source that would never end, a throw, a refused
 * permission, an import from outside the plugin folder. Each fails its call at once with a
 * message that says what was wrong, where, and what to return instead.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { Item, Json } from "../types.ts";
import { SandboxError } from "./sandbox_error.ts";
import { SandboxProcess } from "./sandbox_process.ts";
import type { SandboxPermissions } from "./sandbox_args.ts";

const PLUGIN_DIR = fileURLToPath(new URL("./testdata/mistakes", import.meta.url));
const HOST_CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));
/** Long enough that a call failing by its timeout would stand out. */
const TIMEOUT_MS = 20_000;

async function withPlugin(
  fn: (proc: SandboxProcess) => Promise<void>,
  pluginDir = PLUGIN_DIR,
  permissions: SandboxPermissions = {},
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "sluice_mistakes_" });
  let proc: SandboxProcess | undefined;
  try {
    proc = await SandboxProcess.start({
      pluginDir,
      entry: "mod.ts",
      permissions,
      memoryMb: 128,
      hostConfig: HOST_CONFIG,
      init: {
        config: {},
        secrets: {},
        inputs: {},
        run: { id: "test-run", stage: "mistakes" },
        dataDir,
      },
    });
    await fn(proc);
  } finally {
    await proc?.kill();
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** The error `call` fails with, and how long it took. */
async function failure(call: Promise<unknown>): Promise<{ err: SandboxError; ms: number }> {
  const t0 = performance.now();
  const err = await call.then(() => undefined, (e) => e);
  assert.ok(err instanceof SandboxError, `expected a SandboxError, got ${err}`);
  return { err, ms: performance.now() - t0 };
}

const op = (name: string): Item[] => [{ key: "k1", op: name }, { key: "k2" }];

Deno.test("plugin mistakes: a result that is not JSON fails the call at once, naming the field", async () => {
  await withPlugin(async (proc) => {
    const big = await failure(proc.process(op("bigint"), 0, { timeoutMs: TIMEOUT_MS }));
    assert.equal(big.err.kind, "plugin");
    assert.ok(big.ms < 5_000, `failed after ${big.ms} ms: it waited for the timeout`);
    assert.match(big.err.message, /process\(\) returned a value that cannot be sent as JSON/);
    assert.match(big.err.message, /at items\[0\]\.n .*BigInt/);
    const circular = await failure(proc.process(op("circular"), 1, { timeoutMs: TIMEOUT_MS }));
    assert.match(circular.err.message, /at items\[0\]\.self \(a circular reference\)/);
    const cursor = await failure(
      proc.read({ op: "bigint" }, 10, 2, { timeoutMs: TIMEOUT_MS }),
    );
    assert.match(cursor.err.message, /read\(\) returned a value .* at cursor\.n/);
    // The process is unharmed and serves the next call.
    assert.ok(proc.alive);
    const ok = await proc.process([{ key: "fine" }], 3, { timeoutMs: TIMEOUT_MS });
    assert.deepEqual(ok.items, [{ key: "fine" }]);
  });
});

Deno.test("plugin mistakes: a malformed process() result is refused with what to return", async () => {
  await withPlugin(async (proc) => {
    const str = await failure(proc.process(op("string"), 0, { timeoutMs: TIMEOUT_MS }));
    assert.match(str.err.message, /process\(\) returned a string \(hello\); return an array/);
    const rej = await failure(proc.process(op("rejected-string"), 1, { timeoutMs: TIMEOUT_MS }));
    assert.match(rej.err.message, /returned `rejected` as a string \(nope\); it must be an array/);
    const noReason = await failure(
      proc.process(op("rejected-no-reason"), 2, { timeoutMs: TIMEOUT_MS }),
    );
    assert.match(
      noReason.err.message,
      /rejected\[0\] \(an object \{"key":"k1"\}\) without a reason/,
    );
  });
});

Deno.test("plugin mistakes: a source result that would read for ever is refused", async () => {
  await withPlugin(async (proc) => {
    const read = (cursor: Json, chunk: number) =>
      failure(proc.read(cursor, 10, chunk, { timeoutMs: TIMEOUT_MS }));
    assert.match(
      (await read({ op: "no-done" }, 0)).err.message,
      /read\(\) returned done: undefined; it must be true .* or false/,
    );
    assert.match(
      (await read({ op: "array" }, 1)).err.message,
      /read\(\) returned an array of 1; return \{ items: \[\.\.\.\]/,
    );
    assert.match(
      (await read({ op: "same-cursor" }, 2)).err.message,
      /done: false with the cursor it was given .*: the next read would start at the same place/,
    );
    const ok = await proc.read(null, 10, 3, { timeoutMs: TIMEOUT_MS });
    assert.deepEqual(ok, { items: [{ key: "ok" }], cursor: { n: 1 }, done: true });
  });
});

Deno.test("plugin mistakes: a throw and a refused permission say where in the plugin, without Deno's flag advice", async () => {
  await withPlugin(async (proc) => {
    const thrown = await failure(proc.process(op("throw"), 0, { timeoutMs: TIMEOUT_MS }));
    assert.equal(thrown.err.kind, "plugin");
    assert.match(thrown.err.message, /^the API said no \(at mod\.ts:\d+:\d+\)$/);
    const net = await failure(proc.process(op("net"), 1, { timeoutMs: TIMEOUT_MS }));
    assert.equal(net.err.kind, "permission");
    assert.match(net.err.message, /Requires net access to "127\.0\.0\.1:18999"/);
    assert.doesNotMatch(net.err.message, /run again with/);
    assert.match(net.err.message, /\(at mod\.ts:\d+:\d+\)$/);
  });
});

Deno.test("plugin mistakes: an import from outside the plugin folder is a load error saying so", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_outside_import_" });
  try {
    await Deno.mkdir(`${tmp}/plugin`);
    await Deno.mkdir(`${tmp}/shared`);
    await Deno.writeTextFile(`${tmp}/shared/helper.ts`, "export const shout = (s: string) => s;\n");
    await Deno.writeTextFile(
      `${tmp}/plugin/mod.ts`,
      'import { definePlugin } from "@sluice/sdk";\nimport { shout } from "../shared/helper.ts";\n' +
        "export default definePlugin({ process: (items) => items.map((i) => ({ ...i, v: shout(i.key) })) });\n",
    );
    const { err } = await failure(withPlugin(() => Promise.resolve(), `${tmp}/plugin`));
    assert.equal(err.kind, "load");
    assert.equal(err.retryable, false);
    assert.match(err.message, /it imports .*shared\/helper\.ts, outside the plugin folder/);
    assert.match(err.message, /move or copy the file into the plugin folder/);
    assert.doesNotMatch(err.message, /run again with/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("plugin mistakes: a call that never ends says which call and what to change", async () => {
  await withPlugin(async (proc) => {
    const { err } = await failure(proc.process(op("hang"), 0, { timeoutMs: 500 }));
    assert.equal(err.kind, "timeout");
    assert.match(
      err.message,
      /^process\(\) timed out after 500 ms \(the stage's `timeout:` was hit\); the instance was killed\./,
    );
    assert.match(err.message, /Raise the stage's `timeout:`/);
    assert.match(err.message, /a promise that never settles/);
  });
});

Deno.test("plugin mistakes: a network stage's timeout names a slow remote service, not the plugin's code", async () => {
  await withPlugin(
    async (proc) => {
      const { err } = await failure(proc.process(op("hang"), 0, { timeoutMs: 500 }));
      assert.equal(err.kind, "timeout");
      assert.match(
        err.message,
        /^process\(\) timed out after 500 ms \(the stage's `timeout:` was hit\)/,
      );
      assert.match(err.message, /a slow or hung remote server is the usual cause/);
      assert.match(
        err.message,
        /raise the stage's `timeout:` in the pipeline file \(e\.g\. `timeout: 2m`\)/,
      );
      assert.doesNotMatch(err.message, /a promise that never settles/);
    },
    PLUGIN_DIR,
    { net: ["127.0.0.1"] },
  );
});

Deno.test("plugin mistakes: ApiClient does not retry a refused permission, nor count it against the service", async () => {
  await withPlugin(async (proc) => {
    const { err, ms } = await failure(proc.process(op("api-net"), 0, { timeoutMs: TIMEOUT_MS }));
    assert.equal(err.kind, "permission");
    assert.ok(ms < 2_500, `took ${ms} ms: the refused call was retried with backoff`);
    assert.match(err.message, /^NotCapable: Requires net access to "127\.0\.0\.1:18999"/);
    // The circuit stays closed: the second call was refused by Deno again, not by the breaker.
    assert.match(err.message, /\/ then NotCapable/);
  });
});

Deno.test("plugin mistakes: an error with a hostile stack fails the call at once, the host responsive", async () => {
  await withPlugin(async (proc) => {
    // The host looks for the plugin's place in the stack the process sends; a stack made to
    // be slow to search (420 KB of "file://") must not hold the host's event loop for long.
    let ticks = 0;
    const timer = setInterval(() => ticks++, 50);
    try {
      const { err, ms } = await failure(
        proc.process([{ key: "k", op: "hostile-stack", n: 60_000 }], 0, { timeoutMs: TIMEOUT_MS }),
      );
      assert.equal(err.kind, "plugin");
      assert.match(err.message, /^boom/);
      assert.ok(ms < 3_000, `failed after ${Math.round(ms)} ms`);
      assert.ok(ticks >= Math.floor(ms / 50) - 10, `${ticks} timer ticks in ${Math.round(ms)} ms`);
    } finally {
      clearInterval(timer);
    }
  });
});
