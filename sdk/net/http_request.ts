/**
 * One HTTP(S) request to a chosen IP address while keeping the Host header and TLS SNI of the
 * URL (`node:http(s)` with a custom `lookup` and `servername`), with a connect timeout, a request
 * deadline, a body size cap and streaming body digestion. Redirect responses are not read.
 * Failures are thrown as {@linkcode HttpProbeError} with a classified kind.
 * @module
 */
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import tlsMod, { type TLSSocket } from "node:tls";
import type { Buffer } from "node:buffer";
import { ipFamily } from "./address.ts";
import type { BodyDigestOptions, BodySummary } from "./body_digest.ts";
import { BodySink } from "./body_sink.ts";
import { classifyCertificate, classifyError, HttpProbeError } from "./http_errors.ts";
import { openTunnel } from "./proxy_tunnel.ts";
import { requestNative } from "./http_native.ts";
import { whenAborted } from "../io/when_aborted.ts";

/** Default User-Agent of probes. */
export const DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; SluiceProbe/1.0; +https://sluice.dev)";

/** Options of {@linkcode requestOnce}. */
export interface RequestOnceOptions {
  /** The URL asked for (its host goes into Host and SNI; its path is requested). */
  url: URL;
  /** Address to connect to. */
  ip: string;
  /** Port to connect to. */
  port: number;
  /** Extra CA certificates (PEM) trusted besides the system's. */
  caPem?: string;
  /** Time allowed to establish the TCP connection (ms). */
  connectTimeoutMs: number;
  /** Deadline for the whole request: headers and body (ms). */
  requestTimeoutMs: number;
  /** Decoded body bytes read at most; reading stops there (`truncated`). */
  maxBodyBytes: number;
  /** Limits of the body digest. */
  digest?: BodyDigestOptions;
  /** Request method (default GET). */
  method?: string;
  /** User-Agent header. */
  userAgent?: string;
  /** Accept-Language header (none by default). */
  acceptLanguage?: string;
  /** Clock for certificate validity checks (default `Date.now`). */
  now?: () => number;
  /** HTTP proxy URL: when set, the request goes through a CONNECT tunnel to `ip:port`. */
  proxy?: string;
  /**
   * Opens the TCP connection of a request without proxy (default `Deno.connect`); tests watch the
   * socket through it.
   */
  connectTcp?: (o: Deno.ConnectOptions & { signal?: AbortSignal }) => Promise<Deno.TcpConn>;
  signal?: AbortSignal;
}

/** A response (the body digested, unless it is a redirect). */
export interface RawResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with `, `; set-cookie left out. */
  headers: Record<string, string>;
  /** Absent for redirects (3xx with Location): their body is not read. */
  body?: BodySummary;
  /** True when reading stopped at `maxBodyBytes` or at the deadline. */
  truncated: boolean;
}

/** True for a status whose Location the client follows. */
export function isRedirectStatus(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function flatHeaders(raw: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || k === "set-cookie") continue;
    out[k] = (Array.isArray(v) ? v.join(", ") : v).slice(0, 2048);
  }
  return out;
}

/**
 * Sends one request and digests the answer (through a CONNECT tunnel when `proxy` is set).
 * Rejects with {@linkcode HttpProbeError}. Without a proxy the request goes over Deno's own
 * sockets (`http_native.ts`, a fraction of the CPU of `node:https`); through a proxy it goes
 * over `node:http(s)`.
 */
export async function requestOnce(opts: RequestOnceOptions): Promise<RawResponse> {
  if (!opts.proxy) return await requestNative(opts);
  const tunnel = await openTunnel({
    proxy: opts.proxy,
    ip: opts.ip,
    port: opts.port,
    timeoutMs: opts.connectTimeoutMs,
    signal: opts.signal,
  });
  try {
    return await requestOver(opts, tunnel);
  } finally {
    tunnel.destroy();
  }
}

/** An agent whose only connection is the given tunnel (TLS with SNI inside it for https). */
function tunnelAgent(tunnel: Socket, tls: boolean, servername: string | undefined, ca?: string) {
  const Base = tls ? https.Agent : http.Agent;
  const connect = () =>
    tls ? tlsMod.connect({ socket: tunnel, servername, ca, rejectUnauthorized: false }) : tunnel;
  return new (class extends Base {
    override createConnection() {
      return connect();
    }
  })();
}

