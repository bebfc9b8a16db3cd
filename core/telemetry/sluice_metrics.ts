/**
 * Every metric Sluice exposes on `/metrics`, declared in one place with names, help texts and
 * labels (labels never hold run ids or item keys, so series stay few). Thresholds worth alerting
 * on are in `deploy/prometheus/alerts.yaml`.
 * @module
 */
import { type Counter, type Gauge, type Histogram, MetricsRegistry } from "./metrics.ts";

/** Most distinct metric names one plugin stage may report (each is a series kept in memory). */
export const MAX_PLUGIN_METRIC_NAMES = 200;
/** Longest plugin metric name kept, in characters. */
export const MAX_PLUGIN_METRIC_NAME = 100;

/** Chunk latency buckets, seconds (1 ms to 10 min). */
const CHUNK_BUCKETS = [0.001, 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 600];
/** HTTP latency buckets, seconds. */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** The Sluice metric families over one registry. */
export class SluiceMetrics {
  /** The registry that renders them (add collectors to it). */
  readonly registry: MetricsRegistry;
  /** Runs created, by pipeline and trigger kind. */
  readonly runsCreated: Counter;
  /** Runs that reached a final state, by pipeline and state. */
  readonly runsFinished: Counter;
  /** Runs not finished yet, by state (queued, running), read from the store at scrape time. */
  readonly runsActive: Gauge;
  /** Run duration from creation to final state. */
  readonly runDuration: Histogram;
  /** Items through a stage, by outcome (in, out, rejected, failed, filtered, skipped). */
  readonly items: Counter;
  /** Chunks finished, by outcome (done, retry, dead, skipped). */
  readonly chunks: Counter;
  /** Time one chunk spent in its stage (plugin call and commit). */
  readonly chunkDuration: Histogram;
  /** Chunks of unfinished runs not processed yet, by pipeline and stage (scrape time). */
  readonly queueDepth: Gauge;
  /**
   * Chunks of unfinished runs waiting, summed over every pipeline and stage, unlabelled and
   * always present while a store is watched (0 when idle): what autoscaling and backlog alerts
   * use. Every process reports the same store-wide value, so aggregate it with `max()`.
   */
  readonly queueDepthAll: Gauge;
  /** 1 when the last scrape's store reads answered in time, 0 when they failed or hung. */
  readonly storeUp: Gauge;
  /** Age of the oldest unfinished run that still has chunks waiting (scrape time). */
  readonly queueOldestAge: Gauge;
  /** Chunks in this process waiting for a concurrency slot. */
  readonly slotsWaiting: Gauge;
  /** Time a chunk waited for a concurrency slot in this process. */
  readonly slotWait: Histogram;
  /** Live plugin sandbox processes, by plugin and stage. */
  readonly sandboxInstances: Gauge;
  /** Plugin sandbox processes started. */
  readonly sandboxStarts: Counter;
  /** Plugin instances killed or crashed during a call (replaced on the next call), by reason. */
  readonly sandboxRestarts: Counter;
  /** Counters plugins report with `ctx.metrics.count(name, n)`. */
  readonly pluginCounters: Counter;
  /** Gauges plugins report with `ctx.metrics.gauge(name, v)` (e.g. `circuit_open`). */
  readonly pluginGauges: Gauge;
  /** Plugin metric updates dropped: a name past {@link MAX_PLUGIN_METRIC_NAMES}, or malformed. */
  readonly pluginMetricsDropped: Counter;
  /** Seconds spent waiting for a stage's `rateLimit` tokens. */
  readonly rateLimitWait: Counter;
  /** Webhook deliveries, by pipeline, hook and result (accepted, rejected) and status. */
  readonly webhooks: Counter;
  /** How late cron occurrences fired, seconds. */
  readonly schedulerLag: Histogram;
  /** `onFailure` and `onSuccess` notifications sent, by result (sent, failed, given_up). */
  readonly alerts: Counter;
  /** HTTP requests, by method, route and status. */
  readonly httpRequests: Counter;
  /** HTTP request duration. */
  readonly httpDuration: Histogram;

