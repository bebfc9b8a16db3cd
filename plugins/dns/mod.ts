/**
 * dns: raw DNS lookups (apex and www addresses, CNAME chains, NS, MX, TXT) through
 * `ctx.network.dnsServers`, written to `item.dns` (see `DnsResult` in `@sluice/sdk/net/types.ts`).
 * @module
 */
import { getPublicSuffix } from "tldts";
import { definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { DnsClient, isDnsFailure } from "@sluice/sdk/net/dns_client.ts";
import { lookupDomain } from "@sluice/sdk/net/dns_lookup.ts";
import { mapConcurrent } from "@sluice/sdk/net/limiter.ts";
import type { DnsResult } from "@sluice/sdk/net/types.ts";

interface Config {
  field?: string;
  www?: boolean;
  ns?: boolean;
  mx?: boolean;
  txt?: boolean;
  attempts?: number;
}

interface State {
  client: DnsClient;
  /** Per parent zone (`com`, `co.uk`): does the resolver say it exists? Definite answers only. */
  zones: Map<string, Promise<boolean | undefined>>;
}

/**
 * Whether the resolver says `zone` (the parent of an NXDOMAIN name: its public suffix) exists:
 * true for NOERROR, false for NXDOMAIN, undefined when it gave no answer (not cached then).
 */
function zoneExists(state: State, zone: string, signal: AbortSignal): Promise<boolean | undefined> {
  let known = state.zones.get(zone);
  if (!known) {
    known = state.client.query(zone, "SOA", signal).then((r) => {
      const exists = isDnsFailure(r) || (r.rcode !== "NOERROR" && r.rcode !== "NXDOMAIN")
        ? undefined
        : r.rcode === "NOERROR";
      if (exists === undefined) state.zones.delete(zone);
      return exists;
    });
    state.zones.set(zone, known);
  }
  return known;
}

/**
 * An NXDOMAIN is a verdict only when the same resolver knows the name's public suffix: a resolver
 * that also denies `com` is broken or filtering (a sandboxed network, a captive portal), and
 * every domain would come out "no DNS", so the answer becomes `unknown`, saying why.
 */
async function checkNxdomain(
  dns: DnsResult,
  domain: string,
  state: State,
  signal: AbortSignal,
): Promise<DnsResult> {
  if (dns.status !== "nxdomain") return dns;
  // The public suffix, not just the parent: `www.gone.com` may not exist because `gone.com` does
  // not, which is no resolver fault.
  const zone = getPublicSuffix(domain, { allowPrivateDomains: true });
  if (!zone || zone === domain) return dns;
  if (await zoneExists(state, zone, signal) !== false) return dns;
  const reason = `the resolver answered NXDOMAIN for ${domain}, but also for its zone "${zone}", ` +
    "a public suffix that exists: it is broken or filters names, so its answer is no verdict; check " +
    "network.dns.servers (SLUICE_DNS_SERVERS) and run these domains again";
  return { ...dns, status: "unknown", reason, zoneDenied: zone };
}

/** Queries one domain may have in flight at once (apex A+AAAA, then www A+AAAA, NS, MX, TXT). */
const QUERIES_PER_ITEM = 5;

export default definePlugin<Config, State>({
  setup({ network, config, signal }) {
    if (network.dnsServers.length === 0) {
      throw new Error(
        "dns: no DNS servers configured: set network.dnsServers (SLUICE_DNS_SERVERS=ip:port); " +
          "the host passes the system resolvers there by default",
      );
    }
    const client = new DnsClient({
      servers: network.dnsServers,
      timeoutMs: network.timeouts.dns,
      attempts: config.attempts,
      concurrency: network.concurrency,
    });
    signal.addEventListener("abort", () => client.close(), { once: true });
    return { client, zones: new Map() };
  },
  async process(items, { config, state, network, metrics, signal }) {
    const field = config.field ?? "domain";
    const itemConcurrency = Math.max(1, Math.ceil(network.concurrency / QUERIES_PER_ITEM));
    const tally = new MetricTally();
    const out = await mapConcurrent(items, itemConcurrency, async (item): Promise<Item> => {
      const value = item[field];
      const domain = (typeof value === "string" && value ? value : item.key).toLowerCase();
      const dns: DnsResult = await checkNxdomain(
        await lookupDomain(state.client, domain, {
          www: config.www,
          ns: config.ns,
          mx: config.mx,
          txt: config.txt,
          signal,
        }),
        domain,
        state,
        signal,
      );
      tally.count(`dns_${dns.status}`);
      return { ...item, dns };
    });
    tally.flush(metrics);
    return out;
  },
});
