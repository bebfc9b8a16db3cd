/**
 * Name lookups built on {@linkcode DnsClient}: the address records of one host
 * ({@linkcode lookupHost}) and the whole DNS picture of a domain ({@linkcode lookupDomain}),
 * shaped as the `item.dns` JSON of `sdk/net/types.ts`.
 * @module
 */
import { Buffer } from "node:buffer";
import { type DnsClient, type DnsQueryResult, isDnsFailure } from "./dns_client.ts";
import type { DnsResult, DnsStatus, HostRecords, MxRecord } from "./types.ts";

const bare = (name: string) => name.toLowerCase().replace(/\.$/, "");

/** Maps one query result to a status and reason. */
export function statusOf(r: DnsQueryResult): { status: DnsStatus; reason?: string } {
  if (isDnsFailure(r)) return { status: "unknown", reason: `${r.failure}: ${r.message}` };
  switch (r.rcode) {
    case "NOERROR":
      return { status: "ok" };
    case "NXDOMAIN":
      return { status: "nxdomain", reason: `NXDOMAIN from ${r.server}` };
    case "SERVFAIL":
      return { status: "servfail", reason: `SERVFAIL from ${r.server}` };
    case "REFUSED":
      return { status: "refused", reason: `REFUSED from ${r.server}` };
    default:
      return { status: "unknown", reason: `unexpected rcode ${r.rcode} from ${r.server}` };
  }
}

/** Ranks statuses when two queries for one name disagree: a definite answer beats a failure. */
const RANK: Record<DnsStatus, number> = {
  ok: 4,
  nxdomain: 3,
  servfail: 2,
  refused: 1,
  unknown: 0,
};

function recordsOf(r: DnsQueryResult, type: string): unknown[] {
  if (isDnsFailure(r) || r.rcode !== "NOERROR") return [];
  return r.answers.filter((a) => a.type === type).map((a) => a.data);
}

/** The alias chain, also from an NXDOMAIN answer: a dangling CNAME still shows where it points. */
function cnameChain(r: DnsQueryResult): string[] {
  if (isDnsFailure(r) || (r.rcode !== "NOERROR" && r.rcode !== "NXDOMAIN")) return [];
  return r.answers.filter((a) => a.type === "CNAME").map((a) => bare(String(a.data)));
}

/** A status that is no answer about the name: our failure, or the resolver's (SERVFAIL, REFUSED). */
const failed = (status: DnsStatus) => status !== "ok" && status !== "nxdomain";

/** {@linkcode HostRecords} and whether a resolver said the name exists (one NOERROR). */
async function hostLookup(
  client: DnsClient,
  host: string,
  signal?: AbortSignal,
): Promise<{ records: HostRecords; exists: boolean }> {
  const [a, aaaa] = await Promise.all([
    client.query(host, "A", signal),
    client.query(host, "AAAA", signal),
  ]);
  const sa = statusOf(a);
  const s6 = statusOf(aaaa);
  const chainA = cnameChain(a);
  const out: HostRecords = {
    status: "ok",
    a: recordsOf(a, "A").map(String),
    aaaa: recordsOf(aaaa, "AAAA").map(String),
    cname: chainA.length ? chainA : cnameChain(aaaa),
  };
  const bad = ([["A", sa], ["AAAA", s6]] as const).filter(([, s]) => failed(s.status));
  const exists = sa.status === "ok" || s6.status === "ok";
  if (bad.length === 1 && exists) {
    // One query answered, the other failed: the answer alone says nothing about the other type.
    const [type, s] = bad[0];
    const other = type === "A" ? "AAAA" : "A";
    const why = `${type} query failed (${s.reason ?? s.status})`;
    if (out.a.length || out.aaaa.length) {
      out.reason = why;
    } else {
      // No address so far, but the failed query may have one: no verdict about the address.
      out.status = s.status;
      out.reason = `${why}; ${other} answered no address`;
    }
  } else {
    // Both answered, or both failed: a definite answer beats a failure.
    const best = RANK[sa.status] >= RANK[s6.status] ? sa : s6;
    out.status = best.status;
    if (best.reason) out.reason = best.reason;
  }
  if (bad.length) out.failed = bad.map(([type]) => type);
  return { records: out, exists };
}

