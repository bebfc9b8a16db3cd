/**
 * postgres-export: upserts the run's leads (or all items) into a PostgreSQL table keyed by the
 * item key (`INSERT ... ON CONFLICT DO UPDATE`), so a retried chunk updates rows instead of
 * duplicating them. The connection string comes from a secret. Items pass through unchanged.
 * @module
 */
import postgres from "postgres";
import { ConfigError, definePlugin } from "@sluice/sdk";
import {
  addColumnsSql,
  COLUMN_TYPES,
  columnDefs,
  createTableSql,
  ident,
  parseColumns,
  type PgColumnSpec,
  splitTable,
  tableName,
  type TableSpec,
  upsertStatements,
} from "./upsert_sql.ts";
import { EMPTY_COLUMN_CONSEQUENCE, watchColumns } from "@sluice/sdk/sink/columns.ts";
import { checkPostgresHandshake } from "./handshake.ts";
import type { FieldPathWatch } from "@sluice/sdk/text/field_hints.ts";
import { deliveryLine, readRunTally, writeChunkTally } from "@sluice/sdk/sink/run_tally.ts";

interface Config {
  connection?: string;
  connectionSecret?: string;
  schema?: string;
  table?: string;
  keyColumn?: string;
  columns?: PgColumnSpec[];
  itemColumn?: string | false;
  createTable?: boolean;
  leadsOnly?: boolean;
  batchSize?: number;
}

interface State {
  sql: postgres.Sql;
  table: TableSpec;
  where: string;
  ready?: Promise<void>;
  /** The server's host and port, checked once to answer as PostgreSQL (`handshake.ts`). */
  server: { host: string; port: number };
  checked?: Promise<void>;
  /** Logs a column path no item has while a close name is there (a typo), once. */
  watch: FieldPathWatch;
}

/** Names the server without the password, for error messages. */
function describe(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || 5432} database "${u.pathname.slice(1) || "postgres"}" as "${
      decodeURIComponent(u.username)
    }"`;
  } catch {
    return "the configured server";
  }
}

/**
 * Every option postgres.js would otherwise read from `PG*` environment variables, taken from the
 * URL instead (the sandbox grants no env access but `PGAPPNAME` and `PGTARGETSESSIONATTRS`, which
 * postgres.js always reads).
 */
function connectionOptions(url: string): postgres.Options<Record<string, never>> {
  const u = new URL(url);
  const q = u.searchParams;
  const mode = q.get("sslmode") ?? q.get("ssl") ?? "disable";
  const ssl = mode === "disable" || mode === "false"
    ? false
    : (mode as "require" | "allow" | "prefer" | "verify-full");
  const user = decodeURIComponent(u.username);
  return {
    host: u.hostname.replace(/^\[|\]$/g, "") || "localhost",
    port: Number(u.port || 5432),
    user,
    // postgres.js reads PGPASSWORD when `pass` is empty (a URL without a password, for a trust or
    // peer login): a function giving "" is taken as it is, so no env access is asked for.
    pass: u.password === "" ? () => "" : decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)) || user,
    ssl,
    max: 2,
    idle_timeout: 30,
    connect_timeout: 10,
    max_lifetime: 3600,
    max_pipeline: 100,
    keep_alive: 60,
    prepare: true,
    debug: false,
    fetch_types: true,
    publications: "alltables",
    target_session_attrs: undefined,
    backoff: (n: number) => Math.min(0.5 * 2 ** n, 10),
    sslnegotiation: null,
    onnotice: () => {},
    connection: { application_name: "sluice-postgres-export" },
  } as postgres.Options<Record<string, never>>;
}

const HINTS: Record<string, string> = {
  "28P01": "wrong password: fix the connection secret",
  "28000": "the server refused this user: check pg_hba.conf and the user name",
  "3D000": "the database does not exist: create it or fix the connection secret",
  "3F000": "the schema does not exist: create it (CREATE SCHEMA) or fix with.schema",
  "42P01": "the table does not exist: create it or set createTable: true",
  "42501": "this user may not do that: GRANT it the privilege, or connect as another user",
  "ECONNREFUSED": "nothing listens there: is the server running, is the port right?",
  "ENOTFOUND": "the host name does not resolve: fix the host in the connection secret",
  "EAI_AGAIN": "the host name does not resolve: fix the host in the connection secret",
  "CONNECT_TIMEOUT": "no answer within 10 s: check the host, the port and any firewall",
  "ETIMEDOUT": "no answer: check the host, the port and any firewall",
};

