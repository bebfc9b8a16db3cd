import assert from "node:assert/strict";
import postgres from "postgres";
import { openPlugin, runPlugin } from "@sluice/sdk/testing.ts";
import type { SandboxError } from "@sluice/sdk/runtime/sandbox_error.ts";
import { startPostgres } from "../../testing/postgres.ts";
import { serveTcp } from "../../testing/tcp_server.ts";

const dir = new URL(".", import.meta.url);

/** What the stage logged at run end (chunk -1): its line in the run's summary. */
const finishLines = (logs: { level: string; msg: string; chunk?: number }[]) =>
  logs.filter((l) => l.chunk === -1 && l.level === "info").map((l) => l.msg);

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

    await t.step(
      "at run end it reports the rows it upserted, over every chunk and process",
      async () => {
        const dataDir = await Deno.makeTempDir({ prefix: "sluice_pg_" });
        try {
          const options = { dir, dataDir, config: { connection: pg.url, table } };
          await using a = await openPlugin(options);
          await using b = await openPlugin(options);
          await a.process(items.slice(0, 2), 0);
          await b.process(items.slice(2), 1);
          await a.process(items.slice(0, 2), 0); // retried chunk: counted once
          await b.finish();
          const where = `${new URL(pg.url).hostname}:${new URL(pg.url).port}`;
          assert.deepEqual(finishLines(b.logs), [
            `postgres-export: upserted 2 leads (by key) into ${table} on ${where} database "${pg.database}" ` +
            `as "${pg.user}" (1 item was no lead)`,
          ]);
          await using none = await openPlugin({ ...options, run: { id: "no-leads" } });
          await none.process([items[1]], 0);
          await none.finish();
          assert.match(
            finishLines(none.logs).join("\n"),
            new RegExp(
              `^postgres-export: 0 of 1 item has lead == true; nothing upserted into ${table} on`,
            ),
          );
        } finally {
          await Deno.remove(dataDir, { recursive: true });
        }
      },
    );

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

    await t.step("an older run's chunk replayed later never turns rows back", async () => {
      const open = (startedAt: number) =>
        openPlugin({
          dir,
          run: { id: `run-${startedAt}`, startedAt },
          config: {
            connection: pg.url,
            table: `${table}_asof`,
            createTable: true,
            columns: [{ path: "score", type: "integer" }],
          },
        });
      const lastWeek = Date.UTC(2026, 10, 20);
      const thisWeek = Date.UTC(2026, 10, 27);
      {
        await using now = await open(thisWeek);
        await now.process([{ ...items[0], score: 70 }], 0);
      }
      {
        // `sluice runs retry` of last week's dead-lettered chunk, after this week's run.
        await using old = await open(lastWeek);
        await old.process(
          [{ ...items[0], score: 20 }, { key: "new.com", lead: true, score: 5 }],
          3,
        );
      }
      const rows = await sql.unsafe(
        `select key, score, updated_at from "${table}_asof" order by key`,
      );
      assert.deepEqual(rows.map((r) => [r.key, r.score, r.updated_at.getTime()]), [
        ["a.com", 70, thisWeek],
        ["new.com", 5, lastWeek], // a key the newer run did not write is still added
      ]);
      {
        await using next = await open(thisWeek + 86_400_000);
        await next.process([{ ...items[0], score: 75 }], 0);
      }
      const [a] = await sql.unsafe(`select score from "${table}_asof" where key = 'a.com'`);
      assert.equal(a.score, 75, "a newer run updates");
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

Deno.test("postgres-export: the tables a CRM has, and running again next week", async (t) => {
  await using pg = await startPostgres();
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  const open = (config: Record<string, unknown>) =>
    openPlugin({ dir, config: { connection: pg.url, ...config } });
  try {
    await t.step("text with NUL characters is stored without them", async () => {
      const item = { key: "nul.com", lead: true, name: "Acme\0 GmbH", website: { title: "a\0b" } };
      await using p = await open({ table: "nul", createTable: true, columns: ["name"] });
      await p.process([item], 0);
      const [row] = await sql.unsafe(`select name, item from nul`);
      assert.equal(row.name, "Acme GmbH");
      assert.deepEqual(row.item.website, { title: "ab" });
    });

    await t.step("createTable adds the columns a later version of the stage names", async () => {
      await using p1 = await open({ table: "weekly", createTable: true, columns: ["band"] });
      await p1.process([{ ...items[0] }], 0);
      await sql.unsafe(`alter table weekly add column owner text; update weekly set owner = 'al'`);
      await using p2 = await open({
        table: "weekly",
        createTable: true,
        columns: ["band", { path: "score", type: "integer" }, "website.status"],
      });
      await p2.process([{ ...items[0], band: "warm" }, items[2]], 0);
      const rows = await sql.unsafe(
        `select key, band, score, website_status, owner from weekly order by key`,
      );
      assert.deepEqual(rows.map((r) => [r.key, r.band, r.score, r.website_status, r.owner]), [
        ["a.com", "warm", 80, "parked", "al"],
        ["c.com", "cool", 35, "no_dns", null],
      ]);
    });

    await t.step("stages starting at once all create the same table", async () => {
      // Two sessions that both see no table and both create it collide in PostgreSQL's catalog
      // (duplicate key in pg_type). Hold them at that point: a transaction of our own creates
      // the table first and rolls back once both stages wait on it.
      const ps = await Promise.all(
        [0, 1].map(() => open({ table: "raced", createTable: true, columns: ["band"] })),
      );
      try {
        const done = await sql.begin(async (tx) => {
          await tx.unsafe(`create table raced (key text primary key)`);
          const done = ps.map((p, i) =>
            p.process([{ ...items[0], key: `${i}.com` }], i).then(() => "ok", (e) => String(e))
          );
          const watch = postgres(pg.url, { max: 1, onnotice: () => {} });
          try {
            for (let waiting = 0; waiting < 2;) {
              await new Promise((r) => setTimeout(r, 50));
              [{ waiting }] = await watch.unsafe(
                `select count(*)::int as waiting from pg_stat_activity ` +
                  `where application_name = 'sluice-postgres-export' and wait_event_type = 'Lock'`,
              );
            }
          } finally {
            await watch.end();
          }
          throw Object.assign(new Error("roll back"), { done });
        }).catch((e) => e.done as Promise<string>[]);
        assert.deepEqual(await Promise.all(done), ["ok", "ok"]);
      } finally {
        for (const p of ps) await p[Symbol.asyncDispose]();
      }
      const [{ n }] = await sql.unsafe(`select count(*)::int as n from raced`);
      assert.equal(n, 2);
    });

    await t.step("a table without updated_at: the error says what to add", async () => {
      await sql.unsafe(`create table crm (key text primary key, score numeric, owner text)`);
      await using p = await open({
        table: "crm",
        itemColumn: false,
        columns: [{ path: "score", type: "integer" }],
      });
      await assert.rejects(
        p.process(items, 0),
        /ALTER TABLE "crm" ADD COLUMN "updated_at" timestamptz NOT NULL DEFAULT now\(\), or set createTable: true/,
      );
    });

    await t.step("a key column without a unique index: the error says so", async () => {
      await sql.unsafe(`create table nokey (key text, updated_at timestamptz)`);
      await using p = await open({ table: "nokey", itemColumn: false });
      await assert.rejects(
        p.process(items, 0),
        /needs a primary key or a unique index.*ADD PRIMARY KEY \("key"\)/,
      );
    });

    await t.step("table: schema.table, a missing schema named", async () => {
      await using missing = await open({ table: "sales.leads", createTable: true });
      await assert.rejects(
        missing.process(items, 0),
        /schema "sales" does not exist.*CREATE SCHEMA/,
      );
      await sql.unsafe(`create schema sales`);
      await using p = await open({ table: "sales.leads", createTable: true });
      await p.process(items, 0);
      const [{ n }] = await sql.unsafe(`select count(*)::int as n from sales.leads`);
      assert.equal(n, 2);
    });

    await t.step("odd column names of an existing table are quoted", async () => {
      await sql.unsafe(
        `create table odd (key text primary key, "Lead Status" text, "E-Mail" text, ` +
          `"say ""hi""" text, updated_at timestamptz)`,
      );
      await using p = await open({
        table: "odd",
        itemColumn: false,
        columns: [
          { path: "website.status", column: "Lead Status" },
          { path: "email", column: "E-Mail" },
          { path: "band", column: 'say "hi"' },
        ],
      });
      await p.process([{ ...items[0], email: "info@a.com" }], 0);
      const [row] = await sql.unsafe(`select * from odd`);
      assert.deepEqual(
        [row["Lead Status"], row["E-Mail"], row['say "hi"']],
        ["parked", "info@a.com", "hot"],
      );
    });

    await t.step("types: numeric, date, timestamptz, boolean, jsonb; empty is NULL", async () => {
      await using p = await open({
        table: "typed",
        createTable: true,
        itemColumn: false,
        columns: [
          { path: "score", type: "numeric" },
          { path: "employees", type: "integer" },
          { path: "rdap.registered", column: "registered", type: "date" },
          { path: "rdap.expires", column: "expires", type: "timestamptz" },
          { path: "lead", type: "boolean" },
          { path: "website.signals", column: "signals", type: "jsonb" },
        ],
      });
      await p.process([{
        key: "t.com",
        lead: true,
        score: 72.5,
        employees: "",
        rdap: { registered: "2021-04-17T00:00:00Z", expires: "2027-01-02T00:00:00Z" },
        website: { signals: [{ id: "parked_ns" }] },
      }], 0);
      const [row] = await sql.unsafe(
        `select score::text, employees, registered::text, expires, lead, signals, ` +
          `jsonb_typeof(signals) as kind from typed`,
      );
      assert.equal(row.score, "72.5");
      assert.equal(row.employees, null, "an empty cell is NULL, not 0");
      assert.equal(row.registered, "2021-04-17");
      assert.equal((row.expires as Date).toISOString(), "2027-01-02T00:00:00.000Z");
      assert.equal(row.lead, true);
      assert.equal(row.kind, "array");
      assert.deepEqual(row.signals, [{ id: "parked_ns" }]);
    });

    await t.step("a big batch is split to stay within PostgreSQL's parameter limit", async () => {
      const cols = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
      const many = Array.from({ length: 7000 }, (_, i) => ({
        key: `k${i}.com`,
        lead: true,
        ...Object.fromEntries(cols.map((c) => [c, i])),
      }));
      await using p = await open({
        table: "wide",
        createTable: true,
        batchSize: 7000,
        columns: cols,
      });
      await p.process(many, 0);
      const [{ n }] = await sql.unsafe(`select count(*)::int as n from wide`);
      assert.equal(n, 7000);
    });

    await t.step("a host that does not resolve is named as such", async () => {
      const bad = new URL(pg.url);
      bad.hostname = "db.invalid";
      await using p = await openPlugin({ dir, config: { connection: bad.href, table: "x" } });
      await assert.rejects(p.process(items, 0), /db\.invalid.*the host name does not resolve/);
    });
  } finally {
    await sql.end();
  }
});

Deno.test("postgres-export: values, layouts and connection strings that used to fail every retry", async (t) => {
  await using pg = await startPostgres();
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  const open = (config: Record<string, unknown>) =>
    openPlugin({ dir, config: { connection: pg.url, ...config } });
  try {
    await t.step("a number out of its column's range is NULL, not a failed chunk", async () => {
      await using p = await open({
        table: "ranges",
        createTable: true,
        itemColumn: false,
        columns: [
          { path: "employees", type: "integer" },
          { path: "revenue", type: "bigint" },
          { path: "id", type: "bigint" },
        ],
      });
      await p.process([
        { key: "big.com", lead: true, employees: 3e9, revenue: 1e21, id: "9007199254740993" },
        { key: "ok.com", lead: true, employees: "42.9", revenue: -5, id: 7 },
      ], 0);
      const rows = await sql.unsafe(
        `select key, employees, revenue::text, id::text from ranges order by key`,
      );
      assert.deepEqual(rows.map((r) => [r.key, r.employees, r.revenue, r.id]), [
        ["big.com", null, null, "9007199254740993"],
        ["ok.com", 42, "-5", "7"],
      ]);
    });

    await t.step("a jsonb column takes booleans, numbers, text and lists alike", async () => {
      await using p = await open({
        table: "mixed",
        createTable: true,
        itemColumn: false,
        columns: [{ path: "extra", type: "jsonb" }],
      });
      const values = [true, 5, "text", ["x", "y"], { a: 1 }];
      for (const [i, extra] of values.entries()) {
        await p.process([{ key: `k${i}.com`, lead: true, extra }], i); // one chunk each
      }
      const rows = await sql.unsafe(`select extra from mixed order by key`);
      assert.deepEqual(rows.map((r) => r.extra), values);
    });

    await t.step("two things written to one column are refused at setup", async () => {
      await using p = await open({ table: "clash", columns: ["website.status", "website_status"] });
      await assert.rejects(
        p.process(items, 0),
        /columns\[1\] \(website_status\) and columns\[0\] \(website\.status\) both write the column "website_status"/,
      );
      await using q = await open({ table: "clash", columns: ["updated_at"] });
      await assert.rejects(q.process(items, 0), /both write the column "updated_at"/);
    });

    await t.step(
      "a NOT NULL column the stage does not write: the hint says what to do",
      async () => {
        await sql.unsafe(
          `create table owned (key text primary key, owner text not null, updated_at timestamptz)`,
        );
        await using p = await open({ table: "owned", itemColumn: false });
        await assert.rejects(
          p.process(items, 0),
          /NOT NULL column this stage does not write: ALTER TABLE "owned" ALTER COLUMN "owner" SET DEFAULT/,
        );
      },
    );

    await t.step("a column of another type: the hint names the type to set", async () => {
      await sql.unsafe(
        `create table typedcrm (key text primary key, score integer, updated_at timestamptz)`,
      );
      await using p = await open({ table: "typedcrm", itemColumn: false, columns: ["score"] });
      await assert.rejects(
        p.process(items, 0),
        /set \{ path: score, column: "score", type: integer \} in with\.columns/,
      );
    });

    await t.step("a malformed connection string fails clearly, without the password", async () => {
      for (const connection of ["postgres://u:50%off@db.example/crm", "postgres://u:pw@[db/crm"]) {
        await using p = await openPlugin({ dir, config: { connection, table: "x" } });
        const err = await p.process(items, 0).catch((e) => e as Error);
        assert.ok(err instanceof Error);
        assert.match(err.message, /with\.connection\) is not a valid URL.*% as %25/);
        assert.doesNotMatch(err.message, /50%off|u:pw/);
      }
    });

    await t.step("sslmode=require against a server without SSL says so", async () => {
      const url = new URL(pg.url);
      url.searchParams.set("sslmode", "require");
      await using p = await openPlugin({ dir, config: { connection: url.href, table: "x" } });
      await assert.rejects(p.process(items, 0), /probably does not accept SSL/);
    });
  } finally {
    await sql.end();
  }
});

Deno.test("postgres-export: a server that takes this user only over SSL says to add sslmode", async () => {
  await using pg = await startPostgres({ forceLocal: true });
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    // Only SSL connections are allowed from now on (the server has no SSL: none get in).
    await Deno.writeTextFile(`${pg.dir}/data/pg_hba.conf`, "hostssl all all all scram-sha-256\n");
    await sql.unsafe(`select pg_reload_conf()`);
  } finally {
    await sql.end();
  }
  await using p = await openPlugin({ dir, config: { connection: pg.url, table: "x" } });
  await assert.rejects(p.process(items, 0), /no encryption.*add \?sslmode=require/);
});

