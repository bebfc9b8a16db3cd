/**
 * Column selection for export sinks: dotted paths (`website.status`) with optional headers, and
 * turning values into flat cells.
 * @module
 */
import { FieldPathWatch } from "../text/field_hints.ts";
import { SAME_BUSINESS_COLUMN, WEBSITE_ELSEWHERE_COLUMN } from "./same_business.ts";
import { isAlsoListedColumn } from "./also_listed.ts";
import { INPUT_COLUMNS, inputFields } from "./input_columns.ts";

/**
 * How a column's value is written: `date` turns a timestamp (`2023-05-24T00:00:00.000Z`, or epoch
 * ms) into its calendar date in UTC (`2023-05-24`); other values are written as they are.
 */
export type ColumnFormat = "date";

/**
 * A column: a dotted path into the item, or the path with a header of its own, a format and, for
 * csv-export, whether its cells get the formula guard (`escapeFormulas: false` for a column a CRM
 * imports, such as `phone_e164`); `"*"` stands for the input's other columns (`input_columns.ts`).
 */
export type ColumnSpec = string | {
  path: string;
  header?: string;
  format?: ColumnFormat;
  escapeFormulas?: boolean;
};

/** A parsed column. */
export interface Column {
  path: string[];
  header: string;
  format?: ColumnFormat;
  /** The column's own formula guard setting (csv-export), when the spec gives one. */
  escapeFormulas?: boolean;
  /** True for `"*"`: the input's other columns, each a column of its own. */
  input?: true;
}

/**
 * Parses column specs; throws a TypeError naming the bad entry. Headers must differ: rows keyed by
 * header would lose a value, and a CSV import cannot tell two same-named columns apart.
 */
export function parseColumns(specs: ColumnSpec[]): Column[] {
  const headers = new Map<string, number>();
  return specs.map((s, i) => {
    if (s === INPUT_COLUMNS) {
      if (headers.has(INPUT_COLUMNS)) {
        throw new TypeError(`columns[${i}]: "*" (the input's other columns) is listed twice`);
      }
      headers.set(INPUT_COLUMNS, i);
      return { path: [], header: INPUT_COLUMNS, input: true };
    }
    const path = typeof s === "string" ? s : s?.path;
    if (typeof path !== "string" || path.trim() === "" || path.split(".").some((p) => p === "")) {
      throw new TypeError(
        `columns[${i}]: ${JSON.stringify(s)} is not a dotted field path such as "website.status"`,
      );
    }
    const header = typeof s === "string" ? s : s.header ?? s.path;
    const first = headers.get(header);
    if (first !== undefined) {
      throw new TypeError(
        `columns[${i}]: header ${JSON.stringify(header)} is already the header of ` +
          `columns[${first}]; give one of them its own header, e.g. ` +
          `{ path: ${path}, header: ${path.replaceAll(".", "_")} }`,
      );
    }
    headers.set(header, i);
    const format = typeof s === "string" ? undefined : s.format;
    if (format !== undefined && format !== "date") {
      throw new TypeError(`columns[${i}]: format ${JSON.stringify(format)} is unknown; use "date"`);
    }
    const escapeFormulas = typeof s === "string" ? undefined : s.escapeFormulas;
    if (escapeFormulas !== undefined && typeof escapeFormulas !== "boolean") {
      throw new TypeError(
        `columns[${i}]: escapeFormulas ${JSON.stringify(escapeFormulas)} is not true or false`,
      );
    }
    const column: Column = { path: path.split("."), header };
    if (format) column.format = format;
    if (escapeFormulas !== undefined) column.escapeFormulas = escapeFormulas;
    return column;
  });
}

/** The value of a column in an item, formatted (undefined when the path is missing). */
export function columnValue(item: unknown, column: Column): unknown {
  const v = getPath(item, column.path);
  if (column.format !== "date" || v === null || v === undefined) return v;
  const t = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 10) : v;
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

/**
 * The item reduced to the chosen columns, keyed by header, in column order; `"*"` adds the
 * input's other columns (by their own names) where it stands.
 */
export function pick(item: unknown, columns: Column[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    if (!c.input) out[c.header] = columnValue(item, c) ?? null;
    else if (item && typeof item === "object") {
      for (
        const [name, text] of inputFields(item as Record<string, unknown>, listedFields(columns))
      ) {
        // An own property even for names such as `__proto__` or `toString`.
        if (!Object.hasOwn(out, name)) {
          Object.defineProperty(out, name, {
            value: text,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
    }
  }
  return out;
}

/**
 * The fields and headers an export's columns name: never repeated by `"*"` (a `name` column, a
 * `{ path: rdap.registrant.phone, header: registrant_phone }` header).
 */
export function listedFields(columns: Column[]): Set<string> {
  const out = new Set<string>();
  for (const c of columns) {
    if (c.input) continue;
    out.add(c.header);
    if (c.path.length === 1) out.add(c.path[0]);
  }
  return out;
}

/** True for the column an export fills at the end of the run ({@link SAME_BUSINESS_COLUMN}). */
export function isSameBusinessColumn(column: { path: string[] }): boolean {
  return column.path.length === 1 && column.path[0] === SAME_BUSINESS_COLUMN;
}

/** True for the column an export fills at the end of the run ({@link WEBSITE_ELSEWHERE_COLUMN}). */
export function isWebsiteElsewhereColumn(column: { path: string[] }): boolean {
  return column.path.length === 1 && column.path[0] === WEBSITE_ELSEWHERE_COLUMN;
}

/**
 * Watches the paths of an export's columns (and sort keys) for likely misspellings, to log once
 * each: `csv-export: columns[6] …: no item of this chunk has "webiste" …; did you mean …?`.
 * The columns the export fills itself ({@link SAME_BUSINESS_COLUMN}, `also_listed_as`,
 * {@link WEBSITE_ELSEWHERE_COLUMN}) and `"*"`
 * are not watched.
 */
export function watchColumns(
  stage: string,
  columns: { path: string[]; input?: true }[],
  sort: { path: string[] }[] = [],
): FieldPathWatch {
  return new FieldPathWatch([
    ...columns.flatMap((c, i) =>
      c.input || isSameBusinessColumn(c) || isAlsoListedColumn(c) || isWebsiteElsewhereColumn(c)
        ? []
        : [{ path: c.path, label: `${stage}: columns[${i}]` }]
    ),
    ...sort.map((s, i) => ({ path: s.path, label: `${stage}: sort[${i}]` })),
  ]);
}

/** What a misspelt column path leaves wrong, for {@linkcode FieldPathWatch.check}. */
export const EMPTY_COLUMN_CONSEQUENCE =
  "The column stays empty (a sort key sorts nothing) until the path in the stage's `with` is fixed.";
