/**
 * `sluice serve` and `sluice worker`: long-running processes over the configured store.
 * `serve` runs the engine's workers, the scheduler, webhook intake and the HTTP API
 * (`core/http/server.ts`); `worker` runs the engine only.
 * @module
 */
import type { CliContext } from "./context.ts";
import { startEngine } from "./context.ts";
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

/** `sluice serve`. */
export async function serveCommand(_args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  const server = await startServer(ctx, {
    onListen: (url) =>
      io.err(
        `sluice serving on ${url} (store: ${ctx.config.store.path}); API docs: ${url}/api/v1/docs\n`,
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
export async function workerCommand(_args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  const h = await startEngine(ctx);
  const probe = serveMetrics({ // /healthz and /metrics of this worker
    hostname: ctx.config.server.host,
    port: ctx.config.server.port,
    metrics: h.telemetry.metrics,
    log: ctx.log,
  });
  io.err(
    `sluice worker running (store: ${ctx.config.store.path})` +
      (probe.url ? `; metrics on ${probe.url}/metrics` : "") + "\n",
  );
  const sig = await untilSignal();
  io.err(`${sig}: stopping\n`);
  await probe.close();
  await h.close();
  return 0;
}
