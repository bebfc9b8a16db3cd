/**
 * An interrupted `sluice run` as an operator meets it, with real processes on one data folder:
 * SIGTERM stops it like Ctrl-C (message, exit 143), `runs show` and `runs list` tell a live
 * holder from a gone one, and `runs resume` writes the `--out` the run was started with.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";

/** Collects a stream's text; `waitFor` resolves once it matches (or fails after `ms`). */
function collect(stream: ReadableStream<Uint8Array>) {
  let text = "";
  const ended = (async () => {
    const decoder = new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>;
    for await (const chunk of stream.pipeThrough(decoder)) text += chunk;
  })();
  return {
    text: () => text,
    ended,
    async waitFor(pattern: RegExp, ms = 60_000) {
      const until = Date.now() + ms;
      while (!pattern.test(text)) {
        if (Date.now() > until) throw new Error(`never saw ${pattern}: ${text.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

/** A data folder with `slow.yaml` (four items a second), an input of `items` lines, `sluice`. */
async function setup(items: number) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-interrupt-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_LOG_LEVEL: "warn",
  };
  const sluice = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
      env,
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    });
  const run = async (args: string[]) => {
    const r = await sluice(args).output();
    const dec = new TextDecoder();
    return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
  };
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
  - { id: mark, plugin: set-fields, with: { set: { seen: true } }, rateLimit: { rate: 4, per: 1s } }
`,
  );
  return { dir, input, sluice, run };
}

Deno.test("sluice run: SIGTERM stops it like Ctrl-C; runs resume writes the --out it was started with", async () => {
  const { dir, input, sluice, run } = await setup(12);
  try {
    const a = sluice(["run", "slow.yaml", "--input", input, "--out", "out.csv", "--run-id", "T"])
      .spawn();
    const err = collect(a.stderr);
    void collect(a.stdout).ended;
    await err.waitFor(/run T started/);
    await new Promise((r) => setTimeout(r, 500));
    a.kill("SIGTERM");
    const status = await a.status;
    await err.ended;
    assert.equal(status.code, 143, err.text());
    assert.match(
      err.text(),
      /interrupted \(SIGTERM\); run T is saved: resume it with: sluice runs resume T --out out\.csv\n/,
    );
    await assert.rejects(Deno.stat(join(dir, "out.csv")), Deno.errors.NotFound);

    // The process ended: runs show says the run is interrupted, not running on.
    const show = await run(["runs", "show", "T"]);
    assert.equal(show.code, 0, show.stderr);
    // Its first line words the state as runs list does, not "run T running in …".
    assert.match(show.stdout, /^run T interrupted \(started [\d.]+s ago\)\n/);
    assert.doesNotMatch(show.stdout, /run T running/);
    assert.match(
      show.stdout,
      new RegExp(
        `interrupted: its process, pid ${a.pid} \\("sluice run slow\\.yaml[^\\n]*, is gone; ` +
          "resume it with: sluice runs resume T\n",
      ),
    );

    // Resumed without --out: the file the run was started with is written, and that is said.
    const resumed = await run(["runs", "resume", "T"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /the run's output goes to .*out\.csv \(csv\), as its --out asked/);
    assert.match(resumed.stderr, /run T succeeded/);
    assert.match(resumed.stderr, /wrote 12 items to .*out\.csv/);
    const rows = (await Deno.readTextFile(join(dir, "out.csv"))).trim().split("\n");
    assert.equal(rows.length, 13, "a header and 12 rows");

    // Written once: resuming the finished run again does not write it again unasked.
    await Deno.remove(join(dir, "out.csv"));
    const again = await run(["runs", "resume", "T"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /run T is succeeded; nothing to resume/);
    await assert.rejects(Deno.stat(join(dir, "out.csv")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runs show and runs list tell a live run's process from a killed one's", async () => {
  const { dir, input, sluice, run } = await setup(40);
  try {
    const a = sluice(["run", "slow.yaml", "--input", input, "--run-id", "K", "--quiet"]).spawn();
    const err = collect(a.stderr);
    void collect(a.stdout).ended;
    await err.waitFor(/run K started/);

    const live = await run(["runs", "show", "K"]);
    assert.equal(live.code, 0, live.stderr);
    assert.match(live.stdout, /run K running/);
    assert.match(
      live.stdout,
      new RegExp(`running in process pid ${a.pid} \\("sluice run slow\\.yaml[^\\n]*, alive\n`),
    );
    const liveList = await run(["runs", "list"]);
    assert.match(
      liveList.stdout,
      new RegExp(`^K +running .*\\(process ${a.pid} on .*, alive\\)$`, "m"),
    );

    a.kill("SIGKILL");
    await a.status;
    const gone = await run(["runs", "show", "K"]);
    assert.match(gone.stdout, /^run K interrupted \(started [\d.]+s ago\)\n/);
    assert.match(
      gone.stdout,
      new RegExp(
        `interrupted: its process, pid ${a.pid} [^\\n]*, is gone; ` +
          "resume it with: sluice runs resume K\n",
      ),
    );
    const goneList = await run(["runs", "list", "--json"]);
    const k = JSON.parse(goneList.stdout).find((r: { id: string }) => r.id === "K");
    assert.equal(k.state, "running");
    assert.equal(k.process.pid, a.pid);
    assert.equal(k.process.alive, false);
    const text = await run(["runs", "list"]);
    assert.match(
      text.stdout,
      new RegExp(
        `^K +running .*interrupted: process ${a.pid} is gone; resume with: sluice runs resume K$`,
        "m",
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runs resume of a run killed during its finish prints the summary of the run it finished", async () => {
  const { dir, input, sluice, run } = await setup(3);
  try {
    const installed = await run([
      "plugin",
      "install",
      join(ROOT, "core/cli/testdata/slow-finish"),
      "--yes",
    ]);
    assert.equal(installed.code, 0, installed.stderr);
    await Deno.writeTextFile(
      join(dir, "fin.yaml"),
      `name: fin
source: { plugin: jsonl-source, with: { key: id } }
stages:
  - { id: hold, plugin: slow-finish }
`,
    );
    const a = sluice(["run", "fin.yaml", "--input", input, "--out", "fin.jsonl", "--run-id", "F"])
      .spawn();
    const err = collect(a.stderr);
    void collect(a.stdout).ended;
    await err.waitFor(/finish: holding/);
    a.kill("SIGKILL");
    await a.status;

    const resumed = await run(["runs", "resume", "F"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.doesNotMatch(resumed.stderr, /nothing to resume/);
    assert.match(resumed.stderr, /run F succeeded in/);
    assert.match(resumed.stderr, /file hold: .*done\.txt/);
    assert.match(resumed.stderr, /wrote 3 items to .*fin\.jsonl/);
    assert.equal((await Deno.readTextFile(join(dir, "fin.jsonl"))).trim().split("\n").length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
