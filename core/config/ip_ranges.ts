/**
 * IP addresses and CIDR ranges (IPv4 and IPv6) as settings take them, e.g. the reverse proxies
 * of `server.trustedProxies`: parse `10.0.0.0/8`, `::1` or `fd00::/8`, test an address against a
 * set of ranges, and write an address in one canonical form (IPv4-mapped IPv6 as IPv4, IPv6
 * compressed and in lower case). Pure functions, no I/O.
 *
 * ```ts
 * const proxies = IpRanges.parse(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]);
 * proxies.has("10.1.2.3"); // true
 * proxies.has("::ffff:10.1.2.3"); // true: an IPv4-mapped peer of a dual-stack socket
 * ```
 * @module
 */
import { parseIPv4, parseIPv6 } from "../../sdk/net/address.ts";

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = Uint8Array;

/**
 * Parses an IPv4 or IPv6 address (an IPv6 one may be in brackets and carry a zone id, which is
 * dropped) to its bytes; an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) gives the IPv4 bytes.
 * Returns undefined for anything else.
 */
export function parseIp(text: string): IpBytes | undefined {
  const s = text.trim();
  const v4 = parseIPv4(s);
  if (v4 !== undefined) {
    return new Uint8Array([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]);
  }
  const g = parseIPv6(s);
  if (g === undefined) return undefined;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return new Uint8Array([g[6] >>> 8, g[6] & 255, g[7] >>> 8, g[7] & 255]);
  }
  return new Uint8Array(g.flatMap((x) => [x >>> 8, x & 255]));
}

/** Writes address bytes as text: dotted IPv4, or IPv6 in the RFC 5952 form (`2001:db8::1`). */
export function formatIp(bytes: IpBytes): string {
  if (bytes.length === 4) return bytes.join(".");
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push((bytes[i] << 8) | bytes[i + 1]);
  // The longest run of two or more zero groups (the first of equal runs) becomes `::`.
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (part: number[]) => part.map((x) => x.toString(16)).join(":");
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** The canonical text of an address ({@link formatIp} of {@link parseIp}), or undefined. */
export function normalizeIp(text: string): string | undefined {
  const bytes = parseIp(text);
  return bytes && formatIp(bytes);
}

/** One range: the network's bytes (host bits cleared) and the prefix length in bits. */
export interface IpRange {
  readonly bytes: IpBytes;
  readonly prefix: number;
}

/**
 * Parses `ADDRESS` or `ADDRESS/PREFIX` (IPv4 prefix 0–32, IPv6 0–128). Host bits below the
 * prefix are ignored (`192.168.1.7/24` is `192.168.1.0/24`); an IPv4-mapped IPv6 range
 * (`::ffff:10.0.0.0/104`) is taken as its IPv4 range. Returns undefined when malformed.
 */
export function parseIpRange(text: string): IpRange | undefined {
  const s = text.trim();
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  if (addr.includes("%")) return undefined; // a zone id names an interface, not a range
  const bytes = parseIp(addr);
  if (!bytes) return undefined;
  const bits = bytes.length * 8;
  let prefix = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    const mapped = parseIPv4(addr) === undefined && bytes.length === 4;
    if (mapped) {
      if (prefix < 96 || prefix > 128) return undefined;
      prefix -= 96;
    }
    if (prefix > bits) return undefined;
  }
  const net = bytes.slice();
  for (let i = 0; i < net.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    net[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return { bytes: net, prefix };
}

/** Whether `bytes` lies in `range` (an IPv4 address never lies in an IPv6 range, and back). */
export function inRange(bytes: IpBytes, range: IpRange): boolean {
  if (bytes.length !== range.bytes.length) return false;
  for (let i = 0; i * 8 < range.prefix; i++) {
    const keep = Math.min(8, range.prefix - i * 8);
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((bytes[i] & mask) !== range.bytes[i]) return false;
  }
  return true;
}

/** A set of IP ranges, e.g. the trusted reverse proxies. */
export class IpRanges {
  /** The ranges, in the order given. */
  readonly ranges: readonly IpRange[];

  /** A set over ranges already parsed. */
  constructor(ranges: readonly IpRange[]) {
    this.ranges = ranges;
  }

  /**
   * Parses each entry with {@link parseIpRange}.
   * @throws {RangeError} naming the first entry that is not an IP address or CIDR range.
   */
  static parse(entries: readonly string[]): IpRanges {
    return new IpRanges(entries.map((entry) => {
      const range = parseIpRange(entry);
      if (!range) {
        throw new RangeError(
          `${JSON.stringify(entry)} is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)`,
        );
      }
      return range;
    }));
  }

  /** True when there are no ranges. */
  get empty(): boolean {
    return this.ranges.length === 0;
  }

  /** Whether the address (text or bytes) lies in one of the ranges; false when not an address. */
  has(address: string | IpBytes): boolean {
    const bytes = typeof address === "string" ? parseIp(address) : address;
    return bytes !== undefined && this.ranges.some((r) => inRange(bytes, r));
  }
}
