/**
 * SQL text for postgres-export: validated, quoted identifiers, the CREATE TABLE (and ADD COLUMN
 * for columns a table made earlier lacks) and the `INSERT ... ON CONFLICT (key) DO UPDATE`
 * statements with numbered parameters.
 * @module
 */
import { cellText, getPath } from "@sluice/sdk/sink/columns.ts";

/** Column types a stage may choose. */
export const COLUMN_TYPES = [
  "text",
  "integer",
  "bigint",
  "numeric",
  "double precision",
  "boolean",
  "jsonb",
  "timestamptz",
  "date",
] as const;

/** A column type. */
export type ColumnType = typeof COLUMN_TYPES[number];

/** How a stage names a column: a dotted path, or the path with a column name and type. */
export type PgColumnSpec = string | { path: string; column?: string; type?: ColumnType };

/** A resolved column. */
export interface PgColumn {
  path: string[];
  column: string;
  type: ColumnType;
}

/** The column every upsert sets to `now()`. */
export const UPDATED_AT = "updated_at";

/** Most parameters one PostgreSQL statement may carry (the protocol counts them in 16 bits). */
export const MAX_PARAMS = 65_534;

const enc = new TextEncoder();

/**
 * Quotes an identifier (`"` doubled), so any name a table may have works: `Lead Status`,
 * `E-Mail`, `Score`. Throws a TypeError for an empty name, a NUL character or more than 63 bytes
 * (PostgreSQL would silently cut it and write to another column).
 */
