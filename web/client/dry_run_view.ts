/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * Dry run helpers: sample items from JSON lines or CSV text, and the per-stage result view.
 * @module
 */
import { parseSample, type Sample } from "./csv_sample.ts";

export { parseSample, type Sample };

interface DryStage {
  id: string;
  plugin: string;
  status: string;
  counters: Record<string, number>;
  items: unknown[];
  rejected: { key: string; reason: string }[];
  error?: string;
  ms: number;
  /** What the plugin logged (hints such as a misspelt field, renamed columns). */
  logs?: { level: string; msg: string }[];
}

/** Items shown per stage. */
export const SHOWN_ITEMS = 5;

/** `3 in → 2 out, 1 filtered` from a stage's counters (zero counts left out, but in and out). */
export function countersText(c: Record<string, number>): string {
  const parts = [`${c.in ?? 0} in → ${c.out ?? 0} out`];
  for (const k of ["filtered", "skipped", "rejected", "failed"]) {
    if (c[k]) parts.push(`${c[k]} ${k}`);
  }
  return parts.join(", ");
}

/**
 * Renders into `el` the sample lines that were left out (as error lines), then each stage's
 * outcome: its counters (in, out, filtered, skipped, rejected), rejected items, and its first
 * {@link SHOWN_ITEMS} output items, saying so when there are more.
 */
export function renderDryRun(
  el: HTMLElement,
  r: { stages: DryStage[] },
  sampleErrors: Sample["errors"] = [],
): void {
  const out: HTMLElement[] = [];
  if (sampleErrors.length) {
    const ul = document.createElement("ul");
    ul.id = "dry-sample-errors";
    ul.className = "err";
    for (const e of sampleErrors) {
      const li = document.createElement("li");
      li.textContent = `Sample line ${e.line} left out: ${e.message}.`;
      ul.append(li);
    }
    out.push(ul);
  }
  out.push(...r.stages.map((s) => {
    const d = document.createElement("details");
    d.className = `dry-stage dry-${s.status}`;
    d.dataset.stage = s.id;
    d.open = s.status === "failed";
    const sum = document.createElement("summary");
    const counts = Object.keys(s.counters ?? {}).length
      ? countersText(s.counters)
      : `${s.items.length} item(s)`;
    sum.textContent = `${s.id} (${s.plugin}): ${s.status}, ${counts}, ${s.ms} ms`;
    d.append(sum);
    if (s.error) {
      const p = document.createElement("p");
      p.className = "err";
      p.textContent = s.error;
      d.append(p);
    }
    for (const rj of s.rejected) {
      const p = document.createElement("p");
      p.className = "sub";
      p.textContent = `rejected ${rj.key}: ${rj.reason}`;
      d.append(p);
    }
    // The plugin's own words: a misspelt field's hint, renamed columns, an encoding warning.
    const logs = (s.logs ?? []).filter((l) => l.level !== "debug");
    if (logs.length) {
      const ul = document.createElement("ul");
      ul.className = "dry-logs";
      for (const l of logs) {
        const li = document.createElement("li");
        li.className = l.level === "warn" || l.level === "error" ? "err" : "sub";
        li.textContent = `${l.level}: ${l.msg}`;
        ul.append(li);
      }
      d.append(ul);
      // Warnings are worth seeing without a click.
      if (logs.some((l) => l.level === "warn" || l.level === "error")) d.open = true;
    }
    if (s.items.length > SHOWN_ITEMS) {
      const p = document.createElement("p");
      p.className = "sub";
      p.textContent = `Showing the first ${SHOWN_ITEMS} of ${s.items.length} items.`;
      d.append(p);
    }
    const pre = document.createElement("pre");
    pre.textContent = s.items.slice(0, SHOWN_ITEMS).map((i) => JSON.stringify(i, null, 2))
      .join("\n");
    d.append(pre);
    return d;
  }));
  el.replaceChildren(...out);
}
