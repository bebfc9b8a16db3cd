/**
 * rdap: registration data of each item's domain from its registry's RDAP server (found via the
 * IANA bootstrap): dates, registrar, EPP status flags, name servers and non-redacted registrant
 * contact, as `item.rdap`. Per-server rate limit, retries honouring `Retry-After`, a circuit
 * breaker per server (items then pass as `unknown` with the reason), and a result cache in the
 * plugin's data folder. A lead whose domain the registry does not know is no lead: the business
 * does not own that domain (`unleadUnregistered`, default true).
 * @module
 */
import { definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { ApiClient } from "@sluice/sdk/api/client.ts";
import { ApiMetrics } from "@sluice/sdk/api/api_metrics.ts";
import { CircuitOpenError } from "@sluice/sdk/api/circuit_breaker.ts";
import { createNetRequester, type NetRequester } from "@sluice/sdk/api/net_requester.ts";
import { mapConcurrent } from "@sluice/sdk/net/limiter.ts";
import { type Bootstrap, IANA_BOOTSTRAP, loadBootstrap } from "./bootstrap.ts";
import { RdapCache } from "./cache.ts";
import { parseRdapDomain, type RdapResult } from "./parse.ts";

interface Config {
  bootstrap?: string;
  bootstrapJson?: unknown;
  bootstrapMaxAgeHours?: number;
  perSecond?: number;
  attempts?: number;
  concurrency?: number;
  cacheDays?: number;
  breakerThreshold?: number;
  breakerCooldownSeconds?: number;
  unleadUnregistered?: boolean;
}

interface State {
  bootstrap: () => Promise<Bootstrap>;
  client: (server: string) => ApiClient;
  cache: RdapCache;
  requester: NetRequester;
  /** circuit_open and rate_limit_wait_ms of the per-server clients. */
  api: ApiMetrics;
}

const DAY = 86_400_000;

export default definePlugin<Config, State>({
  async setup(ctx) {
    const { config, network, dataDir, log, signal } = ctx;
    const api = new ApiMetrics(ctx.metrics);
    const requester = createNetRequester({ network });
    const cache = await RdapCache.open(dataDir, (config.cacheDays ?? 7) * DAY);
    signal.addEventListener("abort", () => {
      requester.close();
      cache.close();
    }, { once: true });
    const clients = new Map<string, ApiClient>();
    const client = (server: string) => {
      const host = new URL(server).host;
      let c = clients.get(host);
      if (!c) {
        c = new ApiClient({
          request: requester,
          perSecond: config.perSecond ?? 2,
          shared: ctx.limits,
          retry: { attempts: config.attempts ?? 4, baseMs: 500, maxMs: 20_000 },
          breaker: {
            name: `RDAP server ${host}`,
            failureThreshold: config.breakerThreshold ?? 5,
            cooldownMs: (config.breakerCooldownSeconds ?? 300) * 1000,
            onChange: api.breaker(host),
          },
          onRateLimitWait: api.wait,
        });
        clients.set(host, c);
      }
      return c;
    };
    const location = config.bootstrap ?? network.rdapBootstrap ?? IANA_BOOTSTRAP;
    const maxAgeMs = (config.bootstrapMaxAgeHours ?? 24) * 3_600_000;
    let current: Bootstrap | undefined;
    let failed: { at: number; error: Error } | undefined;
    const load = () =>
      loadBootstrap({
        json: config.bootstrapJson,
        location,
        dataDir,
        maxAgeMs,
        now: Date.now,
        warn: (m) => log.warn(m),
        download: async (url) => {
          const r = await client(url).call({ url, headers: { accept: "application/json" } });
          if (r.status !== 200) throw new Error(`HTTP ${r.status} from ${url}`);
          return r.body;
        },
      });
    const bootstrap = async () => {
      const fresh = current &&
        (config.bootstrapJson !== undefined || Date.now() - current.loadedAt < maxAgeMs);
      if (fresh) return current!;
      // After a failed load, wait a minute before asking again (items pass as unknown meanwhile).
      if (failed && Date.now() - failed.at < 60_000) {
        if (current) return current;
        throw failed.error;
      }
      try {
        current = await load();
        failed = undefined;
      } catch (e) {
        failed = { at: Date.now(), error: e as Error };
        if (!current) throw e;
        log.warn(`rdap: keeping the loaded bootstrap: ${(e as Error).message}`);
      }
      return current;
    };
    return { bootstrap, client, cache, requester, api };
  },

  async process(items, ctx) {
    const { state, config, metrics, network, signal, deadline, log } = ctx;
    let boot: Bootstrap;
    try {
      boot = await state.bootstrap();
    } catch (e) {
      const reason = `RDAP bootstrap unavailable: ${(e as Error).message}`;
      log.warn(`rdap: ${reason}; items pass with rdap.status unknown`);
      metrics.count("rdap_unknown", items.length);
      return items.map((item) => ({ ...item, rdap: { status: "unknown", reason } }));
    }
    const limit = Math.min(config.concurrency ?? 8, network.concurrency);
    const tally = new MetricTally();
    // A fully qualified name (`example.de.`) asks for the same domain.
    const domainOf = (item: Item) =>
      String(item.domain ?? item.key).trim().toLowerCase().replace(/\.$/, "");
    // The cache is read and written once per call, not once per domain.
    const cached = await state.cache.getMany(items.map(domainOf));
    const fresh: [string, RdapResult][] = [];
    try {
      return await mapConcurrent(items, limit, async (item: Item) => {
        const domain = domainOf(item);
        const rdap = await lookup(domain, boot, state, signal, cached.get(domain), deadline);
        if (!rdap.cached) fresh.push([domain, rdap]);
        tally.count(`rdap_${rdap.status}`);
        if (rdap.cached) tally.count("rdap_cache_hits");
        if (
          rdap.status === "not_found" && item.lead === true && config.unleadUnregistered !== false
        ) {
          tally.count("rdap_unleaded");
          return {
            ...item,
            rdap,
            lead: false,
            lead_reason:
              `the domain is not registered (${rdap.reason}): the business does not own ` +
              "it; check the list for a typo",
          };
        }
        return { ...item, rdap };
      });
    } finally {
      tally.flush(metrics);
      state.api.flush(metrics);
      await state.cache.putMany(fresh);
    }
  },
});

/** One domain's registration data: `hit` when the cache has it, else from its RDAP server. */
async function lookup(
  domain: string,
  boot: Bootstrap,
  state: State,
  signal: AbortSignal,
  hit: RdapResult | undefined,
  deadline?: number,
): Promise<RdapResult> {
  const server = boot.serverFor(domain);
  if (!server) {
    return {
      status: "unsupported",
      reason: `no RDAP server for .${domain.split(".").slice(1).join(".")} in the bootstrap`,
    };
  }
  if (hit) return { ...hit, cached: true };
  const client = state.client(server);
  const url = `${server}domain/${encodeURIComponent(domain)}`;
  let result: RdapResult;
  try {
    let parsed: ReturnType<typeof parseRdapDomain> | undefined;
    const r = await client.call({
      url,
      headers: { accept: "application/rdap+json, application/json" },
      signal,
      deadline,
    }, {
      validate(res) {
        if (res.status !== 200) return;
        try {
          parsed = parseRdapDomain(JSON.parse(res.body));
        } catch (e) {
          throw new Error(
            `malformed RDAP answer from ${server} for ${domain}: ${(e as Error).message}`,
          );
        }
      },
    });
    if (r.status === 404) {
      result = { status: "not_found", server, reason: `${server} has no record of ${domain}` };
    } else if (r.status !== 200 || !parsed) {
      result = { status: "unknown", server, reason: `${url} answered HTTP ${r.status}` };
    } else {
      result = { status: "ok", server, ...parsed };
    }
  } catch (e) {
    if (signal.aborted) throw e;
    const m = (e as Error).message;
    const msg = e instanceof CircuitOpenError || m.startsWith("malformed") ? m : `${url}: ${m}`;
    return { status: "unknown", server, reason: msg };
  }
  return result;
}
