/**
 * search-verify: for items still marked `lead`, asks a web-search API (SearXNG or Brave) whether
 * the business has a website elsewhere (another domain, a social page), matching business name
 * and city. Records `item.search` with the evidence; when something is found it flips `lead` to
 * false with a `lead_reason`. API trouble never drops an item: it passes with
 * `search.status: "unknown"` and the reason (rate limit, retries with `Retry-After`, and a
 * circuit breaker that pauses the stage after repeated failures). Without a `baseUrl` (SearXNG)
 * or key (Brave) the stage passes items unchanged unless `enabled: true` demands the config.
 * Answers are kept for `cacheDays` (default 7) in the plugin's data folder, so a list run again
 * does not pay for the same queries twice (`search.cached: true` on an item served from there).
 * @module
 */
import { ConfigError, definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { ApiClient } from "@sluice/sdk/api/client.ts";
import { ApiMetrics } from "@sluice/sdk/api/api_metrics.ts";
import { createNetRequester } from "@sluice/sdk/api/net_requester.ts";
import { mapConcurrent } from "@sluice/sdk/net/limiter.ts";
import { type Evidence, findEvidence, type Hit } from "./match.ts";
import { AnswerCache } from "@sluice/sdk/io/answer_cache.ts";
import { brave, type SearchProvider, searxng } from "./providers.ts";

/** What the answer cache's entries hold (a search's hits); change it when that changes. */
export const CACHE_PREFIX = "hits-v1";

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
  cacheDays?: number;
}

/** `item.search`. */
export interface SearchResult {
  /** `found_elsewhere`, `not_found`, `unknown` (API trouble), or `skipped` (no name to search). */
  status: "found_elsewhere" | "not_found" | "unknown" | "skipped";
  provider: string;
  query?: string;
  evidence: Evidence[];
  reason?: string;
  /** The answer came from the cache (asked within `cacheDays`), not from the API. */
  cached?: true;
}

interface State {
  client?: ApiClient;
  /** circuit_open and rate_limit_wait_ms of the client. */
  api?: ApiMetrics;
  provider?: SearchProvider;
  /** Kept answers (none with `cacheDays: 0`). */
  cache?: AnswerCache<Hit[]>;
  /** What decides a query's answer besides the query: provider, address, result count. */
  cacheScope?: (string | number)[];
}

export default definePlugin<Config, State>({
  async setup({ config, secrets, network, signal, log, metrics, limits, dataDir }) {
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
    let address: string;
    if (kind === "brave") {
      if (!key) {
        throw new Error(
          "search-verify: the Brave API needs a key: set with.apiKey: ${{ secrets.BRAVE_API_KEY }}",
        );
      }
      address = config.baseUrl ?? "https://api.search.brave.com";
      provider = brave(address, key, max);
    } else if (kind === "searxng") {
      if (!config.baseUrl) {
        throw new ConfigError(
          "search-verify: set with.baseUrl to your SearXNG instance (JSON format enabled)",
        );
      }
      address = config.baseUrl;
      provider = searxng(address, max);
    } else {
      throw new ConfigError(
        `search-verify: with.provider must be "searxng" or "brave", got ${JSON.stringify(kind)}`,
      );
    }
    const days = config.cacheDays ?? 7;
    // Keeping answers saves requests; without it (a stage whose permissions leave out the data
    // folder) the stage still works, asking every time.
    const cache = days > 0
      ? await AnswerCache.open<Hit[]>(dataDir, "search", days * 86_400_000, CACHE_PREFIX)
        .catch((e) => {
          log.warn(
            `search-verify: answers are not kept (the cache in the data folder cannot be ` +
              `opened: ${(e as Error).message}); every query goes to the API; cacheDays: 0 ` +
              "says so without this warning",
          );
          return undefined;
        })
      : undefined;
    const net = createNetRequester({ network });
    signal.addEventListener("abort", () => {
      net.close();
      cache?.close();
    }, { once: true });
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
    return { client, api, provider, cache, cacheScope: [kind, address.replace(/\/+$/, ""), max] };
  },
  async process(items, { config, state, network, metrics, signal, deadline, log }) {
    if (!state.client || !state.provider) return items;
    const limit = Math.min(config.concurrency ?? 4, network.concurrency);
    const tally = new MetricTally();
    // The chunk's kept answers, read at once; its new ones are kept at once at the end.
    const queries = new Map<Item, Query>();
    for (const item of items) {
      const q = item.lead === true ? queryOf(item, config) : undefined;
      if (!q) continue;
      queries.set(
        item,
        state.cache ? { ...q, key: await AnswerCache.keyOf([...state.cacheScope!, q.query]) } : q,
      );
    }
    const kept = state.cache
      ? await state.cache.getMany([...queries.values()].map((q) => q.key!)).catch((e) => {
        log.warn(`search-verify: the answer cache could not be read: ${(e as Error).message}`);
        return new Map<string, Hit[]>();
      })
      : new Map<string, Hit[]>();
    const asked = new Map<string, Hit[]>();
    try {
      return await mapConcurrent(items, limit, async (item: Item) => {
        if (item.lead !== true) return item;
        const q = queries.get(item);
        const search = q
          ? await verify(item, q, state as Required<State>, kept, asked, signal, deadline)
          : skipped(state.provider!.name);
        if (search.cached) tally.count("search_cached");
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
      if (state.cache && asked.size) {
        await state.cache.putMany([...asked]).catch((e) => {
          log.warn(`search-verify: answers could not be kept: ${(e as Error).message}`);
        });
      }
    }
  },
});

/** A lead's query: its name and city, the query text, and (with a cache) its cache key. */
interface Query {
  name: string;
  city: string;
  query: string;
  key?: string;
}

/** The query of a lead (`"<name>" <city>`), or undefined when it has no name. */
function queryOf(item: Item, config: Config): Query | undefined {
  const name = String(item[config.nameField ?? "name"] ?? "").trim();
  const cityRaw = item[config.cityField ?? "city"];
  const city = typeof cityRaw === "string" ? cityRaw.trim() : "";
  if (!name) return undefined;
  return { name, city, query: city ? `"${name}" ${city}` : `"${name}"` };
}

function skipped(provider: string): SearchResult {
  return { status: "skipped", provider, evidence: [], reason: "the item has no business name" };
}

/**
 * Searches for one lead (or takes the answer kept for its query in `kept`; a new answer goes to
 * `asked`) and matches the hits against it.
 */
async function verify(
  item: Item,
  { name, city, query, key }: Query,
  state: Required<State>,
  kept: Map<string, Hit[]>,
  asked: Map<string, Hit[]>,
  signal: AbortSignal,
  deadline?: number,
): Promise<SearchResult> {
  const provider = state.provider.name;
  try {
    const cached = key === undefined ? undefined : kept.get(key);
    const hits = cached ?? await state.provider.search(query, state.client, signal, deadline);
    if (!cached && key !== undefined) asked.set(key, hits);
    const phone = typeof item.phone === "string" ? item.phone : undefined;
    const domain = String(item.domain ?? item.key);
    const evidence = findEvidence({ hits, name, city, domain, phone });
    return {
      status: evidence.length ? "found_elsewhere" : "not_found",
      provider,
      query,
      evidence: evidence.slice(0, 3),
      ...(cached ? { cached: true as const } : {}),
    };
  } catch (e) {
    if (signal.aborted) throw e;
    return { status: "unknown", provider, query, evidence: [], reason: (e as Error).message };
  }
}
