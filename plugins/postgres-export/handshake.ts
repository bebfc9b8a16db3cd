/**
 * A bounded check that the connection's host and port answer as PostgreSQL, before the driver
 * connects. The `postgres` driver waits for a handshake reply without a limit once the TCP
 * connection stands, and reconnects for ever when the other side closes it: a host that answers
 * with something else (an HTTP server on that port, an egress proxy's `HTTP/1.1 400`) held the
 * call until the sandbox killed it. Here we send PostgreSQL's `SSLRequest`, which every server
 * answers with one byte (`S` or `N`; `E` from a server that refuses it), and judge the first bytes.
 * @module
 */

/** How long the check waits for the first bytes of an answer (the driver's connect timeout). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** The host did not answer as PostgreSQL: the message says what came back instead. */
export class HandshakeError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "HandshakeError";
  }
}

/** `SSLRequest`: length 8, code 80877103. */
const SSL_REQUEST = new Uint8Array([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** What the first bytes of an answer say: printable text as it is, else hex. */
export function excerpt(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 40);
  const text = new TextDecoder("utf-8", { fatal: false }).decode(head);
  const firstLine = text.split(/\r?\n/)[0];
  if (/^[\x20-\x7e]+$/.test(firstLine)) {
    return `"${firstLine.slice(0, 40)}${
      firstLine.length > 40 || text.length > firstLine.length ? "…" : ""
    }"`;
  }
  return `bytes ${
    Array.from(head.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join(" ")
  }${bytes.length > 12 ? " …" : ""}`;
}

/**
 * Checks that `host:port` answers a PostgreSQL handshake within `timeoutMs`. Resolves when it
 * does, and also when the connection itself fails (refused, no such host: the driver's errors say
 * those well); throws a {@linkcode HandshakeError} saying what came back otherwise: other bytes, a
 * hang-up without a word, or nothing within `timeoutMs` (`CONNECT_TIMEOUT`).
 */
export async function checkPostgresHandshake(
  host: string,
  port: number,
  timeoutMs: number = HANDSHAKE_TIMEOUT_MS,
): Promise<void> {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const silent = () =>
    new HandshakeError(
      `CONNECT_TIMEOUT ${where} (no answer within ${
        Math.round(timeoutMs / 1000)
      } s: check the host, the port and any firewall)`,
    );
  let conn: Deno.TcpConn;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    const connecting = Deno.connect({ hostname: host, port });
    const c = await Promise.race([connecting, timedOut]).catch(() => undefined);
    if (c === undefined) return; // refused, unresolvable...: the driver names it
    if (c === "timeout") {
      connecting.then((late) => late.close(), () => {});
      throw silent();
    }
    conn = c;
  } catch (e) {
    clearTimeout(timer);
    if (e instanceof HandshakeError) throw e;
    return;
  }
  try {
    await conn.write(SSL_REQUEST);
    const buf = new Uint8Array(512);
    const n = await Promise.race([conn.read(buf), timedOut]);
    if (n === "timeout") throw silent();
    if (n === null) {
      throw new HandshakeError(
        `${where} closed the connection without answering the PostgreSQL handshake, which a ` +
          "PostgreSQL server does not do: check the host and port of the connection secret",
      );
    }
    const first = buf[0];
    if (n === 1 && (first === 0x53 || first === 0x4e)) return; // S, N
    if (first === 0x45 && n >= 5) return; // E: an ErrorResponse, from PostgreSQL
    throw new HandshakeError(
      `${where} answered, but not as PostgreSQL (it sent ${
        excerpt(buf.subarray(0, n))
      }): check the host and port of the connection secret`,
    );
  } catch (e) {
    if (e instanceof HandshakeError) throw e;
    return; // the connection broke: the driver says how
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed already */ }
  }
}
