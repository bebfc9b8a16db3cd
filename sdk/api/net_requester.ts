/**
 * The transport of API stages ({@linkcode HttpRequester}) over the operator's network settings:
 * host names resolve through `network.dnsServers` (raw DNS, `sdk/net/dns_client.ts`), the request
 * connects to the resolved address keeping Host and TLS SNI, private/loopback/link-local
 * addresses are refused unless `network.allowPrivate`, `network.caPem` is trusted besides the
 * system CAs, and `network.timeouts.connect`/`request` bound each request.
 * @module
 */
import http from "node:http";
import https from "node:https";
import { Buffer } from "node:buffer";
import type { LookupFunction } from "node:net";
import type { NetworkSettings } from "../types.ts";
import { DnsClient, isDnsFailure } from "../net/dns_client.ts";
import { ipFamily, mayConnect } from "../net/address.ts";
import type { ApiRequest, ApiResponse, HttpRequester } from "./client.ts";

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
}

/** A requester that also owns its DNS client. */
export interface NetRequester extends HttpRequester, Disposable {
  /** Closes the DNS client it created. */
  close(): void;
}

async function resolveAddress(
  dns: DnsClient | undefined,
  host: string,
  signal?: AbortSignal,
): Promise<{ ip: string; family: 4 | 6 } | undefined> {
  const bare = host.replace(/^\[|\]$/g, "");
  const fam = ipFamily(bare);
  if (fam !== 0) return { ip: bare, family: fam };
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
    const ip = r.answers.find((a) => a.type === type)?.data;
    if (typeof ip === "string") return { ip, family: type === "A" ? 4 : 6 };
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
  const ownDns = !options.dns && net.dnsServers.length > 0;
  const dns = options.dns ??
    (ownDns ? new DnsClient({ servers: net.dnsServers, timeoutMs: net.timeouts.dns }) : undefined);
  const maxBody = options.maxBodyBytes ?? 4 << 20;
  // Deno adds `ca` to its default root store (node would replace it), like sdk/net/http_request.
  const ca = net.caPem || undefined;
  const close = () => {
    if (ownDns) dns?.close();
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
    const addr = await resolveAddress(dns, url.hostname, req.signal);
    if (addr && !mayConnect(addr.ip, net.allowPrivate)) {
      throw new RequestRefusedError(
        `${url.hostname} resolves to ${addr.ip}, a private or reserved address; refused ` +
          `(set network.allowPrivate only if this service is meant to be on your network)`,
      );
    }
    const secure = url.protocol === "https:";
    const mod = secure ? https : http;
    const headers: Record<string, string> = {
      "user-agent": options.userAgent ?? "Sluice/1",
      ...req.headers,
    };
    if (req.body !== undefined) headers["content-length"] = String(Buffer.byteLength(req.body));
    return await new Promise<ApiResponse>((resolve, reject) => {
      let settled = false;
      const done = (err: Error | null, res?: ApiResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener("abort", onAbort);
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
      const r = mod.request({
        host: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port ? Number(url.port) : secure ? 443 : 80,
        path: url.pathname + url.search,
        method: req.method ?? "GET",
        headers,
        agent: false,
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
      req.signal?.addEventListener("abort", onAbort, { once: true });
      if (req.body !== undefined) r.write(req.body);
      r.end();
    });
  };
  return Object.assign(request, { close, [Symbol.dispose]: close });
}
