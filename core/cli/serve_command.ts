/**
 * `sluice serve` and `sluice worker`: long-running processes over the configured store.
 * `serve` runs the engine's workers plus a small HTTP server (health for now; the API, webhooks
 * and UI mount here). `worker` runs the engine only.
 * @module
 */
import { Hono } from "hono";
import type { CliContext } from "./context.ts";
import { startEngine } from "./context.ts";
import type { CliIO } from "./run_command.ts";

/** Waits for SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: Deno.Signal) => () => resolve(sig);
    Deno.addSignalListener("SIGINT", on("SIGINT"));
    Deno.addSignalListener("SIGTERM", on("SIGTERM"));
  });
}

/** Builds the HTTP app of `serve` (health and readiness). */
export function healthApp(ready: () => Promise<boolean>): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get(
    "/readyz",
    async (c) =>
      (await ready()) ? c.json({ status: "ready" }) : c.json({ status: "starting" }, 503),
  );
  return app;
}

/** `sluice serve`. */
export async function serveCommand(_args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  const h = await startEngine(ctx);
  const app = healthApp(async () => (await h.backend.store.listRuns({ limit: 1 })) !== undefined);
  const server = Deno.serve({
    hostname: ctx.config.server.host,
    port: ctx.config.server.port,
    onListen: ({ hostname, port }) =>
      io.err(`sluice serving on http://${hostname}:${port} (store: ${ctx.config.store.path})\n`),
  }, app.fetch);
  const sig = await untilSignal();
  io.err(`${sig}: shutting down; unfinished work resumes on the next start\n`);
  await server.shutdown();
  await h.close();
  return 0;
}

/** `sluice worker`. */
export async function workerCommand(_args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  const h = await startEngine(ctx);
  io.err(`sluice worker running (store: ${ctx.config.store.path})\n`);
  const sig = await untilSignal();
  io.err(`${sig}: stopping\n`);
  await h.close();
  return 0;
}
