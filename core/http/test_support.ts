/**
 * Test harness for the HTTP app: a real engine over a KV file in a temp dir, the engine's test
 * plugins (plus csv-source, normalize, csv-export, webhook-export and score) in a temp builtin
 * folder, the in-process executor (or the one given), pipelines as files, and one API token per role. Test-only.
 * @module
 */
import { Engine } from "../engine/engine.ts";
import { InProcessExecutor } from "../engine/in_process_executor.ts";
import { FAST } from "../engine/test_helpers.ts";
import { basename, join, ROOT } from "../paths.ts";
import type { StageExecutor } from "../engine/executor.ts";
import { openRegistry, type Registry } from "../plugins/registry.ts";
import { KvQueue, KvStore } from "../store/kv_backend.ts";
import type { Backend } from "../store/store.ts";
import { openKv } from "../../sdk/io/kv_locks.ts";
import { createLogger, type Logger } from "../telemetry/log.ts";
import { createApp, type SluiceApp } from "./app.ts";
import type { AppDeps } from "./deps.ts";
import { FilePipelineCatalog } from "./pipeline_files.ts";
import type { Role } from "./roles.ts";

/** A running test server. */
export interface TestServer extends SluiceApp {
  dir: string;
  kvPath: string;
  engine: Engine;
  backend: Backend;
  kv: Deno.Kv;
  registry: Registry;
  deps: AppDeps;
  /** Log lines written so far (JSON). */
  logs: string[];
  /** A token per role. */
  token: Record<Role, string>;
  /** `app.request` with the token of `as` (none when `as` is undefined). */
  call(path: string, init?: RequestInit & { as?: Role; json?: unknown }): Promise<Response>;
  /** Writes `<pipelines>/<name>.yaml`. */
  writePipeline(name: string, yaml: string): Promise<void>;
  /** Stops engine and stores (the temp dir stays, for a restart). */
  stop(): Promise<void>;
  /** Stops and deletes the temp dir. */
  dispose(): Promise<void>;
}

async function copyDir(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

/** Starts a test server in `dir` (a new temp dir unless given; reuse one to restart). */
export async function testServer(
  o: {
    dir?: string;
    deps?: Partial<AppDeps>;
    engineConcurrency?: number;
    /** The executor of the engine and the app (default: the in-process one). */
    executor?: StageExecutor;
    /** More plugin folders to copy into the builtin folder. */
    plugins?: string[];
  } = {},
): Promise<TestServer> {
  const dir = o.dir ?? await Deno.makeTempDir({ prefix: "sluice-http-" });
  const builtins = join(dir, "builtins");
  if (!o.dir) {
    for (const p of ["gen-source", "tag", "slow", "flaky"]) {
      await copyDir(join(ROOT, "core/engine/testdata", p), join(builtins, p));
    }
    for (const p of ["csv-source", "normalize", "csv-export", "webhook-export", "score"]) {
      await copyDir(join(ROOT, "plugins", p), join(builtins, p));
    }
    for (const p of o.plugins ?? []) await copyDir(p, join(builtins, basename(p)));
    await Deno.mkdir(join(dir, "pipelines"), { recursive: true });
  }
  const kvPath = join(dir, "sluice.kv");
  // One KV handle for the store, the queue, tokens and sessions (two handles on one file
  // contend for SQLite's lock).
  const kv = await openKv(kvPath);
  const backend: Backend = { store: new KvStore(kv), queue: new KvQueue(kv), close: () => {} };
  const registry = await openRegistry({
    builtinDir: builtins,
    installDir: join(dir, "plugins"),
    lockPath: join(dir, "plugins.lock"),
  });
  const executor = o.executor ?? new InProcessExecutor();
  const logs: string[] = [];
  const log: Logger = createLogger({ format: "json", level: "debug", write: (l) => logs.push(l) });
  const engine = new Engine({
    backend,
    executor,
    dataDir: dir,
    log,
    concurrency: o.engineConcurrency ?? 4,
  });
  await engine.start();
  const deps: AppDeps = {
    engine,
    store: backend.store,
    kv,
    registry,
    executor,
    pipelines: new FilePipelineCatalog(join(dir, "pipelines"), { registry }),
    dataDir: dir,
    defaults: FAST,
    log,
    progressIntervalMs: 20,
    ...o.deps,
  };
  const made = createApp(deps);
  const token = {} as Record<Role, string>;
  for (const role of ["viewer", "operator", "admin"] as const) {
    token[role] = (await made.tokens.create({ name: `test-${role}`, role })).token;
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await engine.close();
    await executor.close();
    kv.close();
  };
  return {
    ...made,
    dir,
    kvPath,
    engine,
    backend,
    kv,
    registry,
    deps,
    logs,
    token,
    call(path, init = {}) {
      const { as, json, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (as) headers.set("authorization", `Bearer ${token[as]}`);
      let body = rest.body;
      if (json !== undefined) {
        headers.set("content-type", "application/json");
        body = JSON.stringify(json);
      }
      return Promise.resolve(made.app.request(path, { ...rest, headers, body }));
    },
    writePipeline: (name, yaml) => Deno.writeTextFile(join(dir, "pipelines", `${name}.yaml`), yaml),
    stop,
    async dispose() {
      await stop();
      // SQLite may still be removing the KV file's -wal/-shm files right after close: retry.
      for (let i = 0;; i++) {
        try {
          await Deno.remove(dir, { recursive: true });
          return;
        } catch (e) {
          if (i >= 20 || !(e instanceof Error && /not empty/i.test(e.message))) throw e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    },
  };
}

/** A small valid pipeline over the test plugins. */
export function genPipeline(name: string, count = 25, extra = ""): string {
  return `name: ${name}
source:
  plugin: gen-source
  with:
    count: ${count}
stages:
  - id: tag
    plugin: tag
    with:
      field: band
      value: A
${extra}`;
}

/**
 * Reads a process's output until `re` matches all of it so far (kept in `seen`, for later
 * calls); throws with the output when the process ends first.
 */
export async function readUntil(
  reader: ReadableStreamDefaultReader<string>,
  re: RegExp,
  seen: string[],
): Promise<RegExpMatchArray> {
  let text = seen.join("");
  while (!re.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited; output:\n${text}`);
    seen.push(value);
    text += value;
  }
  return text.match(re)!;
}
