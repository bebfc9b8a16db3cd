/**
 * A raw DNS client for network plugins: `dns-packet` over one shared UDP socket (`udp_socket.ts`) per
 * address family (answers matched by query id, server and question), TCP fallback when an answer
 * is truncated, retries across the configured servers within one time budget per query, and a
 * memory of which servers answer (a silent server is set aside for a cool-down). Unlike
 * `Deno.resolveDns` it tells NXDOMAIN, NODATA, SERVFAIL and REFUSED apart, and says when no
 * server answered at all (our failure, never a verdict about the name).
 * @module
 */
import net from "node:net";
import { Buffer } from "node:buffer";
import dnsPacket from "dns-packet";
import { ipFamily } from "./address.ts";
import { Limiter } from "./limiter.ts";
import { whenAborted } from "../io/when_aborted.ts";
import {
  openUdpSocket,
  type UdpImplementation,
  type UdpPeer,
  type UdpSocket,
} from "./udp_socket.ts";

/** Record types this client asks for. */
export type DnsRecordType = "A" | "AAAA" | "CNAME" | "NS" | "MX" | "TXT" | "SOA";

/** One decoded resource record. `data` is as `dns-packet` decodes it (TXT: Uint8Array[]). */
export interface DnsRecordData {
  name: string;
  type: string;
  ttl: number;
  data: unknown;
}

/** A response from a server (any rcode). */
export interface DnsResponse {
  /** `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, ... */
  rcode: string;
  answers: DnsRecordData[];
  authorities: DnsRecordData[];
  /** `ip:port` of the server that answered. */
  server: string;
  /** True when the answer came over TCP (after a truncated UDP answer). */
  tcp: boolean;
}

/** No usable response: every attempt timed out, failed to send, or was garbled. */
export interface DnsFailure {
  failure: "timeout" | "unreachable" | "bad_response" | "no_servers" | "aborted";
  /** What happened, for a person (servers and attempts included). */
  message: string;
}

/** Result of {@linkcode DnsClient.query}: a response, or a failure on our side. */
export type DnsQueryResult = DnsResponse | DnsFailure;

/** True when `r` is a failure (no server gave a usable answer). */
export function isDnsFailure(r: DnsQueryResult): r is DnsFailure {
  return "failure" in r;
}

/** Options of {@linkcode DnsClient}. */
export interface DnsClientOptions {
  /** Servers as `ip:port` (`[v6]:port`; port defaults to 53). */
  servers: string[];
  /**
   * Time budget of one query in ms, all its attempts included (default 3000). An attempt that
   * is not the last gets an even share of what is left; when its share runs out the next attempt
   * goes out while the earlier ones still count (the first answer wins).
   */
  timeoutMs?: number;
  /** Attempts per query, cycling through the usable servers (default: max(2, servers.length)). */
  attempts?: number;
  /**
   * Silent misses in a row (an attempt's share ran out and the server answered nothing at all
   * since its query began) after which a server counts as down (default {@link DOWN_AFTER_MISSES}).
   */
  downAfter?: number;
  /** How long a down server is left out before one query probes it (default 10000 ms). */
  downCooldownMs?: number;
  /** EDNS UDP payload size advertised (default 1232; 0 sends no OPT record). */
  udpPayloadSize?: number;
  /** Queries in flight at most; more wait their turn (default 256). */
  concurrency?: number;
  /** UDP sockets to use (default: Deno's when the runtime has them, see `udp_socket.ts`). */
  udp?: UdpImplementation;
}

interface Server {
  host: string;
  port: number;
  family: 4 | 6;
  label: string;
  /** Position in the configured list: the tie-break of the order. */
  index: number;
  /** When it last answered anything (any rcode), ms since the epoch; 0 = never. */
  lastAnswerAt: number;
  /** Attempts in a row whose share ran out while the server answered nothing at all. */
  silentMisses: number;
  /** While down: when the next probe may go out (ms since the epoch); 0 = up. */
  downUntil: number;
}

/**
 * Default of {@linkcode DnsClientOptions.downAfter}: silent misses in a row after which a server
 * is down. A miss counts only when the server answered nothing at all while that attempt waited,
 * so a working resolver that is slow on a few names is never set aside.
 */
export const DOWN_AFTER_MISSES = 3;

/** Default of {@linkcode DnsClientOptions.downCooldownMs}. */
export const DOWN_COOLDOWN_MS = 10_000;

/**
 * Time budget of a query when every server is down (or the configured budget, if shorter): the
 * query still goes out, so a server that comes back is noticed at its first answer, but a run
 * against dead resolvers ends its items as `unknown` quickly.
 */
