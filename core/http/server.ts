/**
 * The whole server process of `sluice serve`: one Deno KV handle for store, queue, tokens,
 * sessions and trigger state (with `store.url`, PostgreSQL holds runs, queue and trigger state,
 * and the KV file only this server's API tokens and sessions); the engine's workers with the
 * sandbox executor; the pipeline catalog (hot reload, versions), the cron scheduler and webhook intake of `core/triggers/`;
 * and the HTTP app on `server.host`/`server.port`.
 * @module
 */
import { type CliContext, openBackend, startHousekeeping, withRunClaims } from "../cli/context.ts";
import { Engine } from "../engine/engine.ts";
import { dirname } from "../paths.ts";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { KvQueue, KvStore } from "../store/kv_backend.ts";
import { chunkDirFor } from "../store/chunk_files.ts";
import { groupCommits } from "../store/kv_group_commit.ts";
import { lockRetrying, retryLocked } from "../../sdk/io/kv_locks.ts";
import type { Backend } from "../store/store.ts";
import type { PgBackend } from "../store/pg/pg_backend.ts";
import { PgTriggerStore } from "../store/pg/pg_trigger_store.ts";
import { PipelineCatalog, startTriggers } from "../triggers/mod.ts";
import { createApp } from "./app.ts";
import { npmRegistryFromEnv } from "../plugins/sources.ts";
import { configSources, renderConfig } from "../config/config.ts";
import { withUi } from "../../web/mod.ts";
import type { Limits, LoginOptions } from "./deps.ts";
import { parseAllowList } from "./oidc.ts";
import { catalogAdapter, scheduleAdapter } from "./triggers_adapter.ts";
import { createTelemetry } from "../telemetry/setup.ts";

/** A running server. */
export interface RunningServer {
  /** `http://host:port`. */
  url: string;
  /** A new admin token when this was the first start (print it once), else undefined. */
  adminToken?: string;
  /** Stops HTTP, scheduler, engine and store, in that order. */
  close(): Promise<void>;
}

/** Browser login settings from `auth.oidc.*` (GitHub when the issuer is github.com). */
export function loginFromConfig(config: CliContext["config"]): LoginOptions | undefined {
  const o = config.auth.oidc;
  if (!o.issuer || !o.clientId) return undefined;
  const url = new URL(o.issuer);
  const github = url.hostname === "github.com";
  return {
    providers: [{
      kind: github ? "github" : "oidc",
      id: github ? "github" : "oidc",
      issuer: o.issuer,
      clientId: o.clientId,
      clientSecret: o.clientSecret,
    }],
    allow: parseAllowList(o.allow),
    allowInsecureIssuer: url.protocol === "http:",
  };
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** Called with `http://host:port` once the server listens. */
  onListen?: (url: string) => void;
  /**
   * Whether this process executes runs (default true). With `false` (`sluice serve
   * --no-workers`) runs are recorded and queued only; `sluice worker` processes execute them.
   */
  engine?: boolean;
  /** Request limits of the HTTP app (default: its built-in per-address and per-token limits). */
  limits?: Limits;
}

/**
 * What `sluice serve` says when `server.host:server.port` is taken: by another program, or by
 * another Sluice process on the host (a `sluice worker` serves `/metrics` on `server.port` too).
 */
export function portTakenMessage(host: string, port: number): string {
  return `port ${port} on ${host} is taken (by another program, another sluice serve, or a ` +
    "sluice worker, which serves /metrics on server.port); set SLUICE_SERVER_PORT (server.port) " +
    "to a free port: each sluice process on a host needs its own";
}