  /** Declares every family on `registry` (a new one by default). */
  constructor(registry: MetricsRegistry = new MetricsRegistry()) {
    const r = this.registry = registry;
    const stage = ["pipeline", "stage", "plugin"];
    this.runsCreated = r.counter("sluice_runs_created_total", "Runs created", [
      "pipeline",
      "trigger",
    ]);
    this.runsFinished = r.counter(
      "sluice_runs_finished_total",
      "Runs that reached a final state (succeeded, failed, cancelled)",
      ["pipeline", "state"],
    );
    this.runsActive = r.gauge("sluice_runs", "Unfinished runs by state (queued, running)", [
      "state",
    ]);
    this.runDuration = r.histogram(
      "sluice_run_duration_seconds",
      "Time from run creation to its final state",
      {
        labelNames: ["pipeline", "state"],
        buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400],
      },
    );
    this.items = r.counter(
      "sluice_items_total",
      "Items through a stage by outcome (in, out, rejected, failed, filtered, skipped)",
      [...stage, "outcome"],
    );
    this.chunks = r.counter(
      "sluice_chunks_total",
      "Chunks handled by outcome (done, retry, dead, skipped)",
      [...stage, "outcome"],
    );
    this.chunkDuration = r.histogram(
      "sluice_chunk_duration_seconds",
      "Time one chunk spent in its stage: plugin call and commit",
      { labelNames: [...stage, "outcome"], buckets: CHUNK_BUCKETS },
    );
    this.queueDepth = r.gauge(
      "sluice_queue_depth",
      "Chunks of unfinished runs waiting to be processed, by stage",
      ["pipeline", "stage"],
    );
    this.queueDepthAll = r.gauge(
      "sluice_queue_depth_all",
      "Chunks of unfinished runs waiting to be processed, over all pipelines and stages " +
        "(the same store-wide value in every process: aggregate with max)",
    );
    this.storeUp = r.gauge(
      "sluice_store_up",
      "1 when the store answered this scrape's reads in time, 0 when it failed or hung",
    );
    this.queueOldestAge = r.gauge(
      "sluice_queue_oldest_age_seconds",
      "Age of the oldest unfinished run that still has chunks waiting",
    );
    this.slotsWaiting = r.gauge(
      "sluice_engine_slots_waiting",
      "Chunks in this process waiting for a concurrency slot",
    );
    this.slotWait = r.histogram(
      "sluice_engine_slot_wait_seconds",
      "Time a chunk waited for a concurrency slot in this process",
      { labelNames: ["pipeline", "stage"], buckets: CHUNK_BUCKETS },
    );
    this.sandboxInstances = r.gauge(
      "sluice_sandbox_instances",
      "Live plugin sandbox processes",
      ["plugin", "stage"],
    );
    this.sandboxStarts = r.counter(
      "sluice_sandbox_starts_total",
      "Plugin sandbox processes started",
      ["plugin"],
    );
    this.sandboxRestarts = r.counter(
      "sluice_sandbox_restarts_total",
      "Plugin instances that died during a call and are replaced (timeout, out_of_memory, crash…)",
      ["plugin", "reason"],
    );
    this.pluginCounters = r.counter(
      "sluice_plugin_events_total",
      "Counters reported by plugins with ctx.metrics.count",
      ["plugin", "stage", "name"],
    );
    this.pluginGauges = r.gauge(
      "sluice_plugin_gauge",
      "Gauges reported by plugins with ctx.metrics.gauge (circuit_open: 1 while a breaker is open)",
      ["plugin", "stage", "name"],
    );
    this.pluginMetricsDropped = r.counter(
      "sluice_plugin_metrics_dropped_total",
      `Plugin metric updates dropped: a name longer than ${MAX_PLUGIN_METRIC_NAME} characters, ` +
        `or more than ${MAX_PLUGIN_METRIC_NAMES} names in one stage`,
      ["plugin", "stage"],
    );
    this.rateLimitWait = r.counter(
      "sluice_rate_limit_wait_seconds_total",
      "Seconds spent waiting for rate-limit tokens (stage rateLimit; plugins add their own)",
      ["pipeline", "stage"],
    );
    this.webhooks = r.counter(
      "sluice_webhooks_total",
      "Webhook deliveries by result (accepted, rejected) and HTTP status",
      ["pipeline", "hook", "result", "status"],
    );
    this.schedulerLag = r.histogram(
      "sluice_scheduler_lag_seconds",
      "How late a cron occurrence fired after its planned time",
      { labelNames: ["pipeline"], buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 3600] },
    );
    this.alerts = r.counter(
      "sluice_alerts_total",
      "onFailure and onSuccess notifications by result (sent, failed, given_up)",
      ["pipeline", "result"],
    );
    this.httpRequests = r.counter("sluice_http_requests_total", "HTTP requests answered", [
      "method",
      "route",
      "status",
    ]);
    this.httpDuration = r.histogram("sluice_http_request_duration_seconds", "HTTP request time", {
      labelNames: ["method", "route"],
      buckets: HTTP_BUCKETS,
    });
  }

  /** Gauge names plugins reported, by `plugin\u0000stage` (to clear them when a run ends). */
  #gaugeNames = new Map<string, Set<string>>();
  /** Every metric name plugins reported, by `plugin\u0000stage` (bounded, see pluginMetric). */
  #pluginNames = new Map<string, Set<string>>();

  /**
   * Records a plugin's `ctx.metrics` update (the sandbox executor's `metric` option). Names come
   * from plugin code, and each one is a series kept for the life of the process: a stage gets at
   * most {@link MAX_PLUGIN_METRIC_NAMES} names of at most {@link MAX_PLUGIN_METRIC_NAME}
   * characters; other updates are dropped and counted in `sluice_plugin_metrics_dropped_total`.
   */
  pluginMetric(
    e: { plugin?: string; stageId: string; kind: "count" | "gauge"; name: string; value: number },
  ): void {
    const labels = { plugin: e.plugin ?? "", stage: e.stageId, name: e.name };
    const stageKey = `${labels.plugin}\u0000${labels.stage}`;
    let known = this.#pluginNames.get(stageKey);
    if (!known) this.#pluginNames.set(stageKey, known = new Set());
    if (!known.has(e.name)) {
      if (
        typeof e.name !== "string" || e.name.length === 0 ||
        e.name.length > MAX_PLUGIN_METRIC_NAME || known.size >= MAX_PLUGIN_METRIC_NAMES
      ) {
        this.pluginMetricsDropped.inc({ plugin: labels.plugin, stage: labels.stage });
        return;
      }
      known.add(e.name);
    }
    if (e.kind === "count") {
      if (e.value >= 0) this.pluginCounters.inc(labels, e.value);
      return;
    }
    this.pluginGauges.set(labels, e.value);
    const k = `${labels.plugin}\u0000${labels.stage}`;
    const names = this.#gaugeNames.get(k) ?? new Set<string>();
    names.add(e.name);
    this.#gaugeNames.set(k, names);
  }

  /**
   * A run ended: the gauges its stages' plugins reported drop to 0 (a breaker left open by the
   * run's last call would otherwise show `circuit_open 1`, and fire its alert, until a restart).
   * A run of the same stage still going sets its value again at its next report.
   */
  clearPluginGauges(stages: { plugin: string; stage: string }[]): void {
    for (const { plugin, stage } of stages) {
      for (const name of this.#gaugeNames.get(`${plugin}\u0000${stage}`) ?? []) {
        this.pluginGauges.set({ plugin, stage, name }, 0);
      }
    }
  }
}
