/**
 * The zod schema of the merged configuration (defaults, file and env already layered) and the
 * `Config` type derived from it. Durations become milliseconds; paths are resolved later.
 * @module
 */
import { SECRET_GRANT } from "../plugins/secret_grants.ts";
import { parseIpRange } from "./ip_ranges.ts";
import { isIP } from "node:net";
import { z } from "zod";

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration (`500ms`, `30s`, `5m`, `2h`, `1d`, or plain milliseconds) to milliseconds. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === "number") {
    return Number.isInteger(value) && value >= 0 ? value : undefined;
  }
  const m = DURATION_RE.exec(value.trim());
  return m ? Math.round(Number(m[1]) * UNIT_MS[m[2]]) : undefined;
}

/** Formats milliseconds in the largest unit that divides them: 60000 -> `1m`. */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

function duration(min: number) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const ms = parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: "custom", message: "not a duration" });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({ code: "custom", message: `must be at least ${min}ms` });
      return z.NEVER;
    }
    return ms;
  });
}

const int = (min: number, max: number) =>
  z.number({ error: "not a number" }).int({ error: "not a whole number" })
    .min(min, { error: `below ${min}` }).max(max, { error: `above ${max}` });

const path = z.string({ error: "not a string" }).min(1, { error: "empty" });

const httpUrl = z.string({ error: "not a string" }).refine((s) => {
  try {
    return ["http:", "https:"].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, { error: "not an http(s) URL" });

/** A proxy: CONNECT tunnels over plain HTTP to it (TLS to the proxy itself is not supported). */
const proxyUrl = z.string({ error: "not a string" }).refine((s) => {
  try {
    return new URL(s).protocol === "http:";
  } catch {
    return false;
  }
}, {
  error:
    "not an http:// URL (http://[user:pass@]host:port; a proxy spoken to over TLS is not supported)",
});

const postgresUrl = z.string({ error: "not a string" }).refine((s) => {
  try {
    return ["postgres:", "postgresql:"].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}, { error: "not a postgres URL" });

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

const issuerUrl = httpUrl.refine((s) => {
  const url = new URL(s);
  return url.protocol === "https:" || LOOPBACK_HOSTS.has(url.hostname);
}, { error: "http:// is allowed only for loopback issuers" });

/** Splits `ip`, `ip:port` or `[ipv6]:port` into a normalized `ip:port` (`[ipv6]:port`). */
export function normalizeDnsServer(text: string): string | undefined {
  const s = text.trim();
  let host: string;
  let port = "53";
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1];
    port = v6[2] ?? port;
  } else if (isIP(s.split("%")[0]) === 6) {
    host = s;
  } else {
    const parts = s.split(":");
    if (parts.length > 2) return undefined;
    host = parts[0];
    port = parts[1] ?? port;
  }
  const family = isIP(host.split("%")[0]);
  const portNum = Number(port);
  if (!family || !/^\d+$/.test(port) || portNum < 1 || portNum > 65535) return undefined;
  return family === 6 ? `[${host}]:${portNum}` : `${host}:${portNum}`;
}

const dnsServer = z.string({ error: "not a string" }).transform((value, ctx) => {
  const normalized = normalizeDnsServer(value);
  if (!normalized) {
    ctx.addIssue({ code: "custom", message: "not ip:port" });
    return z.NEVER;
  }
  return normalized;
});

const hostName = z.string({ error: "not a string" }).regex(
  /^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:]*:[0-9a-fA-F:.]+|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/,
  { error: "not a host name or IP address" },
);

const list = <T extends z.ZodType>(item: T) => z.array(item, { error: "not a list" });

const obj = <S extends z.ZodRawShape>(shape: S) =>
  z.strictObject(shape, { error: "not a mapping" });

/**
 * Schema of the layered configuration. Every leaf here has a row in `CONFIG_KEYS`; defaults
 * are filled from that table before validation, so leaves without a default are optional.
 */
export const ConfigSchema = obj({
  dataDir: path,
  store: obj({
    path: path.optional(),
    url: postgresUrl.optional(),
    retention: duration(1).optional(),
    visibilityTimeout: duration(100),
  }),
  pipelines: obj({ dir: path }),
  plugins: obj({ dir: path, installDir: path.optional(), lock: path }),
  server: obj({
    host: hostName,
    port: int(0, 65535),
    publicUrl: httpUrl.optional(),
    trustedProxies: list(
      z.string({ error: "not a string" }).refine((s) => parseIpRange(s) !== undefined, {
        error: "not an IP address or CIDR range",
      }),
    ),
    adminToken: z.string({ error: "not a string" }).min(16, { error: "shorter than 16 characters" })
      .refine((s) => !/^change[-_ ]?me/i.test(s), {
        // deploy/k8s/config.yaml and the README ship such placeholders: never a working token.
        error: "the placeholder of the examples, which anyone can read; set a long random " +
          "token (openssl rand -hex 32)",
      })
      .optional(),
  }),
  engine: obj({
    concurrency: int(1, 1024),
    chunkSize: int(1, 100_000),
    retry: obj({ attempts: int(1, 100), delay: duration(0), maxDelay: duration(0) }),
    timeout: duration(1),
    memoryMb: int(16, 16384),
    sandboxIdle: duration(0),
    sandboxMaxIdle: int(0, 1024),
  }),
  secrets: obj({
    file: path.optional(),
    grants: list(
      z.string({ error: "not a string" }).regex(SECRET_GRANT, {
        error: "not plugin=NAME (or plugin=* for every secret)",
      }),
    ),
  }),
  log: obj({
    level: z.enum(["debug", "info", "warn", "error"], { error: "not an allowed level" }),
    format: z.enum(["json", "pretty", "auto"], { error: "not an allowed format" }),
  }),
  network: obj({
    dns: obj({ servers: list(dnsServer) }),
    http: obj({ port: int(1, 65535), proxy: proxyUrl.optional() }),
    https: obj({ port: int(1, 65535), ca: path.optional() }),
    allowPrivate: z.boolean({ error: "not true or false" }),
    timeouts: obj({ dns: duration(1), connect: duration(1), request: duration(1) }),
    concurrency: int(1, 10_000),
    rdap: obj({ bootstrap: httpUrl }),
  }),
  telemetry: obj({ otlpEndpoint: httpUrl.optional() }),
  auth: obj({
    oidc: obj({
      issuer: issuerUrl.optional(),
      clientId: z.string({ error: "not a string" }).min(1, { error: "empty" }).optional(),
      clientSecret: z.string({ error: "not a string" }).min(1, { error: "empty" }).optional(),
      allow: list(
        z.string({ error: "not a string" }).regex(
          /^((@|[^@\s=]+@)[^@\s=]+|org:[A-Za-z0-9_.-]+)(=(viewer|operator|admin))?$/,
          {
            error: "not an e-mail address, @domain or org:NAME, optionally =viewer|operator|admin",
          },
        ),
      ),
    }),
  }),
});

type Parsed = z.output<typeof ConfigSchema>;

/**
 * The effective configuration. Durations are milliseconds; every path is absolute; derived
 * defaults (`store.path`, `plugins.installDir`) are filled in.
 */
export type Config = Parsed & {
  store: Parsed["store"] & { path: string };
  plugins: Parsed["plugins"] & { installDir: string };
};
