/**
 * The pipeline-level run notices: when a run fails, the engine POSTs a JSON notice to the
 * pipeline's `onFailure.webhook`; when it succeeds, to its `onSuccess.webhook` (with the run's
 * artifacts and their download URLs). Both are signed like webhook-export (`X-Sluice-Signature:
 * t=<unix>,sha256=<hex>` over `${t}.${body}`, HMAC-SHA256 with the block's `secret`) and carry
 * `Idempotency-Key: <run id>:<onFailure|onSuccess>:<finishedAt epoch ms>`, the same on every
 * attempt. The engine records a notice in the store's outbox before its first attempt
 * ({@linkcode RunNoticeOptions.beforeFirstAttempt}), claimed by the ending process for as long as
 * its attempts can take ({@linkcode noticeAttemptsMs}); delivered, the record goes; failed for a
 * reason that may pass (or never settled: the process died while sending), long-lived processes
 * resend it from there (`notice_resend.ts`); failed for good, it is kept as given up.
 *
 * ```yaml
 * onFailure:
 *   webhook: https://alerts.example.com/sluice
 *   secret: ${{ secrets.ALERT_HOOK }}
 * onSuccess:
 *   webhook: https://hooks.zapier.com/hooks/catch/123/abc
 *   secret: ${{ secrets.ALERT_HOOK }}
 * ```
 * @module
 */
import { parse as parseYaml } from "yaml";
import { SIGNATURE_HEADER, signBody } from "../../sdk/api/signature.ts";
import { type Logger, silentLogger } from "./log.ts";

/** A finished run as far as the notice needs it (a `RunRecord` fits). */
export interface AlertRun {
  id: string;
  pipeline: string;
  pipelineYaml: string;
  state: string;
  error?: string;
  trigger?: { kind: string; id?: string };
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** The files its export stages finished (a succeeded run's `leads.csv`). */
  artifacts?: { stage: string; name: string; bytes: number }[];
}

/** The `onFailure` (or `onSuccess`) block of a pipeline, templates unresolved. */
export interface OnFailure {
  webhook: string;
  secret?: string;
}

/** Options of {@linkcode sendFailureAlert}. */
export interface FailureAlertOptions {
  /** Resolves `${{ secrets.NAME }}` in `webhook` and `secret`. */
  secrets?: (name: string) => string | undefined;
  /** Masks secret values in the error text (default: unchanged). */
  mask?: (text: string) => string;
  /** Public URL of the server, to link the run. */
  publicUrl?: string;
  fetch?: typeof fetch;
  /** Epoch ms. */
  now?: () => number;
  /** Waits between attempts (injectable). */
  sleep?: (ms: number) => Promise<void>;
  /** Attempts in all (default 3). */
  attempts?: number;
  /** Delay before the second attempt, doubled after (default 1000 ms). */
  retryDelayMs?: number;
  /** Per-attempt timeout (default 10 s). */
  timeoutMs?: number;
  log?: Logger;
  /** Aborts waiting and sending (shutdown). */
  signal?: AbortSignal;
}

/** A notice made and about to be sent ({@linkcode RunNoticeOptions.beforeFirstAttempt}). */
export interface PreparedNotice {
  /** Which block. */
  key: NoticeKey;
  /** The JSON body (secret values masked), sent unchanged by every attempt and resend. */
  body: string;
  /** Its `Idempotency-Key`. */
  idempotencyKey: string;
}

/** Options of {@linkcode sendRunNotice}. */
export interface RunNoticeOptions extends FailureAlertOptions {
  /**
   * Called once with the notice's body and key before the webhook is resolved and the first
   * attempt made, which wait for it (the engine records the notice in the store's outbox here:
   * store first, then send). Not called for a run without a notice. What it throws is logged and
   * the notice is sent all the same.
   */
  beforeFirstAttempt?: (prepared: PreparedNotice) => Promise<void> | void;
}

/**
 * The longest the attempts of {@linkcode sendRunNotice} can take with `opts`: every attempt
 * timing out plus the waits between them (with the defaults 3 × 10 s + 1 s + 2 s = 33 s).
 */
export function noticeAttemptsMs(
  opts: Pick<FailureAlertOptions, "attempts" | "retryDelayMs" | "timeoutMs"> = {},
): number {
  const attempts = Math.max(1, opts.attempts ?? 3);
  const delay = opts.retryDelayMs ?? 1000;
  return attempts * (opts.timeoutMs ?? 10_000) + delay * (2 ** (attempts - 1) - 1);
}

/** Which block of the pipeline a run in a final state notifies. */
export type NoticeKey = "onFailure" | "onSuccess";

/** The `onFailure` block of the pipeline snapshot, if it has one. */
export function onFailureOf(pipelineYaml: string): OnFailure | undefined {
  return noticeOf(pipelineYaml, "onFailure");
}

/** The `onFailure` or `onSuccess` block of the pipeline snapshot, if it has one. */
export function noticeOf(pipelineYaml: string, key: NoticeKey): OnFailure | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(pipelineYaml);
  } catch {
    return undefined;
  }
  const of = (doc as Record<string, { webhook?: unknown; secret?: unknown } | undefined> | null)
    ?.[key];
  if (!of || typeof of.webhook !== "string") return undefined;
  return { webhook: of.webhook, secret: typeof of.secret === "string" ? of.secret : undefined };
}

