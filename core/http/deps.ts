/**
 * What the HTTP app needs from the rest of the server, injected so tests use real parts on temp
 * files: the engine and store, a KV handle for tokens and sessions, the plugin registry, the
 * pipeline catalog, the scheduler and webhook intake (from `core/triggers/`), clocks and limits.
 * @module
 */
import type { SecretGrants } from "../plugins/secret_grants.ts";
import type { Hono } from "hono";
import type { NetworkSettings } from "../../sdk/types.ts";
import type { Engine } from "../engine/engine.ts";
import type { StageExecutor } from "../engine/executor.ts";
import type { StageDefaults } from "../engine/prepare.ts";
import type { DenoCache } from "../plugins/install.ts";
import type { Registry } from "../plugins/registry.ts";
import type { Problem } from "../pipeline/problem.ts";
import type { Pipeline } from "../pipeline/model.ts";
import type { Store } from "../store/store.ts";
import type { Logger } from "../telemetry/log.ts";
import type { Tracer } from "@opentelemetry/api";
import type { SluiceMetrics } from "../telemetry/sluice_metrics.ts";
import type { RateLimit } from "./rate_limit.ts";
import type { Role } from "./roles.ts";

/** One pipeline file known to the server. */
export interface PipelineEntry {
  name: string;
  /** Path of the file, for messages. */
  file: string;
  yaml: string;
  /** The parsed pipeline when valid. */
  pipeline?: Pipeline;
  problems: Problem[];
  /** What should change but keeps it valid (a secret written in the file), at line:col. */
  warnings?: Problem[];
  /** Last change, epoch ms. */
  updatedAt: number;
  /** Version counter or content hash, when the catalog keeps versions. */
  version?: string;
  /**
   * While the file is broken (`problems` not empty): the last good version, which schedules and
   * webhooks keep running; runs started by hand (API, UI) are refused until the file is fixed.
   * Undefined when the file is good or never was.
   */
  lastGood?: { pipeline: Pipeline; yaml: string; loadedAt: number };
}

/**
 * Where pipelines live. The default is {@link FilePipelineCatalog} over `pipelines.dir`; the
 * trigger catalog of `core/triggers/` (hot reload, versions) can take its place.
 */
export interface PipelineCatalog {
  list(): Promise<PipelineEntry[]>;
  get(name: string): Promise<PipelineEntry | undefined>;
  /** Saves already validated YAML under `name`. */
  put(name: string, yaml: string): Promise<PipelineEntry>;
  /** Removes it; false when unknown. */
  delete(name: string): Promise<boolean>;
  /** Earlier versions, newest first (catalogs that keep versions). */
  history?(name: string): Promise<{ id: string; at: number }[]>;
  /** The text of one earlier version. */
  readVersion?(name: string, id: string): Promise<string>;
}

/** One cron schedule as the API shows it. */
export interface ScheduleInfo {
  /** Stable id, e.g. `pipeline/cron-0`. */
  id: string;
  pipeline: string;
  cron: string;
  timezone?: string;
  paused: boolean;
  enabled?: boolean;
  /** Overlap policy: skip, queue or allow. */
  overlap?: string;
  /** Catch-up after downtime: none, last or all. */
  catchUp?: string;
  /** Next fire times (ISO 8601), soonest first. */
  next: string[];
  /** The same times in the schedule's time zone, with its offset. */
  nextLocal?: string[];
  /** When the latest occurrence was handled (ISO 8601). */
  lastFiredAt?: string;
  /** The latest occurrence handled: what happened and which run it started. */
  lastFire?: ScheduleFire;
}

/** One occurrence of a schedule as the scheduler handled it. */
export interface ScheduleFire {
  /** The occurrence's time (ISO 8601, UTC). */
  scheduledAt: string;
  /** The same in the schedule's time zone, with its offset. */
  scheduledAtLocal?: string;
  /** When it was handled (ISO 8601). */
  firedAt: string;
  /** started, queued, skipped, missed or failed. */
  outcome: string;
  /** The run it started. */
  runId?: string;
  /** Why it was skipped, missed or failed (or what a queued one waits for). */
  reason?: string;
  /** Fired late, by catch-up after downtime. */
  catchUp?: boolean;
}

/** The scheduler's steering surface (implemented over `core/triggers/`). */
export interface ScheduleService {
  list(): Promise<ScheduleInfo[]>;
  /** Returns false when there is no such schedule. */
  pause(id: string): Promise<boolean>;
  resume(id: string): Promise<boolean>;
  /** The newest `limit` occurrences handled, newest first; undefined when there is no such schedule. */
  fires?(id: string, limit: number): Promise<ScheduleFire[] | undefined>;
}

