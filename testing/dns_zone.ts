/**
 * Zone data and answer computation for the loopback DNS server: plain data in, a DNS answer
 * (rcode, answer and authority records) out. No sockets here, so it is easy to test and reuse.
 * @module
 */
import { Buffer } from "node:buffer";
import { getPublicSuffix, parse } from "tldts";

/** SOA record data. */
export interface SoaData {
  mname: string;
  rname: string;
  serial?: number;
  refresh?: number;
  retry?: number;
  expire?: number;
  minimum?: number;
}

/** One MX record. `exchange: "."` with preference 0 is a null MX (RFC 7505). */
export interface MxData {
  preference: number;
  exchange: string;
}

/** What the server does for one name instead of (or before) answering normally. */
export type DnsBehaviour =
  | "servfail"
  | "refused"
  | "drop"
  | "truncate"
  | { slowMs: number };

/** The records of one owner name. A name present with no records answers NODATA. */
export interface NameRecords {
  A?: string[];
  AAAA?: string[];
  /** A name with a CNAME should have no other data (as in real DNS). */
  CNAME?: string;
  NS?: string[];
  MX?: MxData[];
  /** Each string is one TXT record; strings over 255 bytes are split into chunks. */
  TXT?: string[];
  SOA?: SoaData;
  /** TTL for this name's records (default 300). */
  ttl?: number;
  /** Misbehaviour applied whenever this exact name is queried. */
  behaviour?: DnsBehaviour;
}

/** Zone data: owner name (any case, with or without trailing dot; `*.x.com` wildcards) -> records. */
export type ZoneData = Record<string, NameRecords> | Map<string, NameRecords>;

/** One resource record as `dns-packet` encodes it. */
export interface DnsRecord {
  name: string;
  type: string;
  ttl: number;
  class?: "IN";
  data: unknown;
}

/** A computed answer. */
export interface DnsAnswer {
  rcode: "NOERROR" | "NXDOMAIN" | "SERVFAIL" | "REFUSED";
  answers: DnsRecord[];
  authorities: DnsRecord[];
  /** Set when a behaviour (drop, slow, truncate) changes how the answer is sent. */
  behaviour?: DnsBehaviour;
}

/** A custom answer function: return undefined to fall back to the zone data. */
export type DnsResolverFn = (name: string, type: string) => DnsAnswer | undefined;

/** Lower-case, no trailing dot. */
export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith(".") ? n.slice(0, -1) : n;
}

const MAX_CNAME_HOPS = 8;

/** Mutable zone store with lookup that mimics a recursive resolver's view of the answer. */
export class Zone {
  #names = new Map<string, NameRecords>();

  /** Create from initial data. */
  constructor(data?: ZoneData) {
    if (!data) return;
    const entries = data instanceof Map ? data.entries() : Object.entries(data);
    for (const [name, records] of entries) this.set(name, records);
  }

  /** Number of owner names. */
  get size(): number {
    return this.#names.size;
  }

  /** Replace all records of `name`. */
  set(name: string, records: NameRecords): void {
    this.#names.set(canonicalName(name), records);
  }

  /** Records of `name` exactly as stored (no wildcard), or undefined. */
  get(name: string): NameRecords | undefined {
    return this.#names.get(canonicalName(name));
  }

  /** Delete `name`; afterwards it answers NXDOMAIN. Returns whether it existed. */
  remove(name: string): boolean {
    return this.#names.delete(canonicalName(name));
  }

  /** Set or clear (undefined) the behaviour of `name`, creating the name if needed. */
  setBehaviour(name: string, behaviour: DnsBehaviour | undefined): void {
    const key = canonicalName(name);
    const current = this.#names.get(key) ?? {};
    this.#names.set(key, { ...current, behaviour });
  }

  /** Find the records of a name, honouring `*.parent` wildcards. */
  find(name: string): NameRecords | undefined {
    const exact = this.#names.get(name);
    if (exact) return exact;
    let dot = name.indexOf(".");
    while (dot >= 0) {
      const wild = this.#names.get("*" + name.slice(dot));
      if (wild) return wild;
      dot = name.indexOf(".", dot + 1);
    }
    return undefined;
  }

