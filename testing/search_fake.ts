/**
 * A fake web-search API on loopback speaking both the SearXNG JSON API (`GET /search?q=&format=json`)
 * and the Brave Search API (`GET /res/v1/web/search?q=` with `X-Subscription-Token`). Results
 * come from a function of the query; misbehaviour for tests: error statuses (e.g. a 429 storm
 * with `Retry-After`), malformed JSON, hung answers.
 * @module
 */

/** One search hit. */
export interface SearchHit {
  url: string;
  title: string;
  /** Snippet text. */
  content?: string;
}

/** How the fake misbehaves (for every query while set). */
export type SearchBehaviour =
  | { kind: "status"; status: number; retryAfter?: string; times?: number }
  | { kind: "malformed" }
  | { kind: "hang" };

/** Options of {@linkcode startSearchFake}. */
export interface SearchFakeOptions {
  /** Hits for a query (the `q` parameter). */
  results: (query: string) => SearchHit[];
  /** Brave API key the fake requires (default `test-brave-key`). */
  braveKey?: string;
  hostname?: string;
}

/** A running fake. */
export interface SearchFake extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:1234` (use it for both providers). */
  readonly baseUrl: string;
  /** Queries received, in order. */
  readonly queries: { provider: "searxng" | "brave"; q: string }[];
  setBehaviour(b: SearchBehaviour | undefined): void;
  close(): Promise<void>;
}

/** Starts the fake. */
export function startSearchFake(options: SearchFakeOptions): SearchFake {
  const key = options.braveKey ?? "test-brave-key";
  const queries: SearchFake["queries"] = [];
  let behaviour: SearchBehaviour | undefined;
  let served = 0;
  const closing = new AbortController();
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...headers },
    });
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: 0,
    onListen: () => {},
    signal: closing.signal,
  }, async (req) => {
    const u = new URL(req.url);
    const brave = u.pathname === "/res/v1/web/search";
    if (!brave && u.pathname !== "/search") return json({ error: "not found" }, 404);
    if (brave && req.headers.get("x-subscription-token") !== key) {
      return json({ type: "ErrorResponse", error: { code: "SUBSCRIPTION_TOKEN_INVALID" } }, 422);
    }
    if (!brave && u.searchParams.get("format") !== "json") return json({ error: "format" }, 403);
    const q = u.searchParams.get("q") ?? "";
    queries.push({ provider: brave ? "brave" : "searxng", q });
    if (behaviour) {
      const n = served++;
      if (behaviour.kind === "malformed") return new Response('{"results": [', { status: 200 });
      if (behaviour.kind === "hang") {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 3_600_000);
          closing.signal.addEventListener("abort", () => {
            clearTimeout(t);
            resolve();
          }, { once: true });
        });
        return json({}, 503);
      }
      if (behaviour.times === undefined || n < behaviour.times) {
        return json(
          { error: "error" },
          behaviour.status,
          behaviour.retryAfter ? { "retry-after": behaviour.retryAfter } : {},
        );
      }
    }
    const hits = options.results(q);
    if (brave) {
      return json({
        type: "search",
        query: { original: q },
        web: {
          type: "search",
          results: hits.map((h) => ({ url: h.url, title: h.title, description: h.content ?? "" })),
        },
      });
    }
    return json({
      query: q,
      number_of_results: hits.length,
      results: hits.map((h) => ({
        url: h.url,
        title: h.title,
        content: h.content ?? "",
        engine: "fake",
      })),
    });
  });
  const close = async () => {
    closing.abort();
    await server.finished;
  };
  return {
    baseUrl: `http://${options.hostname ?? "127.0.0.1"}:${server.addr.port}`,
    queries,
    setBehaviour(b) {
      behaviour = b;
      served = 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
