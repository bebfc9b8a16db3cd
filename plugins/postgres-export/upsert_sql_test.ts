import assert from "node:assert/strict";
import { createTableSql, ident, parseColumns, upsertSql } from "./upsert_sql.ts";

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
    'INSERT INTO "leads" ("key", "website_status", "score", "item") VALUES ' +
      "($1::text, $2::text, $3::integer, $4::jsonb), ($5::text, $6::text, $7::integer, $8::jsonb) " +
      'ON CONFLICT ("key") DO UPDATE SET "website_status" = EXCLUDED."website_status", ' +
      '"score" = EXCLUDED."score", "item" = EXCLUDED."item", "updated_at" = now()',
  );
  assert.deepEqual(params.slice(0, 3), ["a.com", "for_sale", 10], "duplicate keys: last wins");
  assert.deepEqual(params.slice(4, 7), ["b.com", null, null]);
});

Deno.test("hostile names are refused", () => {
  assert.throws(() => ident('x"; drop table y; --', "table"), /not a plain SQL name/);
  assert.throws(
    () => parseColumns([{ path: "a", column: "bad name" }]),
    /columns\[0\] column name/,
  );
  assert.throws(
    () => parseColumns([{ path: "a", type: "text; drop" as never }]),
    /columns\[0\]\.type/,
  );
});
