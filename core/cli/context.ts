/**
 * Opens what commands share: config, logger, KV backend, plugin registry, sandbox executor and
 * engine. Every shipped command runs plugins in the sandbox.
 * @module
 */
import { type Config, loadConfig, secretResolver, systemDnsServers } from "../config/config.ts";
import type { NetworkSettings } from "../../sdk/types.ts";
import { Engine } from "../engine/engine.ts";
import type { StageDefaults } from "../engine/prepare.ts";
import { openRegistry, type Registry } from "../plugins/registry.ts";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import type { Backend } from "../store/store.ts";
import { createLogger, type Logger } from "../telemetry/log.ts";
import { createTelemetry, type Telemetry } from "../telemetry/setup.ts";

/** Everything a command needs. */
export interface CliContext {
  config: Config;
  log: Logger;
  registry: Registry;
  secretValues: Set<string>;
  secrets: (name: string) => string | undefined;
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

/** Loads config, logger and registry (no store yet). */
export async function openContext(
  opts: { configFile?: string; env?: Record<string, string> } = {},
): Promise<CliContext> {
  const env = opts.env ?? Deno.env.toObject();
  const config = await loadConfig({ file: opts.configFile, env });
  const secretValues = new Set<string>();
  const format = config.log.format === "auto"
    ? (Deno.stderr.isTerminal() ? "pretty" : "json")
    : config.log.format;
  const log = createLogger({ level: config.log.level, format, secrets: () => secretValues });
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
    registry,
    secretValues,
    secrets,
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
  /** Spans, metrics and alerts of this process. */
  telemetry: Telemetry;
  close(): Promise<void>;
}

/** Opens the store and starts an engine that runs plugins in the sandbox. */
export async function startEngine(ctx: CliContext): Promise<EngineHandle> {
  if (ctx.config.store.url) {
    throw new Error(
      "store.url (SLUICE_DATABASE_URL) selects the PostgreSQL backend, which this build does not " +
        "have yet; unset it to use the embedded Deno KV store",
    );
  }
  const backend = await openKvBackend(ctx.config.store.path);
  const telemetry = createTelemetry({
    otlpEndpoint: ctx.config.telemetry.otlpEndpoint,
    role: "worker",
    log: ctx.log,
    secrets: ctx.secrets,
    secretValues: ctx.secretValues,
    publicUrl: ctx.config.server.publicUrl,
  });
  telemetry.watchStore(backend.store);
  const executor = new SandboxExecutor({
    ...telemetry.sandbox,
    log: (e) =>
      ctx.log[e.level](e.msg, { run: e.runId, stage: e.stageId, chunk: e.chunk, source: e.source }),
  });
  const engine = new Engine({
    backend,
    executor,
    dataDir: ctx.config.dataDir,
    secrets: ctx.secrets,
    secretValues: ctx.secretValues,
    concurrency: ctx.config.engine.concurrency,
    log: ctx.log,
    network: ctx.network,
    telemetry: telemetry.engine,
  });
  await engine.start();
  return {
    engine,
    backend,
    telemetry,
    async close() {
      await engine.close();
      await executor.close();
      await telemetry.close();
      backend.close();
    },
  };
}
