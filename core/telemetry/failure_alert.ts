/**
 * The pipeline-level run notices: when a run fails, the engine POSTs a JSON notice to the
 * pipeline's `onFailure.webhook`; when it succeeds, to its `onSuccess.webhook` (with the run's
 * artifacts and their download URLs). Both are signed like webhook-export (`X-Sluice-Signature:
 * t=<unix>,sha256=<hex>` over `${t}.${body}`, HMAC-SHA256 with the block's `secret`).
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
function shown(url: string): string {
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

/**
 * Sends the run's notice: a failed run's to its pipeline's `onFailure`, a succeeded run's to its
 * `onSuccess`. Resolves to `"sent"`, `"failed"` (every attempt failed; logged) or `"none"` (no
 * such block, or another state). Never throws.
 */
export async function sendFailureAlert(
  run: AlertRun,
  opts: FailureAlertOptions = {},
): Promise<"sent" | "failed" | "none"> {
  const key = noticeKeyOf(run.state);
  const of = key && noticeOf(run.pipelineYaml, key);
  if (!key || !of) return "none";
  const what = key === "onFailure" ? "onFailure alert" : "onSuccess notice";
  const log = (opts.log ?? silentLogger).child({ run: run.id, pipeline: run.pipeline });
  let url: string;
  let secret: string | undefined;
  try {
    url = resolve(of.webhook, opts.secrets, `${key}.webhook`);
    secret = of.secret === undefined
      ? undefined
      : resolve(of.secret, opts.secrets, `${key}.secret`);
  } catch (e) {
    log.error(`${what} not sent`, { error: (e as Error).message });
    return "failed";
  }
  const body = JSON.stringify(alertBody(run, opts));
  const doFetch = opts.fetch ?? fetch;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = opts.attempts ?? 3;
  let error = "";
  for (let a = 1; a <= attempts; a++) {
    if (opts.signal?.aborted) break;
    try {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "user-agent": "sluice-alert/1",
      };
      if (secret) headers[SIGNATURE_HEADER] = await signBody(secret, body, now() / 1000);
      const signals = [AbortSignal.timeout(opts.timeoutMs ?? 10_000)];
      if (opts.signal) signals.push(opts.signal);
      const res = await doFetch(url, {
        method: "POST",
        headers,
        body,
        signal: AbortSignal.any(signals),
      });
      await res.body?.cancel();
      if (res.ok) {
        log.info(`${what} sent`, { webhook: shown(url), status: res.status });
        return "sent";
      }
      error = `the webhook answered ${res.status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    if (a < attempts) await sleep((opts.retryDelayMs ?? 1000) * 2 ** (a - 1));
  }
  log.error(`${what} failed`, { webhook: shown(url), attempts, error });
  return "failed";
}
