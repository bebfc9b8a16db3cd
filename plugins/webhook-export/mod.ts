/**
 * webhook-export: POSTs the run's leads (or all items) in batches to a URL as JSON, signed with
 * HMAC-SHA256 (`X-Sluice-Signature: t=<unix>,sha256=<hex>` over `${t}.${body}`) and carrying an
 * `Idempotency-Key` per batch (run id, chunk, the chunk's call when the stage's `chunk:` splits
 * it, batch index) that stays the same on every retry, so the receiver can drop duplicates.
 * Retries 429/5xx with backoff (honouring `Retry-After`); a batch that still fails fails the chunk
 * (the engine retries it, then dead-letters it: nothing is lost). Private addresses are refused
 * unless `network.allowPrivate`. Items pass through.
 * @module
 */
import { ConfigError, definePlugin } from "@sluice/sdk";
import { ApiClient, type ApiRequest, type ApiResponse, redact } from "@sluice/sdk/api/client.ts";
import { HttpStatusError } from "@sluice/sdk/api/retry.ts";
import { ApiMetrics } from "@sluice/sdk/api/api_metrics.ts";
import { createNetRequester } from "@sluice/sdk/api/net_requester.ts";
import { SIGNATURE_HEADER, signBody } from "@sluice/sdk/api/signature.ts";
import {
  type Column,
  type ColumnSpec,
  EMPTY_COLUMN_CONSEQUENCE,
  parseColumns,
  pick,
  watchColumns,
} from "@sluice/sdk/sink/columns.ts";
import type { FieldPathWatch } from "@sluice/sdk/text/field_hints.ts";
import { deliveryLine, plural, readRunTally, writeChunkTally } from "@sluice/sdk/sink/run_tally.ts";

interface Config {
  url: string;
  secret?: string;
  secretName?: string;
  batchSize?: number;
  leadsOnly?: boolean;
  columns?: ColumnSpec[];
  headers?: Record<string, string>;
  attempts?: number;
  perSecond?: number;
}

interface State {
  client: ApiClient;
  /** The receiver's origin, the only part of its URL errors show. */
  origin: string;
  /** circuit_open and rate_limit_wait_ms of the client. */
  api: ApiMetrics;
  secret?: string;
  columns?: Column[];
  /** Logs a column path no item has while a close name is there (a typo), once. */
  watch?: FieldPathWatch;
  /** The last answer to each request (retries send the same request object): for errors. */
  answers: WeakMap<ApiRequest, ApiResponse>;
  /** `with.headers`, names in lower case. */
  headers: Record<string, string>;
}

/** Headers the stage sets itself; `with.headers` may not set them in any case. */
const OWN_HEADERS = ["content-type", "idempotency-key", SIGNATURE_HEADER.toLowerCase()];

/**
 * `with.headers` with lower-case names, so that none is sent twice in two spellings; refuses
 * the headers the stage sets itself and a name given twice.
 */
function extraHeaders(given: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const lower = name.toLowerCase();
    if (OWN_HEADERS.includes(lower)) {
      throw new ConfigError(
        `webhook-export: with.headers sets ${name}, which the stage sets itself (${
          OWN_HEADERS.join(", ")
        }): remove it`,
      );
    }
    if (lower in out) {
      throw new ConfigError(`webhook-export: with.headers names ${name} twice (in another case)`);
    }
    out[lower] = String(value);
  }
  return out;
}

/** How much of a receiver's answer an error shows. */
const BODY_SHOWN = 200;

/**
 * `: <the answer's body, cut>`, or nothing for an empty body. The hook URL's path, which is its
 * secret at Zapier or Make, is blanked out should the receiver echo it.
 */
function said(res: Pick<ApiResponse, "body"> | undefined, url: string): string {
  const path = new URL(url).pathname;
  let body = res?.body.trim();
  if (body && path.length > 1) body = body.replaceAll(path, "/…");
  return body ? `: ${body.slice(0, BODY_SHOWN)}${body.length > BODY_SHOWN ? "…" : ""}` : "";
}

/** Where a redirect points, as an origin only (its path may be a hook's secret). */
function redirectTarget(res: ApiResponse, url: string): string {
  try {
    return ` to ${new URL(res.headers["location"], url).origin}`;
  } catch {
    return "";
  }
}

/** What to do about a receiver's final non-2xx answer. */
function statusHint(status: number): string {
  if (status === 413) {
    return "the batch is too large for the receiver: lower batchSize or send fewer columns";
  }
  if (status === 401 || status === 403) {
    return "the receiver refused our credentials: check the secret and headers it expects";
  }
  if (status === 404 || status === 410) {
    return "the receiver's URL is wrong or the hook was deleted: fix with.url";
  }
  if (status >= 300 && status < 400) {
    return "the receiver redirects, which is not followed: give the final URL in with.url";
  }
  return "check the URL and what the receiver expects";
}

