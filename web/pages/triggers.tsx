/**
 * Schedules and webhooks: each cron trigger with its next fire times and pause/resume; each
 * webhook with its URL, a copyable signed `curl` example and its last deliveries.
 * @module
 */
import type { ScheduleFire, ScheduleInfo } from "../../core/http/deps.ts";
import type { DeliveryRecord } from "../../core/triggers/trigger_store.ts";
import { when } from "../format.ts";
import { Empty } from "../layout.tsx";

/** A webhook row. */
export interface HookRow {
  pipeline: string;
  hook: string;
  auth: string;
  body: string;
  enabled: boolean;
  url: string;
  deliveries: DeliveryRecord[];
  /** The media types the pipeline's source reads (its plugin's `accepts`; absent: any). */
  accepts?: readonly string[];
}

/**
 * A signing example for a hook, as shell commands (bash, curl and openssl; nothing else): a body
 * of the type the pipeline's source reads (CSV for csv-source), signed as the hook's `auth`
 * wants, sent byte for byte with `--data-binary`.
 */
export function signingExample(
  h: Pick<HookRow, "url" | "auth" | "body" | "accepts">,
): string {
  const csv = h.body !== "inputs" &&
    (h.accepts ?? []).some((a) => /^(text|application)\/csv\b/i.test(a));
  const body = h.body === "inputs"
    ? `body='{"inputs": {}}'`
    : csv
    ? `body=$(printf 'name,website\\nExample Co,example.com\\n')`
    : `body='[{"website": "example.com"}]'`;
  const type = csv ? "text/csv" : "application/json";
  const head = `SECRET='…the hook secret…'\n${body}\n`;
  const post = `curl -sS -X POST '${h.url}' -H 'content-type: ${type}'`;
  const send = `--data-binary "$body"`;
  const hmac = `openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.* //'`;
  const id = `$(openssl rand -hex 16)`;
  switch (h.auth) {
    case "bearer":
      return `${head}${post} \\\n  -H "Authorization: Bearer $SECRET" ${send}`;
    case "github":
      return `${head}sig=$(printf '%s' "$body" | ${hmac})\n` +
        `${post} \\\n  -H "X-Hub-Signature-256: sha256=$sig" -H "X-GitHub-Delivery: ${id}" ${send}`;
    case "stripe":
      return `${head}t=$(date +%s)\nsig=$(printf '%s.%s' "$t" "$body" | ${hmac})\n` +
        `${post} \\\n  -H "Stripe-Signature: t=$t,v1=$sig" ${send}`;
    default:
      return `${head}t=$(date +%s)\nsig=$(printf '%s.%s' "$t" "$body" | ${hmac})\n` +
        `${post} \\\n  -H "X-Sluice-Signature: t=$t,sha256=$sig" -H "Idempotency-Key: ${id}" ` +
        send;
  }
}

/**
 * A fire time as the schedule's zone has it (`2026-11-30 06:00 +01:00`, its UTC time in the
 * title), or in UTC when the schedule has no zone.
 */
function NextTime(p: { utc: string; local?: string }) {
  const m = p.local && /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d(?::\d\d)?)(.*)$/.exec(p.local);
  if (!m || m[3] === "Z" || m[3] === "+00:00") return <div>{when(p.utc)}</div>;
  const time = m[2].endsWith(":00") && m[2].length === 8 ? m[2].slice(0, 5) : m[2];
  return <div title={when(p.utc)}>{`${m[1]} ${time} ${m[3]}`}</div>;
}

/** What the latest occurrence did: the run it started, or why it did not start one. */
function LastFire(p: { f: ScheduleFire }) {
  const f = p.f;
  return (
    <div class={f.outcome === "failed" || f.outcome === "missed" ? "err" : undefined}>
      {f.outcome}
      {f.catchUp ? " (catch-up)" : ""}
      {f.runId && (
        <>
          {" "}
          <a href={`/runs/${f.runId}`}>{f.runId}</a>
        </>
      )} <span class="sub">{when(f.scheduledAt)}</span>
      {f.reason && <div class="sub">{f.reason}</div>}
    </div>
  );
}