/** The block a run in `state` notifies: failed runs `onFailure`, succeeded ones `onSuccess`. */
export function noticeKeyOf(state: string): NoticeKey | undefined {
  return state === "failed" ? "onFailure" : state === "succeeded" ? "onSuccess" : undefined;
}

const SECRET_RE = /\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function resolve(text: string, secrets: FailureAlertOptions["secrets"], what: string): string {
  return text.replace(SECRET_RE, (_m, name: string) => {
    const v = secrets?.(name);
    if (v === undefined) {
      throw new Error(
        `${what} uses secret ${name}, which is not set; set SLUICE_SECRET_${name} ` +
          `or add it to the secrets file`,
      );
    }
    return v;
  });
}

/** The URL without query and credentials, for logs. */
export function shown(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * The JSON body of the notice: `event` `run.failed` or `run.succeeded`, the run (its `url`, and
 * each artifact's download `url`: absolute with `publicUrl`, else paths on this server).
 */
export function alertBody(run: AlertRun, opts: Pick<FailureAlertOptions, "mask" | "publicUrl">) {
  const mask = opts.mask ?? ((s: string) => s);
  const base = opts.publicUrl ? opts.publicUrl.replace(/\/+$/, "") : "";
  const runPath = `/api/v1/runs/${encodeURIComponent(run.id)}`;
  return {
    event: `run.${run.state}`,
    pipeline: run.pipeline,
    run: {
      id: run.id,
      state: run.state,
      error: run.error === undefined ? undefined : mask(run.error),
      trigger: run.trigger?.kind,
      triggerId: run.trigger?.id,
      createdAt: new Date(run.createdAt).toISOString(),
      startedAt: run.startedAt ? new Date(run.startedAt).toISOString() : undefined,
      finishedAt: run.finishedAt ? new Date(run.finishedAt).toISOString() : undefined,
      url: `${base}${runPath}`,
      artifacts: run.state === "succeeded"
        ? (run.artifacts ?? []).map((a) => ({
          stage: a.stage,
          name: a.name,
          bytes: a.bytes,
          url: `${base}${runPath}/artifacts/${encodeURIComponent(a.stage)}/${
            encodeURIComponent(a.name)
          }`,
        }))
        : undefined,
    },
  };
}

/** The header that names a notice for a receiver that drops repeats. */
export const IDEMPOTENCY_HEADER = "Idempotency-Key";

/**
 * The `Idempotency-Key` of a run's notice: `<run id>:<onFailure|onSuccess>:<finishedAt epoch ms>`.
 * Every attempt and resend of one notice carries the same key; a retried run that ends again
 * sends a new notice with a new key.
 */
export function noticeIdempotencyKey(run: Pick<AlertRun, "id" | "finishedAt">, key: NoticeKey) {
  return `${run.id}:${key}${run.finishedAt === undefined ? "" : `:${run.finishedAt}`}`;
}

/** Where a notice goes, with its secrets resolved (never stored). */
export interface NoticeTarget {
  url: string;
  secret?: string;
}

/**
 * The webhook URL and signing secret of the run's `key` block, with `${{ secrets.NAME }}`
 * resolved; undefined when the pipeline has no such block.
 * @throws {Error} when a secret it uses is not set.
 */
export function noticeTarget(
  pipelineYaml: string,
  key: NoticeKey,
  secrets: FailureAlertOptions["secrets"],
): NoticeTarget | undefined {
  const of = noticeOf(pipelineYaml, key);
  if (!of) return undefined;
  return {
    url: resolve(of.webhook, secrets, `${key}.webhook`),
    secret: of.secret === undefined ? undefined : resolve(of.secret, secrets, `${key}.secret`),
  };
}

/**
 * What one POST of a notice came to: delivered (2xx), or not with the error and whether it is
 * `final` (a 4xx other than 408 and 429: the receiver refuses this notice, sending it again
 * would not help).
 */
export type PostOutcome = { ok: true; status: number } | {
  ok: false;
  error: string;
  final: boolean;
};

/**
 * POSTs a notice's `body` once to `target`, with its `Idempotency-Key` and, when the target has
 * a secret, an `X-Sluice-Signature` made now. Never throws.
 */
export async function postNotice(
  target: NoticeTarget,
  body: string,
  idempotencyKey: string,
  opts: Pick<FailureAlertOptions, "fetch" | "now" | "timeoutMs" | "signal"> = {},
): Promise<PostOutcome> {
  const now = opts.now ?? Date.now;
  try {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "sluice-alert/1",
      [IDEMPOTENCY_HEADER]: idempotencyKey,
    };
    if (target.secret) {
      headers[SIGNATURE_HEADER] = await signBody(target.secret, body, now() / 1000);
    }
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 10_000)];
    if (opts.signal) signals.push(opts.signal);
    const res = await (opts.fetch ?? fetch)(target.url, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.any(signals),
    });
    await res.body?.cancel();
    if (res.ok) return { ok: true, status: res.status };
    const s = res.status;
    return {
      ok: false,
      error: `the webhook answered ${s}`,
      final: s >= 400 && s < 500 && s !== 408 && s !== 429,
    };
  } catch (e) {
    // fetch's own message is only "fetch failed"; the cause says why (refused, DNS, certificate).
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    const message = cause ? `${(e as Error).message}: ${cause}` : (e as Error).message;
    return { ok: false, error: withoutUrl(message, target.url), final: false };
  }
}

