/**
 * The pipeline-level `onFailure` alert: when a run fails, the engine POSTs a JSON notice to the
 * pipeline's `onFailure.webhook`, signed like webhook-export (`X-Sluice-Signature:
 * t=<unix>,sha256=<hex>` over `${t}.${body}`, HMAC-SHA256 with `onFailure.secret`).
 *
 * ```yaml
 * onFailure:
 *   webhook: https://alerts.example.com/sluice
 *   secret: ${{ secrets.ALERT_HOOK }}
 * ```
 * @module
 */
import { parse as parseYaml } from "yaml";
import { SIGNATURE_HEADER, signBody } from "../../sdk/api/signature.ts";
import { type Logger, silentLogger } from "./log.ts";

/** A failed run as far as the alert needs it (a `RunRecord` fits). */
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
}

/** The `onFailure` block of a pipeline, templates unresolved. */
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

/** The `onFailure` block of the pipeline snapshot, if it has one. */
export function onFailureOf(pipelineYaml: string): OnFailure | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(pipelineYaml);
  } catch {
    return undefined;
  }
  const of = (doc as { onFailure?: { webhook?: unknown; secret?: unknown } } | null)?.onFailure;
  if (!of || typeof of.webhook !== "string") return undefined;
  return { webhook: of.webhook, secret: typeof of.secret === "string" ? of.secret : undefined };
}

const SECRET_RE = /\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

function resolve(text: string, secrets: FailureAlertOptions["secrets"], what: string): string {
  return text.replace(SECRET_RE, (_m, name: string) => {
    const v = secrets?.(name);
    if (v === undefined) {
      throw new Error(
        `onFailure.${what} uses secret ${name}, which is not set; set SLUICE_SECRET_${name} ` +
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

/** The JSON body of the notice. */
export function alertBody(run: AlertRun, opts: Pick<FailureAlertOptions, "mask" | "publicUrl">) {
  const mask = opts.mask ?? ((s: string) => s);
  return {
    event: "run.failed",
    pipeline: run.pipeline,
    run: {
      id: run.id,
      state: run.state,
      error: run.error === undefined ? undefined : mask(run.error),
      trigger: run.trigger?.kind,
      createdAt: new Date(run.createdAt).toISOString(),
      startedAt: run.startedAt ? new Date(run.startedAt).toISOString() : undefined,
      finishedAt: run.finishedAt ? new Date(run.finishedAt).toISOString() : undefined,
      url: opts.publicUrl
        ? `${opts.publicUrl.replace(/\/+$/, "")}/api/v1/runs/${run.id}`
        : undefined,
    },
  };
}

/**
 * Sends the run's failure notice when its pipeline has `onFailure`. Resolves to `"sent"`,
 * `"failed"` (every attempt failed; logged) or `"none"` (no `onFailure`). Never throws.
 */
export async function sendFailureAlert(
  run: AlertRun,
  opts: FailureAlertOptions = {},
): Promise<"sent" | "failed" | "none"> {
  const of = onFailureOf(run.pipelineYaml);
  if (!of) return "none";
  const log = (opts.log ?? silentLogger).child({ run: run.id, pipeline: run.pipeline });
  let url: string;
  let secret: string | undefined;
  try {
    url = resolve(of.webhook, opts.secrets, "webhook");
    secret = of.secret === undefined ? undefined : resolve(of.secret, opts.secrets, "secret");
  } catch (e) {
    log.error("onFailure alert not sent", { error: (e as Error).message });
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
        log.info("onFailure alert sent", { webhook: shown(url), status: res.status });
        return "sent";
      }
      error = `the webhook answered ${res.status}`;
    } catch (e) {
      error = (e as Error).message;
    }
    if (a < attempts) await sleep((opts.retryDelayMs ?? 1000) * 2 ** (a - 1));
  }
  log.error("onFailure alert failed", { webhook: shown(url), attempts, error });
  return "failed";
}
