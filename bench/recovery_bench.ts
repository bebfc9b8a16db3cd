/**
 * Recovery after SIGKILL: starts `sluice run` on N items, kills it with SIGKILL midway, restarts
 * it, and measures how long the new process takes to commit its first chunk (resume latency)
 * and to finish. Exported for `bench/run.ts`.
 */
import { cliDenoArgs } from "../core/cli/launch.ts";
import { join, ROOT } from "../core/paths.ts";
import { openKvBackend } from "../core/store/kv_backend.ts";

/** Measured figures. */
export interface RecoveryResult {
  items: number;
  killedAfterMs: number;
  resumeMs: number;
  finishMs: number;
}

/** Runs the measurement. */
export async function runRecoveryBench(
  items = 100_000,
  killAfterMs = 2000,
): Promise<RecoveryResult> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-recovery-" });
  try {
    const input = join(dir, "in.jsonl");
    await Deno.writeTextFile(
      input,
      Array.from({ length: items }, (_, i) => JSON.stringify({ id: `i${i}`, n: i })).join("\n") +
        "\n",
    );
    const pipeline = join(dir, "p.yaml");
    await Deno.writeTextFile(
      pipeline,
      `name: recovery
source: { plugin: jsonl-source, with: { key: id }, chunk: 500 }
stages:
  - { id: a, plugin: set-fields, with: { set: { a: 1 } } }
  - { id: b, plugin: set-fields, with: { set: { b: 1 } } }
`,
    );
    const env = {
      SLUICE_DATA_DIR: join(dir, "data"),
      SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
      SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
      SLUICE_LOG_LEVEL: "error",
    };
    const spawn = () =>
      new Deno.Command(Deno.execPath(), {
        args: [
          ...cliDenoArgs(join(ROOT, "core/cli.ts")),
          "run",
          pipeline,
          "--input",
          input,
          "--run-id",
          "rec",
          "--quiet",
        ],
        env,
        stdout: "null",
        stderr: "null",
      }).spawn();
    const first = spawn();
    await new Promise((r) => setTimeout(r, killAfterMs));
    first.kill("SIGKILL");
    await first.status;
    const backend = await openKvBackend(join(dir, "data", "sluice.kv"));
    const doneBefore = async () => (await backend.store.counters("rec", 3))[2].chunksDone;
    const before = await doneBefore();
    const t0 = performance.now();
    const second = spawn();
    let resumeMs = NaN;
    while (true) {
      if ((await doneBefore()) > before) {
        resumeMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await second.status;
    const finishMs = performance.now() - t0;
    backend.close();
    return { items, killedAfterMs: killAfterMs, resumeMs, finishMs };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) console.log(JSON.stringify(await runRecoveryBench()));
