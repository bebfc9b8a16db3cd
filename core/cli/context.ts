/**
 * Opens what commands share: config, logger, KV backend, plugin registry, sandbox executor and
 * engine. Every shipped command runs plugins in the sandbox.
 * @module
 */
import { parseSecretGrants, type SecretGrants } from "../plugins/secret_grants.ts";
import {
  type Config,
  type ConfigKey,
  configSources,
  loadConfig,
  secretResolver,
  systemDnsServers,
} from "../config/config.ts";
import { formatSource } from "../config/errors.ts";
import { keyInfo } from "../config/keys.ts";
import { dirname } from "../paths.ts";
import type { NetworkSettings } from "../../sdk/types.ts";
import { Engine } from "../engine/engine.ts";
import type { StageDefaults } from "../engine/prepare.ts";
import { openRegistry, type Registry } from "../plugins/registry.ts";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { KvStore, openKvBackend } from "../store/kv_backend.ts";
import { KvRunClaims, type KvRunClaimsOptions } from "../store/kv_run_claims.ts";
import { startKvRetention } from "../store/kv_retention.ts";
import { startOrphanSweep } from "../store/orphan_snapshots.ts";
import { maskUrl } from "../store/pg/connect.ts";
import { checkClockSkew } from "../store/pg/clock_check.ts";
import { openPgBackend, type PgBackend } from "../store/pg/pg_backend.ts";
import { processCommand } from "../store/pg/pg_queue.ts";
import { startMaintenance } from "../store/pg/pg_maintenance.ts";
import type { Backend } from "../store/store.ts";
import { createLogger, LEVEL_ORDER, type Logger } from "../telemetry/log.ts";
import { createTelemetry, type Telemetry } from "../telemetry/setup.ts";
import { startNoticeResend } from "../telemetry/notice_resend.ts";
import type { SluiceMetrics } from "../telemetry/sluice_metrics.ts";

/** Everything a command needs. */
export interface CliContext {
  config: Config;
  log: Logger;
  /**
   * The log at `warn` or above (the configured level when it is higher): for a quiet command
   * (`sluice run --quiet`), whose output is its start line and summary, warnings and errors.
   */
  quietLog: Logger;
  registry: Registry;
  secretValues: Set<string>;
  secrets: (name: string) => string | undefined;
  /** Secrets plugins get beyond their manifest's `secrets` (`secrets.grants`). */
  secretGrants: SecretGrants;
  defaults: StageDefaults;
  network: NetworkSettings;
}

/** The network settings plugins receive, from `network.*` config. */
export async function networkSettings(config: Config): Promise<NetworkSettings> {
  const n = config.network;
  let caPem: string | undefined;
  if (n.https.ca) {
    try {
      caPem = await Deno.readTextFile(n.https.ca);
    } catch (e) {
      throw new Error(`network.https.ca: cannot read ${n.https.ca}: ${(e as Error).message}`);
    }
  }
  return {
    dnsServers: n.dns.servers.length ? [...n.dns.servers] : await systemDnsServers(),
    httpPort: n.http.port,
    httpsPort: n.https.port,
    caPem,
    proxy: n.http.proxy,
    allowPrivate: n.allowPrivate,
    timeouts: { dns: n.timeouts.dns, connect: n.timeouts.connect, request: n.timeouts.request },
    concurrency: n.concurrency,
    rdapBootstrap: n.rdap.bootstrap,
  };
}

/**
 * Why the configured data folder (`dataDir`) or the embedded store's folder (`store.path`)
 * cannot be used, if so: the path (or a folder above it) is a file. The message names the
 * setting, where its value came from (`env SLUICE_DATA_DIR`, `sluice.yaml:3:1`, default) and
 * what to do. A folder that does not exist yet is fine: it is created when needed.
 */
export async function storageProblem(config: Config): Promise<string | undefined> {
  const sources = configSources(config);
  const check: { key: ConfigKey; value: string; folder: string; example: string }[] = [
    { key: "dataDir", value: config.dataDir, folder: config.dataDir, example: "/var/lib/sluice" },
  ];
  if (!config.store.url) {
    const value = config.store.path;
    check.push({
      key: "store.path",
      value,
      folder: dirname(value),
      example: "/var/lib/sluice/sluice.kv",
    });
  }
  for (const { key, value, folder, example } of check) {
    // The folder itself, or the nearest part of its path that exists, must be a folder.
    for (let p = folder;; p = dirname(p)) {
      const st = await Deno.stat(p).catch((e) => {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
          return undefined;
        }
        throw e;
      });
      if (st?.isDirectory) break;
      if (st) {
        const source = sources.get(key);
        const env = keyInfo(key)?.env;
        return `${key} ${JSON.stringify(value)}${
          source ? ` (from ${formatSource(source)})` : ""
        }: ${p} is a file, not a folder; set ${key}${env ? ` (${env})` : ""} to ` +
          `${key === "dataDir" ? "a folder" : "a file in a folder"} (created if missing), ` +
          `e.g. ${example}`;
      }
      if (dirname(p) === p) break;
    }
  }
  return undefined;
}

