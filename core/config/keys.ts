/**
 * The one table of configuration keys: dotted key path, environment variable, parser, default,
 * allowed values and description. `loadConfig` reads defaults and env mappings from it,
 * `renderConfig` masks secrets with it, and the README's configuration reference is generated
 * from it with `renderConfigReference()`.
 * @module
 */

/** How an environment variable's text becomes a value. */
export type EnvParser = "string" | "int" | "bool" | "list" | "duration";

/** How a value is hidden when shown: `secret` hides all of it, `url-password` the URL's password. */
export type MaskKind = "secret" | "url-password";

/** One configuration key. */
export interface ConfigKeyInfo {
  /** Dotted key path, e.g. `server.port`. */
  readonly key: string;
  /** Environment variable that overrides the key. */
  readonly env: string;
  /** How the variable's text is parsed. */
  readonly parse: EnvParser;
  /** Default as written in `sluice.yaml`; absent means unset (or derived, see `derived`). */
  readonly default?: string | number | boolean | readonly string[];
  /** When the default is computed from another key, how (shown in docs and sources). */
  readonly derived?: string;
  /** Allowed values in words, shown in errors and docs. */
  readonly allowed: string;
  /** What the key does. */
  readonly description: string;
  /** Whether and how the value is masked when shown. */
  readonly mask?: MaskKind;
  /** A filesystem path: relative values resolve against the working directory. */
  readonly path?: boolean;
}

/** Derives the generic env name of a key: `engine.chunkSize` -> `SLUICE_ENGINE_CHUNK_SIZE`. */
export function envNameFor(key: string): string {
  return "SLUICE_" +
    key.split(".").map((part) => part.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase())
      .join("_");
}

const DURATION = "milliseconds, or a duration such as 500ms, 30s, 5m, 2h, 1d";

/**
 * Every configuration key, in the order `renderConfig` shows them. Env names follow the generic
 * rule of {@link envNameFor} except where a shorter name is conventional (e.g.
 * `SLUICE_DATABASE_URL`). Only the variables listed here are read.
 */
