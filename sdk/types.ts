/**
 * Types shared by plugin authors and the Sluice host. This module imports nothing from `core/`.
 * @module
 */

/** A JSON value as carried between stages. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * One unit of work flowing through a pipeline. `key` identifies the item across stages and
 * retries (for the domain-lead pipeline it is the normalized domain).
 */
export interface Item {
  /** Stable identity of the item; duplicates are merged or detected by it. */
  key: string;
  /** Any other JSON fields the stages read and add. */
  [field: string]: unknown;
}

/** An input row or item that a stage refused, kept with its reason instead of being dropped. */
export interface Rejected {
  /** Item key, or a row reference such as `row 17` when no key could be made. */
  key: string;
  /** Why it was refused, in words a person can act on. */
  reason: string;
  /** The raw row or item, when there is one. */
  raw?: unknown;
}

/** Result of a transform or sink call on a batch of items. */
export interface ProcessResult {
  /** Items passed on to the next stage (a transform may drop, change or add items). */
  items: Item[];
  /** Items refused, each with its reason. */
  rejected?: Rejected[];
}

/**
 * Result of `finish`: the files the run wrote for people to take away (a sink's final CSV). The
 * run lists them as its downloadable artifacts: the API and web UI serve them and the CLI's run
 * summary names them. Each path must lie inside the plugin's data folder (`ctx.dataDir`).
 */
export interface FinishResult {
  /** Absolute paths (or paths relative to `ctx.dataDir`) of finished files. */
  files?: string[];
}

/** Result of one source read: the next chunk of items and where to resume. */
export interface ReadResult {
  /** The items of this chunk. */
  items: Item[];
  /** Rows that could not become items, each with its reason. */
  rejected?: Rejected[];
  /** JSON-serializable cursor to resume after this chunk; stored durably by the engine. */
  cursor: unknown;
  /** True when the source has nothing more to yield. */
  done: boolean;
}

/** Permissions a plugin asks for (manifest) or a stage grants (narrowing). */
export interface Permissions {
  /** Hosts, `host:port`, or Deno-style wildcards such as `*.example.com`. */
  net?: string[];
  /** Paths relative to the plugin's data folder (absolute paths only when granted by a stage). */
  read?: string[];
  /** Paths relative to the plugin's data folder. */
  write?: string[];
  /** Environment variable names. */
  env?: string[];
}

/**
 * The operator's network settings, handed to every plugin (config keys `network.*`). Network
 * plugins resolve names through `dnsServers` themselves and connect to the resolved address,
 * so tests can point them at the simulated internet in `testing/`.
 */
export interface NetworkSettings {
  /** DNS servers as `ip:port`; empty means the system's resolvers. */
  dnsServers: string[];
  /** Port used for `http://` probes (80 in production). */
  httpPort: number;
  /** Port used for `https://` probes (443 in production). */
  httpsPort: number;
  /** Extra CA certificates to trust (PEM text), e.g. the simulated internet's test CA. */
  caPem?: string;
  /** HTTP proxy URL, when set. */
  proxy?: string;
  /** Connect to private, loopback and link-local addresses (off by default). */
  allowPrivate: boolean;
  /** Timeouts in milliseconds. */
  timeouts: { dns: number; connect: number; request: number };
  /** Global cap on concurrent network operations per plugin instance. */
  concurrency: number;
  /** IANA RDAP bootstrap URL or path. */
  rdapBootstrap?: string;
}

/** Settings for plugins that make no network calls or when nothing is configured. */
export const DEFAULT_NETWORK: NetworkSettings = {
  dnsServers: [],
  httpPort: 80,
  httpsPort: 443,
  allowPrivate: false,
  timeouts: { dns: 3000, connect: 5000, request: 10000 },
  concurrency: 256,
};
