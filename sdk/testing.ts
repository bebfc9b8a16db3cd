/**
 * Test harness for plugin authors: runs a plugin folder in the REAL sandbox (a permission-scoped
 * `deno run` subprocess, exactly as production runs it) against given items.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runPlugin } from "@sluice/sdk/testing.ts";
 *
 * Deno.test("adds a field", async () => {
 *   const { items } = await runPlugin({
 *     dir: new URL(".", import.meta.url),
 *     config: { field: "seen" },
 *     items: [{ key: "a.com" }],
 *   });
 *   assert.deepEqual(items, [{ key: "a.com", seen: true }]);
 * });
 * ```
 * @module
 */
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import type {
  FinishResult,
  Item,
  Json,
  NetworkSettings,
  Permissions,
  ProcessResult,
  ReadResult,
  Rejected,
} from "./types.ts";
import { type PluginBasics, readPluginBasics } from "./runtime/manifest_reader.ts";
import { type SandboxLogEntry, SandboxProcess } from "./runtime/sandbox_process.ts";
import { SandboxError } from "./runtime/sandbox_error.ts";
import { isNotCached } from "./runtime/death.ts";
import { cacheEntryDependencies } from "./runtime/dependency_cache.ts";
import { configProblems } from "./runtime/config_schema.ts";
import { IN_PROCESS_SLOTS } from "./runtime/instance.ts";

export { SandboxError, type SandboxErrorKind } from "./runtime/sandbox_error.ts";
export type { SandboxLogEntry } from "./runtime/sandbox_process.ts";

/** Options of {@linkcode openPlugin} and {@linkcode runPlugin}. */
export interface PluginTestOptions {
  /** The plugin folder (holding `plugin.json`), as a path or a `file:` URL. */
  dir: string | URL;
  /**
   * The stage's `with:`, as the plugin gets it: the schema's `default`s are NOT filled in (nor
   * are they in a run), so the plugin applies its own (`config.field ?? "checked"`). It must
   * pass the `config` schema of `plugin.json`, as `sluice validate` checks a pipeline's `with:`:
   * a config the schema refuses fails `openPlugin`/`runPlugin` with a `SandboxError` of kind
   * `"config"` naming each problem (see `checkConfig`).
   */
  config?: Record<string, unknown>;
  /**
   * Check `config` against `plugin.json`'s `config` schema first; default true. Set false to
   * test the plugin's own checks of a value the schema refuses, which reaches it in a run only
   * through a `${{ inputs.NAME }}` template (`sluice validate` cannot check those).
   */
  checkConfig?: boolean;
  /** Effective permissions; default: what the manifest asks for. */
  permissions?: Permissions;
  /** Secrets, by name. */
  secrets?: Record<string, string>;
  /** Run inputs. */
  inputs?: Record<string, unknown>;
  /** The run's input file (sources). */
  inputFile?: string;
  /** The input file's original name (`ctx.inputName`), as an upload gives it. */
  inputName?: string;
  /** Network settings handed to the plugin (`ctx.network`); default: `DEFAULT_NETWORK`. */
  network?: NetworkSettings;
  /** The plugin's data folder; default: a fresh temp folder, removed on close. */
  dataDir?: string;
  /** Per-call timeout; default 30 s. */
  timeoutMs?: number;
  /** V8 heap cap; default 256 MB. */
  memoryMb?: number;
  /** deno.json giving `@sluice/sdk`; default: the one next to this SDK. */
  hostConfig?: string;
  /** DENO_DIR for the plugin process; default: the host's. */
  denoDir?: string;
  /**
   * npm registry the host caches the plugin's npm dependencies from when they are not in
   * DENO_DIR yet (NPM_CONFIG_REGISTRY); default: the host's setting.
   */
  npmRegistry?: string;
  /**
   * Debug the plugin: its process opens a V8 inspector on `host:port` (`true`: 127.0.0.1:9229)
   * and waits for a debugger (Chrome's chrome://inspect, VS Code's "Attach") before it loads
   * the plugin, so breakpoints and `debugger;` statements in the plugin's code stop there.
   * Start and call timeouts become an hour unless `timeoutMs` is given.
   */
  inspect?: boolean | string;
  /** What the plugin sees as `ctx.run` besides its stage; default id `test-run`. */
  run?: { id?: string; pipeline?: string; startedAt?: number };
}

