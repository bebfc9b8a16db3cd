/**
 * The transport of API stages ({@linkcode HttpRequester}) over the operator's network settings:
 * host names resolve through `network.dnsServers` (raw DNS, `sdk/net/dns_client.ts`), the request
 * connects to the resolved address keeping Host and TLS SNI, private/loopback/link-local
 * addresses are refused unless `network.allowPrivate`, `network.caPem` is trusted besides the
 * system CAs, and `network.timeouts.connect`/`request` bound each request.
 *
 * Requests go over Deno's own sockets (`sdk/net/keepalive_http.ts`: less than half the CPU of
 * `node:http` per call). Connections are kept alive and reused (an API stage calls the same few
 * hosts thousands of times: a new TCP and TLS connection per call cost about three times the
 * CPU of the call itself), idle ones are closed after {@linkcode IDLE_SOCKET_MS}, and a call
 * whose reused connection turns out to have been closed by the server is sent again on a new
 * one (`net_requester_test.ts` checks it). Resolved addresses are kept for their DNS TTL (at
 * most {@linkcode MAX_DNS_CACHE_MS}); the private-address check runs on every call. Without
 * `network.dnsServers`, the system resolver answers (every call), checked the same way. With
 * `network.proxy`, each connection is a CONNECT tunnel to the address chosen and checked here.
 * @module
 */
import { lookup as systemLookup, type LookupAddress } from "node:dns";
import type { NetworkSettings } from "../types.ts";
import { DnsClient, isDnsFailure } from "../net/dns_client.ts";
import { ipFamily, mayConnect } from "../net/address.ts";
import type { ApiRequest, ApiResponse, HttpRequester } from "./client.ts";
import { KeepAlivePool } from "../net/keepalive_http.ts";

const enc = new TextEncoder();
const utf8 = new TextDecoder();

/** A request refused before connecting (private address, bad URL, name does not exist). */
export class RequestRefusedError extends Error {
  /** Never worth another attempt. */
  readonly retryable = false;
  /** Builds the error; the message says what was refused and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "RequestRefusedError";
  }
}

/** Options of {@linkcode createNetRequester}. */
export interface NetRequesterOptions {
  /** The operator's network settings (`ctx.network`). */
  network: NetworkSettings;
  /** A DNS client to share; default: one made from `network.dnsServers`. */
  dns?: DnsClient;
  /** Stop reading a response after this many bytes (default 4 MiB): the request fails. */
  maxBodyBytes?: number;
  /** `User-Agent` header (default `Sluice/1`). */
  userAgent?: string;
  /** Clock of the DNS cache (epoch ms; default `Date.now`). */
  now?: () => number;
}

/** Idle kept-alive connections are closed after this long (below common server idle timeouts). */
export const IDLE_SOCKET_MS = 4_000;
/** A resolved address is reused for its TTL, at most this long. */
export const MAX_DNS_CACHE_MS = 300_000;
/** Host names whose address is kept at most (the oldest is dropped first). */
const DNS_CACHE_SIZE = 1_000;

/** A requester that also owns its DNS client. */
export interface NetRequester extends HttpRequester, Disposable {
  /** Closes the DNS client it created. */
  close(): void;
}

/** A resolved address and how long it may be reused (ms, from the record's TTL). */
interface Resolved {
  ip: string;
  family: 4 | 6;
  ttlMs: number;
}

async function resolveAddress(
  dns: DnsClient | undefined,
  host: string,
  signal?: AbortSignal,
): Promise<Resolved | undefined> {
  const bare = host.replace(/^\[|\]$/g, "");
  const fam = ipFamily(bare);
  if (fam !== 0) return { ip: bare, family: fam, ttlMs: 0 };
  if (!dns) return undefined; // system resolver
  let nx = false;
  const problems: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    const r = await dns.query(host, type, signal);
    if (isDnsFailure(r)) {
      problems.push(r.message);
      continue;
    }
    if (r.rcode === "NXDOMAIN") nx = true;
    else if (r.rcode !== "NOERROR") problems.push(`${type} ${host}: ${r.rcode} from ${r.server}`);
    const rec = r.answers.find((a) => a.type === type);
    if (typeof rec?.data === "string") {
      return { ip: rec.data, family: type === "A" ? 4 : 6, ttlMs: rec.ttl * 1000 };
    }
  }
  if (nx && problems.length === 0) {
    throw new RequestRefusedError(
      `${host} does not exist (NXDOMAIN): check the API base URL in the stage's with:`,
    );
  }
  throw new Error(
    `cannot resolve ${host}: ${problems.join("; ") || "no A or AAAA records"}`,
  );
}

