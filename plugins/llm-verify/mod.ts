/**
 * llm-verify (optional, off by default): asks an OpenAI-compatible chat-completions endpoint to
 * label items whose `website.status` is uncertain (`unknown`, or `website.confidence` below
 * `minConfidence`). The answer must be a label from the website-status vocabulary with a short
 * rationale; anything else is refused and the item keeps its status. A token budget per run, and
 * a cost budget at the operator's pricing (both shared by the stage's instances), cap the spend.
 * API trouble passes items through with `llm.status: "unknown"` and the reason (rate limit,
 * retries, circuit breaker). Answers are kept for `cacheDays` (default 7): the same question
 * again (same model, same facts of the item) is answered from there, at no cost.
 * @module
 */
import { ConfigError, definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { ApiClient } from "@sluice/sdk/api/client.ts";
import { ApiMetrics } from "@sluice/sdk/api/api_metrics.ts";
import { createNetRequester } from "@sluice/sdk/api/net_requester.ts";
import { mapConcurrent } from "@sluice/sdk/net/limiter.ts";
import { AnswerCache } from "@sluice/sdk/io/answer_cache.ts";
import { type BudgetUse, RunBudget } from "./budget.ts";
import { buildMessages, contradiction, LEAD_LABELS, parseAnswer } from "./prompt.ts";

interface Config {
  enabled?: boolean;
  baseUrl?: string;
  apiKey?: string;
  model?: string;
  minConfidence?: number;
  budgetTokens?: number;
  budgetCost?: number;
  pricing?: Pricing;
  maxTokens?: number;
  maxTextChars?: number;
  perSecond?: number;
  attempts?: number;
  concurrency?: number;
  breakerThreshold?: number;
  breakerCooldownSeconds?: number;
  cacheDays?: number;
}

/** What the answer cache's entries hold (the model's answer text); change it when that changes. */
export const CACHE_PREFIX = "answer-v1";

/** What 1,000,000 prompt and answer tokens cost, in the currency of `budgetCost`. */
interface Pricing {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** `item.llm`. */
export interface LlmResult {
  /** `accepted` (label applied), `rejected` (answer refused), `skipped` (budget), `unknown`. */
  status: "accepted" | "rejected" | "skipped" | "unknown";
  model: string;
  label?: string;
  rationale?: string;
  tokens?: number;
  /** What the call cost at the configured pricing (with a pricing only). */
  cost?: number;
  reason?: string;
  /** The answer was kept from the same question asked within `cacheDays`: nothing was spent. */
  cached?: true;
}

interface State {
  client?: ApiClient;
  /** circuit_open and rate_limit_wait_ms of the client. */
  api?: ApiMetrics;
  budget?: RunBudget;
  /** Kept answers (none with `cacheDays: 0`). */
  cache?: AnswerCache<string>;
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
    if (config.budgetCost !== undefined && !config.pricing) {
      throw new ConfigError(
        "llm-verify: with.budgetCost needs with.pricing: { inputPerMillion, outputPerMillion }, " +
          "what 1,000,000 prompt and answer tokens cost in the currency of budgetCost (from " +
          "your provider's price list for the model)",
      );
    }
    const days = config.cacheDays ?? 7;
    const cache = days > 0
      ? await AnswerCache.open<string>(dataDir, "llm", days * 86_400_000, CACHE_PREFIX)
      : undefined;
    const net = createNetRequester({ network });
    const budget = await RunBudget.open(dataDir, run.id, {
      tokens: config.budgetTokens ?? 200_000,
      // In millionths, as the budget counts cost.
      ...(config.budgetCost !== undefined ? { cost: Math.round(config.budgetCost * 1e6) } : {}),
    });
    signal.addEventListener("abort", () => {
      net.close();
      budget.close();
      cache?.close();
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
    return { client, api, budget, cache, url, key };
  },
  async process(items, { config, state, network, metrics, signal, deadline, log }) {
    if (!config.enabled || !state.client) return items;
    const min = config.minConfidence ?? 0.6;
    const limit = Math.min(config.concurrency ?? 2, network.concurrency);
    const tally = new MetricTally();
    const asks = new Map<Item, Ask>();
    for (const item of items) {
      if (isUncertain(item, min)) {
        asks.set(item, await prepare(item, config, state.cache ? state.url : undefined));
      }
    }
    // The answers kept for the same questions, read at once; new ones are kept at once at the end.
    const kept = state.cache
      ? await state.cache.getMany([...asks.values()].map((a) => a.key!)).catch((e) => {
        log.warn(`llm-verify: the answer cache could not be read: ${(e as Error).message}`);
        return new Map<string, string>();
      })
      : new Map<string, string>();
    const answered: [string, string][] = [];
    // One reservation for the whole call when the budget allows it (a reservation is a commit
    // on the budget's KV file, shared with the stage's other processes), settled once at the end;
    // otherwise each item reserves its own share and is skipped when the budget is used up. A
    // kept answer costs nothing.
    const reserved: BudgetUse = { tokens: 0, cost: 0 };
    let toAsk = 0;
    for (const a of asks.values()) {
      if (a.key !== undefined && kept.has(a.key)) continue;
      addUse(reserved, a.estimate);
      toAsk++;
    }
    const pooled = toAsk > 1 && await state.budget!.reserve(reserved) === "ok";
    const used: BudgetUse = { tokens: 0, cost: 0 };
    try {
      return await mapConcurrent(items, limit, async (item: Item) => {
        const prepared = asks.get(item);
        if (!prepared) return item;
        const content = prepared.key === undefined ? undefined : kept.get(prepared.key);
        let llm: LlmResult;
        if (content !== undefined) llm = { ...labelOf(content, config), cached: true };
        else {
          const got = await ask(prepared, config, state, signal, pooled, deadline);
          llm = got.llm;
          addUse(used, got.spent);
          if (prepared.key !== undefined && got.content !== undefined) {
            answered.push([prepared.key, got.content]);
          }
        }
        const against = llm.status === "accepted" ? contradiction(llm.label!, item) : undefined;
        if (against) {
          llm.status = "rejected";
          llm.reason = against;
        }
        tally.count(`llm_${llm.status}`);
        if (llm.tokens) tally.count("llm_tokens", llm.tokens);
        if (llm.cost) tally.count("llm_cost", llm.cost);
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
      if (state.cache && answered.length) {
        await state.cache.putMany(answered).catch((e) => {
          log.warn(`llm-verify: answers could not be kept: ${(e as Error).message}`);
        });
      }
    }
  },
});

/** One item's request: its messages, the tokens it may answer with, its estimated use. */
interface Ask {
  messages: ReturnType<typeof buildMessages>;
  maxTokens: number;
  /** The answer cache's key (with a cache): the endpoint, model, max_tokens and messages. */
  key?: string;
  /** Prompt tokens estimated (characters / 4) plus `maxTokens`, and their cost. */
  estimate: BudgetUse;
}

/** Adds `b` to `a`. */
function addUse(a: BudgetUse, b: BudgetUse): void {
  a.tokens += b.tokens;
  a.cost += b.cost;
}

/** What `prompt` and `answer` tokens cost at `pricing`, in millionths (0 without a pricing). */
function costOf(prompt: number, answer: number, pricing?: Pricing): number {
  if (!pricing) return 0;
  return Math.ceil(prompt * pricing.inputPerMillion + answer * pricing.outputPerMillion);
}

/** An item's request; with `cacheUrl` (the endpoint, when answers are kept), its cache key. */
async function prepare(item: Item, config: Config, cacheUrl?: string): Promise<Ask> {
  const messages = buildMessages(item, config.maxTextChars ?? 1500);
  const maxTokens = config.maxTokens ?? 120;
  const prompt = Math.ceil(messages.reduce((n, m) => n + m.content.length, 0) / 4);
  return {
    messages,
    maxTokens,
    ...(cacheUrl === undefined ? {} : {
      key: await AnswerCache.keyOf([cacheUrl, config.model ?? DEFAULT_MODEL, maxTokens, messages]),
    }),
    estimate: { tokens: prompt + maxTokens, cost: costOf(prompt, maxTokens, config.pricing) },
  };
}

/**
 * What the API's `usage` says a call used: its prompt and completion tokens priced apart when it
 * gives them, its total at the dearer price when it gives only that; undefined without a count.
 */
function reportedUse(usage: unknown, pricing?: Pricing): BudgetUse | undefined {
  const u = usage as {
    prompt_tokens?: unknown;
    completion_tokens?: unknown;
    total_tokens?: unknown;
  };
  const n = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0;
  if (!u || typeof u !== "object") return undefined;
  const prompt = u.prompt_tokens, answer = u.completion_tokens, total = u.total_tokens;
  if (n(prompt) && n(answer)) {
    const p = prompt as number, a = answer as number;
    return { tokens: n(total) ? total as number : p + a, cost: costOf(p, a, pricing) };
  }
  if (!n(total)) return undefined;
  const t = total as number;
  const dearer = pricing ? Math.max(pricing.inputPerMillion, pricing.outputPerMillion) : 0;
  return { tokens: t, cost: Math.ceil(t * dearer) };
}

/** A cost in millionths as a number of the currency (six decimals at most). */
const currency = (millionths: number) => Math.round(millionths) / 1e6;

/** The model asked when the pipeline names none. */
const DEFAULT_MODEL = "gpt-4o-mini";

/** The result an answer's text gives: its label and rationale, or why it is refused. */
function labelOf(content: unknown, config: Config): LlmResult {
  const model = config.model ?? DEFAULT_MODEL;
  const parsed = parseAnswer(content);
  return parsed.ok
    ? { status: "accepted", model, label: parsed.label, rationale: parsed.rationale }
    : { status: "rejected", model, reason: parsed.reason };
}

/**
 * Asks the model about one item; `pooled`: its use is already reserved by the caller. `spent`:
 * what the call used: what the API reported, the estimate when it answered without a count, and
 * nothing when no answer came (network trouble, 429/5xx, an open circuit, an error status).
 * `content`: the answer's text, when one came (to keep).
 */
async function ask(
  { messages, maxTokens, estimate }: Ask,
  config: Config,
  state: State,
  signal: AbortSignal,
  pooled: boolean,
  deadline?: number,
): Promise<{ llm: LlmResult; spent: BudgetUse; content?: string }> {
  const model = config.model ?? DEFAULT_MODEL;
  const none: BudgetUse = { tokens: 0, cost: 0 };
  const refused = pooled ? "ok" : await state.budget!.reserve(estimate);
  if (refused !== "ok") {
    return {
      llm: {
        status: "skipped",
        model,
        reason: refused === "tokens"
          ? `the run's token budget (${state.budget!.limits.tokens}) is used up; raise ` +
            "with.budgetTokens"
          : `the run's cost budget (${config.budgetCost}) is used up at the configured pricing; ` +
            "raise with.budgetCost",
      },
      spent: none,
    };
  }
  let spent = none;
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
        spent = estimate;
        let body: { choices?: { message?: { content?: unknown } }[]; usage?: unknown };
        try {
          body = JSON.parse(res.body);
        } catch {
          throw new Error("the LLM API answered something that is not JSON");
        }
        content = body.choices?.[0]?.message?.content;
        spent = reportedUse(body.usage, config.pricing) ?? estimate;
      },
    });
    const llm: LlmResult = {
      ...labelOf(content, config),
      tokens: spent.tokens,
      ...(config.pricing ? { cost: currency(spent.cost) } : {}),
    };
    return { llm, spent, ...(typeof content === "string" ? { content } : {}) };
  } catch (e) {
    if (signal.aborted) throw e;
    return { llm: { status: "unknown", model, reason: (e as Error).message }, spent };
  } finally {
    if (!pooled) await state.budget!.settle(estimate, spent);
  }
}