export default definePlugin<Config, State>({
  setup({ config, secrets, network, signal, metrics, limits }) {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new ConfigError(`webhook-export: with.url ${JSON.stringify(config.url)} is not a URL`);
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new ConfigError(`webhook-export: with.url must be http(s), got ${url.protocol}`);
    }
    const headers = extraHeaders(config.headers);
    // Only an absent `secret` key means unsigned: an empty one (a secret set to "") would send
    // unsigned requests to a receiver that expects signed ones, without a word.
    if (config.secret !== undefined && config.secret.trim() === "") {
      throw new Error(
        "webhook-export: with.secret is empty, so requests would go out unsigned: set the " +
          "secret it names (SLUICE_SECRET_<NAME> or the secrets file), or leave `secret` out " +
          "to send unsigned requests",
      );
    }
    const secret = config.secret ?? secrets[config.secretName ?? "WEBHOOK_SECRET"];
    const net = createNetRequester({ network });
    signal.addEventListener("abort", () => net.close(), { once: true });
    const answers = new WeakMap<ApiRequest, ApiResponse>();
    // Sign at send time, so a retry carries a fresh timestamp over the same body.
    const request = async (req: ApiRequest) => {
      const res = await net(
        secret
          ? {
            ...req,
            headers: {
              ...req.headers,
              [SIGNATURE_HEADER]: await signBody(secret, req.body ?? "", Date.now() / 1000),
            },
          }
          : req,
      );
      answers.set(req, res);
      return res;
    };
    const columns = config.columns ? parseColumns(config.columns) : undefined;
    const api = new ApiMetrics(metrics);
    const client = new ApiClient({
      request,
      perSecond: config.perSecond ?? 5,
      burst: 5,
      shared: limits,
      retry: { attempts: config.attempts ?? 5, baseMs: 500, maxMs: 30_000 },
      breaker: {
        name: `webhook ${url.host}`,
        failureThreshold: 3,
        cooldownMs: 60_000,
        onChange: api.breaker("webhook"),
      },
      onRateLimitWait: api.wait,
    });
    return {
      client,
      origin: url.origin,
      api,
      secret,
      columns,
      watch: columns && watchColumns("webhook-export", columns),
      answers,
      headers,
    };
  },
  async process(
    items,
    { config, state, run, chunk, part, metrics, signal, deadline, log, dataDir },
  ) {
    const chosen = (config.leadsOnly ?? true) ? items.filter((i) => i.lead === true) : items;
    for (const hint of state.watch?.check(chosen, EMPTY_COLUMN_CONSEQUENCE) ?? []) log.warn(hint);
    const size = Math.max(1, config.batchSize ?? 100);
    const host = new URL(config.url).host;
    let batches = 0;
    try {
      for (let b = 0, i = 0; i < chosen.length; b++, i += size) {
        const batch = chosen.slice(i, i + size).map((
          it,
        ) => (state.columns ? pick(it, state.columns) : it));
        const body = JSON.stringify({
          run: run.id,
          stage: run.stage,
          chunk,
          // A chunk the stage's `chunk:` splits comes in several calls: each has its own keys.
          ...(part > 0 ? { part } : {}),
          batch: b,
          items: batch,
        });
        const key = `${run.id}:${run.stage}:${chunk}${part > 0 ? `.${part}` : ""}:${b}`;
        const req: ApiRequest = {
          url: config.url,
          method: "POST",
          headers: {
            ...state.headers,
            "content-type": "application/json",
            "idempotency-key": key,
          },
          body,
          signal,
          deadline,
        };
        const res = await state.client.call(req).catch((e: Error) => {
          // The URL's path can be its secret (Zapier's and Make's hook URLs are): name the host.
          let why = e.message.replaceAll(redact(config.url), `${state.origin}/…`);
          if (e instanceof HttpStatusError) {
            // The answer to this request, or (stopped by the host's pause) the one that paused it.
            // Its body goes right after the status (`… HTTP 429: <body>; it asked to wait …`).
            const body = state.answers.get(req)?.body ?? e.body;
            const status = `HTTP ${e.status}`;
            const at = why.indexOf(status);
            const text = said(body === undefined ? undefined : { body }, config.url);
            why = at < 0
              ? why + text
              : why.slice(0, at + status.length) + text + why.slice(at + status.length);
            if (e.retryAfterMs !== undefined) why += "; the engine retries the chunk later";
          }
          throw new Error(`webhook-export: batch ${key} to ${host}: ${why}`, { cause: e });
        });
        if (res.status < 200 || res.status > 299) {
          const to = res.status >= 300 && res.status < 400 ? redirectTarget(res, config.url) : "";
          throw new Error(
            `webhook-export: ${host} refused batch ${key} with HTTP ${res.status}${to}` +
              `${said(res, config.url)}; ${statusHint(res.status)}`,
          );
        }
        metrics.count("webhook_batches");
        metrics.count("webhook_items", batch.length);
        batches++;
      }
    } finally {
      state.api.flush(metrics);
    }
    // For the run's report at finish (a retried chunk overwrites its counts).
    await writeChunkTally({ dataDir, run }, chunk, {
      items: items.length,
      sent: chosen.length,
      batches,
    }, part);
    return items;
  },
  async finish({ config, state, dataDir, run, log }) {
    // One line for the run's summary: a run that sent nothing must not look like one that did.
    const { chunks, counts } = await readRunTally({ dataDir, run });
    log.info(deliveryLine({
      plugin: "webhook-export",
      verb: "sent",
      target: `to ${state.origin}/…`,
      chunks,
      items: counts.items ?? 0,
      delivered: counts.sent ?? 0,
      leadsOnly: config.leadsOnly ?? true,
      detail: ` in ${plural(counts.batches ?? 0, "batch", "batches")}`,
    }));
  },
});
