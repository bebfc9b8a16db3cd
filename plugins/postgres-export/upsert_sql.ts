/**
 * SQL text for postgres-export: validated, quoted identifiers, the CREATE TABLE and the
 * `INSERT ... ON CONFLICT (key) DO UPDATE` statement with numbered parameters.
 * @module
 */
import { cellText, getPath } from "@sluice/sdk/sink/columns.ts";

/** Column types a stage may choose. */
export const COLUMN_TYPES = [
  "text",
  "integer",
  "bigint",
  "double precision",
  "boolean",
  "jsonb",
  "timestamptz",
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

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes a validated identifier; throws a TypeError saying what is allowed. */
export function ident(name: string, what: string): string {
  if (!IDENT.test(name)) {
    throw new TypeError(
      `postgres-export: ${what} ${JSON.stringify(name)} is not a plain SQL name: use letters, ` +
        `digits and _ (not starting with a digit), at most 63 characters`,
    );
  }
  return `"${name}"`;
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

/** `"schema"."table"`. */
export function tableName(t: TableSpec): string {
  return (t.schema ? `${ident(t.schema, "schema")}.` : "") + ident(t.table, "table");
}

/** CREATE TABLE IF NOT EXISTS for the layout. */
export function createTableSql(t: TableSpec): string {
  const cols = [`${ident(t.keyColumn, "keyColumn")} text PRIMARY KEY`];
  for (const c of t.columns) {
    if (c.column !== t.keyColumn) cols.push(`${ident(c.column, "column")} ${c.type}`);
  }
  if (t.itemColumn) cols.push(`${ident(t.itemColumn, "itemColumn")} jsonb`);
  cols.push(`"updated_at" timestamptz NOT NULL DEFAULT now()`);
  return `CREATE TABLE IF NOT EXISTS ${tableName(t)} (\n  ${cols.join(",\n  ")}\n)`;
}

function value(v: unknown, type: ColumnType): unknown {
  if (v === undefined || v === null) return null;
  switch (type) {
    case "jsonb":
      return v; // postgres.js learns the parameter type (jsonb) and serializes it as JSON

    case "integer":
    case "bigint":
    case "double precision": {
      const n = typeof v === "number" ? v : Number(v);
      if (!Number.isFinite(n)) return null;
      return type === "double precision" ? n : Math.trunc(n);
    }
    case "boolean":
      return typeof v === "boolean" ? v : v === "true" ? true : v === "false" ? false : null;
    case "timestamptz":
      return typeof v === "string" && !Number.isNaN(Date.parse(v)) ? v : null;
    default:
      return cellText(v);
  }
}

/** One upsert statement for `items` (duplicates by key: the last one wins). */
export function upsertSql(
  t: TableSpec,
  items: Record<string, unknown>[],
): { text: string; params: unknown[] } {
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
  for (const it of byKey.values()) {
    const ph = cols.map((c) => {
      params.push(value(c.get(it), c.type));
      return `$${params.length}::${c.type}`;
    });
    rows.push(`(${ph.join(", ")})`);
  }
  const names = cols.map((c) => ident(c.column, "column"));
  const updates = names.slice(1).map((n) => `${n} = EXCLUDED.${n}`);
  updates.push(`"updated_at" = now()`);
  const text = `INSERT INTO ${tableName(t)} (${names.join(", ")}) VALUES ${rows.join(", ")} ` +
    `ON CONFLICT (${names[0]}) DO UPDATE SET ${updates.join(", ")}`;
  return { text, params };
}
