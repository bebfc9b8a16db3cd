/**
 * Crash safety: `sluice run` on 100,000 items as a subprocess, killed with SIGKILL at random
 * points and restarted each time; every item must reach the output exactly once.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";

const ITEMS = 100_000;

async function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const decoder = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
  const reader = stream.pipeThrough(decoder).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += value;
    if (pattern.test(text)) {
      // Keep draining so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
      })();
      return text;
    }
  }
}

Deno.test("sluice run survives SIGKILL at random points and outputs every item exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-crash-" });
  try {
    const input = join(dir, "in.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < ITEMS; i++) lines.push(JSON.stringify({ id: `item-${i}`, n: i }));
    await Deno.writeTextFile(input, lines.join("\n") + "\n");
    const pipeline = join(dir, "crash.yaml");
    await Deno.writeTextFile(
      pipeline,
      `name: crash
source: { plugin: jsonl-source, with: { key: id }, chunk: 500 }
stages:
  - { id: a, plugin: set-fields, with: { set: { a: 1 } } }
  - { id: b, plugin: set-fields, with: { copy: { m: n } } }
`,
    );
    const out = join(dir, "out.jsonl");
    const env = {
      SLUICE_DATA_DIR: join(dir, "data"),
      SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
      SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
      SLUICE_LOG_FORMAT: "json",
      SLUICE_LOG_LEVEL: "warn",
    };
    const cmd = () =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          join(ROOT, "core/cli.ts"),
          "run",
          pipeline,
          "--input",
          input,
          "--out",
          out,
          "--run-id",
          "crash-1",
          "--quiet",
        ],
        env,
        cwd: dir,
        stdout: "null",
        stderr: "piped",
      }).spawn();
    const seed = Date.now() % 100_000;
    let rnd = seed;
    const random = () => (rnd = (rnd * 48271) % 2147483647) / 2147483647;
    const kills: number[] = [];
    for (let k = 0; k < 4; k++) {
      const child = cmd();
      await waitForLine(child.stderr, /run crash-1 (started|resuming)|resuming run crash-1/);
      const delay = Math.round(200 + random() * 1500);
      kills.push(delay);
      await new Promise((r) => setTimeout(r, delay));
      try {
        child.kill("SIGKILL");
      } catch {
        // This start already finished the run and exited before its kill point.
      }
      await child.status;
    }
    console.log(`seed ${seed}: killed after ${kills.join(", ")} ms of each start`);
    const last = cmd();
    const text = await new Response(last.stderr).text();
    const status = await last.status;
    assert.equal(status.code, 0, text);
    const outLines = (await Deno.readTextFile(out)).trimEnd().split("\n");
    const keys = new Set<string>();
    for (const l of outLines) {
      const item = JSON.parse(l);
      assert.equal(item.a, 1);
      assert.equal(item.m, item.n);
      keys.add(item.key);
    }
    assert.equal(outLines.length, ITEMS, "no duplicates, nothing lost");
    assert.equal(keys.size, ITEMS);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
