/**
 * A real DNS server on loopback (UDP and TCP on the same port) that answers from {@link Zone}
 * data like a recursive resolver would: CNAME chains followed, NXDOMAIN and NODATA with the SOA
 * in the authority section, and per-name misbehaviour (servfail, refused, slow, drop, truncate).
 * @module
 */
import net, { isIP } from "node:net";
import { Buffer } from "node:buffer";
import dnsPacket from "dns-packet";
import {
  type DnsAnswer,
  type DnsBehaviour,
  type DnsResolverFn,
  type NameRecords,
  Zone,
  type ZoneData,
} from "./dns_zone.ts";
import { openUdpSocket, type UdpSocket } from "../sdk/net/udp_socket.ts";

export type {
  DnsAnswer,
  DnsBehaviour,
  DnsRecord,
  DnsResolverFn,
  MxData,
  NameRecords,
  SoaData,
  ZoneData,
} from "./dns_zone.ts";

/** Options of {@link startDnsServer}. */
export interface DnsServerOptions {
  /** Zone data, or a function answering questions (undefined from it falls back to `zoneData`). */
  zones: ZoneData | DnsResolverFn;
  /** Extra zone data used when `zones` is a function. */
  zoneData?: ZoneData;
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
  /** Port to bind (default 0: any free port, the same one for UDP and TCP). */
  port?: number;
  /** Called with the sender of every UDP query (tests of the client's source ports). */
  onUdpQuery?: (from: { address: string; port: number }) => void;
}

/** A running DNS server. */
export interface DnsServer {
  /** `ip:port`, the value for `SLUICE_DNS_SERVERS`. */
  readonly address: string;
  /** Bound IP. */
  readonly hostname: string;
  /** Bound port (UDP and TCP). */
  readonly port: number;
  /** Questions received so far (UDP and TCP). */
  readonly queries: number;
  /** The zone, for direct inspection or bulk changes. */
  readonly zone: Zone;
  /** Replace the records of `name`. */
  setRecord(name: string, records: NameRecords): void;
  /** Remove `name` so it answers NXDOMAIN. */
  removeName(name: string): void;
  /** Set (or clear with undefined) the misbehaviour of `name`. */
  setBehaviour(name: string, behaviour: DnsBehaviour | undefined): void;
  /** Stop both listeners and cancel pending slow answers. */
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const UDP_LIMIT = 512;

interface Question {
  name: string;
  type: string;
}

interface Decoded {
  id: number;
  flags?: number;
  questions?: Question[];
  additionals?: { type: string; udpPayloadSize?: number }[];
}

function encode(query: Decoded, answer: DnsAnswer, truncated: boolean): Buffer {
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  let flags = rd | dnsPacket.RECURSION_AVAILABLE | RCODE[answer.rcode];
  if (truncated) flags |= dnsPacket.TRUNCATED_RESPONSE;
  return dnsPacket.encode({
    type: "response",
    id: query.id,
    flags,
    questions: query.questions ?? [],
    answers: truncated ? [] : answer.answers,
    authorities: truncated ? [] : answer.authorities,
  });
}

/** Start a DNS server on UDP and TCP (same port). Stop it with `close()`. */
export async function startDnsServer(options: DnsServerOptions): Promise<DnsServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const custom = typeof options.zones === "function" ? options.zones : undefined;
  const zone = new Zone(custom ? options.zoneData : options.zones as ZoneData);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const sockets = new Set<net.Socket>();
  let queries = 0;
  let closed = false;

  const answerFor = (q: Decoded): DnsAnswer | "formerr" => {
    const question = q.questions?.[0];
    if (!question) return "formerr";
    return custom?.(question.name, question.type) ?? zone.answer(question.name, question.type);
  };

  /** Handles one query; calls `send` zero or one time (drop never answers). */
  const handle = (msg: Buffer, tcp: boolean, send: (b: Buffer) => void) => {
    let q: Decoded;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return; // not DNS: ignore, as servers do
    }
    queries++;
    const ans = answerFor(q);
    if (ans === "formerr") {
      send(dnsPacket.encode({ type: "response", id: q.id, flags: 1, questions: [] }));
      return;
    }
    const b = ans.behaviour;
    if (b === "drop") return;
    const reply = () => {
      if (closed) return;
      let full: Buffer;
      try {
        full = encode(q, ans, false);
      } catch (err) {
        // Bad zone data (e.g. an invalid IP): answer SERVFAIL and say why on stderr.
        console.error(
          `DNS test server: cannot encode the answer for ${q.questions?.[0]?.name}:`,
          err,
        );
        send(encode(q, { rcode: "SERVFAIL", answers: [], authorities: [] }, false));
        return;
      }
      const edns = q.additionals?.find((a) => a.type === "OPT")?.udpPayloadSize ?? 0;
      const limit = Math.max(UDP_LIMIT, edns);
      const truncate = !tcp && (b === "truncate" || full.length > limit);
      send(truncate ? encode(q, ans, true) : full);
    };
    if (b && typeof b === "object") {
      const t = setTimeout(() => {
        timers.delete(t);
        reply();
      }, b.slowMs);
      timers.add(t);
    } else reply();
  };

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    let buf = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        handle(msg, true, (out) => {
          if (socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(out.length);
          socket.write(Buffer.concat([prefix, out]));
        });
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => sockets.delete(socket));
  });

  // UDP binds first (port 0 picks a free one), then TCP takes the same number; when that TCP
  // port is in use, a fresh UDP socket tries again.
  let udp: UdpSocket | undefined;
  let port = 0;
  for (let attempt = 1; !udp; attempt++) {
    // Queries are small (the size matters for node:dgram only: see udp_socket.ts).
    const sock: UdpSocket = openUdpSocket({
      family: isIP(hostname) === 6 ? 6 : 4,
      hostname,
      port: options.port ?? 0,
      receiveBytes: 4096,
      onMessage: (msg, from) => {
        options.onUdpQuery?.(from);
        handle(msg, false, (out) => {
          if (!closed) sock.send(out, from.address, from.port).catch(() => {});
        });
      },
    });
    await sock.bound;
    port = sock.port;
    try {
      await listenOnce(tcp, (done) => tcp.listen(port, hostname, done));
      udp = sock;
    } catch (err) {
      sock.close();
      if (options.port || attempt >= 20) {
        throw new Error(
          `DNS test server: cannot listen on TCP ${hostname}:${port} (${
            (err as Error).message
          }); ` +
            "free the port or pass port 0",
        );
      }
    }
  }
  const udpSocket = udp;

  return {
    address: `${hostname}:${port}`,
    hostname,
    port,
    get queries() {
      return queries;
    },
    zone,
    setRecord: (name, records) => zone.set(name, records),
    removeName: (name) => void zone.remove(name),
    setBehaviour: (name, behaviour) => zone.setBehaviour(name, behaviour),
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      udpSocket.close();
      await Promise.all([
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

function listenOnce(
  target: {
    once(e: "error", f: (e: Error) => void): unknown;
    off(e: "error", f: (e: Error) => void): unknown;
  },
  start: (done: () => void) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    target.once("error", reject);
    start(() => {
      target.off("error", reject);
      resolve();
    });
  });
}