/** Options of {@linkcode runPlugin}. */
export interface RunPluginOptions extends PluginTestOptions {
  /** Items for a transform or sink (processed in chunks of `chunkSize`). */
  items?: Item[];
  /** Items per call (`limit` for sources); default 200. */
  chunkSize?: number;
  /** Call `finish` at the end; default true. */
  finish?: boolean;
}

/** What a plugin run produced. */
export interface RunPluginResult {
  /** Output items (for a source: every item read). */
  items: Item[];
  /** Refused rows or items, with reasons. */
  rejected: Rejected[];
  /** Every log line, in order (console, SDK logger, stray stdout, stderr). */
  logs: SandboxLogEntry[];
  /** Counters (summed) and gauges (last value) the plugin reported. */
  metrics: Record<string, number>;
  /** Number of calls made (chunks). */
  calls: number;
  /**
   * The files `finish` named (absolute paths; empty when it named none or did not run). They
   * are in the data folder, which is removed at the end unless `dataDir` was given: pass one
   * to read them.
   */
  files: string[];
}

/** A plugin started in the sandbox, for tests that need several calls. */
export interface PluginHarness extends AsyncDisposable {
  /** The manifest basics. */
  manifest: PluginBasics;
  /** The data folder the plugin was given. */
  dataDir: string;
  /** Log lines so far. */
  logs: SandboxLogEntry[];
  /** Metrics so far. */
  metrics: Record<string, number>;
  read(cursor: Json, limit: number, chunk?: number): Promise<ReadResult>;
  /** Processes `items` as chunk `chunk` (default: the next), call `part` of it (default 0). */
  process(items: Item[], chunk?: number, part?: number): Promise<ProcessResult>;
  /** Runs `finish`; resolves to the files it names (absolute paths), if any. */
  finish(): Promise<FinishResult | undefined>;
  /** Stops the process and removes a temp data folder. */
  close(): Promise<void>;
}

const DEFAULT_HOST_CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

/**
 * Rethrows a call's error; a refused permission gets what to do about it, as the server's error
 * does: in a test, the plugin runs with what its `plugin.json` asks for (or `permissions`).
 */
function explainRefusal(given: Permissions | undefined): (err: unknown) => never {
  return (err) => {
    if (err instanceof SandboxError && err.kind === "permission") {
      throw new SandboxError(
        "permission",
        `${err.message}. ${
          given
            ? "The test's `permissions` option does not grant this"
            : "The plugin's plugin.json does not ask for this"
        }: if the plugin needs it, add it to "permissions" in plugin.json (net: "host:port", ` +
          "read/write: a path in its data folder, env: the variable name); operators approve " +
          "it at install",
        { cause: err, remoteStack: err.remoteStack },
      );
    }
    throw err;
  };
}