export function ident(name: string, what: string): string {
  if (
    typeof name !== "string" || name === "" || name.includes("\0") || enc.encode(name).length > 63
  ) {
    throw new TypeError(
      `postgres-export: ${what} ${JSON.stringify(name)} is not a usable SQL name: give 1 to 63 ` +
        `bytes without NUL characters`,
    );
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/** Resolves column specs (default column name: the path with `.` as `_`). */
export function parseColumns(specs: PgColumnSpec[]): PgColumn[] {
  return specs.map((s, i) => {
    const path = typeof s === "string" ? s : s?.path;
    if (typeof path !== "string" || !/^[^.]+(\.[^.]+)*$/.test(path)) {
      throw new TypeError(
        `postgres-export: columns[${i}] needs a dotted path such as "website.status"`,
      );
    }
    const column = typeof s === "string"
      ? path.replaceAll(".", "_")
      : s.column ?? path.replaceAll(".", "_");
    const type = (typeof s === "string" ? undefined : s.type) ?? "text";
    if (!COLUMN_TYPES.includes(type)) {
      throw new TypeError(
        `postgres-export: columns[${i}].type must be one of ${COLUMN_TYPES.join(", ")}`,
      );
    }
    ident(column, `columns[${i}] column name`);
    return { path: path.split("."), column, type };
  });
}

/** The table layout of a stage. */
export interface TableSpec {
  schema?: string;
  table: string;
  keyColumn: string;
  columns: PgColumn[];
  /** Column holding the whole item as jsonb, or undefined for none. */
  itemColumn?: string;
}

/**
 * Schema and table of `with.schema` and `with.table`: `table: sales.leads` names the table
 * `leads` in the schema `sales` when `schema` is not given.
 */
export function splitTable(
  schema: string | undefined,
  table: string,
): { schema?: string; table: string } {
  const dot = table.indexOf(".");
  if (schema !== undefined || dot < 0) return { schema, table };
  return { schema: table.slice(0, dot), table: table.slice(dot + 1) };
}

/** `"schema"."table"`. */
export function tableName(t: TableSpec): string {
  return (t.schema ? `${ident(t.schema, "schema")}.` : "") + ident(t.table, "table");
}

/** Every column the stage writes with its SQL type, key column first, `updated_at` last. */
export function columnDefs(t: TableSpec): { column: string; sql: string }[] {
  const defs = [{ column: t.keyColumn, sql: "text PRIMARY KEY" }];
  for (const c of t.columns) {
    if (c.column !== t.keyColumn) defs.push({ column: c.column, sql: c.type });
  }
  if (t.itemColumn) defs.push({ column: t.itemColumn, sql: "jsonb" });
  defs.push({ column: UPDATED_AT, sql: "timestamptz NOT NULL DEFAULT now()" });
  return defs;
}

/**
 * Throws a TypeError when two things the stage writes would land in one column (two paths with
 * the same column name, a column named like `itemColumn` or `updated_at`): PostgreSQL refuses
 * such a statement, and every chunk would fail.
 */
export function checkColumnNames(t: TableSpec): void {
  const seen = new Map<string, string>([[UPDATED_AT, "the updated_at column the stage sets"]]);
  const claim = (column: string, what: string) => {
    const before = seen.get(column);
    if (before !== undefined) {
      throw new TypeError(
        `postgres-export: ${what} and ${before} both write the column ${JSON.stringify(column)}: ` +
          `give one of them another name (columns[i].column, itemColumn or keyColumn)`,
      );
    }
    seen.set(column, what);
  };
  claim(t.keyColumn, "keyColumn");
  if (t.itemColumn) claim(t.itemColumn, "itemColumn");
  t.columns.forEach((c, i) => {
    if (c.column !== t.keyColumn) claim(c.column, `columns[${i}] (${c.path.join(".")})`);
  });
}

/** CREATE TABLE IF NOT EXISTS for the layout. */
export function createTableSql(t: TableSpec): string {
  ident(t.keyColumn, "keyColumn");
  if (t.itemColumn) ident(t.itemColumn, "itemColumn");
  checkColumnNames(t);
  const cols = columnDefs(t).map((d) => `${ident(d.column, "column")} ${d.sql}`);
  return `CREATE TABLE IF NOT EXISTS ${tableName(t)} (\n  ${cols.join(",\n  ")}\n)`;
}

/**
 * `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` for every column but the key: a table created by an
 * earlier run (or by hand) gets the columns added to the stage since. Existing columns, and
 * columns the stage does not name, are left as they are.
 */
export function addColumnsSql(t: TableSpec): string {
  const adds = columnDefs(t).slice(1).map((d) =>
    `ADD COLUMN IF NOT EXISTS ${ident(d.column, "column")} ${d.sql}`
  );
  return `ALTER TABLE ${tableName(t)} ${adds.join(", ")}`;
}

/** `s` without NUL characters, which PostgreSQL text and jsonb cannot hold. */
function noNul(s: string): string {
  return s.includes("\0") ? s.replaceAll("\0", "") : s;
}

/** A copy of a JSON value with NUL characters removed from its strings and keys. */
export function jsonWithoutNul(v: unknown): unknown {
  if (typeof v === "string") return noNul(v);
  if (Array.isArray(v)) return v.map(jsonWithoutNul);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[noNul(k)] = jsonWithoutNul(x);
    return out;
  }
  return v;
}

/**
 * Epoch values below this are seconds, not milliseconds: in milliseconds they would fall before
 * March 1973, in seconds they reach to the year 5138.
 */
const SECONDS_BELOW = 1e11;

/** An instant (epoch ms) from an ISO date, or epoch seconds or milliseconds (number or digits). */
function timestamp(v: unknown): number {
  const n = typeof v === "number"
    ? v
    : typeof v === "string" && /^\s*\d{1,13}\s*$/.test(v)
    ? Number(v)
    : undefined;
  if (n !== undefined) return Math.abs(n) < SECONDS_BELOW ? n * 1000 : n;
  return typeof v === "string" ? Date.parse(v) : NaN;
}

/** The ranges of PostgreSQL's `integer` and `bigint`. */
const INT_RANGE = {
  integer: [-(2n ** 31n), 2n ** 31n - 1n],
  bigint: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

/** An integer column's parameter: the value without its fraction, null outside the type's range. */
function integerValue(v: unknown, type: "integer" | "bigint"): string | number | null {
  // Whole-number text is taken as written: a bigint beyond 2^53 keeps every digit.
  const digits = typeof v === "string" && /^\s*[-+]?\d+\s*$/.test(v) ? v.trim() : undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (digits === undefined && !Number.isFinite(n)) return null;
  const whole = BigInt(digits ?? Math.trunc(n));
  const [min, max] = INT_RANGE[type];
  if (whole < min || whole > max) return null; // PostgreSQL would fail the whole chunk
  return type === "integer" ? Number(whole) : whole.toString();
}

/**
 * An item's value as the parameter of a column of `type` (null when it does not fit). A jsonb
 * value is sent as JSON text (its placeholder casts `::text::jsonb`), so a boolean, a number, a
 * string or a list is stored as that JSON value whatever type the column's values had before.
 */
export function value(v: unknown, type: ColumnType): unknown {
  if (v === undefined || v === null) return null;
  switch (type) {
    case "jsonb":
      return JSON.stringify(jsonWithoutNul(v));

    case "integer":
    case "bigint":
      return integerValue(v, type);

    case "numeric":
    case "double precision": {
      // Decimal text goes to a numeric column as written: every digit kept (12345678901234567.89).
      if (type === "numeric" && typeof v === "string" && /^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(v)) {
        return v.trim();
      }
      const n = typeof v === "number"
        ? v
        : typeof v === "string" && v.trim() !== ""
        ? Number(v)
        : NaN;
      if (!Number.isFinite(n)) return null;
      return type === "numeric" ? String(n) : n;
    }
    case "boolean":
      return typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : null;
    case "timestamptz":
    case "date": {
      const t = timestamp(v);
      if (!Number.isFinite(t)) return null;
      const iso = new Date(t).toISOString();
      return type === "date" ? iso.slice(0, 10) : iso;
    }
    default:
      return noNul(cellText(v));
  }
}

/** One upsert statement with its parameters. */
export interface UpsertStatement {
  text: string;
  params: unknown[];
}

/**
 * The upsert statements for `items`, at most `batchSize` rows each and never more parameters
 * than PostgreSQL takes (duplicate keys: the last one wins).
 */
export function upsertStatements(
  t: TableSpec,
  items: Record<string, unknown>[],
  batchSize = 500,
  asOf?: number,
): UpsertStatement[] {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const it of items) {
    const key = String(it.key);
    byKey.set(key, it); // the last one wins
  }
  // In key order: two chunks upserting the same keys at once then lock their rows in the same
  // order and cannot deadlock each other.
  const unique = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, it]) => it);
  const perRow = columnDefs(t).length - 1;
  const size = Math.max(1, Math.min(Math.floor(batchSize), Math.floor(MAX_PARAMS / perRow)));
  const out: UpsertStatement[] = [];
  for (let i = 0; i < unique.length; i += size) {
    out.push(upsertSql(t, unique.slice(i, i + size), asOf));
  }
  return out;
}

