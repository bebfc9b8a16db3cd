/**
 * One place that builds a process's telemetry from its config: tracing (OTLP, Deno's built-in
 * OTel, an injected exporter, or off), the metric families, the engine's hooks (spans, metrics,
 * `onFailure` alerts) and the sandbox executor's callbacks.
 *
 * ```ts
 * const tel = createTelemetry({ otlpEndpoint: config.telemetry.otlpEndpoint, log, secrets });
 * const executor = new SandboxExecutor({ ...tel.sandbox, log: ... });
 * const engine = new Engine({ ..., telemetry: tel.engine });
 * tel.watchStore(backend.store);               // runs by state, queue depth at scrape time
 * createApp({ ..., metrics: tel.metrics, tracer: tel.tracer });
 * ```
 * @module
 */
import type { Tracer } from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { backlogCollector, type BacklogStore } from "./backlog.ts";
import { EngineTelemetry } from "./engine_telemetry.ts";
import type { Logger } from "./log.ts";
import { MetricsRegistry } from "./metrics.ts";
import { SluiceMetrics } from "./sluice_metrics.ts";
import { setupTracing, type Tracing } from "./tracing.ts";
import { withRunTraceIds } from "./run_trace_log.ts";
import { maskSecrets } from "../../sdk/runtime/secret_mask.ts";
import type { NoticeOutbox } from "../store/notices.ts";

/** Options of {@linkcode createTelemetry}. */
export interface TelemetryOptions {
  /** `telemetry.otlpEndpoint`: OTLP/HTTP base URL; unset: Deno's OTel if `OTEL_DENO`, else off. */
  otlpEndpoint?: string;
  /** Export spans here instead (tests). */
  exporter?: SpanExporter;
  /** Environment (`OTEL_DENO`); default: the process's. */
  env?: Record<string, string | undefined>;
  /** What this process is: `serve`, `worker` or `run` (a resource attribute). */
  role?: string;
  log?: Logger;
  /** Resolves `${{ secrets.NAME }}` of `onFailure`. */
  secrets?: (name: string) => string | undefined;
  /** Secret values to mask in alerts and span messages. */
  secretValues?: Iterable<string>;
  /** `server.publicUrl`, to link runs in alerts. */
  publicUrl?: string;
  /** For alerts (tests inject). */
  fetch?: typeof fetch;
  /** Epoch ms. */
  now?: () => number;
  /** Waits between alert attempts (tests inject). */
  sleep?: (ms: number) => Promise<void>;
  /** The store's outbox of undelivered notices (`Store.notices`): each notice is recorded there before it is sent. */
  notices?: Pick<NoticeOutbox, "add" | "settle">;
}

/** Sandbox executor options that report telemetry (spread them into its options). */
export interface SandboxTelemetryOptions {
  tracer: Tracer;
  metric: (e: {
    plugin?: string;
    stageId: string;
    kind: "count" | "gauge";
    name: string;
    value: number;
  }) => void;
  onInstance: (e: {
    event: "started" | "stopped" | "died";
    plugin: string;
    stageId: string;
    reason?: string;
  }) => void;
}

/** A process's telemetry. */
export interface Telemetry {
  tracing: Tracing;
  tracer: Tracer;
  metrics: SluiceMetrics;
  /** The engine's `telemetry` option. */
  engine: EngineTelemetry;
  /** The sandbox executor's `tracer`, `metric` and `onInstance` options. */
  sandbox: SandboxTelemetryOptions;
  /**
   * Adds scrape-time gauges read from `store` (runs by state, queue depth and its total, age,
   * `sluice_store_up`), each scrape waiting at most 1.5 s for the store.
   */
  watchStore(store: BacklogStore): void;
  /**
   * `log` for lines about runs: with tracing on, a line naming a `run` also carries its
   * `traceId` (see `run_trace_log.ts`); with tracing off, `log` itself.
   */
  runLog(log: Logger): Logger;
  /** Masks known secret values in `text`. */
  mask(text: string): string;
  /** Waits for alerts and exports buffered spans. */
  close(): Promise<void>;
}

/** Builds the telemetry of one process. */
export function createTelemetry(opts: TelemetryOptions = {}): Telemetry {
  const log = opts.log;
  const tracing = setupTracing({
    otlpEndpoint: opts.otlpEndpoint,
    exporter: opts.exporter,
    env: opts.env,
    attributes: opts.role ? { "sluice.role": opts.role } : undefined,
    onExportError: (message) => log?.warn(message),
  });
  const metrics = new SluiceMetrics(
    new MetricsRegistry({
      onCollectError: (e) =>
        log?.warn("a metrics collector failed; /metrics answers without its gauges", {
          error: (e as Error).message,
        }),
    }),
  );
  const mask = (text: string) => maskSecrets(text, opts.secretValues ?? []);
  const engine = new EngineTelemetry({
    tracer: tracing.tracer,
    withRunIds: tracing.withRunIds,
    metrics,
    now: opts.now,
    notices: opts.notices,
    alert: {
      secrets: opts.secrets,
      mask,
      publicUrl: opts.publicUrl,
      fetch: opts.fetch,
      now: opts.now,
      sleep: opts.sleep,
      log: log?.child({ component: "alerts" }),
    },
  });
  const sandbox: SandboxTelemetryOptions = {
    tracer: tracing.tracer,
    metric: (e) => metrics.pluginMetric(e),
    onInstance: (e) => {
      const labels = { plugin: e.plugin, stage: e.stageId };
      if (e.event === "started") {
        metrics.sandboxInstances.inc(labels);
        metrics.sandboxStarts.inc({ plugin: e.plugin });
      } else if (e.event === "stopped") {
        metrics.sandboxInstances.dec(labels);
      } else {
        metrics.sandboxRestarts.inc({ plugin: e.plugin, reason: e.reason ?? "exit" });
      }
    },
  };
  if (tracing.mode !== "off") log?.info("tracing on", { mode: tracing.mode });
  return {
    tracing,
    tracer: tracing.tracer,
    metrics,
    engine,
    sandbox,
    mask,
    watchStore(store) {
      metrics.registry.collect(backlogCollector(metrics, store, { now: opts.now }));
    },
    runLog: (l) => (tracing.mode === "off" ? l : withRunTraceIds(l)),
    async close() {
      await engine.close();
      await tracing.close().catch((e) =>
        log?.warn("exporting the last spans failed", { error: (e as Error).message })
      );
    },
  };
}
