/**
 * http-probe: probes each domain's web presence over HTTPS and HTTP at the addresses the `dns`
 * stage found and writes `item.http` (see `HttpProbeResult` in `@sluice/sdk/net/types.ts`).
 * @module
 */
import { definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { DnsClient } from "@sluice/sdk/net/dns_client.ts";
import { lookupDomain, lookupHost } from "@sluice/sdk/net/dns_lookup.ts";
import { fetchWithRedirects, type HostResolver } from "@sluice/sdk/net/http_fetch.ts";
import { type KeySlots, Limiter, mapConcurrent, sharedKeySlots } from "@sluice/sdk/net/limiter.ts";
import { certificateTarget, grabCertificate } from "@sluice/sdk/net/tls_certificate.ts";
import type { DnsResult, HttpProbeResult } from "@sluice/sdk/net/types.ts";
import {
  BROWSER_ACCEPT_LANGUAGE,
  BROWSER_USER_AGENT,
  defaultSlowRetryMs,
  fetchTimeouts,
  probeDomain,
  SLOW_RETRY_GRACE_MS,
} from "./probe.ts";
import { whenAborted } from "@sluice/sdk/io/when_aborted.ts";

/**
 * The page (`html`, `text`) is kept on `best` only: an attempt's response carries them empty.
 * Nothing reads them there, and they would double the largest part of every item the later
 * stages pass on.
 */
export function pagesOnBestOnly(http: HttpProbeResult): HttpProbeResult {
  return {
    ...http,
    attempts: http.attempts.map((a) =>
      a.response ? { ...a, response: { ...a.response, html: "", text: "" } } : a
    ),
  };
}

interface Config {
  field?: string;
  maxRedirects?: number;
  maxBodyBytes?: number;
  hashBytes?: number;
  perIpConcurrency?: number;
  probeAll?: boolean;
  randomPath?: boolean;
  itemTimeoutMs?: number;
  slowRetryTimeoutMs?: number;
  keepOpen?: boolean;
  hedgeMs?: number;
  userAgent?: string;
  browserUserAgent?: string;
  tlsDetails?: boolean;
}

interface State {
  dns?: DnsClient;
  resolve: HostResolver;
  /** Connections per IP address, shared by all of the plugin's processes (`ctx.limits`). */
  perIp: KeySlots;
  /** Domains probed at once by this process, across the chunks it serves concurrently. */
  slots: Limiter;
  /** Domains in their slow retry at once (their probe slot handed back meanwhile). */
  slowSlots: Limiter;
}

export default definePlugin<Config, State>({
  setup({ network, config, signal, limits }) {
    const dns = network.dnsServers.length
      ? new DnsClient({
        servers: network.dnsServers,
        timeoutMs: network.timeouts.dns,
        concurrency: network.concurrency,
      })
      : undefined;
    if (dns) signal.addEventListener("abort", () => dns.close(), { once: true });
    const resolve: HostResolver = (host, s) =>
      dns ? lookupHost(dns, host, s) : Promise.resolve({
        status: "unknown",
        reason: "no DNS servers configured (network.dnsServers)",
        a: [],
        aaaa: [],
        cname: [],
      });
    return {
      dns,
      resolve,
      perIp: sharedKeySlots(limits, "ip:", config.perIpConcurrency ?? 4),
      slots: new Limiter(network.concurrency),
      slowSlots: new Limiter(network.concurrency),
    };
  },
  async process(items, { config, state, network, metrics, signal }) {
    const field = config.field ?? "domain";
    const itemTimeout = config.itemTimeoutMs ?? network.timeouts.request * 3;
    const slowRetryMs = config.slowRetryTimeoutMs ?? defaultSlowRetryMs(network.timeouts.request);
    const tally = new MetricTally();
    try {
      // A domain holds a probe slot for its first round; one that only timed out hands it back
      // for its slow retry, which takes a slow-retry slot (as many), so a list with many hanging
      // hosts keeps the other domains' probes going meanwhile.
      const limit = network.concurrency * 2;
      return await mapConcurrent(items, limit, async (item): Promise<Item> => {
        let release: (() => void) | undefined = await state.slots.acquire(signal);
        const handBack = () => {
          release?.();
          release = undefined;
        };
        try {
          return await probeItem(item, async () => {
            handBack();
            return await state.slowSlots.acquire(signal);
          });
        } finally {
          handBack();
        }
      });
    } finally {
      tally.flush(metrics);
    }

    async function probeItem(
      item: Item,
      slowRetryGate: () => Promise<() => void>,
    ): Promise<Item> {
      const value = item[field];
      const domain = (typeof value === "string" && value ? value : item.key).toLowerCase();
      const started = performance.now();
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new Error("item deadline")), itemTimeout);
      // The slow retry's deadline: the item's, extended by the retry's timeout, and never less
      // than that timeout and a grace from the retry's start.
      const extended = new AbortController();
      let retryTimer: ReturnType<typeof setTimeout> | undefined;
      const slowRetrySignal = () => {
        const left = Math.max(
          itemTimeout + slowRetryMs - (performance.now() - started),
          slowRetryMs + SLOW_RETRY_GRACE_MS,
        );
        retryTimer = setTimeout(() => extended.abort(new Error("slow retry deadline")), left);
        return extended.signal;
      };
      const onAbort = () => {
        deadline.abort(signal.reason);
        extended.abort(signal.reason);
      };
      const offAbort = whenAborted(signal, onAbort);
      try {
        const dns = (item.dns as DnsResult | undefined) ??
          (state.dns
            ? await lookupDomain(state.dns, domain, { ns: false, mx: false, txt: false })
            : {
              status: "unknown" as const,
              reason: "no dns result on the item and no DNS servers configured",
              apex: { status: "unknown" as const, a: [], aaaa: [], cname: [] },
              www: { status: "unknown" as const, a: [], aaaa: [], cname: [] },
              ns: [],
              mx: [],
              txt: [],
            });
        const http = await probeDomain({
          domain,
          dns,
          probeAll: config.probeAll,
          randomPath: config.randomPath,
          hedgeMs: config.hedgeMs,
          slowRetryMs,
          slowRetrySignal,
          slowRetryGate,
          lateAfterMs: config.keepOpen === false ? undefined : network.timeouts.request,
          signal: deadline.signal,
          fetch: (url, addresses, s, extra) =>
            fetchWithRedirects({
              url,
              addresses,
              resolve: state.resolve,
              network: extra?.timeoutMs === undefined
                ? network
                : { ...network, timeouts: fetchTimeouts(network.timeouts, extra) },
              maxRedirects: config.maxRedirects,
              maxBodyBytes: config.maxBodyBytes,
              digest: { hashBytes: config.hashBytes },
              perIp: state.perIp,
              userAgent: extra?.browserUa
                ? config.browserUserAgent ?? BROWSER_USER_AGENT
                : config.userAgent,
              // A browser also says which languages it reads; some bot checks look for that too.
              acceptLanguage: extra?.browserUa ? BROWSER_ACCEPT_LANGUAGE : undefined,
              signal: s,
            }),
        });
        if (config.tlsDetails) {
          await addCertificate(http, http.slowRetry ? extended.signal : deadline.signal);
        }
        if (http.slowRetry) {
          tally.count(`http_slow_retry_${http.slowRetry.answered ? "answered" : "silent"}`);
        }
        tally.count(`http_${http.status}`);
        return { ...item, http: pagesOnBestOnly(http) };
      } finally {
        clearTimeout(timer);
        clearTimeout(retryTimer);
        offAbort();
      }
    }

    /** `tlsDetails`: one more handshake, at the probe's HTTPS address, to describe its certificate. */
    async function addCertificate(http: HttpProbeResult, s: AbortSignal): Promise<void> {
      const at = certificateTarget(http);
      if (!at || s.aborted) return;
      const release = await state.perIp.acquire(at.ip, s).catch(() => undefined);
      if (!release) return;
      try {
        http.tls = await grabCertificate({
          ...at,
          port: network.httpsPort,
          timeoutMs: network.timeouts.connect,
          proxy: network.proxy,
          signal: s,
        });
      } finally {
        release();
      }
    }
  },
});