  /** SOA for the authority section: the closest enclosing name with an SOA, else the suffix's. */
  soaFor(name: string): DnsRecord {
    let at = name;
    while (at) {
      const soa = this.#names.get(at)?.SOA;
      if (soa) return soaRecord(at, soa, this.#names.get(at)?.ttl);
      const dot = at.indexOf(".");
      if (dot < 0) break;
      at = at.slice(dot + 1);
    }
    const suffix = getPublicSuffix(name, { allowPrivateDomains: false }) ?? name.split(".").pop()!;
    return soaRecord(suffix, {
      mname: `a.nic.${suffix}`,
      rname: `hostmaster.nic.${suffix}`,
    }, 900);
  }

  /** Compute the answer for one question. */
  answer(qname: string, qtype: string): DnsAnswer {
    const name = canonicalName(qname);
    const type = qtype.toUpperCase();
    const first = this.find(name);
    const behaviour = first?.behaviour;
    if (behaviour === "servfail") return { rcode: "SERVFAIL", answers: [], authorities: [] };
    if (behaviour === "refused") return { rcode: "REFUSED", answers: [], authorities: [] };
    if (!first && isKnownSuffix(name)) {
      // A top-level domain or other public suffix (`com`, `co.uk`, `github.io`) exists, as on
      // the internet: its SOA, or no data for other types.
      const soa = this.soaFor(name);
      return type === "SOA" || type === "ANY"
        ? { rcode: "NOERROR", answers: [soa], authorities: [] }
        : { rcode: "NOERROR", answers: [], authorities: [soa] };
    }
    const answers: DnsRecord[] = [];
    let current = name;
    let records = first;
    for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
      if (!records) {
        return { rcode: "NXDOMAIN", answers, authorities: [this.soaFor(current)], behaviour };
      }
      const ttl = records.ttl ?? 300;
      if (records.CNAME && type !== "CNAME" && type !== "ANY") {
        answers.push({ name: current, type: "CNAME", ttl, class: "IN", data: records.CNAME });
        current = canonicalName(records.CNAME);
        records = this.find(current);
        continue;
      }
      const own = recordsOfType(current, records, type);
      if (own.length === 0 && answers.length === 0) {
        return { rcode: "NOERROR", answers, authorities: [this.soaFor(current)], behaviour };
      }
      answers.push(...own);
      return { rcode: "NOERROR", answers, authorities: [], behaviour };
    }
    return { rcode: "SERVFAIL", answers: [], authorities: [], behaviour };
  }
}

/**
 * True for a name that is itself a suffix of the Public Suffix List (ICANN or private), or one of
 * the top-level domains reserved for testing (`test`, `example`, RFC 2606), which the simulated
 * internet serves like real ones.
 */
function isKnownSuffix(name: string): boolean {
  if (name === "test" || name === "example") return true;
  const p = parse(name, { allowPrivateDomains: true });
  return p.publicSuffix === name && (p.isIcann === true || p.isPrivate === true);
}

function soaRecord(name: string, soa: SoaData, ttl = 300): DnsRecord {
  return {
    name,
    type: "SOA",
    ttl,
    class: "IN",
    data: {
      mname: soa.mname,
      rname: soa.rname,
      serial: soa.serial ?? 2024010101,
      refresh: soa.refresh ?? 7200,
      retry: soa.retry ?? 3600,
      expire: soa.expire ?? 1209600,
      minimum: soa.minimum ?? 300,
    },
  };
}

function txtChunks(text: string): Buffer[] {
  const bytes = Buffer.from(text, "utf8");
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 255) chunks.push(bytes.subarray(i, i + 255));
  return chunks.length ? chunks : [Buffer.alloc(0)];
}

function recordsOfType(name: string, r: NameRecords, type: string): DnsRecord[] {
  const ttl = r.ttl ?? 300;
  const make = (t: string, data: unknown): DnsRecord => ({ name, type: t, ttl, class: "IN", data });
  const any = type === "ANY";
  const out: DnsRecord[] = [];
  if (any || type === "A") { for (const a of r.A ?? []) out.push(make("A", a)); }
  if (any || type === "AAAA") { for (const a of r.AAAA ?? []) out.push(make("AAAA", a)); }
  if ((any || type === "CNAME") && r.CNAME) out.push(make("CNAME", r.CNAME));
  if (any || type === "NS") { for (const ns of r.NS ?? []) out.push(make("NS", ns)); }
  if (any || type === "MX") {
    for (const mx of r.MX ?? []) out.push(make("MX", { ...mx }));
  }
  if (any || type === "TXT") { for (const t of r.TXT ?? []) out.push(make("TXT", txtChunks(t))); }
  if ((any || type === "SOA") && r.SOA) out.push(soaRecord(name, r.SOA, ttl));
  return out;
}
