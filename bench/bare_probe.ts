/**
 * The baseline of `verify_bench.ts`: the same DNS and HTTP requests as the flagship pipeline's
 * `dns` and `http-probe` stages, with the same concurrency, in one plain Deno script with no
 * engine, no store, no sandbox. Network settings are read exactly as the engine reads them.
 *
 *   deno run -A bench/bare_probe.ts --input world.csv [--dns-concurrency N] [--http-concurrency N]
 *
 * Prints one JSON line: `{ domains, seconds, statuses }`.
 * @module
 */
import { parseArgs } from "node:util";
import { parse } from "csv-parse/sync";
import { getDomain } from "tldts";
import { DnsClient } from "../sdk/net/dns_client.ts";
import { lookupDomain, lookupHost } from "../sdk/net/dns_lookup.ts";
import { fetchWithRedirects, type HostResolver } from "../sdk/net/http_fetch.ts";
import { KeyedLimiter, Limiter } from "../sdk/net/limiter.ts";
import type { HttpAttempt, HttpTarget } from "../sdk/net/types.ts";
import type { NetworkSettings } from "../sdk/types.ts";
import { loadConfig } from "../core/config/config.ts";
import { networkSettings } from "../core/cli/context.ts";

/** Network settings exactly as the engine derives them (defaults < sluice.yaml < SLUICE_* env). */
export async function engineNetwork(): Promise<NetworkSettings> {
  return await networkSettings(await loadConfig());
}

const ORDER: { target: HttpTarget; scheme: string; www: boolean }[] = [
  { target: "https://apex", scheme: "https", www: false },
  { target: "https://www", scheme: "https", www: true },
  { target: "http://apex", scheme: "http", www: false },
  { target: "http://www", scheme: "http", www: true },
];

/** Options of {@linkcode bareProbe}. */
export interface BareProbeOptions {
  /** CSV with a `website`/`domain`/`url` column. */
  input: string;
  network: NetworkSettings;
  /** Domains in DNS lookup at once (the pipeline: 4 chunks x ceil(network.concurrency / 5)). */
  dnsConcurrency?: number;
  /** Domains in HTTP probing at once (the pipeline: 8 chunks x network.concurrency). */
  httpConcurrency?: number;
}

/** Looks up and probes every domain of the CSV; returns counts by outcome. */
export async function bareProbe(opts: BareProbeOptions) {
  const started = performance.now();
  const rows = parse(await Deno.readTextFile(opts.input), { columns: true }) as Record<
    string,
    string
  >[];
  const domains = [
    ...new Set(
      rows.map((r) => {
        const v = (r.website ?? r.domain ?? r.url ?? "").trim();
        try {
          const host = new URL(/^[a-z]+:\/\//i.test(v) ? v : `http://${v}`).hostname;
          return getDomain(host) ?? host;
        } catch {
          return "";
        }
      }).filter(Boolean),
    ),
  ];
  const net = opts.network;
  const client = new DnsClient({
    servers: net.dnsServers,
    timeoutMs: net.timeouts.dns,
    concurrency: net.concurrency,
  });
  const resolve: HostResolver = (host, s) => lookupHost(client, host, s);
  const perIp = new KeyedLimiter(4);
  const dnsLimit = new Limiter(opts.dnsConcurrency ?? 4 * Math.ceil(net.concurrency / 5));
  const httpLimit = new Limiter(opts.httpConcurrency ?? 8 * net.concurrency);
  const statuses: Record<string, number> = {};
  try {
    await Promise.all(domains.map(async (domain) => {
      const dns = await dnsLimit.run(() => lookupDomain(client, domain));
      let outcome = `dns_${dns.status}`;
      if (dns.status === "ok") {
        outcome = await httpLimit.run(async () => {
          const deadline = AbortSignal.timeout(net.timeouts.request * 3);
          const attempts: HttpAttempt[] = [];
          for (const o of ORDER) {
            const h = o.www ? dns.www : dns.apex;
            const addresses = [...h.a, ...h.aaaa];
            if (!addresses.length || deadline.aborted) continue;
            const url = `${o.scheme}://${o.www ? "www." : ""}${domain}/`;
            const r = await fetchWithRedirects({
              url,
              addresses,
              resolve,
              network: net,
              maxRedirects: 5,
              maxBodyBytes: 262144,
              perIp,
              signal: deadline,
            });
            attempts.push({
              target: o.target,
              url,
              hops: r.hops,
              response: r.response,
              error: r.error,
            });
            if (r.response && r.response.status < 400) break;
          }
          const ok = attempts.find((a) => a.response);
          return ok ? `http_${Math.floor(ok.response!.status / 100)}xx` : "http_failed";
        });
      }
      statuses[outcome] = (statuses[outcome] ?? 0) + 1;
    }));
  } finally {
    client.close();
  }
  return { domains: domains.length, seconds: (performance.now() - started) / 1000, statuses };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      input: { type: "string" },
      "dns-concurrency": { type: "string" },
      "http-concurrency": { type: "string" },
    },
  });
  if (!values.input) {
    console.error("usage: deno run -A bench/bare_probe.ts --input FILE.csv");
    Deno.exit(2);
  }
  const result = await bareProbe({
    input: values.input,
    network: await engineNetwork(),
    dnsConcurrency: values["dns-concurrency"] ? Number(values["dns-concurrency"]) : undefined,
    httpConcurrency: values["http-concurrency"] ? Number(values["http-concurrency"]) : undefined,
  });
  console.log(JSON.stringify(result));
}