/** Loads config, logger and registry (no store yet). */
export async function openContext(
  opts: {
    configFile?: string;
    env?: Record<string, string>;
    /**
     * Refuse a data folder (or embedded store folder) that is a file, see
     * {@linkcode storageProblem}. Default true; `sluice config` shows the values instead.
     */
    checkStorage?: boolean;
  } = {},
): Promise<CliContext> {
  const env = opts.env ?? Deno.env.toObject();
  const config = await loadConfig({ file: opts.configFile, env });
  const storage = opts.checkStorage === false ? undefined : await storageProblem(config);
  if (storage) throw new Error(storage);
  const secretValues = new Set<string>();
  const format = config.log.format === "auto"
    ? (Deno.stderr.isTerminal() ? "pretty" : "json")
    : config.log.format;
  const log = createLogger({ level: config.log.level, format, secrets: () => secretValues });
  const quietLog = LEVEL_ORDER[config.log.level] >= LEVEL_ORDER.warn
    ? log
    : createLogger({ level: "warn", format, secrets: () => secretValues });
  const registry = await openRegistry({
    builtinDir: config.plugins.dir,
    installDir: config.plugins.installDir,
    lockPath: config.plugins.lock,
  });
  const secrets = secretResolver(config, env);
  const network = await networkSettings(config);
  return {
    network,
    config,
    log,
    quietLog,
    registry,
    secretValues,
    secrets,
    secretGrants: parseSecretGrants(config.secrets.grants),
    defaults: {
      chunk: config.engine.chunkSize,
      concurrency: 2,
      timeoutMs: config.engine.timeout,
      memoryMb: config.engine.memoryMb,
      retry: {
        attempts: config.engine.retry.attempts,
        delayMs: config.engine.retry.delay,
        maxDelayMs: config.engine.retry.maxDelay,
      },
    },
  };
}

/** A started engine over the configured store. */
export interface EngineHandle {
  engine: Engine;
  backend: Backend;
  /** The Sluice data folder (plugin data, run files). */
  dataDir: string;
  /** Spans, metrics and alerts of this process. */
  telemetry: Telemetry;
  /**
   * Stops the engine (housekeeping, queue consumers, plugin processes) and stores the run-log
   * lines it still holds; the store stays open until `close`. Idempotent: `close` calls it too.
   */
  stopEngine(): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link openBackend} and {@link startEngine}. */
export interface BackendChoice {
  /** Chunks (queue messages) handled at once by this process (default `engine.concurrency`). */
  concurrency?: number;
  /**
   * False: the engine neither consumes the queue nor recovers running runs, nor keeps house (for
   * commands that read runs or cancel one while a server may be running them). Default true.
   */
  work?: boolean;
  /**
   * True for long-lived processes (`sluice worker`; `sluice serve` starts its engine itself):
   * the engine takes up runs that are not its own (recovery at start, runs of gone processes,
   * see `EngineOptions.adopt`). Default false: a short command (`sluice run`, `runs resume`,
   * `runs retry`) works only the run it creates or names.
   */
  adopt?: boolean;
}

/** How often a process looks for runs of gone processes to take over (embedded store). */
export const ADOPT_EVERY_MS = 10_000;

/**
 * The KV backend with run claims (`kv_run_claims.ts`): this process's runs are its own, and it
 * leaves alone the runs another live process on the same data folder is running. `options`
 * replace the claims' defaults (tests stand for several processes with their own `pid`).
 */
export async function withRunClaims(
  backend: Backend,
  kv: Deno.Kv,
  options: Partial<KvRunClaimsOptions> = {},
): Promise<Backend> {
  const claims = new KvRunClaims(kv, { command: processCommand(), ...options });
  await claims.start();
  return {
    ...backend,
    runClaims: claims,
    async close() {
      await claims.close();
      await backend.close();
    },
  };
}

/**
 * Opens the configured backend: PostgreSQL when `store.url` is set (migrating it first), else
 * the embedded KV file at `store.path`.
 */
export async function openBackend(ctx: CliContext, o: BackendChoice = {}): Promise<Backend> {
  const url = ctx.config.store.url;
  if (!url) return await openKvBackend(ctx.config.store.path);
  const backend = await openPgBackend({
    url,
    concurrency: o.concurrency ?? ctx.config.engine.concurrency,
    visibilityMs: ctx.config.store.visibilityTimeout,
    log: ctx.log.child({ component: "queue" }),
  });
  // Processes sharing the database must agree on the time: refuse to start when far off.
  try {
    await checkClockSkew(backend.sql, { log: ctx.log.child({ component: "store" }) });
  } catch (e) {
    await backend.close();
    throw e;
  }
  return backend;
}

/** Where the store is, for messages (the PostgreSQL URL with its password masked). */
export function storeLabel(ctx: CliContext): string {
  const url = ctx.config.store.url;
  return url ? `PostgreSQL ${maskUrl(url)}` : ctx.config.store.path;
}

