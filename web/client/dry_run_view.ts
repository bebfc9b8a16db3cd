/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * Dry run helpers: sample items from JSON lines or CSV text, and the per-stage result view.
 * @module
 */

/** Items from JSON lines (each line an object) or CSV with a header row. */
export function parseSample(text: string): Record<string, unknown>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim());
  if (!lines.length) throw new Error("Give at least one sample item.");
  if (lines[0].trim().startsWith("{")) {
    return lines.map((l, i) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`Sample line ${i + 1} is not a JSON object.`);
      }
    });
  }
  const rows = lines.map(splitCsv);
  const head = rows[0];
  return rows.slice(1).map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ""])));
}

function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

interface DryStage {
  id: string;
  plugin: string;
  status: string;
  counters: Record<string, number>;
  items: unknown[];
  rejected: { key: string; reason: string }[];
  error?: string;
  ms: number;
}

/** Renders each stage's outcome and output into `el`. */
export function renderDryRun(el: HTMLElement, r: { stages: DryStage[] }): void {
  el.replaceChildren(...r.stages.map((s) => {
    const d = document.createElement("details");
    d.className = `dry-stage dry-${s.status}`;
    d.open = s.status === "failed";
    const sum = document.createElement("summary");
    sum.textContent = `${s.id} (${s.plugin}): ${s.status}, ${s.items.length} item(s), ${s.ms} ms` +
      (s.rejected.length ? `, ${s.rejected.length} rejected` : "");
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
    const pre = document.createElement("pre");
    pre.textContent = s.items.slice(0, 5).map((i) => JSON.stringify(i, null, 2)).join("\n");
    d.append(pre);
    return d;
  }));
}
