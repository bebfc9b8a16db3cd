/**
 * TEST-ONLY helpers for trigger tests: a temp folder with a real KV file, the real engine with
 * the in-process executor, a plugin registry, a pipeline catalog and trigger stores (each on
 * its own KV handle of the same file, as separate processes would have).
 * @module
 */
import { Engine } from "../engine/engine.ts";
import { FAST } from "../engine/test_helpers.ts";
import { InProcessExecutor } from "../engine/in_process_executor.ts";
import { join, ROOT } from "../paths.ts";
import { openRegistry, type Registry } from "../plugins/registry.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import { openKv } from "../../sdk/io/kv_locks.ts";
import type { Backend, RunRecord } from "../store/store.ts";
import { ManualClock } from "./clock.ts";
import { KvTriggerStore } from "./kv_trigger_store.ts";
import { PipelineCatalog } from "./pipeline_catalog.ts";
import { RunLauncher } from "./run_launcher.ts";

/** A trigger test environment. */
export interface TriggerEnv {
  dir: string;
  kvPath: string;
  clock: ManualClock;
  backend: Backend;
  engine: Engine;
  registry: Registry;
  catalog: PipelineCatalog;
  launcher: RunLauncher;
  /** A trigger store on a new KV handle of the same file (closed by `dispose`). */
  newStore(): Promise<KvTriggerStore>;
  /** Every run of `pipeline`, oldest first. */
  runs(pipeline: string): Promise<RunRecord[]>;
  dispose(): Promise<void>;
}

/** Builds an environment; `pipelines` maps file names to YAML written before the catalog opens. */
export async function triggerEnv(o: {
  pipelines?: Record<string, string>;
  start?: string;
  /** Folder of builtin plugins (default: the engine's test plugins). */
  builtinDir?: string;
  /** Start consuming runs (default false: runs stay queued until cancelled). */
  startEngine?: boolean;
}): Promise<TriggerEnv> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-triggers-" });
  const kvPath = join(dir, "sluice.kv");
  const clock = new ManualClock(o.start ?? "2025-01-06T10:00:30Z");
  const backend = await openKvBackend(kvPath);
  const executor = new InProcessExecutor();
  const engine = new Engine({ backend, executor, dataDir: join(dir, "data") });
  if (o.startEngine) await engine.start();
  const registry = await openRegistry({
    builtinDir: o.builtinDir ?? join(ROOT, "core/engine/testdata"),
    installDir: join(dir, "plugins"),
    lockPath: join(dir, "plugins.lock"),
  });
  const pdir = join(dir, "pipelines");
  await Deno.mkdir(pdir);
  for (const [name, text] of Object.entries(o.pipelines ?? {})) {
    await Deno.writeTextFile(join(pdir, name), text);
  }
  const catalog = await PipelineCatalog.open({ dir: pdir, registry, clock });
  for (const e of catalog.list()) {
    if (!e.pipeline) throw new Error(`test pipeline ${e.file}: ${e.problems[0]?.message}`);
  }
  const launcher = new RunLauncher({
    engine,
    store: backend.store,
    registry,
    defaults: FAST,
    now: () => clock.now(),
  });
  const kvs: Deno.Kv[] = [];
  return {
    dir,
    kvPath,
    clock,
    backend,
    engine,
    registry,
    catalog,
    launcher,
    async newStore() {
      const kv = await openKv(kvPath);
      kvs.push(kv);
      return new KvTriggerStore(kv);
    },
    async runs(pipeline) {
      const page = await backend.store.listRuns({ pipeline, limit: 1000 });
      return page.runs.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
    },
    async dispose() {
      await catalog.close();
      await engine.close();
      await executor.close();
      for (const kv of kvs) kv.close();
      backend.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The scheduled instants (ISO) of cron runs, in order. */
export function scheduledTimes(runs: RunRecord[]): string[] {
  return runs.filter((r) => r.trigger.kind === "cron")
    .map((r) => String(r.trigger.detail?.scheduledAt)).sort();
}
