/**
 * An OTLP/HTTP trace sink in the bench process: accepts every export and counts the spans in it.
 * Its CPU is the bench's, not the measured processes' (a collector is not part of Sluice).
 * @module
 */

/** A running sink. */
export interface SpanSink {
  /** The base URL to export to (`telemetry.otlpEndpoint`). */
  url: string;
  /** Spans received so far. */
  readonly spans: number;
  /** Stops the sink. */
  close(): Promise<void>;
}

/** Starts a sink on a free loopback port. */
export function startSpanSink(): SpanSink {
  let spans = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    spans += (await req.text()).split('"spanId"').length - 1;
    return Response.json({});
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get spans() {
      return spans;
    },
    close: () => server.shutdown(),
  };
}
