/**
 * `sluice migrate`: applies the PostgreSQL backend's pending schema migrations (the same ones
 * every process applies on start, under the same advisory lock) and exits.
 * @module
 */
import type { CliContext } from "./context.ts";
import type { CliIO } from "./run_command.ts";
import { connectPg, explainConnect, maskUrl } from "../store/pg/connect.ts";
import { migrate } from "../store/pg/migrate.ts";

/** `sluice migrate`. */
export async function migrateCommand(args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  if (args.length) {
    io.err(`sluice migrate: the command takes no arguments (got "${args.join(" ")}")\n`);
    return 2;
  }
  const url = ctx.config.store.url;
  if (!url) {
    io.err(
      "sluice migrate: store.url is not set. Set SLUICE_DATABASE_URL (or store.url in " +
        "sluice.yaml) to the PostgreSQL database; the embedded KV store needs no migrations.\n",
    );
    return 2;
  }
  const sql = connectPg(url, { max: 1 });
  try {
    const r = await explainConnect(url, () => migrate(sql));
    io.out(
      r.applied.length
        ? `applied migration(s) ${r.applied.join(", ")}; ${
          maskUrl(url)
        } is at version ${r.version}\n`
        : `nothing to do: ${maskUrl(url)} is at version ${r.version}\n`,
    );
    return 0;
  } finally {
    await sql.end({ timeout: 5 });
  }
}
