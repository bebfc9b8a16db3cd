import assert from "node:assert/strict";
import {
  addColumnsSql,
  createTableSql,
  ident,
  MAX_PARAMS,
  parseColumns,
  splitTable,
  upsertSql,
  upsertStatements,
  value,
} from "./upsert_sql.ts";

const table = {
  table: "leads",
  keyColumn: "key",
  columns: parseColumns(["website.status", { path: "score", type: "integer" as const }]),
  itemColumn: "item",
};

Deno.test("create table and upsert statements quote names and number parameters", () => {
  assert.equal(
    createTableSql({ ...table, schema: "sales" }),
    'CREATE TABLE IF NOT EXISTS "sales"."leads" (\n  "key" text PRIMARY KEY,\n' +
      '  "website_status" text,\n  "score" integer,\n  "item" jsonb,\n' +
      '  "updated_at" timestamptz NOT NULL DEFAULT now()\n)',
  );
  const { text, params } = upsertSql(table, [
    { key: "a.com", website: { status: "parked" }, score: 80.7 },
    { key: "b.com", score: "n/a" },
    { key: "a.com", website: { status: "for_sale" }, score: 10 },
  ]);
  assert.equal(
    text,
    'INSERT INTO "leads" AS sluice_row ("key", "website_status", "score", "item") VALUES ' +
      "($1::text, $2::text, $3::integer, $4::text::jsonb), " +
      "($5::text, $6::text, $7::integer, $8::text::jsonb) " +
      'ON CONFLICT ("key") DO UPDATE SET "website_status" = EXCLUDED."website_status", ' +
      '"score" = EXCLUDED."score", "item" = EXCLUDED."item", "updated_at" = now()',
  );
  assert.deepEqual(params.slice(0, 3), ["a.com", "for_sale", 10], "duplicate keys: last wins");
  assert.deepEqual(params.slice(4, 7), ["b.com", null, null]);
});

Deno.test("with the run's start, updated_at is that time and only as new data updates a row", () => {
  const { text, params } = upsertSql(table, [{ key: "a.com", score: 1 }], Date.UTC(2026, 10, 1));
  assert.equal(
    text,
    'INSERT INTO "leads" AS sluice_row ("key", "website_status", "score", "item", "updated_at") ' +
      "VALUES ($1::text, $2::text, $3::integer, $4::text::jsonb, $5::timestamptz) " +
      'ON CONFLICT ("key") DO UPDATE SET "website_status" = EXCLUDED."website_status", ' +
      '"score" = EXCLUDED."score", "item" = EXCLUDED."item", "updated_at" = EXCLUDED."updated_at" ' +
      'WHERE sluice_row."updated_at" IS NULL OR sluice_row."updated_at" <= EXCLUDED."updated_at"',
  );
  assert.equal(params[4], "2026-11-01T00:00:00.000Z");
});

Deno.test("any name is quoted safely; empty, NUL and over-long names are refused", () => {
  assert.equal(ident('x"; drop table y; --', "table"), '"x""; drop table y; --"');
  assert.equal(ident("Lead Status", "column"), '"Lead Status"');
  assert.throws(() => ident("", "table"), /table "" is not a usable SQL name/);
  assert.throws(() => ident("a\0b", "table"), /not a usable SQL name/);
  assert.throws(() => ident("ü".repeat(32), "table"), /1 to 63 bytes/);
  assert.throws(() => parseColumns([{ path: "a", column: "" }]), /columns\[0\] column name/);
  assert.throws(
    () => parseColumns([{ path: "a", type: "text; drop" as never }]),
    /columns\[0\]\.type/,
  );
});

Deno.test("schema.table names the schema when with.schema is not given", () => {
  assert.deepEqual(splitTable(undefined, "sales.leads"), { schema: "sales", table: "leads" });
  assert.deepEqual(splitTable("crm", "a.b"), { schema: "crm", table: "a.b" });
  assert.deepEqual(splitTable(undefined, "leads"), { schema: undefined, table: "leads" });
});

