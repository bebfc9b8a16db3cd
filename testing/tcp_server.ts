/**
 * A plain TCP server on loopback for client tests that need to write raw bytes (broken HTTP,
 * kept-alive connections, hang-ups): `handle` gets each connection with its number (from 1);
 * the connection is closed when `handle` ends or throws, and `close()` closes every one still open.
 * @module
 */

/** A running {@linkcode serveTcp} server. */
export interface TcpServer {
  /** The port on 127.0.0.1. */
  port: number;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/** Serves `handle` on a free loopback port. */
export function serveTcp(handle: (conn: Deno.Conn, id: number) => Promise<void>): TcpServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const closeConn = (c: Deno.Conn) => {
    try {
      c.close();
    } catch { /* closed already */ }
  };
  let connections = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      handle(conn, ++connections).catch(() => {}).finally(() => {
        open.delete(conn);
        closeConn(conn);
      });
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of open) closeConn(c);
      await serving.catch(() => {});
    },
  };
}
