/**
 * A fake OpenAI-compatible chat-completions endpoint (`POST /v1/chat/completions`) on loopback.
 * A responder function decides each answer's content (so tests can answer inside or outside a
 * vocabulary); misbehaviour for tests: error statuses (429 storms with `Retry-After`), malformed
 * JSON, hung answers. Requires `Authorization: Bearer <apiKey>`.
 * @module
 */

/** A chat message as sent by the client. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** What the client sent. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
  [k: string]: unknown;
}

/** How the fake misbehaves (for every request while set). */
export type LlmBehaviour =
  | { kind: "status"; status: number; retryAfter?: string; times?: number }
  | { kind: "malformed" }
  | { kind: "hang" };

/** Options of {@linkcode startLlmFake}. */
export interface LlmFakeOptions {
  /** The assistant's answer text for a request. */
  respond: (req: ChatRequest) => string;
  /** Required bearer token (default `test-llm-key`). */
  apiKey?: string;
  /**
   * Tokens reported per request (default: prompt chars/4 and answer chars/4, with their total);
   * `{ total_tokens }` alone, as servers that count only a total answer, or null for no `usage`.
   */
  usage?: (
    req: ChatRequest,
    answer: string,
  ) => { prompt_tokens: number; completion_tokens: number } | { total_tokens: number } | null;
  hostname?: string;
}

/** A running fake. */
export interface LlmFake extends AsyncDisposable {
  /** OpenAI-style base URL ending in `/v1`. */
  readonly baseUrl: string;
  /** Requests received (authorized ones), in order. */
  readonly requests: ChatRequest[];
  setBehaviour(b: LlmBehaviour | undefined): void;
  close(): Promise<void>;
}

/** Starts the fake. */
export function startLlmFake(options: LlmFakeOptions): LlmFake {
  const key = options.apiKey ?? "test-llm-key";
  const requests: ChatRequest[] = [];
  let behaviour: LlmBehaviour | undefined;
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
    if (new URL(req.url).pathname !== "/v1/chat/completions" || req.method !== "POST") {
      return json({ error: { message: "not found" } }, 404);
    }
    if (req.headers.get("authorization") !== `Bearer ${key}`) {
      return json({
        error: { message: "Incorrect API key provided", type: "invalid_request_error" },
      }, 401);
    }
    let body: ChatRequest;
    try {
      body = await req.json();
    } catch {
      return json({ error: { message: "body is not JSON" } }, 400);
    }
    requests.push(body);
    if (behaviour) {
      const n = served++;
      if (behaviour.kind === "malformed") {
        return new Response('{"choices": [{"message": ', { status: 200 });
      }
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
          { error: { message: "rate limited", type: "rate_limit_error" } },
          behaviour.status,
          behaviour.retryAfter ? { "retry-after": behaviour.retryAfter } : {},
        );
      }
    }
    const answer = options.respond(body);
    const u = options.usage ? options.usage(body, answer) : {
      prompt_tokens: Math.ceil(body.messages.reduce((n, m) => n + String(m.content).length, 0) / 4),
      completion_tokens: Math.ceil(answer.length / 4),
    };
    return json({
      id: `chatcmpl-${requests.length}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{
        index: 0,
        message: { role: "assistant", content: answer },
        finish_reason: "stop",
      }],
      ...(u === null ? {} : {
        usage: "total_tokens" in u
          ? u
          : { ...u, total_tokens: u.prompt_tokens + u.completion_tokens },
      }),
    });
  });
  const close = async () => {
    closing.abort();
    await server.finished;
  };
  return {
    baseUrl: `http://${options.hostname ?? "127.0.0.1"}:${server.addr.port}/v1`,
    requests,
    setBehaviour(b) {
      behaviour = b;
      served = 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
