/**
 * The client's address behind reverse proxies. The direct peer (Deno.serve's `remoteAddr`) is
 * the client unless it is a trusted proxy (`server.trustedProxies`); then the proxies' own record
 * is read, `X-Forwarded-For` (else `Forwarded: for=`), from the right: each trusted proxy appends
 * the address it was reached from, so the rightmost address that is not itself a trusted proxy
 * is the client. Entries left of it were written by the client and are never believed.
 *
 * ```ts
 * const clientIp = clientAddressResolver({ trustedProxies: ["127.0.0.1", "::1"] });
 * Deno.serve((req, info) => new Response(clientIp(req, info)));
 * ```
 * @module
 */
import { formatIp, type IpBytes, IpRanges, parseIp } from "../config/ip_ranges.ts";

/** What a resolver is given: a request and Deno.serve's handler info (or Hono's `c.env`). */
export type ClientAddressResolver = (req: Request, env: unknown) => string;

/** Options of {@link clientAddressResolver}. */
export interface ClientAddressOptions {
  /**
   * Reverse proxies (IP addresses and CIDR ranges, or ranges already parsed) whose forwarding
   * headers are believed. Empty (the default) believes none: the peer address is the client.
   */
  trustedProxies?: readonly string[] | IpRanges;
}

/** The key of requests whose peer is not an IP address (no `remoteAddr`, a Unix socket). */
export const UNKNOWN_CLIENT = "local";

/** The peer's address from Deno.serve's handler info (`env.remoteAddr.hostname`), if any. */
export function peerAddress(env: unknown): string | undefined {
  const addr = (env as { remoteAddr?: { hostname?: unknown } } | undefined)?.remoteAddr;
  return typeof addr?.hostname === "string" ? addr.hostname : undefined;
}

/** Splits a header value at commas outside double quotes. */
function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0, quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === "\\" && quoted) i++;
    else if (ch === '"') quoted = !quoted;
    else if (ch === "," && !quoted) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out.map((s) => s.trim());
}

/** The nodes of `X-Forwarded-For`, leftmost (the first client) first. */
export function xForwardedFor(value: string): string[] {
  return splitList(value).filter((s) => s !== "");
}

/**
 * The `for=` nodes of a `Forwarded` header (RFC 7239), one per element, leftmost first; an
 * element without `for=` gives `""` (an unknown hop).
 */
export function forwardedFor(value: string): string[] {
  return splitList(value).filter((s) => s !== "").map((element) => {
    for (const pair of element.split(";")) {
      const eq = pair.indexOf("=");
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== "for") continue;
      let v = pair.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
        v = v.slice(1, -1).replace(/\\(.)/g, "$1");
      }
      return v;
    }
    return "";
  });
}

/**
 * A node's address: an IP, `IPv4:port`, `[IPv6]` or `[IPv6]:port`; undefined for anything
 * else (`unknown`, RFC 7239's obfuscated `_names`, garbage).
 */
export function nodeAddress(node: string): IpBytes | undefined {
  const s = node.trim();
  const bracket = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (bracket) return bracket[1].includes(":") ? parseIp(bracket[1]) : undefined;
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(s);
  return parseIp(v4port ? v4port[1] : s);
}

/**
 * The client address of one request: the peer's, unless the peer is in `trusted`; then the
 * rightmost `X-Forwarded-For` node (or, without that header, `Forwarded: for=` node) that is
 * not in `trusted`. When that node is no address (`unknown`, garbage) the nearest trusted hop
 * to its right counts instead, so a client can never choose its own key; when every node is
 * trusted, the leftmost. Addresses come back canonical ({@link formatIp}).
 */
export function clientAddress(
  headers: Headers,
  peer: string | undefined,
  trusted: IpRanges,
): string {
  const peerBytes = peer === undefined ? undefined : parseIp(peer);
  if (!peerBytes) return peer ?? UNKNOWN_CLIENT;
  if (!trusted.has(peerBytes)) return formatIp(peerBytes);
  const xff = headers.get("x-forwarded-for");
  const fwd = xff === null ? headers.get("forwarded") : null;
  const nodes = xff !== null ? xForwardedFor(xff) : fwd !== null ? forwardedFor(fwd) : [];
  let nearest = peerBytes; // the hop that handed us the node being read
  for (let i = nodes.length - 1; i >= 0; i--) {
    const bytes = nodeAddress(nodes[i]);
    if (!bytes) return formatIp(nearest);
    if (!trusted.has(bytes)) return formatIp(bytes);
    nearest = bytes;
  }
  return formatIp(nearest);
}

/**
 * A resolver of the client address for the HTTP app (`AppDeps.clientIp`): see
 * {@link clientAddress}.
 * @throws {RangeError} when a trusted proxy entry is not an IP address or CIDR range.
 */
export function clientAddressResolver(opts: ClientAddressOptions = {}): ClientAddressResolver {
  const given = opts.trustedProxies ?? [];
  const trusted = given instanceof IpRanges ? given : IpRanges.parse(given);
  return (req, env) => clientAddress(req.headers, peerAddress(env), trusted);
}
