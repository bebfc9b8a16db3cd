/**
 * One HTTP(S) request to a chosen IP address over Deno's own sockets: `Deno.connect` to the
 * address, `Deno.startTls` with the URL's host as SNI and verification name, then a plain
 * HTTP/1.1 GET written and parsed here (status line, headers, Content-Length, chunked or
 * close-delimited body). Same contract as the `node:https` path of `requestOnce`, at a fraction
 * of its CPU: measured on Deno 2.9 the node compatibility layers (streams, agents, the HTTP
 * parser, legacy certificate objects) cost more than the TLS handshake itself. The certificate
 * problem comes named by rustls (expired, wrong name, unknown issuer).
 * @module
 */
import { BodySink } from "./body_sink.ts";
import { headEnd, MAX_HEAD_BYTES, parseHead, Reader } from "./http1_read.ts";
import { HttpProbeError } from "./http_errors.ts";
import type { HttpErrorKind } from "./types.ts";
import type { RawResponse, RequestOnceOptions } from "./http_request.ts";
import { whenAborted } from "../io/when_aborted.ts";

/** Default User-Agent of probes (the same as `http_request.ts`). */
const USER_AGENT = "Mozilla/5.0 (compatible; SluiceProbe/1.0; +https://sluice.dev)";

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** True for a status whose Location the client follows. */
function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Maps a Deno socket or TLS error to a failure kind. */
export function nativeErrorKind(err: unknown): HttpErrorKind {
  const e = err as { name?: string; message?: string };
  const name = e?.name ?? "";
  const message = e?.message ?? String(err);
  if (/invalid peer certificate|certificate/i.test(message)) {
    if (/Expired|NotValidYet/i.test(message)) return "tls_expired";
    if (/NotValidForName|name/i.test(message)) return "tls_hostname";
    if (/UnknownIssuer|BadSignature|self.signed|issuer/i.test(message)) return "tls_unknown_ca";
    return "tls_handshake";
  }
  switch (name) {
    case "ConnectionRefused":
      return "refused";
    case "ConnectionReset":
    case "ConnectionAborted":
    case "BrokenPipe":
    case "UnexpectedEof":
      return "reset";
    case "TimedOut":
      return "connect_timeout";
    case "AddrNotAvailable":
      return "unreachable";
  }
  // rustls: the peer hung up without close_notify (an unclean end of the connection).
  if (/close_notify|unexpected eof/i.test(message)) return "reset";
  if (
    /alert|handshake|corrupt message|InvalidContentType|peer (is )?(incompatible|misbehaved)/i.test(
      message,
    )
  ) {
    return "tls_handshake";
  }
  if (/unreachable|no route/i.test(message)) return "unreachable";
  if (/refused/i.test(message)) return "refused";
  if (/reset|broken pipe|eof/i.test(message)) return "reset";
  return "other";
}

/**
 * Sends one request over Deno's sockets and digests the answer; see the module doc. Rejects
 * with {@linkcode HttpProbeError}. Does not support `proxy` (the caller takes the node path).
 */
/** A header value without line breaks (it is written into the request head as it is). */
function headerValue(v: string): string {
  return v.replace(/[\r\n]+/g, " ");
}

