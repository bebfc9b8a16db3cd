/**
 * Fetches a URL the way a prober must: through addresses resolved by our own DNS, never to a
 * private address unless allowed, at most N connections per IP, following a bounded redirect
 * chain (each hop recorded, loops detected, other hosts re-resolved), trying a host's next address
 * when a connection fails (Happy Eyeballs order, at most 4), and summarizing the final
 * response. Never throws for network trouble: the result carries a classified error instead.
 * @module
 */
import type { NetworkSettings } from "../types.ts";
import type {
  AddressFailure,
  HostRecords,
  HttpError,
  HttpHop,
  HttpResponseSummary,
} from "./types.ts";
import { ipFamily, mayConnect } from "./address.ts";
import type { BodyDigestOptions } from "./body_digest.ts";
import { classifyError, HttpProbeError, isOurs } from "./http_errors.ts";
import { isRedirectStatus, requestOnce } from "./http_request.ts";
import { type KeySlots, withSlot } from "./limiter.ts";

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
  /**
   * Per-IP connection slots shared by all fetches (keyed by the IP address): a
   * `KeyedLimiter` for one process, or slots of `ctx.limits` to hold across processes.
   */
  perIp?: KeySlots;
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

/** Addresses of one host tried at most for one request (see {@linkcode connectOrder}). */
export const MAX_ADDRESSES = 4;

/**
 * The addresses to connect to, in the order to try them: the ones `mayConnect` allows, IPv4 and
 * IPv6 interleaved as Happy Eyeballs does (RFC 8305 §4), starting with IPv4 as the probe always
 * has (first IPv4, first IPv6, second IPv4, ...), duplicates dropped, at most `max`. `blocked` is
 * the first address the private-address policy refused, set when none is allowed.
 */
export function connectOrder(
  addresses: readonly string[],
  allowPrivate: boolean,
  max = MAX_ADDRESSES,
): { ips: string[]; blocked?: string } {
  const unique = [...new Set(addresses)];
  const allowed = unique.filter((a) => mayConnect(a, allowPrivate));
  const v4 = allowed.filter((a) => !a.includes(":"));
  const v6 = allowed.filter((a) => a.includes(":"));
  const ips: string[] = [];
  for (let i = 0; i < Math.max(v4.length, v6.length) && ips.length < max; i++) {
    if (i < v4.length) ips.push(v4[i]);
    if (i < v6.length && ips.length < max) ips.push(v6[i]);
  }
  if (ips.length || unique.length === 0) return { ips };
  return { ips, blocked: unique[0] };
}

/**
 * Failure kinds after which the host's next address is tried: the connection itself failed, so
 * the host may still answer at another address (`reset` only before any byte of a response).
 */
const NEXT_ADDRESS_KINDS: ReadonlySet<HttpError["kind"]> = new Set<HttpError["kind"]>([
  "refused",
  "reset",
  "connect_timeout",
  "unreachable",
]);

/** The address of an IP-address URL host name (`::1` for `[::1]`); undefined for a name. */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith("[") && hostname.endsWith("]")
    ? hostname.slice(1, -1)
    : hostname;
  return ipFamily(bare) ? bare : undefined;
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
    // Addresses of this hop's host: an IP-address host name is its own address.
    let addresses = known.get(url.hostname);
    const literal = ipLiteral(url.hostname);
    if (!addresses && literal) addresses = [literal];
    if (!addresses) {
      const rec = await opts.resolve(url.hostname, opts.signal);
      if (rec.status === "unknown") {
        result.error = errorOf("dns_unknown", `resolving ${url.hostname}: ${rec.reason}`, href);
        return result;
      }
      addresses = [...rec.a, ...rec.aaaa];
      known.set(url.hostname, addresses);
    }
    const order = connectOrder(addresses, net.allowPrivate);
    if (!order.ips.length) {
      result.error = order.blocked
        ? errorOf(
          "blocked_private",
          `${url.hostname} ${
            literal ? "is" : "resolves to"
          } ${order.blocked}, a private/reserved ` +
            "address; set network.allowPrivate to probe such addresses",
          href,
          order.blocked,
        )
        : errorOf("no_address", `${url.hostname} has no A or AAAA record`, href);
      return result;
    }
    const https = url.protocol === "https:";
    const port = url.port ? Number(url.port) : https ? net.httpsPort : net.httpPort;
    // The host's addresses one after the other while the connection fails, within one request
    // timeout for them all.
    const hopStarted = performance.now();
    const failedBefore: AddressFailure[] = [];
    let ip = order.ips[0];
    let res;
    for (let i = 0;; i++) {
      ip = order.ips[i];
      const left = Math.round(net.timeouts.request - (performance.now() - hopStarted));
      try {
        const send = () =>
          requestOnce({
            url,
            ip,
            port,
            caPem: net.caPem,
            connectTimeoutMs: Math.min(net.timeouts.connect, left),
            requestTimeoutMs: left,
            maxBodyBytes: opts.maxBodyBytes ?? 262144,
            digest: opts.digest,
            userAgent: opts.userAgent,
            acceptLanguage: opts.acceptLanguage,
            proxy: net.proxy,
            now,
            signal: opts.signal,
          });
        res = opts.perIp ? await withSlot(opts.perIp, ip, send, opts.signal) : await send();
        break;
      } catch (err) {
        // Cancelled (the caller's deadline or shutdown) while waiting or connecting: ours.
        const kind = opts.signal?.aborted && !(err instanceof HttpProbeError)
          ? "deadline"
          : classifyError(err);
        const message = err instanceof HttpProbeError
          ? err.message
          : `${(err as Error)?.message ?? err}`;
        const atConnection = NEXT_ADDRESS_KINDS.has(kind) &&
          (kind !== "reset" || (err instanceof HttpProbeError && err.beforeResponse));
        const timeLeft = net.timeouts.request - (performance.now() - hopStarted) >= 1;
        if (
          atConnection && i + 1 < order.ips.length && timeLeft && !opts.signal?.aborted
        ) {
          failedBefore.push({ ip, kind, message });
          continue;
        }
        result.error = errorOf(kind, message, href, ip);
        if (failedBefore.length) result.error.failedBefore = failedBefore;
        return result;
      }
    }
    const tried = failedBefore.length ? { failedBefore } : {};
    const location = res.headers.location;
    if (isRedirectStatus(res.status) && !location?.trim()) {
      // A redirect to nowhere: a browser shows its (usually empty) body; the site is broken.
      result.hops.push({ url: href, ip, ...tried, status: res.status });
      result.error = errorOf(
        "bad_redirect",
        `${res.status} redirect without a Location header`,
        href,
        ip,
      );
      return result;
    }
    if (isRedirectStatus(res.status) && location !== undefined) {
      let next: URL | undefined;
      try {
        next = new URL(location, url);
      } catch {
        // unusable Location: reported below
      }
      result.hops.push({
        url: href,
        ip,
        ...tried,
        status: res.status,
        location: next?.href ?? location,
      });
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
    result.hops.push({ url: href, ip, ...tried, status: res.status });
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
