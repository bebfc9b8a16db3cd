/**
 * `sluice runs show` and `sluice runs list` on PostgreSQL, with real processes: they name the
 * process working a run and say it is alive while its heartbeat in the database is fresh; once
 * it was killed they say it is gone and how to go on (`sluice runs resume RUN`), which works.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { startPostgres } from "../../testing/postgres.ts";

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

Deno.test("runs show and runs list on PostgreSQL tell a live run's process from a killed one's", async () => {
  const pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "sluice-liveness-pg-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_LOG_LEVEL: "warn",
    SLUICE_DATABASE_URL: pg.url,
    // Heartbeats every third of it; a process silent for this long is gone.
    SLUICE_STORE_VISIBILITY_TIMEOUT: "2s",
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
    Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `i${i}` })).join("\n") + "\n",
  );
  await Deno.writeTextFile(
    join(dir, "slow.yaml"),
    `name: slow
source: { plugin: jsonl-source, with: { key: id }, chunk: 1 }
stages:
  - { id: mark, plugin: set-fields, with: { set: { seen: true } }, rateLimit: { rate: 4, per: 1s } }
`,
  );
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
      new RegExp(`\\bpid ${a.pid} \\("sluice run slow\\.yaml[^\\n]*, alive\n`),
    );
    const liveList = await run(["runs", "list", "--json"]);
    const lk = JSON.parse(liveList.stdout).find((r: { id: string }) => r.id === "K");
    assert.equal(lk.process.pid, a.pid);
    assert.equal(lk.process.alive, true);
    assert.equal(lk.process.workers, 1);
    assert.equal(lk.resume, undefined);

    a.kill("SIGKILL");
    await a.status;
    // Gone once its heartbeat is older than the visibility timeout (by the database clock).
    let gone = await run(["runs", "show", "K"]);
    for (let i = 0; i < 100 && !/interrupted/.test(gone.stdout); i++) {
      await new Promise((r) => setTimeout(r, 200));
      gone = await run(["runs", "show", "K"]);
    }
    assert.match(
      gone.stdout,
      new RegExp(
        `interrupted: its process, pid ${a.pid} \\("sluice run slow\\.yaml[^\\n]*, is gone; ` +
          "resume it with: sluice runs resume K\n",
      ),
    );
    const goneList = await run(["runs", "list", "--json"]);
    const k = JSON.parse(goneList.stdout).find((r: { id: string }) => r.id === "K");
    assert.equal(k.state, "running");
    assert.equal(k.process.pid, a.pid);
    assert.equal(k.process.alive, false);
    assert.equal(k.process.workers, 0);
    assert.equal(k.resume, "sluice runs resume K");
    const text = await run(["runs", "list"]);
    assert.match(
      text.stdout,
      new RegExp(
        `^K +running .*interrupted: process ${a.pid} is gone; resume with: sluice runs resume K$`,
        "m",
      ),
    );

    // The advice works: resume finishes the run.
    const resumed = await run(["runs", "resume", "K"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /run K succeeded/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await pg.close();
  }
});
