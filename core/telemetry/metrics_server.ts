/**
 * The small HTTP listener of `sluice worker`: `GET /healthz` for liveness probes and
 * `GET /metrics` for Prometheus, on `server.host`/`server.port`. A worker on a machine where the
 * port is taken (e.g. beside `sluice serve`) runs on without it and says so.
 * @module
 */
import type { Logger } from "./log.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
import type { SluiceMetrics } from "./sluice_metrics.ts";

/** Options of {@linkcode serveMetrics}. */
export interface MetricsServerOptions {
  hostname: string;
  port: number;
  metrics: SluiceMetrics;
  log?: Logger;
}

/** A running listener. */
export interface MetricsServer {
  /** `http://host:port`, or undefined when the port was taken. */
  url?: string;
  close(): Promise<void>;
}

/** The request handler (exported for tests). */
export async function metricsRequest(req: Request, metrics: SluiceMetrics): Promise<Response> {
  const path = new URL(req.url).pathname;
  if (req.method !== "GET") return new Response("only GET\n", { status: 405 });
  if (path === "/healthz") return Response.json({ status: "ok" });
  if (path === "/metrics") {
    return new Response(await metrics.registry.render(), {
      headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
    });
  }
  return new Response("not found: this worker serves only /healthz and /metrics\n", {
    status: 404,
  });
}

/** Starts the listener; a taken port is logged, not fatal. */
export function serveMetrics(opts: MetricsServerOptions): MetricsServer {
  try {
    let url: string | undefined;
    const server = Deno.serve({
      hostname: opts.hostname,
      port: opts.port,
      onListen: ({ hostname, port }) => {
        url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
      },
    }, (req) => metricsRequest(req, opts.metrics));
    return { url, close: () => server.shutdown() };
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    opts.log?.warn(
      `port ${opts.port} is taken; this worker serves no /metrics or /healthz (set ` +
        `SLUICE_SERVER_PORT to a free port to get them)`,
    );
    return { close: () => Promise.resolve() };
  }
}
