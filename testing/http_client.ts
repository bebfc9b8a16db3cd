/**
 * A minimal HTTP(S) client for tests of the simulated internet: connects to a chosen IP while
 * sending the right Host header and TLS SNI (a custom `lookup`, as network plugins do), trusts
 * only the given CA, and follows no redirects.
 * @module
 */
import http from "node:http";
import https from "node:https";
import { Buffer } from "node:buffer";

/** Options of {@link requestVia}. */
export interface RequestViaOptions {
  scheme: "http" | "https";
  /** Host name for Host header and SNI. */
  host: string;
  /** IP to connect to. */
  ip: string;
  port: number;
  path?: string;
  method?: string;
  /** PEM CA to trust (HTTPS). */
  ca?: string;
  /** Give up after this many ms (default 3000): rejects with an Error named "TimeoutError". */
  timeoutMs?: number;
  /** Stop reading the body after this many bytes (default 1 MiB); `truncated` tells. */
  maxBytes?: number;
}

/** What came back. */
export interface ViaResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Uint8Array;
  /** Body decoded as UTF-8. */
  text: string;
  /** True when the body was cut at `maxBytes`. */
  truncated: boolean;
}

/** One request to `ip:port` for `host`. Rejects with the socket/TLS error, or "TimeoutError". */
export function requestVia(options: RequestViaOptions): Promise<ViaResponse> {
  const mod = options.scheme === "https" ? https : http;
  const maxBytes = options.maxBytes ?? 1 << 20;
  const timeoutMs = options.timeoutMs ?? 3000;
  const lookup = (
    _host: string,
    opts: { all?: boolean },
    cb: (err: Error | null, address: unknown, family?: number) => void,
  ) => opts?.all ? cb(null, [{ address: options.ip, family: 4 }]) : cb(null, options.ip, 4);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const req = mod.request({
      host: options.host,
      port: options.port,
      path: options.path ?? "/",
      method: options.method ?? "GET",
      servername: options.host,
      ca: options.ca,
      agent: false,
      lookup,
      headers: { host: options.host, "user-agent": "sluice-testing" },
    } as https.RequestOptions, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const body = new Uint8Array(Buffer.concat(chunks));
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          text: new TextDecoder().decode(body),
          truncated,
        });
      };
      res.on("data", (chunk: Buffer) => {
        if (size >= maxBytes) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size >= maxBytes) {
          truncated = true;
          finish();
          res.destroy();
          req.destroy();
        }
      });
      res.on("end", finish);
      res.on("error", fail);
    });
    const timer = setTimeout(() => {
      const err = new Error(`no answer from ${options.ip}:${options.port} in ${timeoutMs} ms`);
      err.name = "TimeoutError";
      fail(err);
    }, timeoutMs);
    req.on("error", fail);
    req.end();
  });
}

/**
 * Do only a TLS handshake with `Deno.startTls` (which names the exact certificate problem,
 * unlike `node:tls` in Deno 2.9, which reports expired and unknown-issuer certificates alike as
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE). Resolves "ok" or the error message.
 */
export async function tlsHandshake(
  options: { ip: string; port: number; host: string; ca?: string },
): Promise<string> {
  const conn = await Deno.connect({ hostname: options.ip, port: options.port });
  let tlsConn: Deno.TlsConn | undefined;
  try {
    tlsConn = await Deno.startTls(conn, {
      hostname: options.host,
      caCerts: options.ca ? [options.ca] : undefined,
    });
    await tlsConn.handshake();
    return "ok";
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    try {
      (tlsConn ?? conn).close();
    } catch {
      // already closed by the failed handshake
    }
  }
}