function requestOver(opts: RequestOnceOptions, tunnel?: Socket): Promise<RawResponse> {
  const tls = opts.url.protocol === "https:";
  const mod = tls ? https : http;
  const family = ipFamily(opts.ip) === 6 ? 6 : 4;
  const host = opts.url.hostname;
  const now = opts.now ?? Date.now;
  const lookup = (
    _h: string,
    o: { all?: boolean },
    cb: (err: Error | null, address: unknown, family?: number) => void,
  ) => o?.all ? cb(null, [{ address: opts.ip, family }]) : cb(null, opts.ip, family);

  if (opts.signal?.aborted) {
    return Promise.reject(new HttpProbeError("timeout", "cancelled by the host"));
  }
  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    let sink: BodySink | undefined;
    let response: { status: number; headers: Record<string, string> } | undefined;
    const timers: ReturnType<typeof setTimeout>[] = [];
    const cleanup = () => {
      for (const t of timers) clearTimeout(t);
      offAbort();
    };
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      cleanup();
      req.destroy();
      const kind = classifyError(err);
      reject(
        err instanceof HttpProbeError ? err : new HttpProbeError(
          kind,
          `${(err as { code?: string }).code ? (err as { code?: string }).code + ": " : ""}${
            (err as Error)?.message ?? String(err)
          }`,
          { cause: err },
        ),
      );
    };
    const succeed = (truncated: boolean) => {
      if (settled || !response) return;
      settled = true;
      cleanup();
      const answer = response;
      req.destroy();
      (sink ? sink.end() : Promise.resolve(undefined)).then((r) =>
        resolve({ ...answer, body: r?.body, truncated: truncated || (r?.cut ?? false) })
      );
    };
    const onAbort = () => fail(new HttpProbeError("timeout", "cancelled by the host"));
    const offAbort = whenAborted(opts.signal, onAbort);

    const req = mod.request({
      host,
      port: opts.port,
      path: opts.url.pathname + opts.url.search,
      method: opts.method ?? "GET",
      servername: tls && ipFamily(host) === 0 ? host : undefined,
      ca: tls && opts.caPem ? opts.caPem : undefined,
      rejectUnauthorized: false, // checked below, to name the exact certificate problem
      agent: tunnel
        ? tunnelAgent(tunnel, tls, ipFamily(host) === 0 ? host : undefined, opts.caPem)
        : false,
      lookup,
      headers: {
        host: opts.url.host,
        "user-agent": opts.userAgent ?? DEFAULT_USER_AGENT,
        accept: "text/html,application/xhtml+xml,*/*;q=0.8",
        ...(opts.acceptLanguage ? { "accept-language": opts.acceptLanguage } : {}),
        "accept-encoding": "identity",
        connection: "close",
      },
    } as https.RequestOptions, (res) => {
      const sock = res.socket as TLSSocket;
      if (tls && sock && sock.authorized === false) {
        fail(certError(sock));
        return;
      }
      response = { status: res.statusCode ?? 0, headers: flatHeaders(res.headers) };
      if (isRedirectStatus(response.status) && response.headers.location) {
        succeed(false);
        return;
      }
      // The cap applies to the decoded body (a server may compress though asked for identity).
      sink = new BodySink(
        response.headers["content-type"] ?? "",
        response.headers["content-encoding"],
        opts.maxBodyBytes,
        opts.digest,
      );
      res.on("data", (chunk: Buffer) => {
        if (settled) return;
        // One chunk at a time: decoding may take a moment.
        res.pause();
        sink!.write(chunk).then((full) => full ? succeed(true) : res.resume());
      });
      res.on("end", () => succeed(false));
      res.on("error", (err) => fail(err));
      res.on("close", () => {
        // Closed before "end": the server hung up mid-body.
        if (!settled && !res.complete) fail(new HttpProbeError("reset", "body cut off"));
      });
    });

    const certError = (sock: TLSSocket) => {
      const kind = classifyCertificate(sock.authorizationError, sock.getPeerCertificate?.(), now());
      const cert = sock.getPeerCertificate?.() as
        | { subject?: { CN?: string }; issuer?: { CN?: string }; valid_to?: string }
        | undefined;
      return new HttpProbeError(
        kind,
        `certificate for ${host} rejected (${sock.authorizationError}): subject ${
          cert?.subject?.CN ?? "?"
        }, issuer ${cert?.issuer?.CN ?? "?"}, valid to ${cert?.valid_to ?? "?"}`,
      );
    };

    req.on("socket", (s: Socket) => {
      if (tunnel) {
        if (tls) s.once("secureConnect", () => checkCert(s as TLSSocket));
        return; // already connected through the proxy
      }
      const connectTimer = setTimeout(() => {
        fail(
          new HttpProbeError(
            "connect_timeout",
            `no connection to ${opts.ip}:${opts.port} in ${opts.connectTimeoutMs} ms`,
          ),
        );
      }, opts.connectTimeoutMs);
      timers.push(connectTimer);
      s.once("connect", () => clearTimeout(connectTimer));
      if (tls) s.once("secureConnect", () => checkCert(s as TLSSocket));
    });
    const checkCert = (t: TLSSocket) => {
      if (t.authorized === false) fail(certError(t));
    };
    req.on("error", fail);
    timers.push(setTimeout(() => {
      if (response) succeed(true); // headers came, body too slow or endless: keep what we have
      else {
        fail(
          new HttpProbeError(
            "timeout",
            `no response from ${opts.ip}:${opts.port} in ${opts.requestTimeoutMs} ms`,
          ),
        );
      }
    }, opts.requestTimeoutMs));
    req.end();
  });
}
