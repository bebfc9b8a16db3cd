/**
 * The probe of one domain: which URLs to try, in which order, when to stop, and how the attempts
 * add up to an {@linkcode HttpProbeResult}. Network access comes in through `fetch`, so this is
 * tested without sockets as well as through the real plugin.
 * @module
 */
import type { FetchOptions, FetchResult } from "@sluice/sdk/net/http_fetch.ts";
import { isOurs } from "@sluice/sdk/net/http_errors.ts";
import type {
  DnsResult,
  HttpAttempt,
  HttpProbeResult,
  HttpTarget,
  RandomPathProbe,
} from "@sluice/sdk/net/types.ts";

/** What {@linkcode probeDomain} needs. */
export interface ProbeOptions {
  domain: string;
  /** The dns stage's result for the domain. */
  dns: DnsResult;
  /** Fetches one start URL (e.g. `fetchWithRedirects` with the shared options bound). */
  fetch: (url: string, addresses: string[], signal: AbortSignal) => Promise<FetchResult>;
  /** Probe all four URLs instead of stopping at the first good one. */
  probeAll?: boolean;
  /** Fetch a random path on the best host too. */
  randomPath?: boolean;
  /** Makes the random path segment (default: random hex). */
  randomSegment?: () => string;
  signal: AbortSignal;
}

/** Fields of {@linkcode FetchOptions} the plugin binds once. */
export type BoundFetchOptions = Omit<FetchOptions, "url" | "addresses" | "signal">;

const ORDER: { target: HttpTarget; scheme: "https" | "http"; www: boolean }[] = [
  { target: "https://apex", scheme: "https", www: false },
  { target: "https://www", scheme: "https", www: true },
  { target: "http://apex", scheme: "http", www: false },
  { target: "http://www", scheme: "http", www: true },
];

const good = (a: HttpAttempt) => a.response !== undefined && a.response.status < 400;

/** Summarizes attempts into the probe's status and best response. */
export function summarize(attempts: HttpAttempt[]): Omit<HttpProbeResult, "randomPath"> {
  const best = attempts.find(good) ?? attempts.find((a) => a.response);
  if (best?.response) {
    return { status: "responded", attempts, best: { ...best.response, target: best.target } };
  }
  if (attempts.length === 0) return { status: "no_address", attempts };
  const errors = attempts.map((a) => a.error!).filter(Boolean);
  if (errors.length && errors.every((e) => e.kind === "blocked_private")) {
    return { status: "blocked_private", attempts };
  }
  if (errors.some((e) => e.ours)) return { status: "unknown", attempts };
  return { status: "failed", attempts };
}

function randomHex(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Probes one domain; never throws for network trouble. */
export async function probeDomain(opts: ProbeOptions): Promise<HttpProbeResult> {
  const { dns, domain } = opts;
  if (dns.status !== "ok") {
    return { status: dns.status === "unknown" ? "unknown" : "no_address", attempts: [] };
  }
  const hosts = {
    apex: [...dns.apex.a, ...dns.apex.aaaa],
    www: [...dns.www.a, ...dns.www.aaaa],
  };
  const attempts: HttpAttempt[] = [];
  for (const o of ORDER) {
    const addresses = o.www ? hosts.www : hosts.apex;
    if (addresses.length === 0) continue;
    const url = `${o.scheme}://${o.www ? "www." : ""}${domain}/`;
    if (opts.signal.aborted) {
      attempts.push({
        target: o.target,
        url,
        hops: [],
        error: {
          kind: "deadline",
          message: "the domain's probe deadline passed before this URL was tried",
          ours: isOurs("deadline"),
          url,
        },
      });
      continue;
    }
    const r = await opts.fetch(url, addresses, opts.signal);
    const attempt: HttpAttempt = { target: o.target, url, hops: r.hops };
    if (r.response) attempt.response = r.response;
    if (r.error) attempt.error = r.error;
    attempts.push(attempt);
    if (!opts.probeAll && good(attempt)) break;
  }
  const result: HttpProbeResult = summarize(attempts);
  if (opts.randomPath && result.best && !opts.signal.aborted) {
    result.randomPath = await probeRandomPath(opts, result);
  }
  return result;
}

async function probeRandomPath(
  opts: ProbeOptions,
  result: HttpProbeResult,
): Promise<RandomPathProbe> {
  const best = result.best!;
  const url = new URL(`/${(opts.randomSegment ?? randomHex)()}`, best.url).href;
  const r = await opts.fetch(url, [best.ip], opts.signal);
  const out: RandomPathProbe = { url, sameAsBest: false };
  if (r.response) {
    out.status = r.response.status;
    out.bodyHash = r.response.bodyHash;
    out.title = r.response.title;
    out.sameAsBest = r.response.status === 200 &&
      (r.response.bodyHash === best.bodyHash ||
        (best.title !== "" && r.response.title === best.title));
  }
  if (r.error) out.error = r.error;
  return out;
}
