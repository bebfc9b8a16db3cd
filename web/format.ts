/**
 * Small formatting helpers for pages: times, durations, numbers.
 * @module
 */

/** `2026-11-28 20:51:03Z` from epoch ms or ISO text; `—` when absent. */
export function when(t: number | string | undefined): string {
  if (t === undefined || t === "") return "—";
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return "—";
  return d.toISOString().slice(0, 19).replace("T", " ") + "Z";
}

/** `850 ms`, `12.3 s`, `4 min 5 s`, `2 h 3 min`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

/** `1,234,567`. */
export function num(n: number | undefined): string {
  return n === undefined ? "—" : n.toLocaleString("en-US");
}

/** `512 bytes`, `12.3 KB`, `4.5 MB` (powers of 1,000, as file managers show them). */
export function fileSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} bytes`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = bytes;
  let u = -1;
  do {
    v /= 1000;
    u++;
  } while (v >= 1000 && u < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** A value as short text for a table cell. */
export function cell(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

const ABSOLUTE_PATH = /(^|[\s("'=])((?:[A-Za-z]:)?[\\/](?:[^\s\\/:"'()]+[\\/])+)([^\s\\/:"'()]+)/g;

/**
 * `text` with each absolute file path shortened to its file name, e.g.
 * `/srv/data/uploads/ab12/businesses.csv:3: row has 4 fields` -> `businesses.csv:3: row has 4
 * fields` (URLs are left alone).
 */
export function shortPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, "$1$3");
}
