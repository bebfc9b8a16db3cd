/**
 * HTTP/1.1 requests over kept-alive connections of Deno's own sockets, for the API stages'
 * transport (`sdk/api/net_requester.ts`): a connection to a chosen address (`Deno.connect`,
 * `Deno.startTls` with the URL's host as SNI and verification name), the request head and body
 * written here, the answer read here (Content-Length, chunked or close-delimited), and the
 * connection kept for the next request to the same origin and address while it is idle.
 *
 * Measured on Deno 2.9 (bench/RESULTS.md, 2026-12-03): a GET of a 1 KB JSON answer on loopback
 * over a kept-alive connection cost the client ~140 µs of CPU with `node:http` and `fetch`, ~60
 * µs over Deno's sockets: the node layers (streams, agents, its HTTP parser, async hooks) cost
 * more than the request.
 *
 * A request on a kept connection that the server had closed meanwhile (the connection ends, or is
 * reset, before any byte of an answer) is sent again once on a new connection, as `node:http`'s
 * agent does; a new connection's failure is the call's. With a proxy, each connection is a
 * CONNECT tunnel to the request's address.
 * @module
 */
import { headEnd, MAX_HEAD_BYTES, parseHead, Reader, type ResponseHead } from "./http1_read.ts";
import { joinBytes } from "../io/join_bytes.ts";
import { whenAborted } from "../io/when_aborted.ts";

/** Options of {@linkcode KeepAlivePool}. */
export interface KeepAliveOptions {
  /** A connection (TCP and TLS handshake) must be up within this long, ms. */
  connectTimeoutMs: number;
  /** A call (connecting included) must have its whole answer within this long, ms. */
  requestTimeoutMs: number;
  /** A longer answer body fails the call. */
  maxBodyBytes: number;
  /** An idle connection is closed after this long, ms. */
  idleMs: number;
  /** A PEM CA trusted besides the system's roots (HTTPS). */
  caPem?: string;
  /** Idle connections kept at most per origin and address (default 16). */
  maxIdle?: number;
  /**
   * HTTP proxy URL (`http://[user:pass@]host:port`, `network.proxy`): each connection is a
   * CONNECT tunnel to the request's address (chosen and checked by the caller, as the prober's
   * are: `sdk/net/proxy_tunnel.ts`), TLS with the real name inside it for HTTPS.
   */
  proxy?: string;
}

/** One request of {@linkcode KeepAlivePool.request}. */
export interface KeepAliveRequest {
  /** `http:` or `https:`; its host is sent as `Host` and, for HTTPS, as SNI. */
  url: URL;
  /** The address to connect to (the caller resolved and checked it). */
  ip: string;
  /** Default `GET`. */
  method?: string;
  /** Request headers (not `host` or `content-length`: those are written here). */
  headers?: Record<string, string>;
  body?: Uint8Array;
  signal?: AbortSignal;
}

/** An answer: status, headers (lower-case names, repeats joined) and the body's bytes. */
export interface KeepAliveResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A connection with its reader, kept between requests. */
interface Connection {
  conn: Deno.Conn;
  reader: Reader;
  idleTimer?: ReturnType<typeof setTimeout>;
}

/** The server closed a kept connection before answering: the request goes again. */
class StaleConnection extends Error {}

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** A header value as written into the head: without line breaks. */
function headerValue(v: string): string {
  return v.replace(/[\r\n]+/g, " ");
}

/** True for errors of a connection the peer closed or reset (a stale kept connection's). */
function isConnectionEnd(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? "";
  const message = (err as { message?: string })?.message ?? "";
  return /ConnectionReset|BrokenPipe|UnexpectedEof|ConnectionAborted/.test(name) ||
    /reset|broken pipe|eof|close_notify/i.test(message);
}

/** Kept-alive HTTP/1.1 connections by origin and address; see the module doc. */
export class KeepAlivePool {
  #o: KeepAliveOptions;
  #idle = new Map<string, Connection[]>();
  #closed = false;

  #proxy: URL | undefined;