/**
 * Queries A and AAAA of `host` in parallel and merges them into {@linkcode HostRecords}. When one
 * query failed (timeout, SERVFAIL, REFUSED) it is listed in `failed`; if the other found no
 * address either, the status is that failure, never a definite `ok` without addresses.
 */
export async function lookupHost(
  client: DnsClient,
  host: string,
  signal?: AbortSignal,
): Promise<HostRecords> {
  return (await hostLookup(client, host, signal)).records;
}

/** What {@linkcode lookupDomain} asks for besides the apex addresses (all default true). */
export interface DomainLookupOptions {
  www?: boolean;
  ns?: boolean;
  mx?: boolean;
  txt?: boolean;
  signal?: AbortSignal;
}

const EMPTY_HOST = (status: DnsStatus, reason?: string): HostRecords => ({
  status,
  ...(reason ? { reason } : {}),
  a: [],
  aaaa: [],
  cname: [],
});

/** Joins the character-strings of one TXT record. */
function txtText(data: unknown): string {
  if (Array.isArray(data)) {
    return data.map((d) => typeof d === "string" ? d : Buffer.from(d).toString("utf8")).join("");
  }
  if (data instanceof Uint8Array) return Buffer.from(data).toString("utf8");
  return String(data);
}

/**
 * The DNS picture of `domain`: apex A/AAAA first; when the apex exists, www A/AAAA, NS, MX and TXT
 * in parallel. A nonexistent or failing apex skips the rest (the status says why). The apex
 * exists when either address query answered NOERROR: `status` is then `ok` even if the other
 * failed (`apex.failed`, `partial`).
 */
export async function lookupDomain(
  client: DnsClient,
  domain: string,
  options: DomainLookupOptions = {},
): Promise<DnsResult> {
  const signal = options.signal;
  const { records: apex, exists } = await hostLookup(client, domain, signal);
  const status = exists ? "ok" : apex.status;
  const result: DnsResult = {
    status,
    apex,
    www: EMPTY_HOST(status === "ok" ? "unknown" : status, "not asked"),
    ns: [],
    mx: [],
    txt: [],
  };
  if (status !== "ok") {
    if (apex.reason) result.reason = apex.reason;
    result.www = EMPTY_HOST(status, "apex lookup failed: www not asked");
    return result;
  }
  const skip = Promise.resolve(undefined);
  const [www, ns, mx, txt] = await Promise.all([
    options.www === false ? skip : lookupHost(client, `www.${domain}`, signal),
    options.ns === false ? skip : client.query(domain, "NS", signal),
    options.mx === false ? skip : client.query(domain, "MX", signal),
    options.txt === false ? skip : client.query(domain, "TXT", signal),
  ]);
  let partial = Boolean(apex.failed);
  if (www) {
    result.www = www;
    if (www.failed || www.status === "unknown") partial = true;
  }
  if (ns) {
    result.ns = recordsOf(ns, "NS").map((d) => bare(String(d))).sort();
    if (statusOf(ns).status === "unknown") partial = true;
  }
  if (mx) {
    result.mx = (recordsOf(mx, "MX") as { preference?: number; exchange?: string }[])
      .map((d): MxRecord => ({
        priority: d.preference ?? 0,
        exchange: d.exchange === "." || d.exchange === "" ? "." : bare(d.exchange ?? ""),
      }))
      .sort((x, y) => x.priority - y.priority || x.exchange.localeCompare(y.exchange));
    if (statusOf(mx).status === "unknown") partial = true;
  }
  if (txt) {
    result.txt = recordsOf(txt, "TXT").map(txtText);
    if (statusOf(txt).status === "unknown") partial = true;
  }
  if (partial) result.partial = true;
  return result;
}
