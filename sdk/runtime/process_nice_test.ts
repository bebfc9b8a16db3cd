import assert from "node:assert/strict";
import { setProcessNice, threadNiceness } from "./process_nice.ts";

Deno.test("setProcessNice: every thread of a running deno process, and the threads it starts later", async () => {
  // A deno child that has started its runtime threads, then starts a Worker (more threads) on cue.
  const script = [
    "const buf = new Uint8Array(1);",
    "console.log('ready');",
    "await Deno.stdin.read(buf);",
    "const w = new Worker('data:text/javascript,postMessage(1)', { type: 'module' });",
    "await new Promise((r) => w.onmessage = r);",
    "console.log('worker');",
    "await Deno.stdin.read(buf);",
    "w.terminate();",
  ].join("\n");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const writer = child.stdin.getWriter();
  try {
    assert.match((await lines.read()).value ?? "", /ready/);
    const before = threadNiceness(child.pid);
    assert.ok(before.size > 1, `a deno process has several threads: ${before.size}`);
    assert.deepEqual(new Set(before.values()), new Set([0]));

    assert.equal(setProcessNice(child.pid, 7), undefined);
    const after = threadNiceness(child.pid);
    assert.deepEqual(new Set(after.values()), new Set([7]), JSON.stringify([...after]));

    await writer.write(new Uint8Array([10]));
    assert.match((await lines.read()).value ?? "", /worker/);
    const later = threadNiceness(child.pid);
    assert.ok(later.size > after.size, `the worker's threads: ${after.size} -> ${later.size}`);
    assert.deepEqual(new Set(later.values()), new Set([7]), JSON.stringify([...later]));
  } finally {
    await writer.write(new Uint8Array([10])).catch(() => {});
    await writer.close().catch(() => {});
    await lines.cancel();
    try {
      child.kill();
    } catch { /* exited */ }
    await child.status;
  }
});

Deno.test("setProcessNice: a process that is gone gives the system's reason", () => {
  const reason = setProcessNice(2 ** 22 + 12345, 5);
  assert.equal(typeof reason, "string");
  assert.ok(reason!.length > 0);
});