export const ALL_DOWN_BUDGET_MS = 1000;

interface Pending {
  server: Server;
  name: string;
  /** The socket the query went out on: only an answer arriving there counts. */
  socket: QuerySocket;
  resolve: (msg: dnsPacket.Packet | Error) => void;
}

/** Parses `ip:port`, `[v6]:port`, bare IPv4 or bare IPv6 (port 53). Throws on anything else. */
export function parseServer(spec: string): { host: string; port: number; family: 4 | 6 } {
  let host = spec.trim();
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracket) {
    host = bracket[1];
    if (bracket[2]) port = Number(bracket[2]);
  } else if ((host.match(/:/g) ?? []).length === 1) {
    const i = host.indexOf(":");
    port = Number(host.slice(i + 1));
    host = host.slice(0, i);
  }
  const family = ipFamily(host);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `DNS server "${spec}" is not an address: write ip:port such as 127.0.0.1:53 or [::1]:53`,
    );
  }
  return { host, port, family };
}

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

/** rcode name of a decoded packet (dns-packet gives it as `rcode`, or in `flags`). */
function rcodeOf(p: dnsPacket.Packet & { rcode?: string }): string {
  if (typeof p.rcode === "string") return p.rcode;
  const code = (p.flags ?? 0) & 0xf;
  return RCODES[code] ?? `RCODE${code}`;
}

function toRecords(list: dnsPacket.Answer[] | undefined): DnsRecordData[] {
  return (list ?? []).map((a) => ({
    name: a.name,
    type: a.type,
    ttl: (a as { ttl?: number }).ttl ?? 0,
    data: (a as { data?: unknown }).data,
  }));
}

const sameName = (a: string, b: string) =>
  a.toLowerCase().replace(/\.$/, "") === b.toLowerCase().replace(/\.$/, "");

/** A UDP socket queries go out on, and how many it sent and still waits for. */
interface QuerySocket {
  socket: UdpSocket;
  family: 4 | 6;
  sent: number;
  waiting: number;
}

/**
 * Queries one socket sends before the next ones go out on a new socket (a new random source
 * port): an off-path attacker forging answers must then guess the port as well as the 16-bit id,
 * for a cost of one socket per this many queries.
 */
export const QUERIES_PER_SOCKET = 256;

/**
 * The least receive size (`recvBufferSize`) asked of a query socket over `node:dgram`; more when
 * the advertised EDNS payload is bigger. Deno's `node:dgram` reads each datagram into a new buffer
 * of that size (doubled on Linux; 64 KiB when not told), and zeroing and collecting 64 KiB per
 * answer cost the dns plugin about a sixth of its CPU. An answer longer than the buffer would be
 * cut short and dropped as garbled: 4096 (8 KiB on Linux) holds three times the 1232 bytes we
 * advertise, for a server that ignores the size it was given. In Node.js the option sets the
 * kernel's SO_RCVBUF instead, which Deno 2.9's does not touch: a runtime that did would drop
 * answers of a burst (the test of 300 concurrent queries would time out). Deno's own sockets
 * (the default) read any datagram whole.
 */
export const MIN_RECEIVE_BYTES = 4096;

/**
 * A DNS client over UDP sockets it opens as it goes: one per address family at a time, each
 * replaced by a new one (a new source port) after {@link QUERIES_PER_SOCKET} queries and closed
 * once its last answer is in. Query ids come from `crypto.getRandomValues`. Create one client per
 * plugin instance, reuse it for every query, `close()` it at the end (or `using`).
 */
export class DnsClient implements Disposable {
  #servers: Server[];
  #timeoutMs: number;
  #attempts: number;
  #payload: number;
  #current = new Map<4 | 6, QuerySocket>();
  #open = new Set<QuerySocket>();
  #ids = new Uint16Array(256);
  #idsLeft = 0;
  #pending = new Map<number, Pending>();
  #closed = false;
  #limiter: Limiter;
  #downAfter: number;
  #cooldownMs: number;
  #udp: UdpImplementation | undefined;

