/**
 * `sluice serve` and `sluice worker`: long-running processes over the configured store.
 * `serve` runs the engine's workers, the scheduler, webhook intake and the HTTP API
 * (`core/http/server.ts`); `worker` runs the engine only.
 * @module
 */
import type { CliContext } from "./context.ts";
import { startEngine, storeLabel } from "./context.ts";
import type { CliIO } from "./run_command.ts";
import { startServer } from "../http/server.ts";
import { serveMetrics } from "../telemetry/metrics_server.ts";

/** Waits for SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: Deno.Signal) => () => resolve(sig);
    Deno.addSignalListener("SIGINT", on("SIGINT"));
    Deno.addSignalListener("SIGTERM", on("SIGTERM"));
  });
}

/**
 * `sluice serve [--no-workers]`. With `--no-workers` this process records and queues runs
 * (API, webhooks, schedules) but executes none: `sluice worker` processes on the same store do.
 * Meant for the PostgreSQL store. With the embedded KV file a `sluice worker` on the same data
 * folder executes the runs queued here (Deno KV delivers a queue message to any process
 * listening on the file; this process claims no runs), and a warning says to prefer PostgreSQL.
 */
export async function serveCommand(args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  const bad = args.find((a) => a !== "--no-workers");
  if (bad !== undefined) {
    io.err(`sluice serve: unknown argument "${bad}"\nusage: sluice serve [--no-workers]\n`);
    return 2;
  }
  const engine = !args.includes("--no-workers");
  if (!engine && !ctx.config.store.url) {
    ctx.log.warn(
      "serve --no-workers with the embedded KV store: a sluice worker on this data folder " +
        "(same machine) executes the runs queued here. Set store.url (PostgreSQL) to run " +
        "workers on other machines.",
    );
  }
  const server = await startServer(ctx, {
    engine,
    onListen: (url) =>
      io.err(
        `sluice serving on ${url} (store: ${storeLabel(ctx)}${
          engine ? "" : "; no workers: run `sluice worker` to execute runs"
        }); API docs: ${url}/api/v1/docs\n`,
      ),
  });
  if (server.adminToken) {
    io.err(
      `\nFirst start: created an admin API token. It is shown only this once; store it now:\n\n` +
        `  ${server.adminToken}\n\n` +
        `Use it as "Authorization: Bearer <token>". (Or set SLUICE_ADMIN_TOKEN to choose one.)\n\n`,
    );
  }
  const sig = await untilSignal();
  io.err(`${sig}: shutting down; unfinished work resumes on the next start\n`);
  await server.close();
  return 0;
}

/** `sluice worker`. */
export async function workerCommand(args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  const parsed = parseWorkerArgs(args);
  if (typeof parsed === "string") {
    io.err(`${parsed}\nusage: sluice worker [--concurrency N]\n`);
    return 2;
  }
  // A long-lived process: it takes up runs of gone processes (short CLI commands do not).
  const h = await startEngine(ctx, { ...parsed, adopt: true });
  const probe = serveMetrics({ // /healthz and /metrics of this worker
    hostname: ctx.config.server.host,
    port: ctx.config.server.port,
    metrics: h.telemetry.metrics,
    log: ctx.log,
  });
  io.err(
    `sluice worker ${Deno.pid} running (store: ${storeLabel(ctx)}, concurrency ${
      parsed.concurrency ?? ctx.config.engine.concurrency
    })` +
      (probe.url ? `; metrics on ${probe.url}/metrics` : "") + "\n",
  );
  const sig = await untilSignal();
  io.err(`${sig}: stopping\n`);
  await probe.close();
  await h.close();
  return 0;
}

/** Parses `sluice worker` flags; returns a message for bad ones. */
export function parseWorkerArgs(args: string[]): { concurrency?: number } | string {
  const out: { concurrency?: number } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--concurrency(?:=(.*))?$/.exec(a);
    if (!m) return `sluice worker: unknown argument "${a}"`;
    const v = m[1] ?? args[++i];
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 1024) {
      return `sluice worker: --concurrency needs a whole number from 1 to 1024, got "${v ?? ""}"`;
    }
    out.concurrency = n;
  }
  return out;
}