export async function requestNative(opts: RequestOnceOptions): Promise<RawResponse> {
  if (opts.signal?.aborted) throw new HttpProbeError("timeout", "cancelled by the host");
  const tls = opts.url.protocol === "https:";
  const host = opts.url.hostname.replace(/^\[|\]$/g, "");
  let conn: Deno.Conn | undefined;
  const close = () => {
    try {
      conn?.close();
    } catch { /* already closed */ }
  };
  /** Why the request was cut short from outside: our deadline, the caller, the connect timer. */
  let cut: "deadline" | "cancelled" | "connect" | undefined;
  const connecting = new AbortController();
  let rejectCut!: (e: unknown) => void;
  const cutShort = new Promise<never>((_, reject) => rejectCut = reject);
  const stop = (why: typeof cut) => {
    cut ??= why;
    connecting.abort();
    close();
    rejectCut(new Error("cut short"));
  };
  const onAbort = () => stop("cancelled");
  const offAbort = whenAborted(opts.signal, onAbort);
  const requestTimer = setTimeout(() => stop("deadline"), opts.requestTimeoutMs);
  const connectTimer = setTimeout(() => {
    if (!conn) stop("connect");
  }, opts.connectTimeoutMs);

  let handshaking = false;
  let response: { status: number; headers: Record<string, string> } | undefined;
  let sink: BodySink | undefined;
  /** The answer with what of the body came, `truncated` also when decoding cut it. */
  const finish = async (truncated: boolean): Promise<RawResponse> => {
    const r = await sink?.end();
    return { ...response!, body: r?.body, truncated: truncated || (r?.cut ?? false) };
  };
  const partial = () => finish(true);
  const work = async (): Promise<RawResponse> => {
    const tcp = await (opts.connectTcp ?? Deno.connect)({
      hostname: opts.ip,
      port: opts.port,
      signal: connecting.signal,
    });
    conn = tcp;
    clearTimeout(connectTimer);
    // Without it the request (a small write right after the TLS client's Finished) waits for the
    // server's delayed ACK of the Finished under Nagle's algorithm: ~40 ms per HTTPS request on
    // Linux servers, up to 200 ms elsewhere (measured on loopback: RESULTS.md, 2026-12-01).
    tcp.setNoDelay(true);
    if (cut) {
      close();
      throw new Error("cut short");
    }
    if (tls) {
      handshaking = true;
      const t = await Deno.startTls(tcp, {
        hostname: host,
        caCerts: opts.caPem ? [opts.caPem] : undefined,
      });
      conn = t;
      if (cut) close();
      await t.handshake();
      handshaking = false;
    }
    const head = `${opts.method ?? "GET"} ${opts.url.pathname}${opts.url.search} HTTP/1.1\r\n` +
      `host: ${opts.url.host}\r\nuser-agent: ${opts.userAgent ?? USER_AGENT}\r\n` +
      "accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n" +
      (opts.acceptLanguage ? `accept-language: ${headerValue(opts.acceptLanguage)}\r\n` : "") +
      "accept-encoding: identity\r\n" +
      "connection: close\r\n\r\n";
    const bytes = enc.encode(head);
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));

    const r = new Reader(conn);
    // Status line and headers (interim 1xx answers are skipped).
    for (;;) {
      let end = headEnd(r.buffered);
      while (end < 0) {
        if (r.buffered.length > MAX_HEAD_BYTES) {
          throw new HttpProbeError("protocol", "parse error: response head larger than 64 KiB");
        }
        if (!(await r.fill())) {
          throw r.buffered.length
            ? new HttpProbeError("protocol", "parse error: connection closed inside the head")
            : new HttpProbeError("reset", "socket hang up: closed before any response");
        }
        end = headEnd(r.buffered);
      }
      const parsed = parseHead(latin1.decode(r.buffered.subarray(0, end - 4)));
      r.consume(end);
      if (parsed.status >= 100 && parsed.status < 200 && parsed.status !== 101) continue;
      response = { status: parsed.status, headers: parsed.headers };
      break;
    }
    if ((isRedirect(response.status) && response.headers.location) || opts.method === "HEAD") {
      return { ...response, truncated: false };
    }
    // The cap applies to the decoded body (a server may compress though asked for identity).
    sink = new BodySink(
      response.headers["content-type"] ?? "",
      response.headers["content-encoding"],
      opts.maxBodyBytes,
      opts.digest,
    );
    /** Feeds body bytes; true when the cap is reached. */
    const feed = (b: Uint8Array): Promise<boolean> => sink!.write(b);
    const noBody = response.status === 204 || response.status === 304;
    const te = (response.headers["transfer-encoding"] ?? "").toLowerCase();
    const lengthHeader = response.headers["content-length"];
    if (noBody) return await finish(false);
    if (te.includes("chunked")) {
      for (;;) {
        // Size line.
        let nl = r.buffered.indexOf(10);
        while (nl < 0) {
          if (r.buffered.length > 1024) {
            throw new HttpProbeError("protocol", "parse error: bad chunk size line");
          }
          if (!(await r.fill())) throw new HttpProbeError("reset", "body cut off");
          nl = r.buffered.indexOf(10);
        }
        const line = latin1.decode(r.buffered.subarray(0, nl)).trim();
        r.consume(nl + 1);
        const size = parseInt(line.split(";")[0], 16);
        if (!Number.isFinite(size) || size < 0 || !/^[0-9a-f]/i.test(line)) {
          throw new HttpProbeError(
            "protocol",
            `parse error: bad chunk size "${line.slice(0, 40)}"`,
          );
        }
        if (size === 0) return await finish(false);
        let left = size;
        while (left > 0) {
          if (r.buffered.length === 0 && !(await r.fill())) {
            throw new HttpProbeError("reset", "body cut off");
          }
          const take = r.buffered.subarray(0, Math.min(left, r.buffered.length));
          const full = await feed(take);
          r.consume(take.length);
          left -= take.length;
          if (full) return await finish(true);
        }
        // CRLF after the data.
        while (r.buffered.length < 2) {
          if (!(await r.fill())) throw new HttpProbeError("reset", "body cut off");
        }
        r.consume(2);
      }
    }
    const length = lengthHeader !== undefined ? Number(lengthHeader) : NaN;
    if (lengthHeader !== undefined && !(Number.isSafeInteger(length) && length >= 0)) {
      throw new HttpProbeError("protocol", `parse error: bad content-length "${lengthHeader}"`);
    }
    let left = Number.isNaN(length) ? Infinity : length;
    while (left > 0) {
      if (r.buffered.length === 0 && !(await r.fill())) {
        if (left === Infinity) return await finish(false);
        throw new HttpProbeError("reset", "body cut off");
      }
      const take = r.buffered.subarray(0, Math.min(left, r.buffered.length));
      const full = await feed(take);
      r.consume(take.length);
      left -= take.length;
      if (full) return await finish(left > 0);
    }
    return await finish(false);
  };
  try {
    const working = work();
    working.catch(() => {}); // after a cut, its late failure is not news
    return await Promise.race([working, cutShort]);
  } catch (err) {
    if (cut === "deadline" && response) return await partial(); // headers came, body too slow
    // Whether any of the answer had come: without one, another address may still answer.
    const beforeResponse = response === undefined;
    if (cut === "deadline") {
      throw new HttpProbeError(
        "timeout",
        `no response from ${opts.ip}:${opts.port} in ${opts.requestTimeoutMs} ms`,
        { beforeResponse },
      );
    }
    if (cut === "connect") {
      throw new HttpProbeError(
        "connect_timeout",
        `no connection to ${opts.ip}:${opts.port} in ${opts.connectTimeoutMs} ms`,
        { beforeResponse },
      );
    }
    if (cut === "cancelled") throw new HttpProbeError("timeout", "cancelled by the host");
    if (err instanceof HttpProbeError) {
      throw new HttpProbeError(err.kind, err.message, { cause: err.cause, beforeResponse });
    }
    let kind = nativeErrorKind(err);
    // The server hung up inside the handshake (e.g. no certificate for the name): a TLS failure.
    if (handshaking && (kind === "reset" || kind === "other")) kind = "tls_handshake";
    const e = err as Error;
    const what = kind.startsWith("tls_") ? `TLS with ${host}: ` : "";
    throw new HttpProbeError(kind, `${what}${e?.name ? e.name + ": " : ""}${e?.message ?? e}`, {
      cause: err,
      beforeResponse,
    });
  } finally {
    clearTimeout(requestTimer);
    clearTimeout(connectTimer);
    offAbort();
    close();
  }
}
