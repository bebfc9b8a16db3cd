/**
 * Sluice processes on one data folder (the embedded KV store, whose queue delivers a message to
 * any process listening on the file): a second `sluice run` leaves the run a live first one is
 * running alone (it hands that run's messages back), `runs resume` refuses it while that process
 * lives, and takes it at once after the process was killed; a `sluice run` never takes up
 * another interrupted run, a server does.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";

const ITEMS = 40;

async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<string> {
  const decoder = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
  const reader = stream.pipeThrough(decoder).getReader();
  let text = "";
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the process ended before ${pattern}: ${text}`);
    text += value;
  }
  // Keep draining so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
  })();
  return pattern.exec(text)![0];
}

/**
 * A data folder with `slow.yaml` (four items a second) and an input of `items` lines, and a
 * `sluice` command on it with info logs as JSON.
 */
async function slowSetup(items: number, perSecond = 4) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-claims-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_LOG_FORMAT: "json",
    SLUICE_LOG_LEVEL: "info",
  };
  const sluice = (
    args: string[],
    extra: Record<string, string> = {},
    stdout: "null" | "piped" = "null",
  ) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
      env: { ...env, ...extra },
      cwd: dir,
      stdout,
      stderr: "piped",
    });
  const input = join(dir, "in.jsonl");
  await Deno.writeTextFile(
    input,
    Array.from({ length: items }, (_, i) => JSON.stringify({ id: `i${i}` })).join("\n") + "\n",
  );
  await Deno.writeTextFile(
    join(dir, "slow.yaml"),
    `name: slow
source: { plugin: jsonl-source, with: { key: id }, chunk: 1 }
stages:
  - { id: mark, plugin: set-fields, with: { set: { seen: true } }, rateLimit: { rate: ${perSecond}, per: 1s } }
`,
  );
  return { dir, input, sluice };
}

Deno.test("a second process on the data folder leaves a live run alone; resume takes it once its process is gone", async () => {
  // Two items a second: the run lasts about twenty seconds, long enough for the steps below on a
  // busy machine (a server starting under load took 10 s of a ten-second run).
  const { dir, input, sluice } = await slowSetup(ITEMS, 2);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  const a = sluice(["run", "slow.yaml", "--input", input, "--run-id", "A", "--quiet"]).spawn();
  try {
    await readUntil(a.stderr, /run A started/);

    const b = await sluice([
      "run",
      join(ROOT, "pipelines/hello.yaml"),
      "--input",
      join(ROOT, "pipelines/examples/businesses.csv"),
      "--run-id",
      "B",
    ]).output();
    const bLog = text(b.stderr);
    assert.equal(b.code, 0, bLog);
    // A short command looks only at its own run: no recovery pass over the others.
    assert.doesNotMatch(bLog, /"run":"A"/, "B took up A's run");

    // A server started on the folder leaves it alone too.
    const serve = sluice(["serve"], { SLUICE_SERVER_PORT: "0" }).spawn();
    try {
      const seen = readUntil(
        serve.stderr,
        /"msg":"run (left alone: another process runs it|recovered)","run":"A"[^\n]*/,
      );
      const line = await Promise.race([
        seen,
        new Promise<string>((_, reject) =>
          setTimeout(() => reject(new Error("no word on A")), 30_000)
        ),
      ]);
      assert.match(line, /left alone/, "the server took over A");
    } finally {
      serve.kill("SIGTERM");
      await serve.status;
    }

    const refused = await sluice(["runs", "resume", "A"]).output();
    assert.equal(refused.code, 1);
    assert.match(
      text(refused.stderr),
      new RegExp(
        `run A is being run by another Sluice process \\(pid ${a.pid} \\("sluice run slow\\.yaml`,
      ),
    );

    a.kill("SIGKILL");
    await a.status;
    const out = join(dir, "out.jsonl");
    const resumed = await sluice(["runs", "resume", "A", "--out", out]).output();
    assert.equal(resumed.code, 0, text(resumed.stderr));
    const ids = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l).id);
    assert.equal(new Set(ids).size, ITEMS);
    assert.equal(ids.length, ITEMS);
  } finally {
    // A failed step leaves A running: end it first, or the folder is still being written to.
    try {
      a.kill("SIGKILL");
    } catch { /* already ended */ }
    await a.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a server takes over the run of a sluice run killed beside it", async () => {
  const { dir, input, sluice } = await slowSetup(20);
  const spawn = (args: string[], extra: Record<string, string> = {}) => sluice(args, extra).spawn();
  try {
    const serve = spawn(["serve"], { SLUICE_SERVER_PORT: "0" });
    try {
      const log = serve.stderr.pipeThrough(
        new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>,
      ).getReader();
      let text = "";
      const waitFor = async (pattern: RegExp) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the server never logged ${pattern}: ${text.slice(-2000)}`)),
            60_000,
          );
        });
        try {
          while (!pattern.test(text)) {
            const { value, done } = await Promise.race([log.read(), late]);
            if (done) throw new Error(`the server ended before ${pattern}: ${text.slice(-2000)}`);
            text += value;
          }
        } finally {
          clearTimeout(timer);
        }
      };
      await waitFor(/sluice serving on/);
      const run = spawn(["run", "slow.yaml", "--input", input, "--run-id", "K"]);
      await readUntil(run.stderr, /run K started/);
      run.kill("SIGKILL");
      await run.status;
      await waitFor(/"msg":"run taken over: the process that ran it is gone","run":"K"/);
      await waitFor(/"msg":"run succeeded"[^\n]*"run":"K"|"run":"K"[^\n]*"msg":"run succeeded"/);
    } finally {
      serve.kill("SIGTERM");
      await serve.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a sluice run does not take up another interrupted run", async () => {
  const { dir, input, sluice } = await slowSetup(20);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  try {
    const k = sluice(["run", "slow.yaml", "--input", input, "--run-id", "K", "--quiet"]).spawn();
    await readUntil(k.stderr, /run K started/);
    k.kill("SIGKILL");
    await k.status;
    const before = await sluice(["runs", "show", "K", "--json"], {}, "piped").output();
    const counters = (o: Deno.CommandOutput) =>
      JSON.parse(text(o.stdout)).counters.map((c: { chunksDone: number }) => c.chunksDone);

    const b = await sluice([
      "run",
      join(ROOT, "pipelines/hello.yaml"),
      "--input",
      join(ROOT, "pipelines/examples/businesses.csv"),
      "--run-id",
      "B",
    ]).output();
    const bLog = text(b.stderr);
    assert.equal(b.code, 0, bLog);
    assert.doesNotMatch(bLog, /"run":"K"/, "the run of B took up K");

    const after = await sluice(["runs", "show", "K", "--json"], {}, "piped").output();
    // Queued or running, as K left it (killed before or after its first chunk).
    const state = (o: Deno.CommandOutput) => JSON.parse(text(o.stdout)).state;
    assert.equal(state(after), state(before));
    assert.match(state(after), /^(queued|running)$/);
    assert.deepEqual(counters(after), counters(before), "K's chunks were run by B");
    // K stays to take up: its own resume finishes it.
    const resumed = await sluice(["runs", "resume", "K"]).output();
    assert.equal(resumed.code, 0, text(resumed.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
