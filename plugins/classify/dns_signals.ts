/**
 * Signals read from DNS: the domain delegated to a parking or sale service's name servers, its
 * apex or www aliased (CNAME) to one, or its addresses inside a parking service's network.
 * @module
 */
import type { DnsResult } from "@sluice/sdk/net/types.ts";
import { hostMatches, parsedInBlock, parseIp } from "./net_match.ts";
import type { Signatures } from "./signatures.ts";
import type { Signal } from "./types.ts";

/** Parking/sale DNS signals of a domain. Each is weak alone (see `decide.ts`). */
export function dnsSignals(dns: DnsResult, sigs: Signatures): Signal[] {
  const out: Signal[] = [];
  const ns = (dns.ns ?? []).filter((n) => !sigs.notParkingNs.some((x) => hostMatches(n, x)));
  const cnames = [...(dns.apex?.cname ?? []), ...(dns.www?.cname ?? [])];
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
  for (const svc of sigs.dnsServices) {
    const n = ns.find((h) => svc.ns.some((s) => hostMatches(h, s)));
    if (n) {
      out.push({
        id: `${kindOf(svc.status)}_ns`,
        status: svc.status,
        strength: "weak",
        evidence: `name server ${n} belongs to ${svc.service}`,
        source: svc.source,
      });
    }
    const c = cnames.find((h) => svc.cname.some((s) => hostMatches(h, s)));
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
  }
  return out;
}
