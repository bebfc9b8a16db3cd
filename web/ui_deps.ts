/**
 * What the web UI needs: the same services the API uses (`AppDeps`), plus the webhook delivery
 * history and the effective configuration text, which only the server process knows.
 * @module
 */
import type { AppDeps } from "../core/http/deps.ts";
import type { DeliveryRecord } from "../core/triggers/trigger_store.ts";

/** Delivery history of webhooks (the triggers' `WebhookIntake`). */
export interface DeliverySource {
  deliveries(pipeline: string, hook: string, limit?: number): Promise<DeliveryRecord[]>;
}

/** Options of {@link createUi}. */
export interface UiOptions {
  /** The services of the HTTP app (store, KV, registry, pipelines, schedules…). */
  deps: AppDeps;
  /** Webhook deliveries, shown on the triggers page. */
  hooks?: DeliverySource;
  /** The effective configuration as YAML with secrets masked (`renderConfig`). */
  config?: () => string;
  /** Folder of the built static files (default: `web/static/` beside this module). */
  staticDir?: string;
  /** Items a text search of the leads table checks per page (default 10,000; tests lower it). */
  leadsMaxScan?: number;
}
