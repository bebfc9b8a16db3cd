import assert from "node:assert/strict";
import postgres from "postgres";
import { openPlugin } from "@sluice/sdk/testing.ts";
import { startPostgres } from "../../testing/postgres.ts";

const dir = new URL(".", import.meta.url);

const items = [
  { key: "a.com", lead: true, website: { status: "parked" }, score: 80, band: "hot" },
  { key: "b.com", lead: false, website: { status: "live" } },
  { key: "c.com", lead: true, website: { status: "no_dns" }, score: 35, band: "cool" },
];

Deno.test("postgres-export against a real PostgreSQL server", async (t) => {
  await using pg = await startPostgres();
  const table = `leads_${crypto.randomUUID().slice(0, 8)}`;
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await t.step("upserts once per key when a chunk is processed twice", async () => {
      await using p = await openPlugin({
        dir,
        secrets: { DATABASE_URL: pg.url },
        config: {
          table,
          createTable: true,
          columns: ["website.status", { path: "score", type: "integer" }, "band"],
        },
      });
      const out = await p.process(items.slice(0, 2), 0);
      assert.deepEqual(out.items, items.slice(0, 2), "items pass through unchanged");
      await p.process(items.slice(2), 1);
      await p.process(items.slice(0, 2), 0); // retried chunk
      await p.finish();
      const rows = await sql.unsafe(
        `select key, website_status, score, band, item from "${table}" order by key`,
      );
      assert.deepEqual(rows.map((r) => [r.key, r.website_status, r.score, r.band]), [
        ["a.com", "parked", 80, "hot"],
        ["c.com", "no_dns", 35, "cool"],
      ]);
      const [kind] = await sql.unsafe(`select jsonb_typeof(item) as t from "${table}" limit 1`);
      assert.equal(kind.t, "object", "the whole item is stored as a jsonb object");
      assert.deepEqual(rows[0].item, items[0]);
    });

    await t.step("a changed item updates its row", async () => {
      await using p = await openPlugin({
        dir,
        config: {
          connection: pg.url,
          table,
          columns: ["website.status", { path: "score", type: "integer" }, "band"],
        },
      });
      await p.process([{ ...items[0], score: 90 }], 0);
      const [row] = await sql.unsafe(
        `select score, (select count(*) from "${table}")::int as n from "${table}" where key = 'a.com'`,
      );
      assert.equal(row.score, 90);
      assert.equal(row.n, 2);
    });

    await t.step("a wrong password fails clearly without showing the password", async () => {
      const bad = new URL(pg.url);
      bad.password = "not-the-password";
      await using p = await openPlugin({
        dir,
        secrets: { DATABASE_URL: bad.href },
        config: { table },
      });
      const err = await p.process(items, 0).catch((e) => e as Error);
      assert.ok(err instanceof Error);
      assert.match(err.message, /wrong password: fix the connection secret/);
      assert.doesNotMatch(err.message, /not-the-password/);
    });

    await t.step("a missing database fails clearly", async () => {
      const bad = new URL(pg.url);
      bad.pathname = "/nope";
      await using p = await openPlugin({
        dir,
        config: { connection: bad.href, table },
      });
      await assert.rejects(p.process(items, 0), /database "nope".*the database does not exist/);
    });

    await t.step("no connection string is a setup error naming the secret", async () => {
      await using p = await openPlugin({ dir, config: { table } });
      await assert.rejects(p.process(items, 0), /secrets\.DATABASE_URL/);
    });
  } finally {
    await sql.end();
  }
});
