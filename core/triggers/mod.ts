/**
 * Triggers: the cron {@link Scheduler} and the {@link WebhookIntake}, over a
 * {@link PipelineCatalog} and a {@link TriggerStore} kept in the server's KV file.
 *
 * ```ts
 * const catalog = await PipelineCatalog.open({ dir: "pipelines", registry });
 * catalog.watch();
 * const triggers = await startTriggers({ engine, backend, kv, catalog, registry, secrets, dataDir });
 * app.post("/hooks/:pipeline/:hook", (c) =>
 *   triggers.webhooks.handle(c.req.raw, c.req.param("pipeline"), c.req.param("hook")));
 * // at shutdown
 * await triggers.close();
 * await catalog.close();
 * ```
 * @module
 */
import type { Engine } from "../engine/engine.ts";
import type { StageDefaults } from "../engine/prepare.ts";
import type { PreflightDeps } from "../engine/source_preflight.ts";
import type { PluginRegistry } from "../plugins/manifest.ts";
import type { Backend } from "../store/store.ts";
import type { Logger } from "../telemetry/log.ts";
import type { Clock } from "./clock.ts";
import { KvTriggerStore } from "./kv_trigger_store.ts";
import type { PipelineCatalog } from "./pipeline_catalog.ts";
import { RunLauncher } from "./run_launcher.ts";
import { Scheduler, type SchedulerOptions } from "./scheduler.ts";
import type { TriggerStore } from "./trigger_store.ts";
import { WebhookIntake, type WebhookIntakeOptions } from "./webhooks.ts";

export {
  type CatalogEntry,
  CatalogError,
  type CatalogEvent,
  PipelineCatalog,
  PipelinesReadOnlyError,
  writingPipelines,
} from "./pipeline_catalog.ts";
export { type ScheduleInfo, Scheduler, TriggerError } from "./scheduler.ts";
export { WebhookIntake } from "./webhooks.ts";
export { KvTriggerStore } from "./kv_trigger_store.ts";
export type { DeliveryRecord, FireRecord, TriggerStore } from "./trigger_store.ts";
export { type Clock, ManualClock, systemClock } from "./clock.ts";
export { signRequest } from "./webhook_signatures.ts";

/** Options of {@link startTriggers}. */
export interface StartTriggersOptions {
  /** Records runs. */
  engine: Pick<Engine, "createRun">;
  /** Run states for overlap checks. */
  backend: Pick<Backend, "store">;
  /** The KV handle trigger state lives in (usually the server's own file); or give `store`. */
  kv?: Deno.Kv;
  store?: TriggerStore;
  catalog: PipelineCatalog;
  registry: PluginRegistry;
  /** Resolves `${{ secrets.NAME }}` (webhook secrets). */
  secrets: (name: string) => string | undefined;
  /**
   * Webhook input files go under `<dataDir>/webhooks/`; runs without an input file read the
   * source's relative `with.path` under `<dataDir>/plugin-data/<plugin>/`.
   */
  dataDir: string;
  defaults?: StageDefaults;
  clock?: Clock;
  log?: Logger;
  /** Scheduler tuning (lease, poll, grace, owner). */
  scheduler?: Partial<
    Pick<SchedulerOptions, "owner" | "leaseMs" | "pollMs" | "graceMs" | "keepFires" | "onFire">
  >;
  /** Webhook tuning (body size, tolerance, idempotency TTL, history size). */
  webhooks?: Partial<
    Pick<
      WebhookIntakeOptions,
      "maxBodyBytes" | "toleranceMs" | "idempotencyTtlMs" | "keepDeliveries"
    >
  >;
  /**
   * The executor and settings runs get: with them a webhook's items body is read by the
   * pipeline's source before its run is recorded, and refused (422) when the source cannot read
   * it at all (see `WebhookIntakeOptions.preflight`); `registry`, `dataDir` and `defaults` are
   * these options' own.
   */
  preflight?: Omit<PreflightDeps, "registry" | "dataDir" | "defaults">;
}

/** Running triggers. */
export interface Triggers {
  scheduler: Scheduler;
  webhooks: WebhookIntake;
  store: TriggerStore;
  /**
   * Stops the scheduler (gives up its lease) and waits for webhook delivery records still being
   * written. The catalog and KV stay open.
   */
  close(): Promise<void>;
}

/** Starts the scheduler and builds the webhook intake. */
export async function startTriggers(o: StartTriggersOptions): Promise<Triggers> {
  const store = o.store ?? (o.kv ? new KvTriggerStore(o.kv) : undefined);
  if (!store) throw new TypeError("startTriggers needs `kv` or `store`");
  const clock = o.clock;
  const runs = new RunLauncher({
    engine: o.engine,
    store: o.backend.store,
    registry: o.registry,
    defaults: o.defaults,
    now: clock ? () => clock.now() : undefined,
    dataDir: o.dataDir,
  });
  const scheduler = new Scheduler({
    ...o.scheduler,
    catalog: o.catalog,
    store,
    runs,
    clock,
    log: o.log?.child({ component: "scheduler" }),
  });
  const webhooks = new WebhookIntake({
    ...o.webhooks,
    catalog: o.catalog,
    store,
    runs,
    registry: o.registry,
    secrets: o.secrets,
    dataDir: o.dataDir,
    preflight: o.preflight && {
      ...o.preflight,
      registry: o.registry,
      dataDir: o.dataDir,
      defaults: o.defaults,
    },
    clock,
    log: o.log?.child({ component: "webhooks" }),
  });
  // A hook whose secret is not set answers every call 500: say so at start and on each change.
  webhooks.warnUnsetSecrets(o.catalog.list());
  const unsubscribe = o.catalog.subscribe((e) => {
    const entry = e.kind === "removed" ? undefined : o.catalog.get(e.name);
    if (entry) webhooks.warnUnsetSecrets([entry]);
  });
  await scheduler.start();
  return {
    scheduler,
    webhooks,
    store,
    close: async () => {
      unsubscribe();
      await scheduler.stop();
      await webhooks.settled();
    },
  };
}