/**
 * The system resolver's address for `host` (IPv4 first). Refused when any of its addresses is
 * private or reserved and `allowPrivate` is off.
 */
function systemAddress(host: string, allowPrivate: boolean): Promise<Resolved> {
  return new Promise((resolve, reject) =>
    systemLookup(host, { all: true }, (err, list: LookupAddress[]) => {
      if (err) return reject(err);
      const bad = list.find((a) => !mayConnect(a.address, allowPrivate));
      if (bad) {
        return reject(
          new RequestRefusedError(
            `${host} resolves to ${bad.address}, a private or reserved address; refused (set ` +
              `network.allowPrivate only if this service is meant to be on your network)`,
          ),
        );
      }
      const a = list.find((a) => a.family === 4) ?? list[0];
      if (!a) return reject(new Error(`cannot resolve ${host}: no addresses`));
      resolve({ ip: a.address, family: a.family === 6 ? 6 : 4, ttlMs: 0 });
    })
  );
}

/** Creates the requester; see the module doc. */
export function createNetRequester(options: NetRequesterOptions): NetRequester {
  const net = options.network;
  const now = options.now ?? Date.now;
  const ownDns = !options.dns && net.dnsServers.length > 0;
  const dns = options.dns ??
    (ownDns ? new DnsClient({ servers: net.dnsServers, timeoutMs: net.timeouts.dns }) : undefined);
  const maxBody = options.maxBodyBytes ?? 4 << 20;
  const pool = new KeepAlivePool({
    connectTimeoutMs: net.timeouts.connect,
    requestTimeoutMs: net.timeouts.request,
    maxBodyBytes: maxBody,
    idleMs: IDLE_SOCKET_MS,
    // Trusted besides the system's roots (Deno's TLS adds it to its default store).
    caPem: net.caPem || undefined,
    ...(net.proxy ? { proxy: net.proxy } : {}),
  });
  const addresses = new Map<string, Resolved & { until: number }>();
  const close = () => {
    if (ownDns) dns?.close();
    pool.close();
  };

  /** The host's address: from the cache while its TTL lasts, else asked again. */
  const addressOf = async (host: string, signal?: AbortSignal) => {
    const kept = addresses.get(host);
    if (kept && kept.until > now()) return kept;
    const addr = await resolveAddress(dns, host, signal);
    if (addr && addr.ttlMs > 0) {
      addresses.delete(host);
      if (addresses.size >= DNS_CACHE_SIZE) addresses.delete(addresses.keys().next().value!);
      addresses.set(host, { ...addr, until: now() + Math.min(addr.ttlMs, MAX_DNS_CACHE_MS) });
    }
    return addr;
  };

  const request = async (req: ApiRequest): Promise<ApiResponse> => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new RequestRefusedError(`${JSON.stringify(req.url)} is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new RequestRefusedError(`${url.protocol} URLs are not supported (${url.origin})`);
    }
    // Without our resolver (no network.dnsServers) the system's answers, checked the same way.
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const addr = await addressOf(url.hostname, req.signal) ??
      await systemAddress(host, net.allowPrivate);
    if (!mayConnect(addr.ip, net.allowPrivate)) {
      throw new RequestRefusedError(
        `${host} resolves to ${addr.ip}, a private or reserved address; refused ` +
          `(set network.allowPrivate only if this service is meant to be on your network)`,
      );
    }
    const res = await pool.request({
      url,
      ip: addr.ip,
      method: req.method ?? "GET",
      headers: { "user-agent": options.userAgent ?? "Sluice/1", ...req.headers },
      ...(req.body !== undefined ? { body: enc.encode(req.body) } : {}),
      signal: req.signal,
    });
    return { status: res.status, headers: res.headers, body: utf8.decode(res.body) };
  };
  return Object.assign(request, { close, [Symbol.dispose]: close });
}