/** The quoted name in `column "<name>"` of a PostgreSQL message. */
function columnIn(message: string | undefined): string | undefined {
  return /column "((?:[^"]|"")+)"/.exec(message ?? "")?.[1]?.replaceAll('""', '"');
}

/** PostgreSQL's names of the types a stage may choose, as `with.columns[].type` spells them. */
const PG_TYPE_NAMES: Record<string, string> = {
  "timestamp with time zone": "timestamptz",
};

/** A hint that depends on the table: what to add, in SQL. */
function tableHint(e: { code?: string; message?: string }, t: TableSpec): string {
  if (e.code === "23502") {
    const col = columnIn(e.message);
    const written = columnDefs(t).some((d) => d.column === col);
    const alter = `ALTER TABLE ${tableName(t)} ALTER COLUMN ${col ? ident(col, "column") : "…"}`;
    return written
      ? `an item has no value for this NOT NULL column, which the stage then writes as NULL: ` +
        `${alter} DROP NOT NULL, or export only items that have it`
      : `the table has a NOT NULL column this stage does not write: ${alter} SET DEFAULT …, ` +
        `or ${alter} DROP NOT NULL, or write it from the stage (with.columns)`;
  }
  if (e.code === "42804") {
    const col = columnIn(e.message);
    const has = /is of type (.+) but expression is of type/.exec(e.message ?? "")?.[1];
    if (col === t.keyColumn) {
      return `item keys are text: keyColumn must name a text column (or ALTER TABLE ` +
        `${tableName(t)} ALTER COLUMN ${ident(col, "column")} TYPE text)`;
    }
    const type = has && (PG_TYPE_NAMES[has] ?? has);
    const spec = t.columns.find((c) => c.column === col);
    return type && spec && (COLUMN_TYPES as readonly string[]).includes(type)
      ? `the table's column has another type than the stage writes: set { path: ` +
        `${spec.path.join(".")}, column: ${JSON.stringify(col)}, type: ${type} } in with.columns`
      : `the table's column has another type than the stage writes: set its type in ` +
        `with.columns, or change the column's type`;
  }
  if (/before secure TLS connection was established/.test(e.message ?? "")) {
    return "the server ended the connection when asked for SSL, so it probably does not accept " +
      "SSL: enable ssl on the server, or use sslmode=disable on a network you trust";
  }
  if (e.code === "28000" && /no encryption/.test(e.message ?? "")) {
    return "the server accepts this user only over SSL: add ?sslmode=require to the connection " +
      "string";
  }
  if (e.code === "42703") {
    const col = /column "((?:[^"]|"")+)" of relation/.exec(e.message ?? "")?.[1];
    const def = columnDefs(t).find((d) => d.column === col);
    const add = def
      ? `ALTER TABLE ${tableName(t)} ADD COLUMN ${ident(def.column, "column")} ${def.sql}`
      : "add it";
    return `the table lacks a column this stage writes: ${add}, or set createTable: true, ` +
      `which adds missing columns`;
  }
  if (e.code === "42P10") {
    return `the key column needs a primary key or a unique index for the upsert: ALTER TABLE ` +
      `${tableName(t)} ADD PRIMARY KEY (${ident(t.keyColumn, "keyColumn")}), or set keyColumn`;
  }
  return "";
}

function explain(err: unknown, state: State, doing: string): Error {
  const e = err as { code?: string; message?: string };
  const hint = tableHint(e, state.table) || (e.code && HINTS[e.code]);
  return new Error(
    `postgres-export: ${doing} on ${state.where} failed: ${e.message ?? String(err)}` +
      (hint ? ` (${hint})` : ""),
    { cause: err },
  );
}

/**
 * Creates the table, or adds the columns it lacks, in one transaction under an advisory lock on
 * the table's name: the stage's sandboxes start at once, and concurrent `CREATE TABLE IF NOT
 * EXISTS` of one table can fail in PostgreSQL with a duplicate key in `pg_type`.
 */