export const CONFIG_KEYS = [
  {
    key: "dataDir",
    env: "SLUICE_DATA_DIR",
    parse: "string",
    default: "./data",
    allowed: "a directory path",
    description: "Directory for the embedded store and installed plugins",
    path: true,
  },
  {
    key: "store.path",
    env: "SLUICE_STORE_PATH",
    parse: "string",
    derived: "<dataDir>/sluice.kv",
    allowed: "a file path",
    description: "Deno KV file of the embedded store and queue (chunk items in <path>.chunks/)",
    path: true,
  },
  {
    key: "store.url",
    env: "SLUICE_DATABASE_URL",
    parse: "string",
    allowed: "a postgres:// or postgresql:// URL",
    description: "Postgres database for scale-out mode; when set it replaces the KV file",
    mask: "url-password",
  },
  {
    key: "store.retention",
    env: "SLUICE_STORE_RETENTION",
    parse: "duration",
    allowed: DURATION,
    description:
      "Delete finished runs (items, stage outputs, log, the input files Sluice wrote) this long " +
      "after they finish, on either store; unset keeps them",
  },
  {
    key: "store.visibilityTimeout",
    env: "SLUICE_STORE_VISIBILITY_TIMEOUT",
    parse: "duration",
    default: "30s",
    allowed: DURATION + ", at least 100ms",
    description:
      "PostgreSQL queue: a message (or concurrency slot) held by a process that stopped " +
      "heartbeating is taken over after this long",
  },
  {
    key: "pipelines.dir",
    env: "SLUICE_PIPELINES_DIR",
    parse: "string",
    default: "./pipelines",
    allowed: "a directory path",
    description: "Directory of pipeline YAML files",
    path: true,
  },
  {
    key: "plugins.dir",
    env: "SLUICE_PLUGINS_DIR",
    parse: "string",
    default: "./plugins",
    allowed: "a directory path",
    description: "Directory of first-party plugins",
    path: true,
  },
  {
    key: "plugins.installDir",
    env: "SLUICE_PLUGINS_INSTALL_DIR",
    parse: "string",
    derived: "<dataDir>/plugins",
    allowed: "a directory path",
    description: "Where installed plugins are unpacked",
    path: true,
  },
  {
    key: "plugins.lock",
    env: "SLUICE_PLUGINS_LOCK",
    parse: "string",
    default: "./plugins.lock",
    allowed: "a file path",
    description: "Lockfile pinning approved plugins, versions and integrity hashes",
    path: true,
  },
  {
    key: "server.host",
    env: "SLUICE_SERVER_HOST",
    parse: "string",
    default: "127.0.0.1",
    allowed: "a host name or IP address to listen on",
    description: "Listen address of the HTTP server",
  },
  {
    key: "server.port",
    env: "SLUICE_SERVER_PORT",
    parse: "int",
    default: 8080,
    allowed: "a whole number from 0 to 65535 (0 picks a free port)",
    description: "Listen port of the HTTP server",
  },
  {
    key: "server.publicUrl",
    env: "SLUICE_SERVER_PUBLIC_URL",
    parse: "string",
    allowed: "an http:// or https:// URL",
    description: "URL users reach the server at (links, webhooks, OIDC redirects)",
  },
  {
    key: "server.trustedProxies",
    env: "SLUICE_SERVER_TRUSTED_PROXIES",
    parse: "list",
    default: [],
    allowed: "a list of IP addresses or CIDR ranges, IPv4 or IPv6 (127.0.0.1, 10.0.0.0/8, ::1)",
    description:
      "Proxies whose X-Forwarded-For (else Forwarded: for=) names the client: the rightmost " +
      "address in it not of a trusted proxy; empty trusts none",
  },
  {
    key: "server.adminToken",
    env: "SLUICE_ADMIN_TOKEN",
    parse: "string",
    allowed: "a string of at least 16 characters, not the examples' change-me placeholder",
    description: "Bootstrap admin API token",
    mask: "secret",
  },
  {
    key: "engine.concurrency",
    env: "SLUICE_ENGINE_CONCURRENCY",
    parse: "int",
    default: 64,
    allowed: "a whole number from 1 to 1024",
    description:
      "Chunks processed at once by this process, across all runs and stages (each stage is also bounded by its own concurrency)",
  },
  {
    key: "engine.chunkSize",
    env: "SLUICE_ENGINE_CHUNK_SIZE",
    parse: "int",
    default: 200,
    allowed: "a whole number from 1 to 100000",
    description: "Default items per chunk",
  },
  {
    key: "engine.retry.attempts",
    env: "SLUICE_ENGINE_RETRY_ATTEMPTS",
    parse: "int",
    default: 3,
    allowed: "a whole number from 1 to 100",
    description: "Default attempts per chunk, the first included",
  },
  {
    key: "engine.retry.delay",
    env: "SLUICE_ENGINE_RETRY_DELAY",
    parse: "duration",
    default: "1s",
    allowed: DURATION,
    description: "Default delay before the second attempt (then exponential)",
  },
  {
    key: "engine.retry.maxDelay",
    env: "SLUICE_ENGINE_RETRY_MAX_DELAY",
    parse: "duration",
    default: "5m",
    allowed: DURATION,
    description: "Upper bound of any retry delay",
  },
  {
    key: "engine.timeout",
    env: "SLUICE_ENGINE_TIMEOUT",
    parse: "duration",
    default: "60s",
    allowed: DURATION + ", above 0",
    description: "Default timeout of one plugin call",
  },
  {
    key: "engine.memoryMb",
    env: "SLUICE_ENGINE_MEMORY_MB",
    parse: "int",
    default: 256,
    allowed: "a whole number from 16 to 16384",
    description: "Default V8 heap cap of a plugin sandbox, MB",
  },
  {
    key: "engine.sandboxIdle",
    env: "SLUICE_ENGINE_SANDBOX_IDLE",
    parse: "duration",
    default: "30s",
    allowed: DURATION,
    description:
      "How long a plugin process that serves no run is kept for the next run of the same plugin " +
      "with the same permissions",
  },
  {
    key: "engine.sandboxMaxIdle",
    env: "SLUICE_ENGINE_SANDBOX_MAX_IDLE",
    parse: "int",
    // DEFAULT_MAX_IDLE of core/sandbox/executor.ts (config_test.ts holds them equal).
    default: 16,
    allowed: "a whole number from 0 to 1024",
    description: "Plugin processes kept at most while they serve no run, over all plugins",
  },
  {
    key: "secrets.file",
    env: "SLUICE_SECRETS_FILE",
    parse: "string",
    allowed: "a path to a YAML or JSON file mapping names to values",
    description: "Secrets file; SLUICE_SECRET_<NAME> variables take precedence",
    path: true,
  },
  {
    key: "secrets.grants",
    env: "SLUICE_SECRETS_GRANTS",
    parse: "list",
    default: [],
    allowed: "a list of plugin=NAME (or plugin=* for every secret)",
    description:
      "Secrets a plugin may receive besides those its plugin.json lists, e.g. postgres-export=CRM_DB",
  },
  {
    key: "log.level",
    env: "SLUICE_LOG_LEVEL",
    parse: "string",
    default: "info",
    allowed: "debug, info, warn or error",
    description: "Lowest log level written",
  },
  {
    key: "log.format",
    env: "SLUICE_LOG_FORMAT",
    parse: "string",
    default: "auto",
    allowed: "json, pretty or auto (pretty on a terminal, else json)",
    description: "Log line format",
  },
  {
    key: "network.dns.servers",
    env: "SLUICE_DNS_SERVERS",
    parse: "list",
    default: [],
    allowed: "a list of ip:port (IPv6 as [ip]:port; port defaults to 53)",
    description: "DNS servers network plugins query; empty means those of /etc/resolv.conf",
  },
  {
    key: "network.http.port",
    env: "SLUICE_HTTP_PORT",
    parse: "int",
    default: 80,
    allowed: "a whole number from 1 to 65535",
    description: "Port probed for http:// URLs",
  },
  {
    key: "network.http.proxy",
    env: "SLUICE_HTTP_PROXY",
    parse: "string",
    allowed: "an http:// URL (http://[user:pass@]host:port)",
    description:
      "Proxy for outgoing HTTP(S) requests of network plugins (the prober and the API stages): a CONNECT tunnel per connection",
    mask: "url-password",
  },
  {
    key: "network.https.port",
    env: "SLUICE_HTTPS_PORT",
    parse: "int",
    default: 443,
    allowed: "a whole number from 1 to 65535",
    description: "Port probed for https:// URLs",
  },
  {
    key: "network.https.ca",
    env: "SLUICE_HTTPS_CA",
    parse: "string",
    allowed: "a path to a PEM file",
    description: "Extra CA certificates trusted by network plugins",
    path: true,
  },
  {
    key: "network.allowPrivate",
    env: "SLUICE_ALLOW_PRIVATE",
    parse: "bool",
    default: false,
    allowed: "true or false (env: 1/0/true/false/yes/no)",
    description: "Let network plugins probe private and loopback addresses",
  },
  {
    key: "network.timeouts.dns",
    env: "SLUICE_NETWORK_TIMEOUTS_DNS",
    parse: "duration",
    default: "5s",
    allowed: DURATION + ", above 0",
    description:
      "Time budget of one DNS query, its retries on the other servers included (a server silent 3 times in a row is set aside for 10 s)",
  },
  {
    key: "network.timeouts.connect",
    env: "SLUICE_NETWORK_TIMEOUTS_CONNECT",
    parse: "duration",
    default: "10s",
    allowed: DURATION + ", above 0",
    description: "Timeout of one TCP/TLS connect",
  },
  {
    key: "network.timeouts.request",
    env: "SLUICE_NETWORK_TIMEOUTS_REQUEST",
    parse: "duration",
    default: "30s",
    allowed: DURATION + ", above 0",
    description: "Timeout of one whole HTTP request",
  },
  {
    key: "network.concurrency",
    env: "SLUICE_NETWORK_CONCURRENCY",
    parse: "int",
    default: 64,
    allowed: "a whole number from 1 to 10000",
    description:
      "Network operations (domains probed, queries) in flight at once in one plugin process",
  },
  {
    key: "network.rdap.bootstrap",
    env: "SLUICE_RDAP_BOOTSTRAP",
    parse: "string",
    default: "https://data.iana.org/rdap/",
    allowed: "an http:// or https:// URL",
    description: "Base URL of the RDAP bootstrap files (dns.json)",
  },
  {
    key: "telemetry.otlpEndpoint",
    env: "SLUICE_TELEMETRY_OTLP_ENDPOINT",
    parse: "string",
    allowed: "an http:// or https:// URL",
    description: "OTLP/HTTP base URL traces are sent to (JSON); unset disables export",
    mask: "url-password",
  },
  {
    key: "auth.oidc.issuer",
    env: "SLUICE_AUTH_OIDC_ISSUER",
    parse: "string",
    allowed: "an https:// URL (http:// only for loopback)",
    description: "OIDC issuer for UI login; unset disables OIDC",
  },
  {
    key: "auth.oidc.clientId",
    env: "SLUICE_AUTH_OIDC_CLIENT_ID",
    parse: "string",
    allowed: "a non-empty string",
    description: "OIDC client id",
  },
  {
    key: "auth.oidc.clientSecret",
    env: "SLUICE_AUTH_OIDC_CLIENT_SECRET",
    parse: "string",
    allowed: "a non-empty string",
    description: "OIDC client secret",
    mask: "secret",
  },
  {
    key: "auth.oidc.allow",
    env: "SLUICE_AUTH_OIDC_ALLOW",
    parse: "list",
    default: [],
    allowed:
      "a list of who[=role]: an e-mail, @domain or org:NAME (GitHub), role viewer (default), operator or admin",
    description: "Who may log in via OIDC/GitHub and with which role; empty allows nobody",
  },
] as const satisfies readonly ConfigKeyInfo[];

/** A configuration key path such as `server.port`. */
export type ConfigKey = (typeof CONFIG_KEYS)[number]["key"];

/**
 * Environment variables read besides the table: `SLUICE_CONFIG`, `SLUICE_DEBUG` and
 * `SLUICE_SECRET_<NAME>`.
 */
export const EXTRA_ENV_VARS: Readonly<Record<string, string>> = {
  SLUICE_CONFIG: "Path of the configuration file (default ./sluice.yaml); --config wins",
  SLUICE_DEBUG: "Set (e.g. 1): a failing command prints its stack trace after `sluice: <message>`",
  "SLUICE_SECRET_<NAME>": "Value of secret NAME (wins over secrets.file; empty counts as not set)",
};

const byKey = new Map<string, ConfigKeyInfo>(CONFIG_KEYS.map((info) => [info.key, info]));

/** Looks a key up in {@link CONFIG_KEYS}. */
export function keyInfo(key: string): ConfigKeyInfo | undefined {
  return byKey.get(key);
}