  /** Creates a client; throws a RangeError naming a malformed server entry. */
  constructor(options: DnsClientOptions) {
    this.#servers = options.servers.map((s, index) => {
      const p = parseServer(s);
      return {
        ...p,
        label: p.family === 6 ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`,
        index,
        lastAnswerAt: 0,
        silentMisses: 0,
        downUntil: 0,
      };
    });
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.#attempts = Math.max(1, options.attempts ?? Math.max(2, this.#servers.length));
    this.#downAfter = Math.max(1, options.downAfter ?? DOWN_AFTER_MISSES);
    this.#cooldownMs = options.downCooldownMs ?? DOWN_COOLDOWN_MS;
    this.#payload = options.udpPayloadSize ?? 1232;
    this.#limiter = new Limiter(options.concurrency ?? 256);
    this.#udp = options.udp;
  }

  /** Queries currently waiting for an answer. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** UDP sockets open now (the current ones and those still waiting for answers). */
  get openSockets(): number {
    return this.#open.size;
  }

  /** Servers currently set aside as down (their `ip:port`), for logs and tests. */
  get downServers(): string[] {
    return this.#servers.filter((s) => s.downUntil > 0).map((s) => s.label);
  }

  /**
   * Asks for `type` records of `name`. Tries the usable servers in turn (those that answer
   * first, then by configured order) until one gives NOERROR or NXDOMAIN, all within one time
   * budget (`timeoutMs`): SERVFAIL, REFUSED and garbled answers move on to the next server at
   * once, silence when the attempt's share of the budget runs out (the earlier attempts still
   * count). When attempts run out, returns the last server response if any came, else a failure.
   */
  async query(name: string, type: DnsRecordType, signal?: AbortSignal): Promise<DnsQueryResult> {
    if (this.#servers.length === 0) {
      return { failure: "no_servers", message: "no DNS servers configured (network.dnsServers)" };
    }
    let release: () => void;
    try {
      release = await this.#limiter.acquire(signal);
    } catch {
      return { failure: "aborted", message: `DNS ${type} ${name}: cancelled` };
    }
    try {
      return await this.#query(name, type, signal);
    } finally {
      release();
    }
  }

  /**
   * The servers one query may use, in order, and its time budget. Up servers come first, those
   * with fewer silent misses before the others, then in configured order. A down server whose
   * cool-down is over leads once (a probe) and waits another cool-down for the next one. When
   * every server is down, all are asked anyway (in configured order) on a short budget.
   */
  #plan(): { order: Server[]; budgetMs: number } {
    const now = Date.now();
    const up = this.#servers.filter((s) => s.downUntil === 0)
      .sort((x, y) => x.silentMisses - y.silentMisses || x.index - y.index);
    const probe = this.#servers.find((s) => s.downUntil !== 0 && s.downUntil <= now);
    if (probe) probe.downUntil = now + this.#cooldownMs;
    if (up.length === 0) {
      const all = probe ? [probe, ...this.#servers.filter((s) => s !== probe)] : this.#servers;
      return { order: all, budgetMs: Math.min(this.#timeoutMs, ALL_DOWN_BUDGET_MS) };
    }
    return { order: probe ? [probe, ...up] : up, budgetMs: this.#timeoutMs };
  }

  /** `server` answered (any rcode): it is up. */
  #answered(server: Server): void {
    server.lastAnswerAt = Date.now();
    server.silentMisses = 0;
    server.downUntil = 0;
  }

  /**
   * An attempt to `server` of a query started at `since` got nothing in its share of the budget.
   * A server that answered anything since is alive (slow or silent on this name only).
   */
  #missed(server: Server, since: number): void {
    if (server.lastAnswerAt >= since) return;
    server.silentMisses++;
    if (server.silentMisses >= this.#downAfter && server.downUntil <= Date.now()) {
      server.downUntil = Date.now() + this.#cooldownMs;
    }
  }

  #query(name: string, type: DnsRecordType, signal?: AbortSignal): Promise<DnsQueryResult> {
    if (signal?.aborted || this.#closed) {
      return Promise.resolve({ failure: "aborted", message: `DNS ${type} ${name}: cancelled` });
    }
    const { order, budgetMs } = this.#plan();
    const started = Date.now();
    const deadline = started + budgetMs;
    const attempts = this.#attempts;
    // One timer per query (the current attempt's share of the budget; the last share ends at
    // the deadline), and the attempts still waiting are cancelled when the query ends: a
    // query costs little more than its packet when the first server answers.
    return new Promise<DnsQueryResult>((resolve) => {
      let lastResponse: DnsResponse | undefined;
      const problems: string[] = [];
      let lastFailure: DnsFailure["failure"] = "timeout";
      let sent = 0;
      let waiting = 0;
      let finished = false;
      let shareTimer: ReturnType<typeof setTimeout> | undefined;
      /** Attempts still waiting: their server, when sent, and how to cancel them. */
      const open = new Set<{ server: Server; at: number; cancel?: () => void }>();
      const onAbort = () =>
        finish({ failure: "aborted", message: `DNS ${type} ${name}: cancelled` });
      const finish = (r: DnsQueryResult) => {
        if (finished) return;
        finished = true;
        clearTimeout(shareTimer);
        offAbort();
        for (const a of open) a.cancel?.();
        resolve(r);
      };
      const fail = () =>
        finish(
          lastResponse ?? {
            failure: lastFailure,
            message: `DNS ${type} ${name}: no answer after ${sent} attempt(s) in ${budgetMs} ms (${
              problems.join("; ")
            })`,
          },
        );
      const giveUpIfDone = () => {
        if (!finished && waiting === 0 && sent >= attempts) fail();
      };
      const offAbort = whenAborted(signal, onAbort);
      const next = () => {
        clearTimeout(shareTimer);
        if (finished) return;
        if (this.#closed) {
          finish({ failure: "aborted", message: `DNS ${type} ${name}: cancelled` });
          return;
        }
        const left = deadline - Date.now();
        if (sent >= attempts || left <= 0) {
          // Every attempt is out: wait for those still open until the deadline.
          if (left > 0 && open.size > 0) {
            shareTimer = setTimeout(next, left);
            return;
          }
          for (const a of open) {
            problems.push(`${a.server.label}: no answer in ${Date.now() - a.at} ms`);
          }
          lastFailure = open.size ? "timeout" : lastFailure;
          fail();
          return;
        }
        const server = order[sent % order.length];
        const last = sent + 1 >= attempts;
        const share = last ? Math.max(1, left) : Math.max(1, Math.floor(left / (attempts - sent)));
        sent++;
        waiting++;
        const k = sent - 1;
        const attempt: { server: Server; at: number; cancel?: () => void } = {
          server,
          at: Date.now(),
        };
        open.add(attempt);
        let missed = false;
        const miss = () => {
          if (missed) return;
          missed = true;
          this.#missed(server, started);
        };
        // When the share runs out: the next server (the earlier attempt still counts); after
        // the last share, the query fails.
        shareTimer = setTimeout(() => {
          if (open.has(attempt)) miss();
          next();
        }, share);
        this.#ask(server, name, type, (cancel) => attempt.cancel = cancel).then((r) => {
          waiting--;
          open.delete(attempt);
          if (finished) return;
          // Only the newest attempt moves on: an older one already did when its share ran out.
          const newest = k === sent - 1;
          if ("failure" in r) {
            if (r.failure === "aborted") {
              if (this.#closed) finish(r);
              return;
            }
            lastFailure = r.failure;
            problems.push(`${server.label}: ${r.message}`);
            if (r.failure !== "bad_response") miss(); // a garbled answer is still an answer
            if (newest) next();
            giveUpIfDone();
            return;
          }
          this.#answered(server);
          if (r.rcode === "NOERROR" || r.rcode === "NXDOMAIN") {
            finish(r);
            return;
          }
          lastResponse = r;
          problems.push(`${server.label}: ${r.rcode}`);
          if (newest) next();
          giveUpIfDone();
        });
      };
      next();
    });
  }

  /** Closes the sockets; pending queries end as `aborted`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) p.resolve(new Error("client closed"));
    this.#pending.clear();
    for (const s of this.#open) s.socket.close();
    this.#open.clear();
    this.#current.clear();
  }

  /** Same as `close()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The socket the next query of `family` goes out on (counted as waiting until released). */
  #socket(family: 4 | 6): QuerySocket {
    let s = this.#current.get(family);
    if (!s || s.sent >= QUERIES_PER_SOCKET) {
      if (s && s.waiting === 0) this.#closeSocket(s);
      const qs = { family, sent: 0, waiting: 0 } as QuerySocket;
      qs.socket = openUdpSocket({
        family,
        implementation: this.#udp,
        receiveBytes: Math.max(MIN_RECEIVE_BYTES, this.#payload),
        onMessage: (msg, from) => this.#onMessage(qs, msg, from),
      });
      this.#current.set(family, qs);
      this.#open.add(qs);
      s = qs;
    }
    s.sent++;
    s.waiting++;
    return s;
  }

  /** A query on `s` ended; a replaced socket closes with its last one. */
  #release(s: QuerySocket): void {
    s.waiting--;
    if (s.waiting === 0 && this.#current.get(s.family) !== s) this.#closeSocket(s);
  }

  #closeSocket(s: QuerySocket): void {
    if (this.#open.delete(s)) s.socket.close();
  }

  #onMessage(s: QuerySocket, msg: Buffer, rinfo: UdpPeer): void {
    if (msg.length < 12) return;
    const id = msg.readUInt16BE(0);
    const p = this.#pending.get(id);
    if (!p || p.socket !== s || p.server.port !== rinfo.port || p.server.host !== rinfo.address) {
      return;
    }
    let packet: dnsPacket.Packet;
    try {
      packet = dnsPacket.decode(msg);
    } catch (err) {
      this.#pending.delete(id);
      p.resolve(new Error(`garbled answer: ${(err as Error).message}`));
      return;
    }
    const q = packet.questions?.[0];
    if (q && !sameName(q.name, p.name)) return; // not ours: keep waiting
    this.#pending.delete(id);
    p.resolve(packet);
  }

  /** An id no pending query has, from the system's secure random source (taken 256 at a time). */
  #newId(): number {
    for (let tries = 0; tries < 100; tries++) {
      if (this.#idsLeft === 0) {
        crypto.getRandomValues(this.#ids);
        this.#idsLeft = this.#ids.length;
      }
      const id = this.#ids[--this.#idsLeft];
      if (!this.#pending.has(id)) return id;
    }
    throw new Error("DNS client: too many queries in flight (65536 ids in use)");
  }

  #encode(id: number, name: string, type: DnsRecordType): Buffer {
    return dnsPacket.encode({
      type: "query",
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type, name }],
      additionals: this.#payload > 0
        ? [{ type: "OPT", name: ".", udpPayloadSize: this.#payload } as dnsPacket.Answer]
        : [],
    });
  }

  /**
   * One UDP attempt (TCP after a truncated answer). It has no timer of its own: the query's
   * budget ends it through `register`'s cancel function.
   */
  #ask(
    server: Server,
    name: string,
    type: DnsRecordType,
    register: (cancel: () => void) => void,
  ): Promise<DnsQueryResult> {
    const id = this.#newId();
    const msg = this.#encode(id, name, type);
    return new Promise<dnsPacket.Packet | Error | "aborted">((resolve) => {
      const socket = this.#socket(server.family);
      let ended = false;
      const done = (v: dnsPacket.Packet | Error | "aborted") => {
        if (ended) return;
        ended = true;
        if (this.#pending.get(id)?.resolve === pending.resolve) this.#pending.delete(id);
        if (!this.#closed) this.#release(socket);
        resolve(v);
      };
      const pending: Pending = { server, name, socket, resolve: done };
      register(() => done("aborted"));
      this.#pending.set(id, pending);
      socket.socket.send(msg, server.host, server.port).catch((err) => done(err));
    }).then(async (r): Promise<DnsQueryResult> => {
      if (r === "aborted") return { failure: "aborted", message: "cancelled" };
      if (r instanceof Error) {
        const garbled = r.message.startsWith("garbled");
        return { failure: garbled ? "bad_response" : "unreachable", message: r.message };
      }
      if (((r.flags ?? 0) & dnsPacket.TRUNCATED_RESPONSE) !== 0) {
        // Over TCP, bounded by the whole budget: the query's own timer ends it sooner.
        return await this.#askTcp(server, name, type, this.#timeoutMs);
      }
      return this.#response(r, server, false);
    });
  }

  #response(p: dnsPacket.Packet, server: Server, tcp: boolean): DnsResponse {
    return {
      rcode: rcodeOf(p),
      answers: toRecords(p.answers),
      authorities: toRecords(p.authorities),
      server: server.label,
      tcp,
    };
  }

  /** One query over a fresh TCP connection (only after a truncated UDP answer: rare). */
  #askTcp(
    server: Server,
    name: string,
    type: DnsRecordType,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<DnsQueryResult> {
    const id = this.#newId();
    const msg = this.#encode(id, name, type);
    return new Promise((resolve) => {
      let buf = Buffer.alloc(0);
      const socket = net.connect({ host: server.host, port: server.port });
      const finish = (r: DnsQueryResult) => {
        clearTimeout(timer);
        offAbort();
        socket.destroy();
        resolve(r);
      };
      const onAbort = () => finish({ failure: "aborted", message: "cancelled" });
      const timer = setTimeout(
        () => finish({ failure: "timeout", message: `no TCP answer in ${timeoutMs} ms` }),
        timeoutMs,
      );
      const offAbort = whenAborted(signal, onAbort);
      socket.on("connect", () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length);
        socket.write(Buffer.concat([len, msg]));
      });
      socket.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        try {
          const p = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          if (p.id !== id) throw new Error("answer id does not match the query");
          finish(this.#response(p, server, true));
        } catch (err) {
          finish({
            failure: "bad_response",
            message: `garbled TCP answer: ${(err as Error).message}`,
          });
        }
      });
      socket.on(
        "error",
        (err: Error & { code?: string }) =>
          finish({ failure: "unreachable", message: `TCP: ${err.code ?? err.message}` }),
      );
      socket.on(
        "close",
        () => finish({ failure: "unreachable", message: "TCP connection closed before an answer" }),
      );
    });
  }
}
