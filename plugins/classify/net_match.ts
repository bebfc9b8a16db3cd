/**
 * Small matching helpers: host-name suffixes, CIDR blocks, registrable domains.
 * @module
 */
import { getDomain } from "tldts";

/** True when `host` equals `suffix` or ends with `.suffix` (both lower case, no trailing dot). */
export function hostMatches(host: string, suffix: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return h === suffix || h.endsWith("." + suffix);
}

/** `host` (lower case, no trailing dot) and each parent name of it: `a.b.c`, `b.c`, `c`. */
export function hostSuffixes(host: string): string[] {
  const h = host.toLowerCase().replace(/\.$/, "");
  const out = [h];
  for (let dot = h.indexOf("."); dot >= 0; dot = h.indexOf(".", dot + 1)) {
    out.push(h.slice(dot + 1));
  }
  return out;
}

/**
 * Host-name suffixes (as {@linkcode hostMatches} takes them) indexed by name: which entries of a
 * list a host matches is a few map lookups (one per label of the host), not one comparison per
 * entry. Entries are numbered by their place in the list given.
 */
export class SuffixIndex {
  #at = new Map<string, number[]>();

  /** @param lists each entry's suffixes (an entry matches when any of its suffixes does). */
  constructor(lists: readonly (readonly string[])[]) {
    lists.forEach((suffixes, i) => {
      for (const s of suffixes) {
        const at = this.#at.get(s);
        if (!at) this.#at.set(s, [i]);
        else if (at.at(-1) !== i) at.push(i);
      }
    });
  }

  /** The entries `host` matches, in list order. */
  matches(host: string): number[] {
    const found: number[] = [];
    for (const s of hostSuffixes(host)) {
      const at = this.#at.get(s);
      if (at) found.push(...at);
    }
    return found.length > 1 ? [...new Set(found)].sort((a, b) => a - b) : found;
  }
}

function parseV4(ip: string): bigint | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(ip: string): bigint | undefined {
  if (!/^[0-9a-f:.]+$/i.test(ip) || ip.split("::").length > 2) return undefined;
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const groups = (s: string) => (s ? s.split(":") : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...h, ...Array(tail === undefined ? 0 : missing).fill("0"), ...t];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return n;
}

/** Parses an IPv4 or IPv6 address to a number; undefined when it is not one. */
export function parseIp(ip: string): { value: bigint; v6: boolean } | undefined {
  const v4 = parseV4(ip);
  if (v4 !== undefined) return { value: v4, v6: false };
  const v6 = parseV6(ip);
  return v6 === undefined ? undefined : { value: v6, v6: true };
}

/** Parses `a.b.c.d/n` or `x:y::/n`; undefined when malformed. */
export function parseCidr(cidr: string): { net: bigint; bits: number; v6: boolean } | undefined {
  const [addr, len] = cidr.split("/");
  const ip = parseIp(addr);
  if (!ip || !/^\d{1,3}$/.test(len ?? "")) return undefined;
  const bits = Number(len);
  if (bits > (ip.v6 ? 128 : 32)) return undefined;
  return { net: ip.value, bits, v6: ip.v6 };
}

/** True when `ip` lies in the block. */
export function ipInBlock(ip: string, block: { net: bigint; bits: number; v6: boolean }): boolean {
  const p = parseIp(ip);
  return p !== undefined && parsedInBlock(p, block);
}

/** {@linkcode ipInBlock} for an address parsed once with {@linkcode parseIp}. */
export function parsedInBlock(
  p: { value: bigint; v6: boolean },
  block: { net: bigint; bits: number; v6: boolean },
): boolean {
  if (p.v6 !== block.v6) return false;
  const shift = BigInt((block.v6 ? 128 : 32) - block.bits);
  return (p.value >> shift) === (block.net >> shift);
}

/** Registrable domain (eTLD+1) of a host, lower case; the host itself when it has none. */
export function registrableDomain(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, "");
  return getDomain(h, { allowPrivateDomains: false }) ?? h;
}