/** One webhook request as answered, for the API. */
export interface HookDelivery {
  /** When it was received (epoch ms). */
  at: number;
  status: number;
  runId?: string;
  reason?: string;
  deliveryId?: string;
  items?: number;
  duplicate?: boolean;
}

/** An identity provider for browser login. */
export interface LoginProvider {
  /** `oidc` (discovery from `issuer`) or `github` (OAuth 2.0 + the GitHub API). */
  kind: "oidc" | "github";
  /** Short id in URLs: `/auth/login?provider=ID`. */
  id: string;
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** GitHub only: API base (default `https://api.github.com`). */
  apiBase?: string;
  /** Extra scopes. */
  scopes?: string[];
}

/** An allow-list rule: who may log in, with which role. */
export interface AllowRule {
  /** `alice@example.com`, `@example.com` (a whole domain) or `org:NAME` (GitHub org member). */
  match: string;
  role: Role;
}

/** Browser login settings. */
export interface LoginOptions {
  providers: LoginProvider[];
  allow: AllowRule[];
  /** Session lifetime (default 12 h). */
  sessionTtlMs?: number;
  /** Allows `http://` issuers (tests on loopback). */
  allowInsecureIssuer?: boolean;
}

/** Request limits. */
export interface Limits {
  /** JSON/form bodies (default 1 MiB). */
  jsonBytes?: number;
  /** CSV/JSONL uploads that start runs (default 256 MiB). */
  uploadBytes?: number;
  /** Per client address, every route but health (default 600/min). */
  perIp?: RateLimit;
  /** Per token or session (default 1200/min). */
  perPrincipal?: RateLimit;
}

/** Everything {@link createApp} needs. */
export interface AppDeps {
  engine: Engine;
  store: Store;
  /** KV for tokens and sessions (may be the store's own file). */
  kv: Deno.Kv;
  registry: Registry;
  /** Runs dry-run stages (the sandbox in production). */
  executor: StageExecutor;
  pipelines: PipelineCatalog;
  /** Data folder: plugin data and uploaded run inputs live under it. */
  dataDir: string;
  defaults?: StageDefaults;
  secrets?: (name: string) => string | undefined;
  /** Secrets plugins get beyond their manifest's `secrets` (`secrets.grants`). */
  secretGrants?: SecretGrants;
  secretValues?: Set<string>;
  network?: NetworkSettings;
  log?: Logger;
  /** Epoch ms. */
  now?: () => number;
  /** Public URL (origin checks, OIDC redirect URIs). Default: the request's origin. */
  publicUrl?: string;
  login?: LoginOptions;
  limits?: Limits;
  schedules?: ScheduleService;
  /** Webhook intake from `core/triggers/` (`WebhookIntake`), mounted at `/hooks/{pipeline}/{hook}`. */
  hooks?: {
    handle(req: Request, pipeline: string, hookId: string): Promise<Response>;
    /** The newest deliveries of a hook first (`GET /api/v1/hooks/{pipeline}/{hook}/deliveries`). */
    deliveries?(pipeline: string, hookId: string, limit?: number): Promise<HookDelivery[]>;
  };
  /** The web UI, mounted at `/` last. */
  ui?: Hono;
  /** Readiness beyond the store answering. */
  ready?: () => Promise<boolean>;
  /** Aborted at shutdown: ends live streams so the HTTP server can stop. */
  signal?: AbortSignal;
  /** How often SSE progress polls the store (default 500 ms). */
  progressIntervalMs?: number;
  /** Plugin install: `deno cache` step, fetch and npm registry (tests inject). */
  denoCache?: DenoCache;
  fetch?: typeof fetch;
  npmRegistry?: string;
  /**
   * How the client address is found (default: `remoteAddr` of Deno.serve, or behind one of
   * `trustedProxies` the address it forwarded; see `client_address.ts`).
   */
  clientIp?: (req: Request, env: unknown) => string;
  /**
   * Reverse proxies (IP addresses, CIDR ranges) whose `X-Forwarded-For`/`Forwarded` headers
   * name the client (`server.trustedProxies`); default none.
   */
  trustedProxies?: readonly string[];
  /** Metric families served on `GET /metrics` (default: HTTP metrics only). */
  metrics?: SluiceMetrics;
  /** Server spans per request (`core/telemetry/tracing.ts`). */
  tracer?: Tracer;
}