/** Alias of the target table in an upsert, for the existing row in its `WHERE`. */
const ROW = "sluice_row";

/**
 * One upsert statement for `items` (duplicates by key: the last one wins). With `asOf` (the
 * run's start, epoch ms), `updated_at` is that time and a row is only updated by data at least as
 * new as its own: replaying an old run's dead-lettered chunk after a newer run never turns rows
 * back. Without it, `updated_at` is the time of writing and every write updates.
 */
export function upsertSql(
  t: TableSpec,
  items: Record<string, unknown>[],
  asOf?: number,
): UpsertStatement {
  const byKey = new Map<string, Record<string, unknown>>();
  for (const it of items) byKey.set(String(it.key), it);
  const cols = [
    { column: t.keyColumn, type: "text" as ColumnType, get: (i: Record<string, unknown>) => i.key },
    ...t.columns.filter((c) => c.column !== t.keyColumn).map((c) => ({
      column: c.column,
      type: c.type,
      get: (i: Record<string, unknown>) => getPath(i, c.path),
    })),
    ...(t.itemColumn
      ? [{
        column: t.itemColumn,
        type: "jsonb" as ColumnType,
        get: (i: Record<string, unknown>) => i,
      }]
      : []),
  ];
  const params: unknown[] = [];
  const rows: string[] = [];
  const stamp = asOf === undefined ? undefined : new Date(asOf).toISOString();
  for (const it of byKey.values()) {
    const ph = cols.map((c) => {
      params.push(value(c.get(it), c.type));
      return `$${params.length}::${c.type === "jsonb" ? "text::jsonb" : c.type}`;
    });
    if (stamp !== undefined) {
      params.push(stamp);
      ph.push(`$${params.length}::timestamptz`);
    }
    rows.push(`(${ph.join(", ")})`);
  }
  const names = cols.map((c) => ident(c.column, "column"));
  const updates = names.slice(1).map((n) => `${n} = EXCLUDED.${n}`);
  const updatedAt = ident(UPDATED_AT, "column");
  if (stamp === undefined) updates.push(`${updatedAt} = now()`);
  else {
    names.push(updatedAt);
    updates.push(`${updatedAt} = EXCLUDED.${updatedAt}`);
  }
  const newer = stamp === undefined
    ? ""
    : ` WHERE ${ROW}.${updatedAt} IS NULL OR ${ROW}.${updatedAt} <= EXCLUDED.${updatedAt}`;
  const text = `INSERT INTO ${tableName(t)} AS ${ROW} (${names.join(", ")}) ` +
    `VALUES ${rows.join(", ")} ` +
    `ON CONFLICT (${names[0]}) DO UPDATE SET ${updates.join(", ")}${newer}`;
  return { text, params };
}