Deno.test("postgres-export: a connection string without a password logs in as a trust user, reading no PGPASSWORD", async () => {
  await using pg = await startPostgres({ forceLocal: true });
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create role trusted login superuser`);
    // This user gets in from loopback without a password; everyone else as before.
    const hba = await Deno.readTextFile(`${pg.dir}/data/pg_hba.conf`);
    await Deno.writeTextFile(
      `${pg.dir}/data/pg_hba.conf`,
      `host all trusted 127.0.0.1/32 trust\n${hba}`,
    );
    await sql.unsafe(`select pg_reload_conf()`);
  } finally {
    await sql.end();
  }
  const connection = `postgres://trusted@${pg.host}:${pg.port}/${pg.database}`;
  const r = await runPlugin({
    dir,
    items,
    config: { connection, table: "leads", createTable: true },
  });
  assert.equal(r.items.length, 3);
  const check = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    const rows = await check.unsafe(`select key from leads order by key`);
    assert.deepEqual(rows.map((row) => row.key), ["a.com", "c.com"]);
  } finally {
    await check.end();
  }
});

Deno.test("postgres-export: a host that answers, but not as PostgreSQL, fails the chunk clearly", async (t) => {
  // Before, the driver waited for a handshake reply for ever (and reconnected for ever when the
  // server hung up): the call ran until the sandbox killed it at the stage's timeout.
  await t.step("an HTTP server on that port", async () => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response("hello"),
    );
    try {
      const port = server.addr.port;
      await using p = await openPlugin({
        dir,
        config: { connection: `postgres://sluice:pw@127.0.0.1:${port}/postgres`, table: "leads" },
        timeoutMs: 25_000,
      });
      for (const chunk of [0, 0]) { // a retried chunk fails the same way
        const err = await p.process(items, chunk).catch((e: Error) => e);
        assert.ok(err instanceof Error);
        assert.match(
          err.message,
          new RegExp(
            `^postgres-export: connect on 127\\.0\\.0\\.1:${port} database "postgres" as "sluice" ` +
              `failed: 127\\.0\\.0\\.1:${port} answered, but not as PostgreSQL \\(it sent ` +
              `"HTTP/1\\.1 400 Bad Request…"\\): check the host and port of the connection secret`,
          ),
        );
        assert.doesNotMatch(err.message, /pw/);
      }
    } finally {
      await server.shutdown();
    }
  });

  await t.step("an egress proxy answering 400 and hanging up", async () => {
    const proxy = serveTcp(async (conn) => {
      await conn.read(new Uint8Array(64));
      await conn.write(
        new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
      );
    });
    try {
      await using p = await openPlugin({
        dir,
        config: { connection: `postgres://sluice:pw@127.0.0.1:${proxy.port}/postgres` },
        timeoutMs: 25_000,
      });
      await assert.rejects(
        p.process(items, 0),
        /answered, but not as PostgreSQL \(it sent "HTTP\/1\.1 400 Bad Request…"\)/,
      );
    } finally {
      await proxy.close();
    }
  });

  await t.step("a server that hangs up without a word", async () => {
    const server = serveTcp(async (conn) => void await conn.read(new Uint8Array(64)));
    try {
      await using p = await openPlugin({
        dir,
        config: { connection: `postgres://sluice:pw@127.0.0.1:${server.port}/postgres` },
        timeoutMs: 25_000,
      });
      await assert.rejects(
        p.process(items, 0),
        /closed the connection without answering the PostgreSQL handshake/,
      );
    } finally {
      await server.close();
    }
  });
});

Deno.test("postgres-export: a table or column name PostgreSQL cannot use is a configuration error", async () => {
  for (
    const config of [
      { connection: "postgres://u:p@127.0.0.1:1/db", table: "" },
      { connection: "postgres://u:p@127.0.0.1:1/db", columns: [{ path: "a", type: "blob" }] },
      { connection: "postgres://u:p@127.0.0.1:1/db", columns: ["x".repeat(64)] },
    ]
  ) {
    await assert.rejects(
      // The schema refuses some of these too (sluice validate); the plugin's own checks are for
      // values that come from ${{ inputs.… }} templates, which validate cannot see.
      runPlugin({ dir, config, items, checkConfig: false }),
      (e: SandboxError) => {
        assert.match(e.message, /postgres-export: /);
        assert.equal(e.kind, "config", e.message);
        return true;
      },
    );
  }
});
