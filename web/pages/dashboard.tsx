/**
 * The dashboard: runs over time by state, items read, leads of the latest run, queue depth,
 * next scheduled runs and recent failures. Charts are drawn by `charts.js` (uPlot) from a JSON
 * data block; the same numbers are in tables for readers without JavaScript.
 * @module
 */
import type { DashboardData } from "../dashboard_data.ts";
import { CHART_STATES } from "../dashboard_data.ts";
import { num, when } from "../format.ts";
import { Empty, JsonData, StateBadge } from "../layout.tsx";

/** Properties of {@link Dashboard}. */
export interface DashboardProps {
  data: DashboardData;
  /** Leads of the newest succeeded run, when there is one. */
  latest?: { runId: string; pipeline: string; leads: number; partial: boolean };
}

/** `1 schedule paused · 2 schedules disabled (…) — see Schedules & webhooks`, or nothing. */
function offText(s: { paused: number; disabled: number }) {
  const parts = [
    s.paused ? `${num(s.paused)} schedule${s.paused === 1 ? "" : "s"} paused` : "",
    s.disabled
      ? `${num(s.disabled)} schedule${s.disabled === 1 ? "" : "s"} disabled (enabled: false)`
      : "",
  ].filter(Boolean);
  if (!parts.length) return undefined;
  return (
    <>
      {parts.join(" · ")} — <a href="/triggers">see Schedules & webhooks</a>.
    </>
  );
}

/** The dashboard body. */
export function Dashboard({ data, latest }: DashboardProps) {
  const totals = CHART_STATES.map((s, i) => [s, data.perState[i].reduce((a, b) => a + b, 0)]);
  const chart = {
    hours: data.hours,
    states: CHART_STATES,
    perState: data.perState,
    items: data.itemsPerHour,
  };
  const off = offText(data.schedules);
  return (
    <>
      <section class="cards" aria-label="Key numbers">
        <div class="card">
          <h2>Runs, last {data.hours.length} h</h2>
          <p class="big">{num(data.runsInWindow)}{data.capped ? "+" : ""}</p>
          <p class="sub">
            {totals.filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(" · ") || "none"}
          </p>
        </div>
        <div class="card">
          <h2>Items processed</h2>
          <p class="big">{num(data.itemsRead)}</p>
          <p class="sub">read by sources; {num(data.itemsOut)} out of last stages</p>
        </div>
        <div class="card">
          <h2>Leads found</h2>
          <p class="big">{latest ? `${num(latest.leads)}${latest.partial ? "+" : ""}` : "—"}</p>
          <p class="sub">
            {latest
              ? (
                <a href={`/runs/${latest.runId}/items?lead=true&sort=-score`}>
                  latest run of {latest.pipeline}
                </a>
              )
              : "no finished run yet"}
          </p>
        </div>
        <div class="card">
          <h2>Queue depth</h2>
          <p class="big">{num(data.pendingChunks)}</p>
          <p class="sub">
            chunks pending in {data.runningRuns} running run(s); {data.queuedRuns} run(s) queued
          </p>
        </div>
      </section>

      <section aria-labelledby="chart-h">
        <h2 id="chart-h">Runs per hour by state</h2>
        <div id="runs-chart" class="chart" data-chart="runs" aria-hidden="true"></div>
        <div id="items-chart" class="chart small" data-chart="items" aria-hidden="true"></div>
        <JsonData id="chart-data" value={chart} />
        <details>
          <summary>Table of runs per state</summary>
          <table class="compact">
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col" class="n">Runs</th>
              </tr>
            </thead>
            <tbody>
              {totals.map(([s, n]) => (
                <tr>
                  <td>
                    <StateBadge state={String(s)} />
                  </td>
                  <td class="n">{num(Number(n))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </section>

      <div class="two">
        <section aria-labelledby="next-h">
          <h2 id="next-h">Next scheduled runs</h2>
          {data.nextFires.length === 0
            ? (
              <Empty>
                {off ? <>No active cron triggers: {off}</> : (
                  <>
                    No active cron triggers. Add <code>triggers: - cron: …</code> to a pipeline.
                  </>
                )}
              </Empty>
            )
            : (
              <>
                <div class="scroll-x">
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Pipeline</th>
                        <th scope="col">Cron</th>
                        <th scope="col">Next</th>
                      </tr>
                    </thead>
                    <tbody>
                      {data.nextFires.map((f) => (
                        <tr>
                          <td>
                            <a href={`/pipelines/${f.schedule.pipeline}`}>{f.schedule.pipeline}</a>
                          </td>
                          <td>
                            <code>{f.schedule.cron}</code>
                          </td>
                          <td>{when(f.at)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                {off && <p class="sub" id="schedules-off">{off}</p>}
              </>
            )}
        </section>
        <section aria-labelledby="fail-h">
          <h2 id="fail-h">Recent failures</h2>
          {data.failures.length === 0 ? <Empty>No failed runs.</Empty> : (
            <div class="scroll-x">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Run</th>
                    <th scope="col">When</th>
                    <th scope="col">Error</th>
                  </tr>
                </thead>
                <tbody>
                  {data.failures.map((r) => (
                    <tr>
                      <td>
                        <a href={`/runs/${r.id}`}>{r.pipeline}</a>
                      </td>
                      <td>{when(r.createdAt)}</td>
                      <td class="err">{r.error ?? "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </>
  );
}
