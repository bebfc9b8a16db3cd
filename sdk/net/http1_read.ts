/**
 * Reading HTTP/1.1 answers from Deno's sockets: a buffered reader, the end of a response head,
 * and the head's status and headers. Shared by the prober's one-shot client (`http_native.ts`)
 * and the API stages' kept-alive one (`keepalive_http.ts`).
 * @module
 */
import { HttpProbeError } from "./http_errors.ts";

/** Bytes of status line and headers read at most before the answer counts as broken. */
export const MAX_HEAD_BYTES = 65536;

/** Incremental reader over a connection with a small pushback buffer. */
export class Reader {
  #conn: Deno.Conn;
  #buf = new Uint8Array(16384);
  /** Unconsumed bytes: `#buf[#start, #end)`. */
  #start = 0;
  #end = 0;
  /** True once the connection ended. */
  eof = false;

  /** A reader of `conn`. */
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  /** The bytes read and not consumed yet (a view: valid until the next fill). */
  get buffered(): Uint8Array {
    return this.#buf.subarray(this.#start, this.#end);
  }

  /** Drops the first `n` buffered bytes. */
  consume(n: number): void {
    this.#start += n;
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  /** Reads more bytes into the buffer; false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.eof) return false;
    if (this.#end === this.#buf.length) {
      const live = this.#end - this.#start;
      if (this.#start > 0 && live < this.#buf.length / 2) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const bigger = new Uint8Array(this.#buf.length * 2);
        bigger.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = bigger;
      }
      this.#start = 0;
      this.#end = live;
    }
    const n = await this.#conn.read(this.#buf.subarray(this.#end));
    if (n === null) {
      this.eof = true;
      return false;
    }
    this.#end += n;
    return true;
  }
}

/** Index just past the first CRLF CRLF in `b` (the end of a head), or -1. */
export function headEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  }
  return -1;
}

/** A response head: status, headers, and the HTTP/1 minor version (0 or 1). */
export interface ResponseHead {
  status: number;
  /** Lower-case names, repeats joined with ", ", values cut at 2,048 characters, no set-cookie. */
  headers: Record<string, string>;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor: number;
}

/** Parses a response head (see {@linkcode ResponseHead}). */
export function parseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]);
  if (!m) {
    throw new HttpProbeError("protocol", `parse error: bad status line "${lines[0].slice(0, 80)}"`);
  }
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new HttpProbeError("protocol", `parse error: bad header line "${line.slice(0, 80)}"`);
    }
    const k = line.slice(0, colon).trim().toLowerCase();
    if (k === "set-cookie") continue;
    const v = line.slice(colon + 1).trim();
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  for (const k in headers) if (headers[k].length > 2048) headers[k] = headers[k].slice(0, 2048);
  return { status: Number(m[2]), headers, minor: Number(m[1]) };
}
