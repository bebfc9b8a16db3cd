/**
 * TEST-ONLY executor that imports plugin modules into the host process. It has no permission
 * boundary: no shipped command uses it (the CLI and server run plugins in `core/sandbox/`).
 * Tests and the sandbox benchmark use it as the in-process baseline.
 * @module
 */
import type { PluginDefinition } from "../../sdk/plugin.ts";
import { createPluginInstance, type PluginInstance } from "../../sdk/runtime/instance.ts";
import { isConfigError, isInputError, retryAfterOf } from "../../sdk/runtime/protocol.ts";
import { join, toFileUrl } from "../paths.ts";
import {
  type CallContext,
  PluginError,
  runInfo,
  type StageExecutor,
  type StageInstance,
  type StageSpec,
} from "./executor.ts";

/** Runs `fn` with a timeout and the caller's signal; rejects with a {@link PluginError}. */
function guarded<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  ctx: { signal: AbortSignal },
  timeoutMs: number,
): Promise<T> {
  const ac = new AbortController();
  const signal = AbortSignal.any([ac.signal, ctx.signal]);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      ac.abort();
      reject(new PluginError(`timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    const onAbort = () => reject(new PluginError("call aborted", { cause: ctx.signal.reason }));
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    fn(signal).then(resolve, (e) =>
      reject(
        e instanceof PluginError ? e : new PluginError(e instanceof Error ? e.message : String(e), {
          cause: e,
          retryable: (e as { retryable?: unknown })?.retryable !== false,
          retryAfterMs: retryAfterOf(e),
          config: isConfigError(e),
          ...(isInputError(e) ? { input: (e as Error).message } : {}),
        }),
      )).finally(() => {
        clearTimeout(timer);
        ctx.signal.removeEventListener("abort", onAbort);
      });
  });
}

/** Options of {@link InProcessExecutor}. */
export interface InProcessExecutorOptions {
  /**
   * Give a sink a copy of its items (default true), so that one returning them passes them on as
   * it got them, as in the sandbox. A benchmark that counts the plugins' own work turns it off
   * (the first-party sinks do not change their items).
   */
  copySinkInput?: boolean;
}

/** In-process executor (tests only). */
export class InProcessExecutor implements StageExecutor {
  #lifetime = new AbortController();
  #copySinkInput: boolean;

  /** An executor; see {@linkcode InProcessExecutorOptions}. */
  constructor(opts: InProcessExecutorOptions = {}) {
    this.#copySinkInput = opts.copySinkInput ?? true;
  }

  async open(spec: StageSpec): Promise<StageInstance> {
    const url = toFileUrl(join(spec.plugin.dir, spec.plugin.manifest.entry)).href;
    const mod = await import(url) as { default?: PluginDefinition };
    if (!mod.default) {
      throw new PluginError(`${spec.plugin.manifest.name}: entry has no default export`, {
        retryable: false,
      });
    }
    let log: CallContext["log"];
    const sink = this.#copySinkInput && spec.plugin.manifest.kind === "sink";
    const instance: PluginInstance = createPluginInstance(mod.default as PluginDefinition, {
      config: spec.config,
      secrets: spec.secrets,
      inputs: spec.inputs,
      run: runInfo(spec),
      inputFile: spec.inputFile,
      inputName: spec.inputFile ? spec.inputName : undefined,
      dataDir: spec.dataDir,
      network: spec.network,
    }, {
      // The chunk the plugin served when it logged: concurrent calls share `log` (the latest
      // call's), as a sandbox process's calls share its output.
      log: (level, msg, data, chunk) => log?.(level, msg, data, chunk),
      metric: () => {},
    }, this.#lifetime.signal);
    return {
      read: (cursor, limit, ctx) => {
        log = ctx.log;
        return guarded((s) => instance.read(cursor, limit, ctx.chunk, s), ctx, spec.timeoutMs);
      },
      process: (items, ctx) => {
        log = ctx.log;
        if (!sink) {
          return guarded(
            (s) => instance.process(items, ctx.chunk, s, undefined, undefined, ctx.part),
            ctx,
            spec.timeoutMs,
          );
        }
        // A sink that returns the items it was given passes them on as it got them, as in the
        // sandbox (which does not send them back): it works on a copy.
        const given = structuredClone(items);
        return guarded(
          async (s) => {
            const res = await instance.process(given, ctx.chunk, s, undefined, undefined, ctx.part);
            return res.items === given ? { ...res, items } : res;
          },
          ctx,
          spec.timeoutMs,
        );
      },
      finish: (ctx) => {
        // What finish logs is the run's (chunk -1), as in the sandbox, not the last chunk's.
        log = ctx.log;
        return guarded((s) => instance.finish(s), ctx, spec.timeoutMs);
      },
      close: () => Promise.resolve(),
    };
  }

  close(): Promise<void> {
    this.#lifetime.abort();
    return Promise.resolve();
  }
}