  /** A pool with `options`' limits. Throws when `options.proxy` is no `http:` URL. */
  constructor(options: KeepAliveOptions) {
    this.#o = options;
    if (options.proxy) {
      let proxy: URL | undefined;
      try {
        proxy = new URL(options.proxy);
      } catch { /* said below */ }
      if (proxy?.protocol !== "http:") {
        throw new Error(
          `network.proxy "${options.proxy}": not an http:// proxy URL (http://[user:pass@]host:port)`,
        );
      }
      this.#proxy = proxy;
    }
  }

  /** Idle connections kept now (all origins). */
  get idle(): number {
    let n = 0;
    for (const list of this.#idle.values()) n += list.length;
    return n;
  }

  /**
   * Sends `req` and reads its answer. Rejects with the signal's reason when aborted, and with an
   * error saying what happened on a timeout, a refused or failed connection, a broken answer or
   * one over `maxBodyBytes`.
   */
  async request(req: KeepAliveRequest): Promise<KeepAliveResponse> {
    if (this.#closed) throw new Error("the HTTP connection pool is closed");
    if (req.signal?.aborted) throw req.signal.reason ?? new Error("aborted");
    const key = `${req.url.protocol}//${req.url.host}@${req.ip}`;
    let current: Connection | undefined;
    let cut: unknown;
    let rejectCut!: (e: unknown) => void;
    const cutShort = new Promise<never>((_, reject) => rejectCut = reject);
    cutShort.catch(() => {});
    const connecting = new AbortController();
    const stop = (err: unknown) => {
      if (cut !== undefined) return;
      cut = err;
      connecting.abort();
      if (current) this.#destroy(current);
      rejectCut(err);
    };
    const timer = setTimeout(
      () => stop(new Error(`no complete answer within ${this.#o.requestTimeoutMs} ms`)),
      this.#o.requestTimeoutMs,
    );
    const offAbort = whenAborted(
      req.signal,
      () => stop(req.signal!.reason ?? new Error("aborted")),
    );
    const head = this.#head(req);
    const work = async (): Promise<KeepAliveResponse> => {
      const kept = this.#take(key);
      if (kept) {
        current = kept;
        try {
          return await this.#exchange(kept, key, head, req, true);
        } catch (err) {
          if (!(err instanceof StaleConnection) || cut !== undefined) throw err;
        }
      }
      current = undefined;
      const fresh = await this.#open(req, connecting.signal, stop);
      current = fresh;
      if (cut !== undefined) {
        this.#destroy(fresh);
        throw cut;
      }
      return await this.#exchange(fresh, key, head, req, false);
    };
    try {
      const working = work();
      working.catch(() => {}); // after a cut, its late failure is not news
      return await Promise.race([working, cutShort]);
    } finally {
      clearTimeout(timer);
      offAbort();
    }
  }

  /** Closes the idle connections; connections in use close when their call ends. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const c of list) this.#destroy(c);
    this.#idle.clear();
  }

  /** The request's head and body as the bytes written. */
  #head(req: KeepAliveRequest): Uint8Array {
    const url = req.url;
    let text = `${
      req.method ?? "GET"
    } ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      const name = k.toLowerCase();
      if (name === "host" || name === "content-length") continue;
      text += `${k}: ${headerValue(v)}\r\n`;
    }
    if (req.body !== undefined) text += `content-length: ${req.body.length}\r\n`;
    const head = enc.encode(text + "\r\n");
    return req.body?.length ? joinBytes([head, req.body]) : head;
  }

  /** A new connection to the request's address (TLS for HTTPS), within the connect timeout. */
  async #open(
    req: KeepAliveRequest,
    signal: AbortSignal,
    stop: (err: unknown) => void,
  ): Promise<Connection> {
    const url = req.url;
    const secure = url.protocol === "https:";
    const port = url.port ? Number(url.port) : secure ? 443 : 80;
    let up = false;
    const timer = setTimeout(() => {
      if (!up) {
        stop(new Error(`connect to ${url.host} timed out after ${this.#o.connectTimeoutMs} ms`));
      }
    }, this.#o.connectTimeoutMs);
    let conn: Deno.Conn | undefined;
    try {
      const proxy = this.#proxy;
      const tcp = await Deno.connect(
        proxy
          ? {
            hostname: proxy.hostname.replace(/^\[|\]$/g, ""),
            port: Number(proxy.port || 80),
            signal,
          }
          : { hostname: req.ip, port, signal },
      );
      conn = tcp;
      // A small write after the TLS Finished waits for the server's delayed ACK under Nagle's
      // algorithm (~40 ms per request on Linux; see sdk/net/http_native.ts).
      tcp.setNoDelay(true);
      if (proxy) await tunnel(tcp, proxy, req.ip, port);
      if (secure) {
        const tls = await Deno.startTls(tcp, {
          hostname: url.hostname.replace(/^\[|\]$/g, ""),
          caCerts: this.#o.caPem ? [this.#o.caPem] : undefined,
        });
        conn = tls;
        await tls.handshake();
      }
      up = true;
      return { conn, reader: new Reader(conn) };
    } catch (err) {
      try {
        conn?.close();
      } catch { /* already closed */ }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Writes the request on `c` and reads the answer; keeps `c` for the next request when the
   * answer allows it. On a `kept` connection that ends before any byte of an answer, throws
   * {@linkcode StaleConnection}.
   */
  async #exchange(
    c: Connection,
    key: string,
    bytes: Uint8Array,
    req: KeepAliveRequest,
    kept: boolean,
  ): Promise<KeepAliveResponse> {
    const r = c.reader;
    const host = req.url.host;
    let answered = false;
    try {
      for (let off = 0; off < bytes.length;) off += await c.conn.write(bytes.subarray(off));
      let head: ResponseHead;
      for (;;) {
        let end = headEnd(r.buffered);
        while (end < 0) {
          if (r.buffered.length > MAX_HEAD_BYTES) {
            throw new Error(`the answer's head from ${host} is larger than 64 KiB`);
          }
          if (!(await r.fill())) {
            if (r.buffered.length > 0) {
              throw new Error(`${host} closed the connection inside the answer's head`);
            }
            if (kept) throw new StaleConnection();
            throw new Error(`socket hang up: ${host} closed the connection before answering`);
          }
          answered = true;
          end = headEnd(r.buffered);
        }
        head = parseHead(latin1.decode(r.buffered.subarray(0, end - 4)));
        r.consume(end);
        if (head.status < 100 || head.status >= 200 || head.status === 101) break;
      }
      const { body, delimited } = await this.#body(r, head, req, host);
      const connection = (head.headers.connection ?? "").toLowerCase();
      const reusable = delimited && r.buffered.length === 0 && head.status !== 101 &&
        !connection.includes("close") && (head.minor === 1 || connection.includes("keep-alive"));
      if (reusable) this.#put(key, c);
      else this.#destroy(c);
      return { status: head.status, headers: head.headers, body };
    } catch (err) {
      this.#destroy(c);
      if (kept && !answered && !(err instanceof StaleConnection) && isConnectionEnd(err)) {
        throw new StaleConnection();
      }
      throw err;
    }
  }

  /** Reads the answer's body; `delimited` is false when it ran to the connection's end. */
  async #body(
    r: Reader,
    head: ResponseHead,
    req: KeepAliveRequest,
    host: string,
  ): Promise<{ body: Uint8Array; delimited: boolean }> {
    const max = this.#o.maxBodyBytes;
    const none = new Uint8Array(0);
    if (req.method === "HEAD" || head.status === 204 || head.status === 304) {
      return { body: none, delimited: true };
    }
    const pieces: Uint8Array[] = [];
    let size = 0;
    const take = (n: number) => {
      size += n;
      if (size > max) throw new Error(`answer larger than ${max} bytes from ${host}`);
      pieces.push(r.buffered.slice(0, n));
      r.consume(n);
    };
    const more = async () => {
      if (!(await r.fill())) throw new Error(`${host} closed the connection inside the answer`);
    };
    /** The next line (without its LF) of at most `limit` bytes, else `tooLong` thrown. */
    const readLine = async (limit: number, tooLong: string) => {
      let nl = r.buffered.indexOf(10);
      while (nl < 0) {
        if (r.buffered.length > limit) throw new Error(tooLong);
        await more();
        nl = r.buffered.indexOf(10);
      }
      const line = latin1.decode(r.buffered.subarray(0, nl));
      r.consume(nl + 1);
      return line;
    };
    const te = (head.headers["transfer-encoding"] ?? "").toLowerCase();
    if (te.includes("chunked")) {
      for (;;) {
        const line = (await readLine(1024, `bad chunk size line from ${host}`)).trim();
        const size = parseInt(line.split(";")[0], 16);
        if (!/^[0-9a-f]/i.test(line) || !Number.isFinite(size) || size < 0) {
          throw new Error(`bad chunk size "${line.slice(0, 40)}" from ${host}`);
        }
        if (size === 0) break;
        for (let left = size; left > 0;) {
          if (r.buffered.length === 0) await more();
          const n = Math.min(left, r.buffered.length);
          take(n);
          left -= n;
        }
        while (r.buffered.length < 2) await more();
        r.consume(2); // the CRLF after the data
      }
      // Trailer lines up to the empty one.
      for (;;) {
        const line = await readLine(MAX_HEAD_BYTES, `bad trailer from ${host}`);
        if (line === "" || line === "\r") break;
      }
      return { body: joinBytes(pieces), delimited: true };
    }
    const lengthHeader = head.headers["content-length"];
    if (lengthHeader !== undefined) {
      const length = Number(lengthHeader);
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new Error(`bad content-length "${lengthHeader.slice(0, 40)}" from ${host}`);
      }
      if (length > max) throw new Error(`answer larger than ${max} bytes from ${host}`);
      for (let left = length; left > 0;) {
        if (r.buffered.length === 0) await more();
        const n = Math.min(left, r.buffered.length);
        take(n);
        left -= n;
      }
      return { body: joinBytes(pieces), delimited: true };
    }
    // Neither: the body runs to the end of the connection.
    for (;;) {
      if (r.buffered.length > 0) take(r.buffered.length);
      if (!(await r.fill())) break;
    }
    return { body: joinBytes(pieces), delimited: false };
  }

  #take(key: string): Connection | undefined {
    const list = this.#idle.get(key);
    const c = list?.pop();
    if (list && list.length === 0) this.#idle.delete(key);
    if (c) clearTimeout(c.idleTimer);
    return c;
  }

  #put(key: string, c: Connection): void {
    let list = this.#idle.get(key);
    if (this.#closed || (list?.length ?? 0) >= (this.#o.maxIdle ?? 16)) return this.#destroy(c);
    if (!list) this.#idle.set(key, list = []);
    list.push(c);
    const timer = setTimeout(() => {
      const at = list.indexOf(c);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0 && this.#idle.get(key) === list) this.#idle.delete(key);
      this.#destroy(c);
    }, this.#o.idleMs);
    Deno.unrefTimer(timer);
    c.idleTimer = timer;
  }

  #destroy(c: Connection): void {
    clearTimeout(c.idleTimer);
    try {
      c.conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * Asks the proxy on `conn` for a tunnel to `ip:port`; resolves once it answered 200. Its answer
 * must come alone (nothing of the target's may follow it before we spoke).
 */
async function tunnel(conn: Deno.Conn, proxy: URL, ip: string, port: number): Promise<void> {
  const target = ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
  const auth = proxy.username
    ? `proxy-authorization: Basic ${
      btoa(
        String.fromCharCode(
          ...enc.encode(
            `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`,
          ),
        ),
      )
    }\r\n`
    : "";
  const ask = enc.encode(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n${auth}\r\n`);
  for (let off = 0; off < ask.length;) off += await conn.write(ask.subarray(off));
  const fail = (what: string) => new Error(`proxy ${proxy.host}, tunnel to ${target}: ${what}`);
  // Byte by byte up to the end of the answer's head: the target's bytes must stay unread.
  const one = new Uint8Array(1);
  const head: number[] = [];
  while (head.length < 4 || headEnd(Uint8Array.from(head.slice(-4))) < 0) {
    if (head.length > 8192) throw fail("answer header too long");
    if ((await conn.read(one)) === null) throw fail("closed the connection without answering");
    head.push(one[0]);
  }
  const first = latin1.decode(Uint8Array.from(head)).split("\r\n")[0];
  if (!/^HTTP\/1\.[01] 200\b/.test(first)) throw fail(`refused: ${first.slice(0, 200)}`);
}
