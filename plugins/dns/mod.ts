/**
 * dns: raw DNS lookups (apex and www addresses, CNAME chains, NS, MX, TXT) through
 * `ctx.network.dnsServers`, written to `item.dns` (see `DnsResult` in `@sluice/sdk/net/types.ts`).
 * @module
 */
import { definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { DnsClient } from "@sluice/sdk/net/dns_client.ts";
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
    return { client };
  },
  async process(items, { config, state, network, metrics, signal }) {
    const field = config.field ?? "domain";
    const itemConcurrency = Math.max(1, Math.ceil(network.concurrency / QUERIES_PER_ITEM));
    const tally = new MetricTally();
    const out = await mapConcurrent(items, itemConcurrency, async (item): Promise<Item> => {
      const value = item[field];
      const domain = (typeof value === "string" && value ? value : item.key).toLowerCase();
      const dns: DnsResult = await lookupDomain(state.client, domain, {
        www: config.www,
        ns: config.ns,
        mx: config.mx,
        txt: config.txt,
        signal,
      });
      tally.count(`dns_${dns.status}`);
      return { ...item, dns };
    });
    tally.flush(metrics);
    return out;
  },
});
