/**
 * IP address checks for network plugins: which addresses are public and which are private,
 * loopback, link-local, multicast or otherwise reserved, so a hostile domain list cannot turn a
 * prober against the operator's own network. Pure functions, no I/O.
 * @module
 */

/** What kind of address an IP is. Only `public` may be connected to by default. */
export type AddressClass =
  | "public"
  | "private"
  | "loopback"
  | "link_local"
  | "multicast"
  | "unspecified"
  | "reserved"
  | "invalid";

/** Parses dotted-quad IPv4 into a 32-bit unsigned number, or undefined when malformed. */
export function parseIPv4(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255 || (p.length > 1 && p[0] === "0")) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** Parses an IPv6 address (zone id and embedded IPv4 allowed) into 8 16-bit groups. */
export function parseIPv6(ip: string): number[] | undefined {
  let s = ip;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(":")) return undefined;
  const lastColon = s.lastIndexOf(":");
  const last = s.slice(lastColon + 1);
  if (last.includes(".")) {
    const v4 = parseIPv4(last);
    if (v4 === undefined) return undefined;
    s = s.slice(0, lastColon + 1) + (v4 >>> 16).toString(16) + ":" + (v4 & 0xffff).toString(16);
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string) => part === "" ? [] : part.split(":");
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const groups: number[] = [];
  for (const g of [...head, ...rest]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(parseInt(g, 16));
  }
  if (halves.length === 1) return groups.length === 8 ? groups : undefined;
  if (groups.length >= 8) return undefined;
  const zeros = new Array(8 - groups.length).fill(0);
  return [...groups.slice(0, head.length), ...zeros, ...groups.slice(head.length)];
}

/** [network, prefix length, class] for IPv4. */
const V4_RANGES: [string, number, AddressClass][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "private"], // carrier-grade NAT
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link_local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"], // IETF protocol assignments
  ["192.0.2.0", 24, "reserved"], // documentation
  ["192.88.99.0", 24, "reserved"], // 6to4 relay anycast
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "reserved"], // benchmarking
  ["198.51.100.0", 24, "reserved"], // documentation
  ["203.0.113.0", 24, "reserved"], // documentation
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"], // incl. broadcast
];

const V4_TABLE = V4_RANGES.map(([net, len, cls]) => {
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { net: (parseIPv4(net)! & mask) >>> 0, mask, cls };
});

function classifyV4(n: number): AddressClass {
  for (const r of V4_TABLE) if (((n & r.mask) >>> 0) === r.net) return r.cls;
  return "public";
}

function classifyV6(g: number[]): AddressClass {
  const zeroUpTo = (k: number) => g.slice(0, k).every((x) => x === 0);
  if (zeroUpTo(8)) return "unspecified";
  if (zeroUpTo(7) && g[7] === 1) return "loopback";
  const v4 = (hi: number, lo: number) => classifyV4(((hi << 16) >>> 0) + lo);
  if (zeroUpTo(5) && g[5] === 0xffff) return v4(g[6], g[7]); // IPv4-mapped
  if (zeroUpTo(6)) return "reserved"; // IPv4-compatible (deprecated)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return v4(g[6], g[7]); // NAT64 well-known prefix
  }
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return "private"; // local-use NAT64
  if (g[0] === 0x100 && g[1] === 0 && g[2] === 0 && g[3] === 0) return "reserved"; // discard
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "reserved"; // documentation
  if (g[0] === 0x2001 && (g[1] & 0xfff0) === 0x0010) return "reserved"; // ORCHID
  if (g[0] === 0x2002) return v4(g[1], g[2]); // 6to4 embeds the IPv4 address
  if ((g[0] & 0xfe00) === 0xfc00) return "private"; // unique local
  if ((g[0] & 0xffc0) === 0xfe80) return "link_local";
  if ((g[0] & 0xffc0) === 0xfec0) return "private"; // site-local (deprecated)
  if ((g[0] & 0xff00) === 0xff00) return "multicast";
  if ((g[0] & 0xe000) !== 0x2000) return "reserved"; // outside global unicast 2000::/3
  return "public";
}

/** Classifies an IPv4 or IPv6 address (text form). */
export function classifyAddress(ip: string): AddressClass {
  const v4 = parseIPv4(ip);
  if (v4 !== undefined) return classifyV4(v4);
  const v6 = parseIPv6(ip);
  if (v6 !== undefined) return classifyV6(v6);
  return "invalid";
}

/** True when `ip` is a valid, globally routable unicast address. */
export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip) === "public";
}

/** IP family of a textual address: 4, 6, or 0 when it is not an IP address. */
export function ipFamily(ip: string): 0 | 4 | 6 {
  if (parseIPv4(ip) !== undefined) return 4;
  if (parseIPv6(ip) !== undefined) return 6;
  return 0;
}

/**
 * Whether a prober may connect to `ip`: public addresses always, others only when
 * `allowPrivate` is set (never an invalid address).
 */
export function mayConnect(ip: string, allowPrivate: boolean): boolean {
  const cls = classifyAddress(ip);
  if (cls === "invalid") return false;
  return cls === "public" || allowPrivate;
}
