/**
 * llm-verify (optional, off by default): asks an OpenAI-compatible chat-completions endpoint to
 * label items whose `website.status` is uncertain (`unknown`, or `website.confidence` below
 * `minConfidence`). The answer must be a label from the website-status vocabulary with a short
 * rationale; anything else is refused and the item keeps its status. A token budget per run
 * (shared by the stage's instances) caps the spend. API trouble passes items through with
 * `llm.status: "unknown"` and the reason (rate limit, retries, circuit breaker).
 * @module
 */
import { definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { ApiClient } from "@sluice/sdk/api/client.ts";
import { ApiMetrics } from "@sluice/sdk/api/api_metrics.ts";
import { createNetRequester } from "@sluice/sdk/api/net_requester.ts";
import { mapConcurrent } from "@sluice/sdk/net/limiter.ts";
import { TokenBudget } from "./budget.ts";
import { buildMessages, contradiction, LEAD_LABELS, parseAnswer } from "./prompt.ts";

interface Config {
  enabled?: boolean;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  minConfidence?: number;
  budgetTokens?: number;
  maxTokens?: number;
  maxTextChars?: number;
  perSecond?: number;
  attempts?: number;
  concurrency?: number;
  breakerThreshold?: number;
  breakerCooldownSeconds?: number;
}

/** `item.llm`. */
export interface LlmResult {
  /** `accepted` (label applied), `rejected` (answer refused), `skipped` (budget), `unknown`. */
  status: "accepted" | "rejected" | "skipped" | "unknown";
  model: string;
  label?: string;
  rationale?: string;
  tokens?: number;
  reason?: string;
}

interface State {
  client?: ApiClient;
  /** circuit_open and rate_limit_wait_ms of the client. */
  api?: ApiMetrics;
  budget?: TokenBudget;
  url: string;
  key: string;
}

/** True when classify's verdict is uncertain enough to ask the model. */
export function isUncertain(item: Item, minConfidence: number): boolean {
  const w = item.website as { status?: string; confidence?: unknown } | undefined;
  if (!w || typeof w.status !== "string") return false;
  if (w.status === "unknown") return true;
  return typeof w.confidence === "number" && w.confidence < minConfidence;
}

export default definePlugin<Config, State>({
  async setup({ config, secrets, network, dataDir, run, signal, metrics, limits }) {
    const url = `${
      (config.baseUrl ?? "https://api.openai.com/v1").replace(/\/+$/, "")
    }/chat/completions`;
    const key = config.apiKey ?? secrets.OPENAI_API_KEY ?? "";
    if (!config.enabled) return { url, key };
    if (!key) {
      throw new Error(
        "llm-verify: enabled but no API key: set with.apiKey: ${{ secrets.OPENAI_API_KEY }}",
      );
    }
    const net = createNetRequester({ network });
    const budget = await TokenBudget.open(dataDir, run.id, config.budgetTokens ?? 200_000);
    signal.addEventListener("abort", () => {
      net.close();
      budget.close();
    }, { once: true });
    const api = new ApiMetrics(metrics);
    const client = new ApiClient({
      request: net,
      perSecond: config.perSecond ?? 2,
      shared: limits,
      retry: { attempts: config.attempts ?? 3, baseMs: 1000, maxMs: 30_000 },
      breaker: {
        name: `LLM API ${new URL(url).host}`,
        failureThreshold: config.breakerThreshold ?? 3,
        cooldownMs: (config.breakerCooldownSeconds ?? 300) * 1000,
        onChange: api.breaker("llm"),
      },
      onRateLimitWait: api.wait,
    });
    return { client, api, budget, url, key };
  },
  async process(items, { config, state, network, metrics, signal, deadline }) {
    if (!config.enabled || !state.client) return items;
    const min = config.minConfidence ?? 0.6;
    const limit = Math.min(config.concurrency ?? 2, network.concurrency);
    const tally = new MetricTally();
    const asks = new Map<Item, Ask>();
    for (const item of items) if (isUncertain(item, min)) asks.set(item, prepare(item, config));
    // One reservation for the whole call when the budget allows it (a reservation is a commit
    // on the budget's KV file, shared with the stage's other processes), settled once at the end;
    // otherwise each item reserves its own share and is skipped when the budget is used up.
    const reserved = [...asks.values()].reduce((n, a) => n + a.estimate, 0);
    const pooled = asks.size > 1 && await state.budget!.reserve(reserved);
    let used = 0;
    try {
      return await mapConcurrent(items, limit, async (item: Item) => {
        const prepared = asks.get(item);
        if (!prepared) return item;
        const { llm, spent } = await ask(prepared, config, state, signal, pooled, deadline);
        used += spent;
        const against = llm.status === "accepted" ? contradiction(llm.label!, item) : undefined;
        if (against) {
          llm.status = "rejected";
          llm.reason = against;
        }
        tally.count(`llm_${llm.status}`);
        if (llm.tokens) tally.count("llm_tokens", llm.tokens);
        const out: Item = { ...item, llm };
        if (llm.status === "accepted" && llm.label && llm.label !== "unknown") {
          out.website = { ...(item.website as object), status: llm.label, status_source: "llm" };
          // Web search found the business's website elsewhere: the domain's status is the
          // model's call, but it stays no lead (and keeps search-verify's reason).
          const elsewhere = (item.search as { status?: unknown } | undefined)?.status ===
            "found_elsewhere";
          const lead = !elsewhere && (LEAD_LABELS as readonly string[]).includes(llm.label);
          out.lead = lead;
          if (!elsewhere) {
            out.lead_reason = `${
              lead ? "" : "not a lead: "
            }the model labelled it ${llm.label}: ${llm.rationale}`;
          }
        }
        return out;
      });
    } finally {
      tally.flush(metrics);
      state.api?.flush(metrics);
      if (pooled) await state.budget!.settle(reserved, used);
    }
  },
});

/** One item's request: its messages and the tokens it may use at most. */
interface Ask {
  messages: ReturnType<typeof buildMessages>;
  maxTokens: number;
  estimate: number;
}

function prepare(item: Item, config: Config): Ask {
  const messages = buildMessages(item, config.maxTextChars ?? 1500);
  const maxTokens = config.maxTokens ?? 120;
  const estimate = Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / 4) + maxTokens;
  return { messages, maxTokens, estimate };
}