async function prepareTable(sql: postgres.Sql, t: TableSpec): Promise<void> {
  await sql.begin(async (tx) => {
    await tx.unsafe(`SELECT pg_advisory_xact_lock(hashtext($1))`, [
      `sluice postgres-export ${tableName(t)}`,
    ]);
    await tx.unsafe(createTableSql(t));
    await tx.unsafe(addColumnsSql(t));
  });
}

export default definePlugin<Config, State>({
  setup({ config, secrets, signal }) {
    const secretName = config.connectionSecret ?? "DATABASE_URL";
    const url = config.connection ?? secrets[secretName];
    if (!url) {
      throw new Error(
        `postgres-export: no connection string: set with.connection: \${{ secrets.${secretName} }} ` +
          `(and grant the secret to this stage)`,
      );
    }
    if (!/^postgres(ql)?:\/\//i.test(url)) {
      throw new Error(`postgres-export: the connection string must start with postgres://`);
    }
    let table: TableSpec;
    try {
      table = {
        ...splitTable(config.schema, config.table ?? "leads"),
        keyColumn: config.keyColumn ?? "key",
        columns: parseColumns(config.columns ?? []),
        itemColumn: config.itemColumn === false ? undefined : config.itemColumn ?? "item",
      };
      createTableSql(table); // validates every identifier now
    } catch (e) {
      // A table, column or key name of the stage's `with:`: the pipeline file must change.
      throw new ConfigError((e as Error).message, { cause: e });
    }
    let options: postgres.Options<Record<string, never>>;
    try {
      options = connectionOptions(url);
    } catch {
      // Not the string itself nor the parser's message: both show the password.
      throw new Error(
        `postgres-export: the connection string (${
          config.connection === undefined ? `secret ${secretName}` : "with.connection"
        }) is not a valid URL: write postgres://user:password@host:5432/database and ` +
          `percent-encode special characters in the user name and password (% as %25, @ as %40, ` +
          `# as %23, / as %2F, : as %3A)`,
      );
    }
    const sql = postgres(options);
    signal.addEventListener("abort", () => void sql.end({ timeout: 1 }), { once: true });
    return {
      sql,
      table,
      server: { host: options.host as string, port: options.port as number },
      where: describe(url),
      watch: watchColumns("postgres-export", table.columns),
    };
  },
  async process(items, { config, state, metrics, run, chunk, part, log, dataDir }) {
    const chosen = (config.leadsOnly ?? true) ? items.filter((i) => i.lead === true) : items;
    if (config.createTable || chosen.length > 0) {
      // Before the driver's first connection, which would wait for ever on a host that answers
      // but not as PostgreSQL (an HTTP server, a proxy's 400).
      state.checked ??= checkPostgresHandshake(state.server.host, state.server.port).catch((e) => {
        state.checked = undefined;
        throw explain(e, state, "connect");
      });
      await state.checked;
    }
    if (config.createTable) {
      state.ready ??= prepareTable(state.sql, state.table).catch((e) => {
        state.ready = undefined;
        throw explain(e, state, "CREATE TABLE");
      });
      await state.ready;
    }
    for (const hint of state.watch.check(chosen, EMPTY_COLUMN_CONSEQUENCE)) log.warn(hint);
    const statements = upsertStatements(state.table, chosen, config.batchSize, run.startedAt);
    for (const { text, params } of statements) {
      try {
        await state.sql.unsafe(text, params as postgres.ParameterOrJSON<never>[]);
      } catch (e) {
        throw explain(e, state, "upsert");
      }
    }
    metrics.count("rows_upserted", chosen.length);
    // For the run's report at finish (a retried chunk overwrites its counts).
    await writeChunkTally(
      { dataDir, run },
      chunk,
      { items: items.length, rows: chosen.length },
      part,
    );
    return items;
  },
  async finish({ config, state, dataDir, run, log }) {
    // One line for the run's summary: a run that wrote nothing must not look like one that did.
    const { chunks, counts } = await readRunTally({ dataDir, run });
    const t = state.table;
    // Rows are upserted by key: a key written by two chunks is one row of the table.
    log.info(deliveryLine({
      plugin: "postgres-export",
      verb: "upserted",
      target: `into ${t.schema ? `${t.schema}.` : ""}${t.table} on ${state.where}`,
      chunks,
      items: counts.items ?? 0,
      delivered: counts.rows ?? 0,
      leadsOnly: config.leadsOnly ?? true,
      detail: " (by key)",
    }));
  },
});
