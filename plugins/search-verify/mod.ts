/**
 * search-verify: for items still marked `lead`, asks a web-search API (SearXNG or Brave) whether
 * the business has a website elsewhere (another domain, a social page), matching business name
 * and city. Records `item.search` with the evidence; when something is found it flips `lead` to
 * false with a `lead_reason`. API trouble never drops an item: it passes with
 * `search.status: "unknown"` and the reason (rate limit, retries with `Retry-After`, and a
 * circuit breaker that pauses the stage after repeated failures). Without a `baseUrl` (SearXNG)
 * or key (Brave) the stage passes items unchanged unless `enabled: true` demands the config.
 * @module
 */
import { ConfigError, definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { ApiClient } from "@sluice/sdk/api/client.ts";
import { ApiMetrics } from "@sluice/sdk/api/api_metrics.ts";
import { createNetRequester } from "@sluice/sdk/api/net_requester.ts";
import { mapConcurrent } from "@sluice/sdk/net/limiter.ts";
import { type Evidence, findEvidence } from "./match.ts";
import { brave, type SearchProvider, searxng } from "./providers.ts";

interface Config {
  enabled?: boolean;
  provider?: "searxng" | "brave";
  baseUrl?: string;
  apiKey?: string;
  nameField?: string;
  cityField?: string;
  maxResults?: number;
  flip?: boolean;
  flipOnSocial?: boolean;
  perSecond?: number;
  attempts?: number;
  concurrency?: number;
  breakerThreshold?: number;
  breakerCooldownSeconds?: number;
}

/** `item.search`. */
export interface SearchResult {
  /** `found_elsewhere`, `not_found`, `unknown` (API trouble), or `skipped` (no name to search). */
  status: "found_elsewhere" | "not_found" | "unknown" | "skipped";
  provider: string;
  query?: string;
  evidence: Evidence[];
  reason?: string;
}

interface State {
  client?: ApiClient;
  /** circuit_open and rate_limit_wait_ms of the client. */
  api?: ApiMetrics;
  provider?: SearchProvider;
}

export default definePlugin<Config, State>({
  setup({ config, secrets, network, signal, log, metrics, limits }) {
    const kind = config.provider ?? "searxng";
    const max = config.maxResults ?? 10;
    const key = config.apiKey ?? secrets.BRAVE_API_KEY;
    const configured = kind === "brave" ? Boolean(key) : Boolean(config.baseUrl);
    if (config.enabled === false || (config.enabled === undefined && !configured)) {
      if (config.enabled === undefined) {
        log.info(
          `search-verify: not configured (no ${
            kind === "brave" ? "API key" : "baseUrl"
          }); items pass unchanged`,
        );
      }
      return {};
    }
    let provider: SearchProvider;
    if (kind === "brave") {
      if (!key) {
        throw new Error(
          "search-verify: the Brave API needs a key: set with.apiKey: ${{ secrets.BRAVE_API_KEY }}",
        );
      }
      provider = brave(config.baseUrl ?? "https://api.search.brave.com", key, max);
    } else if (kind === "searxng") {
      if (!config.baseUrl) {
        throw new ConfigError(
          "search-verify: set with.baseUrl to your SearXNG instance (JSON format enabled)",
        );
      }
      provider = searxng(config.baseUrl, max);
    } else {
      throw new ConfigError(
        `search-verify: with.provider must be "searxng" or "brave", got ${JSON.stringify(kind)}`,
      );
    }
    const net = createNetRequester({ network });
    signal.addEventListener("abort", () => net.close(), { once: true });
    const api = new ApiMetrics(metrics);
    const client = new ApiClient({
      request: net,
      perSecond: config.perSecond ?? 1,
      shared: limits,
      retry: { attempts: config.attempts ?? 3, baseMs: 1000, maxMs: 30_000 },
      breaker: {
        name: `search API (${kind})`,
        failureThreshold: config.breakerThreshold ?? 5,
        cooldownMs: (config.breakerCooldownSeconds ?? 300) * 1000,
        onChange: api.breaker("search"),
      },
      onRateLimitWait: api.wait,
    });
    return { client, api, provider };
  },
  async process(items, { config, state, network, metrics, signal, deadline }) {
    if (!state.client || !state.provider) return items;
    const limit = Math.min(config.concurrency ?? 4, network.concurrency);
    const tally = new MetricTally();
    try {
      return await mapConcurrent(items, limit, async (item: Item) => {
        if (item.lead !== true) return item;
        const search = await verify(item, config, state as Required<State>, signal, deadline);
        tally.count(`search_${search.status}`);
        const out: Item = { ...item, search };
        // A social page alone may be all the web presence a business has: with
        // flipOnSocial: false it stays a lead (an agency selling websites wants exactly those).
        const site = search.status === "found_elsewhere"
          ? search.evidence.find((e) => e.kind !== "social") ??
            ((config.flipOnSocial ?? true) ? search.evidence[0] : undefined)
          : undefined;
        if (site && (config.flip ?? true)) {
          out.lead = false;
          out.lead_reason = `search found the business elsewhere: ${site.url} (${site.kind})`;
        }
        return out;
      });
    } finally {
      tally.flush(metrics);
      state.api?.flush(metrics);
    }
  },
});

async function verify(
  item: Item,
  config: Config,
  state: Required<State>,
  signal: AbortSignal,
  deadline?: number,
): Promise<SearchResult> {
  const name = String(item[config.nameField ?? "name"] ?? "").trim();
  const cityRaw = item[config.cityField ?? "city"];
  const city = typeof cityRaw === "string" ? cityRaw.trim() : "";
  const provider = state.provider.name;
  if (!name) {
    return { status: "skipped", provider, evidence: [], reason: "the item has no business name" };
  }
  const query = city ? `"${name}" ${city}` : `"${name}"`;
  try {
    const hits = await state.provider.search(query, state.client, signal, deadline);
    const phone = typeof item.phone === "string" ? item.phone : undefined;
    const domain = String(item.domain ?? item.key);
    const evidence = findEvidence({ hits, name, city, domain, phone });
    return {
      status: evidence.length ? "found_elsewhere" : "not_found",
      provider,
      query,
      evidence: evidence.slice(0, 3),
    };
  } catch (e) {
    if (signal.aborted) throw e;
    return { status: "unknown", provider, query, evidence: [], reason: (e as Error).message };
  }
}
