/**
 * Signals read from DNS: the domain delegated to a parking or sale service's name servers, its
 * apex or www aliased (CNAME) to one, or its addresses inside a parking service's network.
 * @module
 */
import type { DnsResult } from "@sluice/sdk/net/types.ts";
import { parsedInBlock, parseIp, SuffixIndex } from "./net_match.ts";
import type { Signatures } from "./signatures.ts";
import type { Signal } from "./types.ts";

/** The signatures' name-server and CNAME suffixes indexed by name (built once per signatures). */
interface DnsIndex {
  notParking: SuffixIndex;
  ns: SuffixIndex;
  cname: SuffixIndex;
}

const indexes = new WeakMap<Signatures, DnsIndex>();

function dnsIndex(sigs: Signatures): DnsIndex {
  let ix = indexes.get(sigs);
  if (!ix) {
    ix = {
      notParking: new SuffixIndex([sigs.notParkingNs]),
      ns: new SuffixIndex(sigs.dnsServices.map((s) => s.ns)),
      cname: new SuffixIndex(sigs.dnsServices.map((s) => s.cname)),
    };
    indexes.set(sigs, ix);
  }
  return ix;
}

/** For each service (by its place in the list), the first of `hosts` that matches it. */
function firstMatchByService(hosts: string[], index: SuffixIndex): Map<number, string> {
  const first = new Map<number, string>();
  for (const h of hosts) {
    for (const i of index.matches(h)) if (!first.has(i)) first.set(i, h);
  }
  return first;
}

/** Parking/sale DNS signals of a domain. Each is weak alone (see `decide.ts`). */
export function dnsSignals(dns: DnsResult, sigs: Signatures): Signal[] {
  const out: Signal[] = [];
  const ix = dnsIndex(sigs);
  const ns = (dns.ns ?? []).filter((n) => ix.notParking.matches(n).length === 0);
  const cnames = [...(dns.apex?.cname ?? []), ...(dns.www?.cname ?? [])];
  const nsOf = firstMatchByService(ns, ix.ns);
  const cnameOf = firstMatchByService(cnames, ix.cname);
  // Each address parsed once, not once per block of every service.
  const ips = [
    ...(dns.apex?.a ?? []),
    ...(dns.apex?.aaaa ?? []),
    ...(dns.www?.a ?? []),
    ...(dns.www?.aaaa ?? []),
  ].flatMap((ip) => {
    const p = parseIp(ip);
    return p ? [{ ip, p }] : [];
  });
  const kindOf = (status: string) => status === "for_sale" ? "sale" : "parking";
  sigs.dnsServices.forEach((svc, i) => {
    const n = nsOf.get(i);
    if (n) {
      out.push({
        id: `${kindOf(svc.status)}_ns`,
        status: svc.status,
        strength: "weak",
        evidence: `name server ${n} belongs to ${svc.service}`,
        source: svc.source,
      });
    }
    const c = cnameOf.get(i);
    if (c) {
      out.push({
        id: `${kindOf(svc.status)}_cname`,
        status: svc.status,
        strength: "weak",
        evidence: `CNAME ${c} belongs to ${svc.service}`,
        source: svc.source,
      });
    }
    for (const { ip, p } of ips) {
      const block = svc.ips.find((b) => parsedInBlock(p, b));
      if (block) {
        out.push({
          id: `${kindOf(svc.status)}_ip`,
          status: svc.status,
          strength: "weak",
          evidence: `address ${ip} is in ${block.cidr} of ${svc.service}`,
          source: svc.source,
        });
        break;
      }
    }
  });
  return out;
}