/** Starts everything `sluice serve` runs. */
export async function startServer(
  ctx: CliContext,
  opts: StartServerOptions = {},
): Promise<RunningServer> {
  const config = ctx.config;
  const login = loginFromConfig(config);
  await Deno.mkdir(dirname(config.store.path), { recursive: true });
  // The KV file (with its chunk folder) holds everything in embedded mode; with store.url
  // (PostgreSQL) runs, chunks and the queue live in the database and this file keeps only this
  // server's API tokens, sessions and trigger state.
  // Concurrent commits share one disk sync (see kv_group_commit.ts): webhook bursts, many runs.
  // Writes meeting another process's lock on the file (a `sluice run` beside) are retried.
  const path = config.store.path;
  const kv = lockRetrying(
    groupCommits(await retryLocked(() => Deno.openKv(path), undefined, path)),
    path,
  );
  let backend: Backend;
  try {
    const embedded: Backend = {
      store: new KvStore(kv, { chunkDir: chunkDirFor(config.store.path) }),
      queue: new KvQueue(kv),
      close: () => {},
    };
    // On the embedded store this server's runs are its own, and a `sluice run` on the same data
    // folder's live runs stay that process's (run claims).
    backend = config.store.url
      ? await openBackend(ctx)
      : opts.engine !== false
      ? await withRunClaims(embedded, kv)
      : embedded;
  } catch (e) {
    kv.close();
    throw e;
  }
  const telemetry = createTelemetry({
    otlpEndpoint: config.telemetry.otlpEndpoint,
    role: "serve",
    log: ctx.log,
    secrets: ctx.secrets,
    secretValues: ctx.secretValues,
    publicUrl: config.server.publicUrl,
    notices: backend.store.notices,
  });
  telemetry.watchStore(backend.store);
  // Lines about a run carry its trace id when tracing is on.
  const runLog = telemetry.runLog(ctx.log);
  const executor = new SandboxExecutor({
    ...telemetry.sandbox,
    idleMs: config.engine.sandboxIdle,
    maxIdle: config.engine.sandboxMaxIdle,
    log: (e) =>
      runLog[e.level](e.msg, { run: e.runId, stage: e.stageId, chunk: e.chunk, source: e.source }),
  });
  const engine = new Engine({
    backend,
    executor,
    dataDir: config.dataDir,
    secrets: ctx.secrets,
    secretGrants: ctx.secretGrants,
    secretValues: ctx.secretValues,
    concurrency: config.engine.concurrency,
    log: runLog,
    network: ctx.network,
    telemetry: telemetry.engine,
  });
  const cleanup: (() => Promise<void> | void)[] = [
    () => kv.close(),
    () => backend.close(),
    () => telemetry.close(),
    () => executor.close(),
  ];
  const close = async () => {
    for (const f of cleanup.reverse()) await f();
  };
  try {
    if (opts.engine !== false) await engine.start();
    cleanup.push(() => engine.close());
    cleanup.push(startHousekeeping(ctx, backend, engine, telemetry.metrics));
    const catalog = await PipelineCatalog.open({
      dir: config.pipelines.dir,
      registry: ctx.registry,
      secretGrants: ctx.secretGrants,
      log: ctx.log.child({ component: "catalog" }),
    });
    catalog.watch();
    cleanup.push(() => catalog.close());
    const triggers = await startTriggers({
      engine,
      backend,
      kv,
      // On PostgreSQL the trigger state (scheduler lease, claims) is shared by every server.
      store: "sql" in backend ? new PgTriggerStore((backend as PgBackend).sql) : undefined,
      catalog,
      registry: ctx.registry,
      secrets: ctx.secrets,
      dataDir: config.dataDir,
      defaults: ctx.defaults,
      // A webhook body its pipeline's source cannot read is refused (422), not started.
      preflight: {
        executor,
        secrets: ctx.secrets,
        secretGrants: ctx.secretGrants,
        secretValues: ctx.secretValues,
        network: ctx.network,
      },
      log: ctx.log,
      scheduler: {
        onFire: (e) =>
          telemetry.metrics.schedulerLag.observe(
            { pipeline: e.pipeline },
            Math.max(0, e.lagMs) / 1000,
          ),
      },
    });
    cleanup.push(() => triggers.close());
    const stopping = new AbortController();
    const { app, tokens } = createApp(
      await withUi({
        signal: stopping.signal,
        engine,
        store: backend.store,
        kv,
        registry: ctx.registry,
        executor,
        pipelines: catalogAdapter(catalog),
        schedules: scheduleAdapter(triggers.scheduler),
        hooks: triggers.webhooks,
        dataDir: config.dataDir,
        npmRegistry: npmRegistryFromEnv((name) => Deno.env.get(name)),
        defaults: ctx.defaults,
        secrets: ctx.secrets,
        secretGrants: ctx.secretGrants,
        secretValues: ctx.secretValues,
        network: ctx.network,
        log: ctx.log,
        publicUrl: config.server.publicUrl,
        trustedProxies: config.server.trustedProxies,
        login,
        metrics: telemetry.metrics,
        tracer: telemetry.tracer,
        limits: opts.limits,
      }, {
        hooks: triggers.webhooks,
        config: () => renderConfig(config, configSources(config)),
      }),
    );
    const adminToken = await tokens.ensureAdmin(config.server.adminToken, { log: ctx.log });
    if (config.server.adminToken) ctx.secretValues.add(config.server.adminToken);
    let url = "";
    let server: Deno.HttpServer;
    try {
      server = Deno.serve({
        hostname: config.server.host,
        port: config.server.port,
        onListen: ({ hostname, port }) => {
          url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
          opts.onListen?.(url);
        },
      }, (req, info) => app.fetch(req, info));
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
      throw new Error(portTakenMessage(config.server.host, config.server.port), { cause: e });
    }
    cleanup.push(async () => {
      stopping.abort();
      await server.shutdown();
    });
    return { url, adminToken, close };
  } catch (e) {
    await close();
    throw e;
  }
}
