/**
 * Helpers for engine tests: a temporary KV backend, the test plugins in `testdata/`, and a
 * one-call way to run a pipeline written inline. Test-only (uses the in-process executor).
 * @module
 */
import { parse as parseYaml } from "yaml";
import { Pipeline } from "../pipeline/model.ts";
import type { PluginRegistry } from "../plugins/manifest.ts";
import { openRegistry } from "../plugins/registry.ts";
import { join, ROOT } from "../paths.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import type { Backend, RunRecord, TriggerInfo } from "../store/store.ts";
import { Engine, type EngineOptions } from "./engine.ts";
import type { StageExecutor } from "./executor.ts";
import { InProcessExecutor } from "./in_process_executor.ts";
import { prepareRun, type StageDefaults } from "./prepare.ts";

/** Opens the backend of a test folder; the same folder must give the same data (restarts). */
export type BackendFactory = (dir: string) => Promise<Backend>;

/** The embedded backend: a KV file in the test folder. */
export const kvBackendFactory: BackendFactory = (dir) => openKvBackend(join(dir, "sluice.kv"));

/** A temporary engine over a real KV file (or the backend `backend` makes). */
export interface TestEngine {
  engine: Engine;
  backend: Backend;
  dir: string;
  kvPath: string;
  start(
    yaml: string,
    opts?: {
      inputs?: Record<string, unknown>;
      inputFile?: string;
      /**
       * The data folder the source's `with.path` is read in (the run then reads its snapshot of
       * that file, as `sluice run` and scheduled runs do); default: none, left to the plugin.
       */
      dataDir?: string;
      /** The input's text, kept in the run record (a webhook body); needs `inputFile`. */
      inputText?: string;
      /** How the run was started (default: the CLI). */
      trigger?: TriggerInfo;
    },
  ): Promise<RunRecord>;
  /** Stops the engine and closes the store (the KV file stays for a restart). */
  stop(): Promise<void>;
  /** Stops and deletes everything. */
  dispose(): Promise<void>;
}

/** Fast retry defaults so failure tests do not wait seconds. */
export const FAST: StageDefaults = {
  chunk: 10,
  concurrency: 2,
  timeoutMs: 5_000,
  memoryMb: 128,
  retry: { attempts: 3, delayMs: 5, maxDelayMs: 20 },
};

/** Starts an engine on a KV file (new temp dir unless `dir` is given). */
export async function testEngine(
  opts: Partial<Omit<EngineOptions, "backend">> & {
    dir?: string;
    defaults?: StageDefaults;
    executor?: StageExecutor;
    /** Opens the backend (default: a KV file in the folder). */
    backend?: BackendFactory;
    /**
     * Also resolve the first-party plugins of `plugins/` (seen-before, csv-export…), after the
     * test plugins of `testdata/`, so a test pipeline can mix both.
     */
    firstParty?: boolean;
  } = {},
): Promise<TestEngine> {
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "sluice-engine-" });
  const kvPath = join(dir, "sluice.kv");
  const backend = await (opts.backend ?? kvBackendFactory)(dir);
  const executor = opts.executor ?? new InProcessExecutor();
  const open = (builtins: string) =>
    openRegistry({
      builtinDir: join(ROOT, builtins),
      installDir: join(dir, "plugins"),
      lockPath: join(dir, "plugins.lock"),
    });
  const testPlugins = await open("core/engine/testdata");
  const registry: PluginRegistry = opts.firstParty
    ? chainRegistries(testPlugins, await open("plugins"))
    : testPlugins;
  const { backend: _factory, firstParty: _firstParty, ...engineOpts } = opts;
  const engine = new Engine({ backend, executor, dataDir: dir, ...engineOpts });
  await engine.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await engine.close();
    await executor.close();
    await backend.close();
  };
  return {
    engine,
    backend,
    dir,
    kvPath,
    async start(yaml, o = {}) {
      const pipeline = Pipeline.parse(parseYaml(yaml));
      const run = prepareRun({
        pipeline,
        yaml,
        file: "test.yaml",
        registry,
        inputs: o.inputs ?? {},
        inputFile: o.inputFile,
        dataDir: o.dataDir,
        trigger: o.trigger ?? { kind: "cli" },
        defaults: opts.defaults ?? FAST,
        now: opts.now?.(), // created by the engine's clock, as the engine times the run
      });
      if (o.inputText !== undefined) run.inputText = o.inputText;
      return await engine.createRun(run);
    },
    stop,
    async dispose() {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A registry that resolves a plugin from `first`, else from `then`. */
function chainRegistries(first: PluginRegistry, then: PluginRegistry): PluginRegistry {
  return {
    resolve: (name, range) => first.resolve(name, range) ?? then.resolve(name, range),
    list: () => [...first.list(), ...then.list()],
  };
}

/** Reads every output item of a run's last stage, chunk by chunk. */
export async function runOutput(
  backend: Backend,
  run: RunRecord,
): Promise<Record<string, unknown>[]> {
  const last = run.stages.length - 1;
  const out = [];
  for (const c of await backend.store.doneChunks(run.id, last)) {
    out.push(...(await backend.store.readChunk(run.id, last, c)) ?? []);
  }
  return out;
}
