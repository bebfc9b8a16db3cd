/**
 * HTTP CONNECT tunnels through `network.proxy`: the prober still chooses the address (our DNS,
 * our private-address check) and asks the proxy for a tunnel to exactly that `ip:port`; TLS with
 * the real SNI then runs inside the tunnel.
 * @module
 */
import net from "node:net";
import { Buffer } from "node:buffer";
import { HttpProbeError } from "./http_errors.ts";
import { whenAborted } from "../io/when_aborted.ts";

/** Options of {@linkcode openTunnel}. */
export interface TunnelOptions {
  /** Proxy URL, `http://[user:pass@]host:port`. */
  proxy: string;
  /** Address to tunnel to. */
  ip: string;
  port: number;
  /** Time allowed for connecting to the proxy and getting its answer (ms). */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Opens a tunnel; rejects with an {@linkcode HttpProbeError} of kind `proxy` (ours). */
export function openTunnel(opts: TunnelOptions): Promise<net.Socket> {
  let proxy: URL;
  try {
    proxy = new URL(opts.proxy);
    if (proxy.protocol !== "http:") throw new Error("only http:// proxies are supported");
  } catch (err) {
    return Promise.reject(
      new HttpProbeError("proxy", `network.proxy "${opts.proxy}": ${(err as Error).message}`),
    );
  }
  const target = opts.ip.includes(":") ? `[${opts.ip}]:${opts.port}` : `${opts.ip}:${opts.port}`;
  const auth = proxy.username
    ? `Proxy-Authorization: Basic ${
      Buffer.from(
        `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`,
      ).toString("base64")
    }\r\n`
    : "";
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: proxy.hostname.replace(/^\[|\]$/g, ""),
      port: Number(proxy.port || 80),
      noDelay: true, // the request inside must not wait for ACKs (see http_native.ts)
    });
    let head = Buffer.alloc(0);
    const fail = (message: string) => {
      cleanup();
      socket.destroy();
      reject(new HttpProbeError("proxy", `proxy ${proxy.host}, tunnel to ${target}: ${message}`));
    };
    let offAbort = () => {};
    const onAbort = () => fail("cancelled");
    const timer = setTimeout(() => fail(`no answer in ${opts.timeoutMs} ms`), opts.timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      offAbort();
      socket.off("data", onData);
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > 8192) fail("answer header too long");
        return;
      }
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString("latin1"));
      if (!status || status[1] !== "200") {
        fail(
          `refused: ${head.subarray(0, Math.min(end, 200)).toString("latin1").split("\r\n")[0]}`,
        );
        return;
      }
      cleanup();
      const rest = head.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      resolve(socket);
    };
    offAbort = whenAborted(opts.signal, onAbort);
    socket.on("data", onData);
    socket.once("connect", () => {
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
    });
    socket.once("error", (err: Error & { code?: string }) => fail(err.code ?? err.message));
  });
}
