/**
 * A UDP socket with a message callback, over Deno's own datagram sockets when the runtime offers
 * them (`Deno.listenDatagram`, enabled by `"unstable": ["net"]` in the project's deno.json, which
 * plugin processes run with), else over `node:dgram`. Measured on Deno 2.9 (RESULTS.md,
 * 2026-12-03): a query and its answer cost 10 µs of CPU over Deno's sockets against 31 µs over
 * `node:dgram`, whose layers (an event emitter, async hooks, a host lookup per send, a fresh
 * buffer per datagram) cost more than the system calls. The DNS client and the simulated
 * internet's DNS server use it.
 * @module
 */
import dgram from "node:dgram";
import { Buffer } from "node:buffer";

/** Where a datagram came from. */
export interface UdpPeer {
  address: string;
  port: number;
}

/** Which implementation a socket uses: Deno's datagram sockets or `node:dgram`. */
export type UdpImplementation = "deno" | "node";

/** Options of {@linkcode openUdpSocket}. */
export interface UdpSocketOptions {
  /** Address family of the socket. */
  family: 4 | 6;
  /** Local address to bind (default: any address of the family). */
  hostname?: string;
  /** Local port (default 0: a free one). */
  port?: number;
  /**
   * For `node:dgram`: the largest datagram read whole (a longer one is cut to this size, and the
   * receiver sees a garbled message); each datagram is read into a new buffer of this size (twice
   * it on Linux). Deno's sockets read any datagram whole into one 64 KiB buffer per socket and
   * copy out what came.
   */
  receiveBytes: number;
  /** Called with each datagram (a copy the callee may keep) and its sender. */
  onMessage(message: Buffer, from: UdpPeer): void;
  /** Default: `"deno"` when `Deno.listenDatagram` exists, else `"node"`. */
  implementation?: UdpImplementation;
}

/** A bound UDP socket; see the module doc. */
export interface UdpSocket {
  /** The implementation in use. */
  readonly implementation: UdpImplementation;
  /** Settles once the socket is bound; rejects when binding failed (address in use, no permission). */
  readonly bound: Promise<void>;
  /** The local port (0 until bound). */
  readonly port: number;
  /** Sends one datagram; rejects when the system refuses it (e.g. no route). */
  send(data: Uint8Array, host: string, port: number): Promise<void>;
  /** Closes the socket; further sends reject, no more messages come. */
  close(): void;
}

/** Datagram sockets as `Deno.listenDatagram` returns them (typed here: the API is unstable). */
interface DenoDatagramConn {
  readonly addr: { hostname: string; port: number };
  receive(p?: Uint8Array): Promise<[Uint8Array, { hostname: string; port: number }]>;
  send(p: Uint8Array, addr: { transport: "udp"; hostname: string; port: number }): Promise<number>;
  close(): void;
}

type ListenDatagram = (options: {
  transport: "udp";
  hostname?: string;
  port: number;
}) => DenoDatagramConn;

/** `Deno.listenDatagram` when this runtime has it (run with `--unstable-net`). */
function denoListenDatagram(): ListenDatagram | undefined {
  const f = (Deno as unknown as { listenDatagram?: ListenDatagram }).listenDatagram;
  return typeof f === "function" ? f : undefined;
}

/** The implementation {@linkcode openUdpSocket} picks when not told. */
export function defaultUdpImplementation(): UdpImplementation {
  return denoListenDatagram() ? "deno" : "node";
}

/** The largest UDP payload (over IPv4; IPv6 jumbograms aside). */
const MAX_DATAGRAM = 65535;

/** Receive errors in a row after which a Deno socket's read loop gives up (a socket gone bad). */
const MAX_RECEIVE_ERRORS = 100;

/**
 * Opens a UDP socket and binds it (at once over Deno's sockets; `bound` settles when done). Sends
 * made before the socket is bound wait for it. Throws when the Deno implementation is asked for
 * and the runtime lacks it, or when Deno's bind fails.
 */
export function openUdpSocket(options: UdpSocketOptions): UdpSocket {
  const implementation = options.implementation ?? defaultUdpImplementation();
  const hostname = options.hostname ?? (options.family === 6 ? "::" : "0.0.0.0");
  if (implementation === "deno") {
    const listen = denoListenDatagram();
    if (!listen) {
      throw new Error(
        "UDP: Deno.listenDatagram is not available: run with --unstable-net (deno.json: unstable net)",
      );
    }
    return denoSocket(listen, hostname, options);
  }
  return nodeSocket(hostname, options);
}

function denoSocket(
  listen: ListenDatagram,
  hostname: string,
  options: UdpSocketOptions,
): UdpSocket {
  const conn = listen({ transport: "udp", hostname, port: options.port ?? 0 });
  const buffer = new Uint8Array(MAX_DATAGRAM);
  let closed = false;
  (async () => {
    let errors = 0;
    while (!closed) {
      let got: [Uint8Array, { hostname: string; port: number }];
      try {
        got = await conn.receive(buffer);
      } catch {
        // Closed (the loop ends), or a transient error such as an ICMP error reported on the
        // socket: keep reading unless the socket keeps failing.
        if (closed || ++errors >= MAX_RECEIVE_ERRORS) return;
        continue;
      }
      errors = 0;
      const [data, from] = got;
      try {
        options.onMessage(Buffer.from(data), { address: from.hostname, port: from.port });
      } catch { /* a handler's own failure must not stop the socket */ }
    }
  })();
  return {
    implementation: "deno",
    bound: Promise.resolve(),
    port: conn.addr.port,
    async send(data, host, port) {
      await conn.send(data, { transport: "udp", hostname: host, port });
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

function nodeSocket(hostname: string, options: UdpSocketOptions): UdpSocket {
  // recvBufferSize: Deno's node:dgram reads each datagram into a new buffer of this size (64 KiB
  // when not told), and zeroing and collecting that per datagram costs more than the rest.
  const socket = dgram.createSocket({
    type: options.family === 6 ? "udp6" : "udp4",
    recvBufferSize: options.receiveBytes,
  });
  socket.on("message", (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    try {
      options.onMessage(msg, { address: rinfo.address, port: rinfo.port });
    } catch { /* as above */ }
  });
  let port = 0;
  const bound = new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.port ?? 0, hostname, () => {
      socket.off("error", reject);
      port = socket.address().port;
      resolve();
    });
  });
  bound.catch(() => {}); // the caller may not wait for it; a send after a failed bind fails
  socket.on("error", () => {}); // per-send errors come through the send callback
  let closed = false;
  return {
    implementation: "node",
    bound,
    get port() {
      return port;
    },
    send(data, host, port) {
      return new Promise((resolve, reject) =>
        socket.send(data, port, host, (err) => err ? reject(err) : resolve())
      );
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