/** Starts a plugin folder in the real sandbox. Close it (or use `await using`). */
export async function openPlugin(opts: PluginTestOptions): Promise<PluginHarness> {
  const dir = resolve(typeof opts.dir === "string" ? opts.dir : fileURLToPath(opts.dir));
  const manifest = await readPluginBasics(dir);
  if (opts.checkConfig ?? true) {
    const problems = configProblems(manifest.config, opts.config ?? {});
    if (problems.length) {
      throw new SandboxError(
        "config",
        `the test's config does not pass the "config" schema of ${
          join(dir, "plugin.json")
        }, so sluice validate would refuse a stage with this with: (${problems.join("; ")}). ` +
          "Fix the config (or the schema); to test the plugin's own check of such a value (a " +
          "${{ inputs.NAME }} template can bring one), set checkConfig: false",
      );
    }
  }
  const tempData = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? await Deno.makeTempDir({ prefix: "sluice_plugin_test_" });
  const logs: SandboxLogEntry[] = [];
  const metrics: Record<string, number> = {};
  const inspect = opts.inspect === true ? "127.0.0.1:9229" : opts.inspect || undefined;
  const timeoutMs = opts.timeoutMs ?? (inspect ? 3_600_000 : undefined);
  if (inspect) {
    console.error(
      `${manifest.name}: waiting for a debugger on ${inspect} (chrome://inspect, or VS Code ` +
        `"Attach" to that port) before the plugin loads`,
    );
  }
  let proc: SandboxProcess;
  const start = () =>
    SandboxProcess.start({
      pluginDir: dir,
      entry: manifest.entry,
      permissions: opts.permissions ?? manifest.permissions,
      memoryMb: opts.memoryMb ?? 256,
      hostConfig: opts.hostConfig ?? DEFAULT_HOST_CONFIG,
      denoDir: opts.denoDir,
      npmRegistry: opts.npmRegistry,
      startTimeoutMs: timeoutMs,
      allowPrivate: opts.network?.allowPrivate,
      // ctx.limits holds across the plugins a test opens, as a host's does across processes.
      slots: IN_PROCESS_SLOTS,
      inspect,
      init: {
        config: opts.config ?? {},
        secrets: opts.secrets ?? {},
        inputs: opts.inputs ?? {},
        run: { id: "test-run", ...opts.run, stage: manifest.name },
        inputFile: opts.inputFile,
        inputName: opts.inputName,
        dataDir,
        network: opts.network,
      },
      onLog: (e) => logs.push(e),
      onMetric: (kind, name, value) => {
        metrics[name] = kind === "count" ? (metrics[name] ?? 0) + value : value;
      },
    });
  try {
    proc = await start().catch(async (err) => {
      // As the server does: the host fills Deno's cache (the sandbox never downloads), once.
      if (!isNotCached(err)) throw err;
      await cacheEntryDependencies({
        entryPath: join(dir, manifest.entry),
        pluginDir: dir,
        label: `${manifest.name}@${manifest.version}`,
        hostConfig: opts.hostConfig ?? DEFAULT_HOST_CONFIG,
        denoDir: opts.denoDir,
        npmRegistry: opts.npmRegistry,
      });
      return await start();
    });
  } catch (err) {
    if (tempData) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw err;
  }
  const call = { timeoutMs: timeoutMs ?? 30_000 };
  let chunks = 0;
  const close = async () => {
    await proc.close();
    if (tempData) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  };
  return {
    manifest,
    dataDir,
    logs,
    metrics,
    read: (cursor, limit, chunk = chunks++) =>
      proc.read(cursor, limit, chunk, call).catch(explainRefusal(opts.permissions)),
    // A sink's items pass on as it got them, as in a run (see `passOn`).
    process: (items, chunk = chunks++, part = 0) =>
      proc.process(items, chunk, { ...call, passOn: manifest.kind === "sink", part })
        .catch(explainRefusal(opts.permissions)),
    finish: () => proc.finish(call).catch(explainRefusal(opts.permissions)),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Runs a plugin folder in the real sandbox: a source is read to the end; a transform or sink
 * processes `items` in chunks. Then `finish` runs (its files are in the result), and the
 * process is stopped.
 */
export async function runPlugin(opts: RunPluginOptions): Promise<RunPluginResult> {
  const chunkSize = opts.chunkSize ?? 200;
  const plugin = await openPlugin(opts);
  try {
    const items: Item[] = [];
    const rejected: Rejected[] = [];
    let calls = 0;
    if (plugin.manifest.kind === "source") {
      let cursor: Json = null;
      for (let done = false; !done; calls++) {
        const r: ReadResult = await plugin.read(cursor, chunkSize, calls);
        items.push(...r.items);
        rejected.push(...(r.rejected ?? []));
        cursor = r.cursor as Json;
        done = r.done;
      }
    } else {
      const input = opts.items ?? [];
      for (let i = 0; i < input.length; i += chunkSize, calls++) {
        const r = await plugin.process(input.slice(i, i + chunkSize), calls);
        items.push(...r.items);
        rejected.push(...(r.rejected ?? []));
      }
    }
    const done = (opts.finish ?? true) ? await plugin.finish() : undefined;
    return {
      items,
      rejected,
      logs: plugin.logs,
      metrics: plugin.metrics,
      calls,
      files: done?.files ?? [],
    };
  } finally {
    await plugin.close();
  }
}

/** Reads a source plugin to the end in the real sandbox and returns its items. */
export async function readAll(opts: Omit<RunPluginOptions, "items">): Promise<Item[]> {
  return (await runPlugin(opts)).items;
}
