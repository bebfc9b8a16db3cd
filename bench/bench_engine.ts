/**
 * The engine the in-process benchmarks run on: a KV file in a folder, the first-party plugins of
 * `plugins/`, a sandbox executor (or the one given) and an {@linkcode Engine}, started.
 * @module
 */
import { Engine, type EngineOptions } from "../core/engine/engine.ts";
import type { StageExecutor } from "../core/engine/executor.ts";
import { join, ROOT } from "../core/paths.ts";
import { openRegistry } from "../core/plugins/registry.ts";
import type { PluginRegistry } from "../core/plugins/manifest.ts";
import { SandboxExecutor } from "../core/sandbox/executor.ts";
import { openKvBackend } from "../core/store/kv_backend.ts";
import type { Backend } from "../core/store/store.ts";

/** A started benchmark engine and what it runs on. */
export interface BenchEngine {
  engine: Engine;
  backend: Backend;
  registry: PluginRegistry;
  executor: StageExecutor;
  /** Stops the engine, its plugin processes and the store (the folder stays). */
  close(): Promise<void>;
}

/** Opens `dir/sluice.kv`, the plugins of `plugins/` and an executor, and starts an engine. */
export async function openBenchEngine(
  dir: string,
  opts: Partial<Omit<EngineOptions, "backend" | "executor" | "dataDir">> & {
    executor?: StageExecutor;
  } = {},
): Promise<BenchEngine> {
  const { executor = new SandboxExecutor(), ...engineOpts } = opts;
  const backend = await openKvBackend(join(dir, "sluice.kv"));
  const registry = await openRegistry({
    builtinDir: join(ROOT, "plugins"),
    installDir: join(dir, "plugins"),
    lockPath: join(dir, "plugins.lock"),
  });
  const engine = new Engine({ backend, executor, dataDir: dir, ...engineOpts });
  await engine.start();
  return {
    engine,
    backend,
    registry,
    executor,
    async close() {
      await engine.close();
      await executor.close();
      await backend.close();
    },
  };
}
