/**
 * Webhook load generator for `bench/webhook_bench.ts`: K keep-alive HTTP/1.1 connections (a
 * minimal client over `Deno.connect`, so the generator spends little CPU) send pre-signed
 * `POST /hooks/{pipeline}/{hook}` requests until `requests` are sent or `durationMs` passed.
 * Every body is distinct (one item with a sequence number), so no signature is a replay.
 *
 * Runs in the bench process ({@link runLoad}) or as its own process, which prints the
 * {@link LoadResult} as one JSON line:
 *
 *   deno run -A bench/webhook_load.ts '{"port":8080,"pipeline":"wh","hook":"in","secret":"…"}'
 * @module
 */
import { signRequest } from "../core/triggers/webhook_signatures.ts";

/** What to send. */
export interface LoadOptions {
  /** Server port on 127.0.0.1. */
  port: number;
  pipeline: string;
  hook: string;
  /** The hook's HMAC secret. */
  secret: string;
  /** Requests to send at most (default 20,000). */
  requests?: number;
  /** Concurrent keep-alive connections (default 32). */
  connections?: number;
  /** Stop sending after this long (default 30 s). */
  durationMs?: number;
  /** Distinguishes bodies of several loads against one server. */
  tag?: string;
}

/** What came back. */
export interface LoadResult {
  sent: number;
  /** Count per HTTP status. */
  statuses: Record<string, number>;
  /** 202 answers (run recorded durably). */
  accepted: number;
  seconds: number;
  /** Accepted requests per second. */
  acceptedPerSecond: number;
  /** Latency of accepted requests, send to full answer (ms). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The first answer that was not 202, for diagnosis. */
  firstRefusal?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** One keep-alive HTTP/1.1 connection: sends a request, reads the whole answer. */
class HttpConn {
  #conn: Deno.TcpConn;
  #buf = new Uint8Array(0);
  #scratch = new Uint8Array(64 * 1024);

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  async #fill(): Promise<void> {
    const n = await this.#conn.read(this.#scratch);
    if (n === null) throw new Error("the server closed the connection");
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(this.#scratch.subarray(0, n), this.#buf.length);
    this.#buf = next;
  }

  #take(n: number): Uint8Array {
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }

  async #line(): Promise<string> {
    for (;;) {
      const i = this.#buf.indexOf(10);
      if (i >= 0) return dec.decode(this.#take(i + 1)).trimEnd();
      await this.#fill();
    }
  }

  async #bytes(n: number): Promise<Uint8Array> {
    while (this.#buf.length < n) await this.#fill();
    return this.#take(n);
  }

  /** Sends raw request bytes; returns the status and body text. */
  async request(raw: Uint8Array): Promise<{ status: number; body: string }> {
    let off = 0;
    while (off < raw.length) off += await this.#conn.write(raw.subarray(off));
    const status = Number((await this.#line()).split(" ")[1]);
    const headers = new Map<string, string>();
    for (let l = await this.#line(); l !== ""; l = await this.#line()) {
      const c = l.indexOf(":");
      headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
    }
    let body = "";
    if (headers.get("transfer-encoding")?.includes("chunked")) {
      for (;;) {
        const size = parseInt(await this.#line(), 16);
        if (size === 0) {
          await this.#line();
          break;
        }
        body += dec.decode(await this.#bytes(size));
        await this.#line();
      }
    } else {
      body = dec.decode(await this.#bytes(Number(headers.get("content-length") ?? 0)));
    }
    return { status, body };
  }

  close() {
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/** Builds `n` signed requests (signing is done before the clock starts). */
export async function signedRequests(o: LoadOptions, n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const tag = o.tag ?? crypto.randomUUID().slice(0, 8);
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({ key: `${tag}-${i}`, n: i, source: "webhook-bench" });
    const [name, value] = await signRequest({ auth: "hmac", secret: o.secret, body });
    out.push(enc.encode(
      `POST /hooks/${o.pipeline}/${o.hook} HTTP/1.1\r\nhost: 127.0.0.1:${o.port}\r\n` +
        `content-type: application/json\r\ncontent-length: ${enc.encode(body).length}\r\n` +
        `${name}: ${value}\r\n\r\n${body}`,
    ));
  }
  return out;
}

/** Percentile of sorted values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Sends the load and measures it. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const total = o.requests ?? 20_000;
  const k = o.connections ?? 32;
  const reqs = await signedRequests(o, total);
  const conns = await Promise.all(
    Array.from(
      { length: k },
      async () => new HttpConn(await Deno.connect({ hostname: "127.0.0.1", port: o.port })),
    ),
  );
  const statuses: Record<string, number> = {};
  const lat: number[] = [];
  let next = 0;
  let firstRefusal: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + (o.durationMs ?? 30_000);
  try {
    await Promise.all(conns.map(async (c) => {
      while (next < total && performance.now() < deadline) {
        const i = next++;
        const s = performance.now();
        const res = await c.request(reqs[i]);
        const ms = performance.now() - s;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 202) lat.push(ms);
        else firstRefusal ??= `${res.status} ${res.body.slice(0, 300)}`;
      }
    }));
  } finally {
    for (const c of conns) c.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    sent: Object.values(statuses).reduce((a, b) => a + b, 0),
    statuses,
    accepted: lat.length,
    seconds: round(seconds),
    acceptedPerSecond: Math.round(lat.length / seconds),
    p50Ms: round(percentile(lat, 0.5)),
    p99Ms: round(percentile(lat, 0.99)),
    maxMs: round(lat.at(-1) ?? NaN),
    firstRefusal,
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(await runLoad(JSON.parse(Deno.args[0]))));
}