/**
 * `message` without the webhook URL, of which only its origin is left: fetch names an invalid URL
 * whole ("Invalid URL: '…'"), and the URL may be a secret's value whose path is the secret (a
 * Slack or Zapier hook), while the error is kept with an undelivered notice and shown on the run's
 * page.
 */
function withoutUrl(message: string, url: string): string {
  if (!URL.canParse(url)) {
    return "the webhook is not a valid URL: give an absolute URL (https://…) in the pipeline's " +
      "webhook or the secret it names";
  }
  const u = new URL(url);
  for (const form of new Set([url, u.href])) message = message.replaceAll(form, `${u.origin}/…`);
  return message;
}

/** What {@linkcode sendRunNotice} did. */
export interface NoticeResult {
  /** `sent`, `failed` (logged), or `none` (no such block, or another state). */
  result: "sent" | "failed" | "none";
  /** Which block. */
  key?: NoticeKey;
  /** Failed: worth sending again later (a network error, a timeout, 5xx, 408 or 429). */
  retryable?: boolean;
  /** Failed: why the last attempt failed. */
  error?: string;
  /** The body sent, or that was to be (secret values masked), to send again unchanged. */
  body?: string;
  /** Its `Idempotency-Key`. */
  idempotencyKey?: string;
}

/**
 * Sends the run's notice: a failed run's to its pipeline's `onFailure`, a succeeded run's to its
 * `onSuccess`, in up to `attempts` attempts; a final answer (4xx other than 408 and 429) ends
 * them at once, as does a secret that is not set (no attempt; retryable: it may be set where the
 * notice is resent). `beforeFirstAttempt`, if given,
 * gets the body and key first. Never throws.
 */
export async function sendRunNotice(
  run: AlertRun,
  opts: RunNoticeOptions = {},
): Promise<NoticeResult> {
  const key = noticeKeyOf(run.state);
  if (!key || !noticeOf(run.pipelineYaml, key)) return { result: "none" };
  const what = key === "onFailure" ? "onFailure alert" : "onSuccess notice";
  const log = (opts.log ?? silentLogger).child({ run: run.id, pipeline: run.pipeline });
  let body: string;
  try {
    body = JSON.stringify(alertBody(run, opts));
  } catch (e) {
    // Not met (a throwing mask): nothing to send or keep.
    log.error(`${what} not sent`, { error: (e as Error).message });
    return { result: "failed", key, retryable: false, error: (e as Error).message };
  }
  const idempotencyKey = noticeIdempotencyKey(run, key);
  if (opts.beforeFirstAttempt) {
    try {
      await opts.beforeFirstAttempt({ key, body, idempotencyKey });
    } catch (e) {
      log.error(`${what}: before its first attempt`, { error: (e as Error).message });
    }
  }
  let target: NoticeTarget;
  try {
    target = noticeTarget(run.pipelineYaml, key, opts.secrets)!;
  } catch (e) {
    log.error(`${what} not sent`, { error: (e as Error).message });
    // A secret not set here may be set where it is resent (a `sluice run` beside the server that
    // has it), or once the operator sets it: kept for resending, as the resender treats it.
    return {
      result: "failed",
      key,
      retryable: true,
      error: (e as Error).message,
      body,
      idempotencyKey,
    };
  }
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = opts.attempts ?? 3;
  let error = "stopped before the first attempt";
  let retryable = true;
  let tried = 0;
  for (let a = 1; a <= attempts; a++) {
    if (opts.signal?.aborted) break;
    tried = a;
    const out = await postNotice(target, body, idempotencyKey, opts);
    if (out.ok) {
      log.info(`${what} sent`, { webhook: shown(target.url), status: out.status });
      return { result: "sent", key, body, idempotencyKey };
    }
    error = out.error;
    if (out.final) {
      retryable = false;
      break;
    }
    if (a < attempts) await sleep((opts.retryDelayMs ?? 1000) * 2 ** (a - 1));
  }
  log.error(`${what} failed`, { webhook: shown(target.url), attempts: tried, error });
  return { result: "failed", key, retryable, error, body, idempotencyKey };
}

/**
 * {@linkcode sendRunNotice}, resolving to its result alone: `"sent"`, `"failed"` (logged) or
 * `"none"`. Never throws.
 */
export async function sendFailureAlert(
  run: AlertRun,
  opts: RunNoticeOptions = {},
): Promise<"sent" | "failed" | "none"> {
  return (await sendRunNotice(run, opts)).result;
}
