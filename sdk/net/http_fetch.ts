/**
 * Fetches a URL the way a prober must: through addresses resolved by our own DNS, never to a
 * private address unless allowed, at most N connections per IP, following a bounded redirect
 * chain (each hop recorded, loops detected, other hosts re-resolved), and summarizing the final
 * response. Never throws for network trouble: the result carries a classified error instead.
 * @module
 */
import type { NetworkSettings } from "../types.ts";
import type { HostRecords, HttpError, HttpHop, HttpResponseSummary } from "./types.ts";
import { mayConnect } from "./address.ts";
import type { BodyDigestOptions } from "./body_digest.ts";
import { classifyError, HttpProbeError, isOurs } from "./http_errors.ts";
import { isRedirectStatus, requestOnce } from "./http_request.ts";
import type { KeyedLimiter } from "./limiter.ts";

/** Resolves a host name to its address records (e.g. `lookupHost` over a `DnsClient`). */
export type HostResolver = (host: string, signal?: AbortSignal) => Promise<HostRecords>;

/** Options of {@linkcode fetchWithRedirects}. */
export interface FetchOptions {
  /** The start URL. */
  url: string | URL;
  /** Addresses of the start URL's host when already known (else it is resolved). */
  addresses?: string[];
  /** Resolves hosts met on the way (and the start host when `addresses` is absent). */
  resolve: HostResolver;
  /** Ports, extra CA, private-address policy and timeouts (`ctx.network`). */
  network: Pick<
    NetworkSettings,
    "httpPort" | "httpsPort" | "caPem" | "allowPrivate" | "timeouts" | "proxy"
  >;
  /** Redirects followed at most (default 5). */
  maxRedirects?: number;
  /** Body bytes read at most (default 262144). */
  maxBodyBytes?: number;
  /** Limits of the body digest (hash bytes, HTML head, text cap). */
  digest?: BodyDigestOptions;
  /** Per-IP connection limiter shared by all fetches of an instance. */
  perIp?: KeyedLimiter;
  userAgent?: string;
  /** Accept-Language header (none by default). */
  acceptLanguage?: string;
  /** Wall clock (certificate validity); default `Date.now`. */
  now?: () => number;
  signal?: AbortSignal;
}

/** What a fetch produced: every hop, and the final response or the error. */
export interface FetchResult {
  url: string;
  hops: HttpHop[];
  response?: HttpResponseSummary;
  error?: HttpError;
}

/** Picks the address to connect to: the first allowed IPv4, else the first allowed IPv6. */
export function pickAddress(
  addresses: readonly string[],
  allowPrivate: boolean,
): { ip?: string; blocked?: string } {
  const v4 = addresses.filter((a) => !a.includes(":"));
  const v6 = addresses.filter((a) => a.includes(":"));
  for (const ip of [...v4, ...v6]) if (mayConnect(ip, allowPrivate)) return { ip };
  return addresses.length ? { blocked: addresses[0] } : {};
}

const errorOf = (
  kind: HttpError["kind"],
  message: string,
  url: string,
  ip?: string,
): HttpError => ({
  kind,
  message,
  ours: isOurs(kind),
  url,
  ...(ip ? { ip } : {}),
});

/** Fetches `url`, following redirects; see the module doc. */
export async function fetchWithRedirects(opts: FetchOptions): Promise<FetchResult> {
  const now = opts.now ?? Date.now;
  const started = performance.now();
  const maxRedirects = opts.maxRedirects ?? 5;
  const net = opts.network;
  const start = new URL(opts.url);
  const result: FetchResult = { url: start.href, hops: [] };
  const known = new Map<string, string[]>();
  if (opts.addresses) known.set(start.hostname, opts.addresses);
  const visited = new Set<string>();
  let url = start;
  for (;;) {
    url.hash = "";
    visited.add(url.href);
    const href = url.href;
    // Addresses of this hop's host.
    let addresses = known.get(url.hostname);
    if (!addresses) {
      const rec = await opts.resolve(url.hostname, opts.signal);
      if (rec.status === "unknown") {
        result.error = errorOf("dns_unknown", `resolving ${url.hostname}: ${rec.reason}`, href);
        return result;
      }
      addresses = [...rec.a, ...rec.aaaa];
      known.set(url.hostname, addresses);
    }
    const pick = pickAddress(addresses, net.allowPrivate);
    if (!pick.ip) {
      result.error = pick.blocked
        ? errorOf(
          "blocked_private",
          `${url.hostname} resolves to ${pick.blocked}, a private/reserved address; ` +
            "set network.allowPrivate to probe such addresses",
          href,
          pick.blocked,
        )
        : errorOf("no_address", `${url.hostname} has no A or AAAA record`, href);
      return result;
    }
    const ip = pick.ip;
    const https = url.protocol === "https:";
    const port = url.port ? Number(url.port) : https ? net.httpsPort : net.httpPort;
    let res;
    try {
      const send = () =>
        requestOnce({
          url,
          ip,
          port,
          caPem: net.caPem,
          connectTimeoutMs: net.timeouts.connect,
          requestTimeoutMs: net.timeouts.request,
          maxBodyBytes: opts.maxBodyBytes ?? 262144,
          digest: opts.digest,
          userAgent: opts.userAgent,
          acceptLanguage: opts.acceptLanguage,
          proxy: net.proxy,
          now,
          signal: opts.signal,
        });
      res = opts.perIp ? await opts.perIp.run(ip, send, opts.signal) : await send();
    } catch (err) {
      // Cancelled (the caller's deadline or shutdown) while waiting or connecting: ours.
      const kind = opts.signal?.aborted && !(err instanceof HttpProbeError)
        ? "deadline"
        : classifyError(err);
      const message = err instanceof HttpProbeError
        ? err.message
        : `${(err as Error)?.message ?? err}`;
      result.error = errorOf(kind, message, href, ip);
      return result;
    }
    const location = res.headers.location;
    if (isRedirectStatus(res.status) && location !== undefined) {
      let next: URL | undefined;
      try {
        next = new URL(location, url);
      } catch {
        // unusable Location: reported below
      }
      result.hops.push({ url: href, ip, status: res.status, location: next?.href ?? location });
      if (!next || (next.protocol !== "http:" && next.protocol !== "https:")) {
        result.error = errorOf("bad_redirect", `unusable Location "${location}"`, href, ip);
        return result;
      }
      next.hash = "";
      if (visited.has(next.href)) {
        result.error = errorOf(
          "redirect_loop",
          `redirect loop: ${href} -> ${next.href}, which was visited before`,
          href,
          ip,
        );
        return result;
      }
      if (result.hops.length > maxRedirects) {
        result.error = errorOf(
          "too_many_redirects",
          `more than ${maxRedirects} redirects (last to ${next.href})`,
          href,
          ip,
        );
        return result;
      }
      url = next;
      continue;
    }
    result.hops.push({ url: href, ip, status: res.status });
    const body = res.body;
    const contentTypeHeader = res.headers["content-type"] ?? "";
    result.response = {
      url: href,
      host: url.hostname,
      ip,
      status: res.status,
      headers: res.headers,
      contentType: contentTypeHeader.split(";")[0].trim().toLowerCase(),
      binary: body?.binary ?? false,
      title: body?.title ?? "",
      text: body?.text ?? "",
      html: body?.html ?? "",
      bodyHash: body?.bodyHash ?? "",
      bodyBytes: body?.bodyBytes ?? 0,
      truncated: res.truncated,
      timeMs: Math.round(performance.now() - started),
    };
    return result;
  }
}
