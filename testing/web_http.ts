/**
 * The HTTP/1.1 server side of one simulated-web connection, over Deno's own sockets
 * (`Deno.listen`, or `Deno.listenTls` whose TLS runs in rustls): read a request head, answer
 * it as its site says ({@link replyTo}), keep the connection for the next request unless either
 * side said `close`. Written here instead of `node:http`/`node:https` servers because the
 * node compatibility layers cost more CPU than the TLS handshake itself: the simulated
 * internet shares the benchmark machine with the prober it feeds (measured on Deno 2.9 with
 * 4,000 HTTPS requests: 906 µs of server CPU per request with `node:https`, 361 here).
 * @module
 */
import { type BodyChunk, hostOf, type RenderedPage, renderPage, replyTo } from "./web_site.ts";
import type { RequestInfo, SiteLookup } from "./web_site.ts";

/** Bytes of request line and headers read at most; a longer head gets a 431 answer. */
const MAX_HEAD_BYTES = 32768;

const latin1 = new TextDecoder("latin1");
const utf8 = new TextEncoder();

const REASONS: Record<number, string> = {
  200: "OK",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  406: "Not Acceptable",
  410: "Gone",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** What the connection loop shares with its server. */
export interface ConnectionState {
  lookup: SiteLookup;
  /** Connections whose request is never answered (closed when the server stops). */
  hung: Set<Deno.Conn>;
  /** Pending slow answers, cleared when the server stops. */
  timers: Set<ReturnType<typeof setTimeout>>;
  /** Called once per request read. */
  count(): void;
}

/** One parsed request head. */
interface RequestHead {
  method: string;
  target: string;
  version: string;
  headers: Map<string, string>;
}

/** Buffered reads from a connection. */
class ConnReader {
  #conn: Deno.Conn;
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** Reads more bytes; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    if (this.#start > 0 && this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      const live = this.#end - this.#start;
      const next = live * 2 > this.#buf.length ? new Uint8Array(this.#buf.length * 2) : this.#buf;
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /**
   * The next head's text (without the blank line); null at a clean end; "" when too big. Lines
   * may end in CRLF or a bare LF (as servers accept).
   */
  async head(): Promise<string | null> {
    // Bytes after #start already searched: an offset from #start, which #fill may move.
    let checked = 0;
    for (;;) {
      const blank = findBlankLine(this.#buf, this.#start + Math.max(0, checked - 3), this.#end);
      if (blank && blank.at - this.#start > MAX_HEAD_BYTES) return "";
      if (blank) {
        const text = latin1.decode(this.#buf.subarray(this.#start, blank.at));
        this.#start = blank.at + blank.length;
        return text;
      }
      checked = this.#end - this.#start;
      if (checked > MAX_HEAD_BYTES) return "";
      if (!(await this.#fill())) return null;
    }
  }

  /** Skips `n` body bytes; false when the stream ends first. */
  async skip(n: number): Promise<boolean> {
    while (n > 0) {
      if (this.#start === this.#end && !(await this.#fill())) return false;
      const take = Math.min(n, this.#end - this.#start);
      this.#start += take;
      n -= take;
    }
    return true;
  }

  /** Reads until the peer closes (or the connection fails). */
  async drain(): Promise<void> {
    try {
      while (await this.#fill()) this.#start = this.#end;
    } catch { /* closed under us */ }
  }
}

/** Where the first blank line (CRLFCRLF, or LF LF / LF CRLF) in `buf[from, end)` starts. */
function findBlankLine(
  buf: Uint8Array,
  from: number,
  end: number,
): { at: number; length: number } | undefined {
  for (let i = buf.indexOf(10, from); i >= 0 && i < end; i = buf.indexOf(10, i + 1)) {
    // i is an LF: the line before it ends here; a blank line follows when the next is LF or CRLF.
    const lineEnd = i > 0 && buf[i - 1] === 13 ? i - 1 : i;
    if (i + 1 < end && buf[i + 1] === 10) return { at: lineEnd, length: i + 2 - lineEnd };
    if (i + 2 < end && buf[i + 1] === 13 && buf[i + 2] === 10) {
      return { at: lineEnd, length: i + 3 - lineEnd };
    }
  }
  return undefined;
}

function parseHead(text: string): RequestHead | undefined {
  const lines = text.split(/\r?\n/);
  const m = /^([A-Z]+) (\S+) HTTP\/(1\.[01])$/.exec(lines[0]);
  if (!m) return undefined;
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(":");
    if (colon <= 0) return undefined;
    headers.set(lines[i].slice(0, colon).trim().toLowerCase(), lines[i].slice(colon + 1).trim());
  }
  return { method: m[1], target: m[2], version: m[3], headers };
}

let dateSecond = -1;
let dateText = "";
/** The Date header's value, formatted once per second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

function headText(status: number, headers: Record<string, string>): string {
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\ndate: ${httpDate()}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v.replace(/[\r\n]+/g, " ")}\r\n`;
  return head + "\r\n";
}

/**
 * Sends `page`; resolves true when the connection can carry another request (the body had a
 * known length and `keepAlive`), false when the body was close-delimited or cut.
 */
async function sendPage(
  conn: Deno.Conn,
  page: RenderedPage,
  head: boolean,
  keepAlive: boolean,
): Promise<boolean> {
  const headers = { ...page.headers };
  if (page.body instanceof Uint8Array) {
    headers["content-length"] = String(page.body.length);
    headers.connection = keepAlive ? "keep-alive" : "close";
    const top = utf8.encode(headText(page.status, headers));
    if (head || page.body.length === 0) {
      await writeAll(conn, top);
    } else {
      const all = new Uint8Array(top.length + page.body.length);
      all.set(top);
      all.set(page.body, top.length);
      await writeAll(conn, all);
    }
    return keepAlive;
  }
  // A body of unknown length ends when the connection does.
  headers.connection = "close";
  await writeAll(conn, utf8.encode(headText(page.status, headers)));
  if (head) return false;
  for await (const chunk of page.body as Iterable<BodyChunk> | AsyncIterable<BodyChunk>) {
    await writeAll(conn, typeof chunk === "string" ? utf8.encode(chunk) : chunk);
  }
  return false;
}

/** Answers a request the server cannot read with `status` and a line of text (the caller closes). */
async function refuse(conn: Deno.Conn, status: number, text: string): Promise<void> {
  const body = utf8.encode(text + "\n");
  await sendPage(conn, { status, headers: { "content-type": "text/plain" }, body }, false, false);
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/**
 * Serve requests on `conn` until either side ends it. Never throws: a client that goes away
 * mid-answer (as probes do once they have read enough) just ends the loop.
 */
export async function serveConnection(
  conn: Deno.Conn,
  scheme: "http" | "https",
  state: ConnectionState,
): Promise<void> {
  const reader = new ConnReader(conn);
  try {
    for (;;) {
      const text = await reader.head();
      if (text === null) break;
      const req = text === "" ? undefined : parseHead(text);
      if (!req) {
        const status = text === "" ? 431 : 400;
        await refuse(conn, status, `${status} ${REASONS[status]}`);
        break;
      }
      state.count();
      const length = Number(req.headers.get("content-length") ?? 0);
      const chunked = /chunked/i.test(req.headers.get("transfer-encoding") ?? "");
      if (!(Number.isSafeInteger(length) && length >= 0)) {
        await refuse(conn, 400, "400 Bad Request: Content-Length is not a byte count");
        break;
      }
      if (!(await reader.skip(length))) break;
      const connection = (req.headers.get("connection") ?? "").toLowerCase();
      const keepAlive = !chunked &&
        (req.version === "1.1" ? !connection.includes("close") : connection.includes("keep-alive"));
      const q = req.target.indexOf("?");
      const info: RequestInfo = {
        host: hostOf(req.headers.get("host")),
        path: q >= 0 ? req.target.slice(0, q) : req.target,
        url: req.target,
        scheme,
        method: req.method,
      };
      const reply = replyTo(state.lookup, info);
      if ("reset" in reply) break;
      if ("hang" in reply) {
        state.hung.add(conn);
        await reader.drain();
        state.hung.delete(conn);
        break;
      }
      if (reply.delayMs) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            state.timers.delete(t);
            resolve();
          }, reply.delayMs);
          state.timers.add(t);
        });
      }
      const again = await sendPage(
        conn,
        renderPage(reply.page, info),
        req.method === "HEAD",
        keepAlive,
      );
      if (!again) break;
    }
  } catch {
    // The client went away, or the TLS handshake failed (a probe of a site without a
    // certificate): nothing to answer.
  }
  close(conn);
}
