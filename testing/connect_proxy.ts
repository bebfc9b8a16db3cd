/**
 * A minimal HTTP CONNECT proxy on loopback for tests of `network.proxy`: tunnels to any
 * `host:port` it is asked for (or answers 403 for targets `deny` returns true for) and counts
 * the tunnels it opened.
 * @module
 */
import net from "node:net";

/** A running CONNECT proxy. */
export interface ConnectProxy {
  /** `http://127.0.0.1:PORT`, the value for `network.proxy`. */
  readonly url: string;
  /** `host:port` targets tunnelled so far, in order. */
  readonly tunnels: string[];
  /** Stops listening and drops open tunnels. */
  close(): Promise<void>;
}

/** Starts the proxy on 127.0.0.1 (a free port). */
export async function startConnectProxy(
  options: { deny?: (target: string) => boolean } = {},
): Promise<ConnectProxy> {
  const sockets = new Set<net.Socket>();
  const tunnels: string[] = [];
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    let head = "";
    const onData = (chunk: Uint8Array) => {
      head += new TextDecoder().decode(chunk);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      client.off("data", onData);
      const m = /^CONNECT (\[[^\]]+\]|[^\s:]+):(\d+) HTTP\/1\.[01]\r\n/.exec(head);
      if (!m) {
        client.end("HTTP/1.1 405 Method Not Allowed\r\n\r\n");
        return;
      }
      const target = `${m[1]}:${m[2]}`;
      if (options.deny?.(target)) {
        client.end("HTTP/1.1 403 Forbidden\r\n\r\n");
        return;
      }
      tunnels.push(target);
      const upstream = net.connect({ host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) });
      track(upstream);
      upstream.once("connect", () => {
        client.write("HTTP/1.1 200 Connection established\r\n\r\n");
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.once("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
