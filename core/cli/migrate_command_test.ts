import assert from "node:assert/strict";
import { startPostgres } from "../../testing/postgres.ts";
import { openContext } from "./context.ts";
import { migrateCommand } from "./migrate_command.ts";
import { MIGRATIONS } from "../store/pg/migrate.ts";
import { connectPg } from "../store/pg/connect.ts";
import { parseWorkerArgs } from "./serve_command.ts";

function capture() {
  const io = {
    outText: "",
    errText: "",
    out: (s: string) => void (io.outText += s),
    err: (s: string) => void (io.errText += s),
  };
  return io;
}

Deno.test("sluice migrate applies the schema once and says so; without store.url it explains", async () => {
  const pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "sluice-migrate-" });
  try {
    const ctx = await openContext({
      env: { SLUICE_DATA_DIR: dir, SLUICE_DATABASE_URL: pg.url, SLUICE_LOG_LEVEL: "error" },
    });
    let io = capture();
    assert.equal(await migrateCommand([], ctx, io), 0);
    const versions = MIGRATIONS.map((m) => m.version);
    assert.match(
      io.outText,
      new RegExp(
        `applied migration\\(s\\) ${versions.join(", ")}; postgres://sluice:\\*{4}@.* ` +
          `is at version ${versions.at(-1)}\\b`,
      ),
    );
    assert.doesNotMatch(io.outText, new RegExp(pg.password));
    io = capture();
    assert.equal(await migrateCommand([], ctx, io), 0);
    assert.match(io.outText, new RegExp(`nothing to do: .* is at version ${versions.at(-1)}\\b`));
    const bare = await openContext({ env: { SLUICE_DATA_DIR: dir, SLUICE_LOG_LEVEL: "error" } });
    io = capture();
    assert.equal(await migrateCommand([], bare, io), 2);
    assert.match(io.errText, /store\.url is not set. Set SLUICE_DATABASE_URL/);
  } finally {
    await pg.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice worker flags", () => {
  assert.deepEqual(parseWorkerArgs([]), {});
  assert.deepEqual(parseWorkerArgs(["--concurrency", "4"]), { concurrency: 4 });
  assert.deepEqual(parseWorkerArgs(["--concurrency=2"]), { concurrency: 2 });
  assert.match(parseWorkerArgs(["--concurrency", "0"]) as string, /whole number from 1 to 1024/);
  assert.match(parseWorkerArgs(["--fast"]) as string, /unknown argument "--fast"/);
});

Deno.test("sluice migrate with a role that does not own the database says how to fix it", async () => {
  const pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "sluice-migrate-" });
  const admin = connectPg(pg.url, { max: 1 });
  try {
    // What an operator gets from `createuser` + `createdb` without `-O`: PostgreSQL 15 lets only
    // the database owner create tables in its public schema.
    await admin.unsafe("CREATE ROLE sales LOGIN PASSWORD 'pw-sales'");
    await admin.unsafe("CREATE DATABASE crm");
    const url = new URL(pg.url);
    url.username = "sales";
    url.password = "pw-sales";
    url.pathname = "/crm";
    const ctx = await openContext({
      env: { SLUICE_DATA_DIR: dir, SLUICE_DATABASE_URL: url.href, SLUICE_LOG_LEVEL: "error" },
    });
    await assert.rejects(
      migrateCommand([], ctx, capture()),
      (err: Error) => {
        assert.match(err.message, /permission denied for schema public/);
        assert.match(err.message, /ALTER DATABASE crm OWNER TO sales/);
        assert.doesNotMatch(err.message, /pw-sales/);
        return true;
      },
    );
  } finally {
    await admin.unsafe("DROP DATABASE IF EXISTS crm WITH (FORCE)").catch(() => {});
    await admin.end({ timeout: 5 });
    await pg.close();
    await Deno.remove(dir, { recursive: true });
  }
});
