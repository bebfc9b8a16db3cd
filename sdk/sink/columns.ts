/**
 * Column selection for export sinks: dotted paths (`website.status`) with optional headers, and
 * turning values into flat cells.
 * @module
 */

/** A column: a dotted path into the item, or the path with a header of its own. */
export type ColumnSpec = string | { path: string; header?: string };

/** A parsed column. */
export interface Column {
  path: string[];
  header: string;
}

/** Parses column specs; throws a TypeError naming the bad entry. */
export function parseColumns(specs: ColumnSpec[]): Column[] {
  return specs.map((s, i) => {
    const path = typeof s === "string" ? s : s?.path;
    if (typeof path !== "string" || path.trim() === "" || path.split(".").some((p) => p === "")) {
      throw new TypeError(
        `columns[${i}]: ${JSON.stringify(s)} is not a dotted field path such as "website.status"`,
      );
    }
    const header = typeof s === "string" ? s : s.header ?? s.path;
    return { path: path.split("."), header };
  });
}

/** The value at a dotted path (undefined when any step is missing). */
export function getPath(item: unknown, path: string[]): unknown {
  let v: unknown = item;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/**
 * A value as one text cell: empty for null/undefined, lists of scalars joined with `; `, other
 * objects as JSON.
 */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v) && v.every((x) => x === null || typeof x !== "object")) {
    return v.map((x) => (x === null ? "" : String(x))).join("; ");
  }
  return JSON.stringify(v);
}

/** The item reduced to the chosen columns, keyed by header, in column order. */
export function pick(item: unknown, columns: Column[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c.header] = getPath(item, c.path) ?? null;
  return out;
}
