/**
 * The transport of API stages ({@linkcode HttpRequester}) over the operator's network settings:
 * host names resolve through `network.dnsServers` (raw DNS, `sdk/net/dns_client.ts`), the request
 * connects to the resolved address keeping Host and TLS SNI, private/loopback/link-local
 * addresses are refused unless `network.allowPrivate`, `network.caPem` is trusted besides the
 * system CAs, and `network.timeouts.connect`/`request` bound each request.
 *
 * Connections are kept alive and reused (an API stage calls the same few hosts thousands of
 * times: a new TCP and TLS connection per call cost about three times the CPU of the call
 * itself), idle ones are closed after {@linkcode IDLE_SOCKET_MS}, and a call whose reused
 * connection turns out to have been closed by the server is sent again on a new one (Deno's
 * `node:http` client does this itself; `net_requester_test.ts` checks it). Resolved
 * addresses are kept for their DNS TTL (at most {@linkcode MAX_DNS_CACHE_MS}); the private-address
 * check runs on every call.
 * @module
 */
import http from "node:http";
import https from "node:https";
import { Buffer } from "node:buffer";
import { lookup as systemLookup, type LookupAddress } from "node:dns";
import type { LookupFunction } from "node:net";
import type { NetworkSettings } from "../types.ts";
import { DnsClient, isDnsFailure } from "../net/dns_client.ts";
import { ipFamily, mayConnect } from "../net/address.ts";
import type { ApiRequest, ApiResponse, HttpRequester } from "./client.ts";
import { whenAborted } from "../io/when_aborted.ts";

type LookupCallback = (e: Error | null, a: unknown, f?: number) => void;

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

/** Creates the requester; see the module doc. */
export function createNetRequester(options: NetRequesterOptions): NetRequester {
  const net = options.network;
  const now = options.now ?? Date.now;
  const ownDns = !options.dns && net.dnsServers.length > 0;
  const dns = options.dns ??
    (ownDns ? new DnsClient({ servers: net.dnsServers, timeoutMs: net.timeouts.dns }) : undefined);
  const maxBody = options.maxBodyBytes ?? 4 << 20;
  // Deno adds `ca` to its default root store (node would replace it), like sdk/net/http_request.
  const ca = net.caPem || undefined;
  const agents = {
    http: new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    https: new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };
  const addresses = new Map<string, Resolved & { until: number }>();
  const close = () => {
    if (ownDns) dns?.close();
    agents.http.destroy();
    agents.https.destroy();
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

  /** One attempt over a pooled connection (new or kept alive). */
  const send = (
    req: ApiRequest,
    url: URL,
    addr: Resolved | undefined,
    headers: Record<string, string>,
  ) =>
    new Promise<ApiResponse>((resolve, reject) => {
      const secure = url.protocol === "https:";
      let settled = false;
      let offAbort = () => {};
      const done = (err: Error | null, res?: ApiResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        offAbort();
        if (err) {
          r.destroy();
          reject(err);
        } else resolve(res!);
      };
      const onAbort = () => done(req.signal!.reason ?? new Error("aborted"));
      const timer = setTimeout(
        () => done(new Error(`no complete answer within ${net.timeouts.request} ms`)),
        net.timeouts.request,
      );
      const r = (secure ? https : http).request({
        // Without our resolver (no network.dnsServers) the system's answers the connection,
        // and its address is checked the same way.
        ...(addr ? {} : { lookup: checkedSystemLookup }),
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port ? Number(url.port) : secure ? 443 : 80,
        path: url.pathname + url.search,
        method: req.method ?? "GET",
        headers,
        agent: secure ? agents.https : agents.http,
        ...(addr
          ? {
            lookup: ((_h: string, o: { all?: boolean }, cb: LookupCallback) =>
              o?.all
                ? cb(null, [{ address: addr.ip, family: addr.family }])
                : cb(null, addr.ip, addr.family)) as unknown as LookupFunction,
          }
          : {}),
        ...(secure
          ? { servername: ipFamily(url.hostname) ? undefined : url.hostname, ...(ca ? { ca } : {}) }
          : {}),
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBody) {
            done(new Error(`answer larger than ${maxBody} bytes from ${url.host}`));
            return;
          }
          chunks.push(c);
        });
        res.on("error", (e) => done(e));
        res.on("end", () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) {
            if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
          }
          done(null, {
            status: res.statusCode ?? 0,
            headers: h,
            body: Buffer.concat(chunks).toString("utf8"),
          });
        });
      });
      r.setTimeout(net.timeouts.connect, () => {
        if (!r.socket || r.socket.connecting) {
          done(new Error(`connect to ${url.host} timed out after ${net.timeouts.connect} ms`));
        }
      });
      r.on("error", (e) => done(e));
      if (!settled) offAbort = whenAborted(req.signal, onAbort);
      if (req.body !== undefined) r.write(req.body);
      r.end();
    });

  /** The system resolver's lookup, refusing private and reserved addresses as ours does. */
  const checkedSystemLookup = ((
    host: string,
    o: { all?: boolean; family?: number },
    cb: (err: Error | null, a?: string | LookupAddress[], f?: number) => void,
  ) =>
    systemLookup(host, { family: o?.family ?? 0, all: true }, (err, list) => {
      if (err) return cb(err);
      const bad = list.find((a) => !mayConnect(a.address, net.allowPrivate));
      if (bad) {
        return cb(
          new RequestRefusedError(
            `${host} resolves to ${bad.address}, a private or reserved address; refused (set ` +
              `network.allowPrivate only if this service is meant to be on your network)`,
          ),
        );
      }
      if (o?.all) cb(null, list);
      else cb(null, list[0].address, list[0].family);
    })) as unknown as LookupFunction;

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
    const addr = await addressOf(url.hostname, req.signal);
    if (addr && !mayConnect(addr.ip, net.allowPrivate)) {
      throw new RequestRefusedError(
        `${url.hostname} resolves to ${addr.ip}, a private or reserved address; refused ` +
          `(set network.allowPrivate only if this service is meant to be on your network)`,
      );
    }
    const headers: Record<string, string> = {
      "user-agent": options.userAgent ?? "Sluice/1",
      ...req.headers,
    };
    if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
    return await send(req, url, addr, headers);
  };
  return Object.assign(request, { close, [Symbol.dispose]: close });
}
