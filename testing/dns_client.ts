/**
 * A tiny raw DNS client (`node:dgram`/`node:net` + `dns-packet`) for tests of the simulated
 * internet. It reports exactly what came back: rcode, flags, records, or a timeout.
 * @module
 */
import dgram from "node:dgram";
import net from "node:net";
import { Buffer } from "node:buffer";
import dnsPacket from "dns-packet";

/** A decoded DNS response (the subset tests look at). */
export interface DnsResponse {
  rcode: string;
  truncated: boolean;
  answers: { name: string; type: string; ttl: number; data: unknown }[];
  authorities: { name: string; type: string; ttl: number; data: unknown }[];
}

/** Options of {@link queryDns}. */
export interface QueryOptions {
  /** Use TCP instead of UDP. */
  tcp?: boolean;
  /** Give up after this many ms (default 2000) and reject with an Error named "TimeoutError". */
  timeoutMs?: number;
  /** EDNS UDP payload size to advertise (adds an OPT record). */
  ednsSize?: number;
}

/** Send one question to `server` (`ip:port`) and decode the response. */
export function queryDns(
  server: string,
  name: string,
  type: string,
  options: QueryOptions = {},
): Promise<DnsResponse> {
  const [host, portText] = server.split(":");
  const port = Number(portText);
  const id = Math.floor(Math.random() * 65535);
  const packet = dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
    additionals: options.ednsSize
      ? [{ type: "OPT", name: ".", udpPayloadSize: options.ednsSize }]
      : [],
  });
  const timeoutMs = options.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    let cleanup = () => {};
    const timer = setTimeout(() => {
      cleanup();
      const err = new Error(`no DNS answer from ${server} for ${name} ${type} in ${timeoutMs} ms`);
      err.name = "TimeoutError";
      reject(err);
    }, timeoutMs);
    const done = (msg: Buffer) => {
      clearTimeout(timer);
      cleanup();
      const r = dnsPacket.decode(msg);
      resolve({
        rcode: r.rcode,
        truncated: r.flag_tc,
        answers: r.answers ?? [],
        authorities: r.authorities ?? [],
      });
    };
    if (options.tcp) {
      const socket = net.connect(port, host);
      let buf = Buffer.alloc(0);
      cleanup = () => socket.destroy();
      socket.on("connect", () => {
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(packet.length);
        socket.write(Buffer.concat([prefix, packet]));
      });
      socket.on("data", (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        }
      });
      socket.on("error", (err) => {
        clearTimeout(timer);
        cleanup();
        reject(err);
      });
    } else {
      const socket = dgram.createSocket("udp4");
      cleanup = () => socket.close();
      socket.on("message", (msg: Buffer) => done(msg));
      socket.on("error", (err) => {
        clearTimeout(timer);
        cleanup();
        reject(err);
      });
      socket.send(packet, port, host);
    }
  });
}