/**
 * Asks the model about one item; `pooled`: its tokens are already reserved by the caller.
 * `spent`: the tokens the call cost — what the API reported, the estimate when it answered
 * without a count, and nothing when no answer came (network trouble, 429/5xx, an open circuit,
 * an error status).
 */
async function ask(
  { messages, maxTokens, estimate }: Ask,
  config: Config,
  state: State,
  signal: AbortSignal,
  pooled: boolean,
  deadline?: number,
): Promise<{ llm: LlmResult; spent: number }> {
  const model = config.model ?? "gpt-4o-mini";
  if (!pooled && !(await state.budget!.reserve(estimate))) {
    return {
      llm: {
        status: "skipped",
        model,
        reason: `the run's token budget (${
          state.budget!.limit
        }) is used up; raise with.budgetTokens`,
      },
      spent: 0,
    };
  }
  let tokens = 0;
  try {
    let content: unknown;
    await state.client!.call({
      url: state.url,
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${state.key}` },
      body: JSON.stringify({ model, messages, max_tokens: maxTokens, temperature: 0 }),
      signal,
      deadline,
    }, {
      validate(res) {
        if (res.status !== 200) {
          throw new Error(
            `the LLM API answered HTTP ${res.status}` +
              (res.status === 401 || res.status === 403 ? " (check the API key)" : ""),
          );
        }
        tokens = estimate;
        let body: {
          choices?: { message?: { content?: unknown } }[];
          usage?: { total_tokens?: unknown };
        };
        try {
          body = JSON.parse(res.body);
        } catch {
          throw new Error("the LLM API answered something that is not JSON");
        }
        content = body.choices?.[0]?.message?.content;
        if (typeof body.usage?.total_tokens === "number") tokens = body.usage.total_tokens;
      },
    });
    const parsed = parseAnswer(content);
    if (!parsed.ok) {
      return { llm: { status: "rejected", model, tokens, reason: parsed.reason }, spent: tokens };
    }
    return {
      llm: { status: "accepted", model, tokens, label: parsed.label, rationale: parsed.rationale },
      spent: tokens,
    };
  } catch (e) {
    if (signal.aborted) throw e;
    return { llm: { status: "unknown", model, reason: (e as Error).message }, spent: tokens };
  } finally {
    if (!pooled) await state.budget!.settle(estimate, tokens);
  }
}
