/**
 * Search API clients: SearXNG's JSON API and the Brave Search API, both returning plain hits.
 * @module
 */
import type { ApiClient } from "@sluice/sdk/api/client.ts";
import type { Hit } from "./match.ts";

/** A provider: builds the request and reads the hits. */
export interface SearchProvider {
  name: "searxng" | "brave";
  /** `deadline`: the plugin call's (`ctx.deadline`), for waits on rate limits. */
  search(q: string, client: ApiClient, signal: AbortSignal, deadline?: number): Promise<Hit[]>;
}

/** A search answer we cannot read. */
export class SearchAnswerError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "SearchAnswerError";
  }
}

function parse(body: string, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw new SearchAnswerError(
      `${where} answered something that is not JSON: ${(e as Error).message}`,
    );
  }
  if (!v || typeof v !== "object") throw new SearchAnswerError(`${where} answered no JSON object`);
  return v as Record<string, unknown>;
}

function hits(list: unknown, text: "content" | "description"): Hit[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((r) => {
    const o = r as Record<string, unknown>;
    if (typeof o?.url !== "string") return [];
    return [{
      url: o.url,
      title: typeof o.title === "string" ? o.title : "",
      content: typeof o[text] === "string" ? (o[text] as string) : "",
    }];
  });
}

/**
 * GETs `url` and parses the JSON body; a non-200 answer or a body that is not a JSON object
 * counts as a failure of the service (circuit breaker) and throws {@linkcode SearchAnswerError}.
 */
async function get(
  client: ApiClient,
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  where: string,
  deadline?: number,
): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  await client.call(
    { url, headers: { accept: "application/json", ...headers }, signal, deadline },
    {
      validate(r) {
        if (r.status !== 200) {
          throw new SearchAnswerError(
            `${where} (${new URL(url).host}) answered HTTP ${r.status}` +
              ([401, 403, 422].includes(r.status)
                ? " (check the API key / instance settings)"
                : ""),
          );
        }
        body = parse(r.body, where);
      },
    },
  );
  return body;
}

/** SearXNG (`/search?format=json`); the instance must allow the JSON format. */
export function searxng(baseUrl: string, maxResults: number): SearchProvider {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    name: "searxng",
    async search(q, client, signal, deadline) {
      const url = `${base}/search?format=json&q=${encodeURIComponent(q)}`;
      const body = await get(client, url, {}, signal, "SearXNG", deadline);
      return hits(body.results, "content").slice(0, maxResults);
    },
  };
}

/** Brave Search API (`/res/v1/web/search`, key in `X-Subscription-Token`). */
export function brave(baseUrl: string, apiKey: string, maxResults: number): SearchProvider {
  const base = baseUrl.replace(/\/+$/, "");
  return {
    name: "brave",
    async search(q, client, signal, deadline) {
      const url = `${base}/res/v1/web/search?count=${Math.min(20, maxResults)}&q=${
        encodeURIComponent(q)
      }`;
      const token = { "x-subscription-token": apiKey };
      const body = await get(client, url, token, signal, "Brave", deadline);
      const web = body.web as { results?: unknown } | undefined;
      return hits(web?.results, "description").slice(0, maxResults);
    },
  };
}