/** The triggers page body. */
export function TriggersPage(
  p: { schedules?: ScheduleInfo[]; hooks: HookRow[]; canOperate: boolean },
) {
  return (
    <>
      <section aria-labelledby="cron-h">
        <h2 id="cron-h">Schedules</h2>
        {p.schedules === undefined
          ? <Empty>The scheduler is not running in this process (sluice serve runs it).</Empty>
          : p.schedules.length === 0
          ? (
            <Empty>
              No cron triggers. Add <code>triggers: [{'{ cron: "0 6 * * *" }'}]</code>{" "}
              to a pipeline.
            </Empty>
          )
          : (
            <div class="scroll-x">
              <table class="list">
                <thead>
                  <tr>
                    <th scope="col">Pipeline</th>
                    <th scope="col">Cron</th>
                    <th scope="col">Overlap</th>
                    <th scope="col">Next fire times</th>
                    <th scope="col">Last occurrence</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {p.schedules.map((s) => (
                    <tr data-schedule={s.id}>
                      <td>
                        <a href={`/pipelines/${s.pipeline}`}>{s.pipeline}</a>{" "}
                        <span class="sub">{s.id}</span>
                      </td>
                      <td>
                        <code>{s.cron}</code> {s.timezone && <span class="sub">{s.timezone}</span>}
                      </td>
                      <td>{s.overlap ?? "skip"}</td>
                      <td>
                        {s.paused
                          ? <span class="sub">paused</span>
                          : s.next.slice(0, 3).map((n, i) => (
                            <NextTime utc={n} local={s.nextLocal?.[i]} />
                          ))}
                      </td>
                      <td>
                        {s.lastFire
                          ? <LastFire f={s.lastFire} />
                          : <span class="sub">none yet</span>}
                      </td>
                      <td>
                        {s.enabled === false ? "disabled" : s.paused ? "paused" : "active"}{" "}
                        {p.canOperate && s.enabled !== false && (
                          <button
                            type="button"
                            data-post={`/api/v1/schedules/${encodeURIComponent(s.id)}/${
                              s.paused ? "resume" : "pause"
                            }`}
                          >
                            {s.paused ? "Resume" : "Pause"}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
      </section>
      <section aria-labelledby="hooks-h">
        <h2 id="hooks-h">Webhooks</h2>
        {p.hooks.length === 0
          ? (
            <Empty>
              No webhook triggers. Add{" "}
              <code>{"triggers: [{ webhook: leads, secret: ${{ secrets.HOOK }} }]"}</code>{" "}
              to a pipeline.
            </Empty>
          )
          : p.hooks.map((h, i) => (
            <article class="panel hook" data-hook={`${h.pipeline}/${h.hook}`}>
              <h3>
                {h.pipeline} / {h.hook} <span class="badge">{h.auth}</span>
                {!h.enabled && <span class="badge">disabled</span>}
              </h3>
              <p>
                <label for={`hook-url-${i}`}>URL</label>{" "}
                <input id={`hook-url-${i}`} readonly value={h.url} class="wide" />{" "}
                <button type="button" data-copy={`hook-url-${i}`}>Copy</button>
              </p>
              <p class="sub">Body: request body becomes the run's {h.body}.</p>
              <details>
                <summary>Signing example (curl)</summary>
                <pre id={`hook-example-${i}`}>{signingExample(h)}</pre>
                <button type="button" data-copy={`hook-example-${i}`}>Copy example</button>
              </details>
              <h4>Last deliveries</h4>
              {h.deliveries.length === 0 ? <Empty>None yet.</Empty> : (
                <div class="scroll-x">
                  <table class="compact">
                    <thead>
                      <tr>
                        <th scope="col">When</th>
                        <th scope="col" class="n">Status</th>
                        <th scope="col">Run</th>
                        <th scope="col">Note</th>
                      </tr>
                    </thead>
                    <tbody>
                      {h.deliveries.map((d) => (
                        <tr>
                          <td>{when(d.at)}</td>
                          <td class="n">{d.status}</td>
                          <td>{d.runId ? <a href={`/runs/${d.runId}`}>{d.runId}</a> : "—"}</td>
                          <td>
                            {d.reason ?? (d.duplicate
                              ? "duplicate (idempotent repeat)"
                              : d.items !== undefined
                              ? `${d.items} item(s)`
                              : "")}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </article>
          ))}
      </section>
    </>
  );
}