Deno.test("upsert statements stay within PostgreSQL's 65,534 parameters", () => {
  const wide = { ...table, columns: parseColumns(["a", "b", "c", "d", "e", "f", "g", "h"]) };
  const items = Array.from({ length: 7000 }, (_, i) => ({ key: `k${i}`, a: i }));
  const stmts = upsertStatements(wide, items, 10_000);
  assert.ok(stmts.every((s) => s.params.length <= MAX_PARAMS));
  assert.equal(stmts.reduce((n, s) => n + s.params.length, 0), 7000 * 10);
  assert.equal(upsertStatements(wide, items, 500).length, 14, "batchSize still applies");
});

Deno.test("rows go in key order (the last of a key wins), so concurrent chunks lock rows alike", () => {
  const items = [
    { key: "c.com", score: 1 },
    { key: "a.com", score: 2 },
    { key: "b.com", score: 3 },
    { key: "a.com", score: 4 },
  ];
  const stmts = upsertStatements(table, items, 2);
  const rows = stmts.flatMap((s) => {
    const out: unknown[][] = [];
    for (let i = 0; i < s.params.length; i += 4) out.push(s.params.slice(i, i + 3));
    return out;
  });
  assert.deepEqual(rows, [["a.com", null, 4], ["b.com", null, 3], ["c.com", null, 1]]);
});

Deno.test("values: an empty cell is NULL in a number column, dates as UTC", () => {
  assert.equal(value("", "integer"), null);
  assert.equal(value(" ", "numeric"), null);
  assert.equal(value("42", "integer"), 42);
  assert.equal(value(72.5, "numeric"), "72.5");
  assert.equal(value(" 12345678901234567.89 ", "numeric"), "12345678901234567.89", "every digit");
  assert.equal(value("1e3", "numeric"), "1000");
  assert.equal(value("2021-04-17T00:00:00Z", "date"), "2021-04-17");
  assert.equal(value(Date.UTC(2027, 0, 2), "timestamptz"), "2027-01-02T00:00:00.000Z");
  assert.equal(value("not a date", "timestamptz"), null);
  // Epoch seconds (as registries and many APIs give them) are not 1970 in milliseconds.
  assert.equal(value(1_798_848_000, "timestamptz"), "2027-01-02T00:00:00.000Z");
  assert.equal(value("1798848000", "date"), "2027-01-02");
  assert.equal(value(1_798_848_000_000, "timestamptz"), "2027-01-02T00:00:00.000Z");
  assert.equal(value("a\0b", "text"), "ab");
  assert.equal(value({ "k\0": ["x\0"] }, "jsonb"), '{"k":["x"]}', "jsonb as JSON text");
  assert.equal(value(true, "jsonb"), "true");
  assert.equal(value(3e9, "integer"), null, "beyond integer: NULL, not a failed chunk");
  assert.equal(value(-2147483648, "integer"), -2147483648);
  assert.equal(value(1e21, "bigint"), null);
  assert.equal(value("9007199254740993", "bigint"), "9007199254740993", "every digit kept");
  assert.equal(value(12.9, "bigint"), "12");
});

Deno.test("two things written to one column are refused", () => {
  const clash = { ...table, columns: parseColumns(["a", { path: "b", column: "a" }]) };
  assert.throws(() => createTableSql(clash), /columns\[1\] \(b\) and columns\[0\] \(a\)/);
  assert.throws(
    () => createTableSql({ ...table, itemColumn: "updated_at" }),
    /itemColumn and the updated_at column the stage sets both write the column "updated_at"/,
  );
});

Deno.test("createTable adds missing columns, never the key", () => {
  assert.equal(
    addColumnsSql({ ...table, schema: "sales" }),
    'ALTER TABLE "sales"."leads" ADD COLUMN IF NOT EXISTS "website_status" text, ' +
      'ADD COLUMN IF NOT EXISTS "score" integer, ADD COLUMN IF NOT EXISTS "item" jsonb, ' +
      'ADD COLUMN IF NOT EXISTS "updated_at" timestamptz NOT NULL DEFAULT now()',
  );
});
