/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * Live run progress: listens to `GET /api/v1/runs/{id}/events` and updates the bars, counters and
 * state in place (fixed-width cells, so nothing jumps while numbers change).
 * @module
 */
import { percent, runProgress } from "../progress.ts";
import type { RunDetailView } from "../pages/runs.tsx";
import { byId } from "./api.ts";

const nf = new Intl.NumberFormat("en-US");

function dur(ms: number | undefined): string {
  if (ms === undefined) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

function setBar(bar: HTMLProgressElement | null, f: number | undefined) {
  if (!bar) return;
  if (f === undefined) bar.removeAttribute("value");
  else bar.value = Math.floor(f * 100);
}

/** Applies a run detail to the page. */
export function applyDetail(d: RunDetailView): void {
  const prog = runProgress(d);
  setBar(byId<HTMLProgressElement>("overall-bar"), prog.overall);
  const ot = byId("overall-text");
  if (ot) ot.textContent = percent(prog.overall);
  const st = byId("run-state");
  if (st) st.innerHTML = `<span class="state state-${d.state}">${d.state}</span>`;
  const du = byId("run-duration");
  if (du) du.textContent = dur(d.durationMs);
  const err = byId("run-error");
  if (err) {
    err.hidden = !d.error;
    err.textContent = d.error ?? "";
  }
  d.stageDetails.forEach((s, i) => {
    const row = document.querySelector(`tr[data-stage="${CSS.escape(s.id)}"]`);
    if (!row) return;
    const sp = prog.stages[i];
    setBar(row.querySelector("progress"), sp.fraction);
    const set = (f: string, v: string) => {
      const cell = row.querySelector(`[data-f="${f}"]`);
      if (cell && cell.textContent !== v) cell.textContent = v;
    };
    set("pct", percent(sp.fraction));
    for (const k of ["in", "out", "filtered", "skipped", "failed", "rejected"] as const) {
      set(k, nf.format(s.counters[k]));
    }
    set("chunks", `${nf.format(sp.settled)}/${nf.format(sp.total)}`);
    set("busy", dur(s.counters.busyMs));
  });
  // The dead-letter and rejected lists are rendered by the server: while the run goes on, an
  // empty list under counters that say otherwise would be false, so it says how many there are
  // and when they are listed.
  const later = "listed here when the run ends (reload the page to see them now)";
  const dead = byId("dead-empty");
  if (dead && d.deadLetters > 0) {
    dead.textContent = `${nf.format(d.deadLetters)} chunk(s) dead-lettered so far: ${later}.`;
  }
  // The rejected list also holds the items of chunks a stage skipped (onError: skip).
  const rejected = d.rejectedItems;
  const rej = byId("rejected-empty");
  if (rej && rejected > 0) {
    rej.textContent = `${nf.format(rejected)} item(s) rejected so far: ${later}.`;
  }
  const final = ["succeeded", "failed", "cancelled"].includes(d.state);
  const cancel = byId<HTMLButtonElement>("cancel");
  if (cancel) cancel.disabled = final;
  const retry = byId<HTMLButtonElement>("retry");
  if (retry) retry.disabled = d.state !== "failed";
}

/** Starts listening when the page shows an unfinished run. */
export function startRunLive(): void {
  const root = byId("run");
  if (!root || root.dataset.final === "1") return;
  const id = root.dataset.run!;
  let last: RunDetailView | undefined;
  const es = new EventSource(`/api/v1/runs/${encodeURIComponent(id)}/events`);
  es.addEventListener("progress", (ev) => {
    last = JSON.parse((ev as MessageEvent).data) as RunDetailView;
    applyDetail(last);
  });
  es.addEventListener("end", (ev) => {
    es.close();
    root.dataset.final = "1";
    const note = byId("live-note");
    if (note) note.textContent = " Finished.";
    const rejected = last?.stageDetails.some((s) => s.counters.rejected > 0) ?? false;
    const end = JSON.parse((ev as MessageEvent).data) as { state?: string };
    // Dead letters, rejected items and (once it succeeded) the run's files are shown by the
    // server-rendered page: load it again.
    if ((last && (last.deadLetters > 0 || rejected)) || end.state === "succeeded") {
      location.reload();
    }
  });
  es.onerror = () => {
    const note = byId("live-note");
    if (note && root.dataset.final !== "1") note.textContent = " Connection lost; retrying…";
  };
}