/**
 * Starts housekeeping: on PostgreSQL the cluster maintenance (recovery safety net, retention);
 * on Deno KV the retention of `store.retention` when it is set. A long-lived process (its engine
 * {@link Engine.adopts adopts} runs: `sluice serve`, `sluice worker`) also resends the run notices
 * that were not delivered (`notice_resend.ts`), counted in `metrics` when given, and deletes the
 * snapshots of source files that a process killed while creating their run left without a run
 * (`orphan_snapshots.ts`, hourly). Returns its stop function.
 */
export function startHousekeeping(
  ctx: CliContext,
  backend: Backend,
  engine: Engine,
  metrics?: SluiceMetrics,
): () => Promise<void> {
  const outbox = backend.store.notices;
  const resend = engine.adopts && outbox
    ? startNoticeResend({
      store: backend.store,
      outbox,
      secrets: ctx.secrets,
      log: ctx.log.child({ component: "alerts" }),
      onResult: (pipeline, result) => metrics?.alerts.inc({ pipeline, result }),
    })
    : undefined;
  const stop = housekeeping(ctx, backend, engine);
  // Snapshots of source files left by a process killed while creating their run (no run).
  const orphans = engine.adopts
    ? startOrphanSweep({
      dataDir: ctx.config.dataDir,
      store: backend.store,
      log: ctx.log.child({ component: "retention" }),
    })
    : undefined;
  return async () => {
    await resend?.close();
    await orphans?.close();
    await stop();
  };
}

function housekeeping(ctx: CliContext, backend: Backend, engine: Engine): () => Promise<void> {
  if (!("sql" in backend)) {
    // Runs whose process is gone (a `sluice run` killed beside a server) are taken over by
    // long-lived processes.
    const adopt = backend.runClaims && engine.adopts
      ? setInterval(() => {
        engine.adoptOrphans().catch((e) =>
          ctx.log.warn("taking over runs of gone processes failed", { error: String(e) })
        );
      }, ADOPT_EVERY_MS)
      : undefined;
    if (adopt !== undefined) Deno.unrefTimer(adopt);
    const retentionMs = ctx.config.store.retention;
    const r = retentionMs && backend.store instanceof KvStore
      ? startKvRetention({
        store: backend.store,
        retentionMs,
        dataDir: ctx.config.dataDir,
        log: ctx.log.child({ component: "retention" }),
      })
      : undefined;
    return async () => {
      clearInterval(adopt);
      await r?.close();
    };
  }
  const m = startMaintenance({
    backend: backend as PgBackend,
    recover: () => engine.recover(),
    retentionMs: ctx.config.store.retention,
    dataDir: ctx.config.dataDir,
    log: ctx.log.child({ component: "maintenance" }),
  });
  return () => m.close();
}

/** Opens the store and starts an engine that runs plugins in the sandbox. */
export async function startEngine(ctx: CliContext, o: BackendChoice = {}): Promise<EngineHandle> {
  const opened = await openBackend(ctx, o);
  const backend = (o.work ?? true) && opened.kv && !ctx.config.store.url
    ? await withRunClaims(opened, opened.kv)
    : opened;
  const telemetry = createTelemetry({
    otlpEndpoint: ctx.config.telemetry.otlpEndpoint,
    role: "worker",
    log: ctx.log,
    secrets: ctx.secrets,
    secretValues: ctx.secretValues,
    publicUrl: ctx.config.server.publicUrl,
    notices: backend.store.notices,
  });
  telemetry.watchStore(backend.store);
  // Lines about a run carry its trace id when tracing is on.
  const runLog = telemetry.runLog(ctx.log);
  const executor = new SandboxExecutor({
    ...telemetry.sandbox,
    idleMs: ctx.config.engine.sandboxIdle,
    maxIdle: ctx.config.engine.sandboxMaxIdle,
    log: (e) =>
      runLog[e.level](e.msg, { run: e.runId, stage: e.stageId, chunk: e.chunk, source: e.source }),
  });
  const engine = new Engine({
    backend,
    executor,
    dataDir: ctx.config.dataDir,
    secrets: ctx.secrets,
    secretGrants: ctx.secretGrants,
    secretValues: ctx.secretValues,
    concurrency: o.concurrency ?? ctx.config.engine.concurrency,
    log: runLog,
    network: ctx.network,
    telemetry: telemetry.engine,
    adopt: o.adopt ?? false,
  });
  const work = o.work ?? true;
  if (work) await engine.start();
  const stopHousekeeping = work
    ? startHousekeeping(ctx, backend, engine, telemetry.metrics)
    : async () => {};
  let stopped: Promise<void> | undefined;
  const stopEngine = () =>
    stopped ??= (async () => {
      await stopHousekeeping();
      await engine.close();
      // The plugin processes go now, not at `close`: `sluice run --out` writes its file while
      // they go and after, not beside idle processes (together they were the streaming check's
      // peak).
      await executor.close();
    })();
  return {
    engine,
    backend,
    dataDir: ctx.config.dataDir,
    telemetry,
    stopEngine,
    async close() {
      await stopEngine();
      await telemetry.close();
      await backend.close();
    },
  };
}
