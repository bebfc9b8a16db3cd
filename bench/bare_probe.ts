/**
 * The baseline of `verify_bench.ts`: the same DNS and HTTP requests as the flagship pipeline's
 * `dns` and `http-probe` stages (the same `lookupDomain` and `probeDomain` code with the stage's
 * settings), with the same concurrency, in one plain Deno script with no engine, no store, no
 * sandbox. Network settings are read exactly as the engine reads them; the concurrency is derived
 * from `pipelines/no-website-leads.yaml` and the plugins' manifests (see {@linkcode pipelineLimits}).
 *
 *   deno run -A bench/bare_probe.ts --input world.csv [--dns-concurrency N] [--http-concurrency N]
 *
 * Prints one JSON line: `{ domains, seconds, statuses, limits }`.
 * @module
 */
import { parseArgs } from "node:util";
import { parse } from "csv-parse/sync";
import { parse as parseYaml } from "yaml";
import { getDomain } from "tldts";
import { DnsClient } from "../sdk/net/dns_client.ts";
import { lookupDomain, lookupHost } from "../sdk/net/dns_lookup.ts";
import { fetchWithRedirects, type HostResolver } from "../sdk/net/http_fetch.ts";
import { KeyedLimiter, Limiter } from "../sdk/net/limiter.ts";
import type { NetworkSettings } from "../sdk/types.ts";
import { loadConfig } from "../core/config/config.ts";
import { networkSettings } from "../core/cli/context.ts";
import { defaultSlowRetryMs, fetchTimeouts, probeDomain } from "../plugins/http-probe/probe.ts";

const ROOT = new URL("../", import.meta.url);

/** Network settings exactly as the engine derives them (defaults < sluice.yaml < SLUICE_* env). */
export async function engineNetwork(): Promise<NetworkSettings> {
  return await networkSettings(await loadConfig());
}

/** Concurrency of the pipeline's `dns` and `http-probe` stages, as the engine runs them. */
export interface PipelineLimits {
  /** Domains in DNS lookup at once: stage concurrency × items per call. */
  dnsDomains: number;
  /** DNS queries in flight at once: network.concurrency × dns processes. */
  dnsQueries: number;
  /** Domains in HTTP probing at once: network.concurrency × http-probe processes. */
  httpDomains: number;
  /** Connections per IP at once: perIpConcurrency × http-probe processes. */
  perIp: number;
  /** The http-probe stage's `with:` (redirects, body cap, hedge...). */
  probe: Record<string, unknown>;
}

/**
 * Reads the stage settings of `pipelines/no-website-leads.yaml` and the `callsPerInstance` of
 * the two plugins: a stage with concurrency C runs ceil(C / callsPerInstance) processes, each
 * probing up to `network.concurrency` domains (http-probe) or sending that many queries (dns);
 * a dns call looks up ceil(network.concurrency / 5) domains at once.
 */
export async function pipelineLimits(net: NetworkSettings): Promise<PipelineLimits> {
  const yaml = parseYaml(
    await Deno.readTextFile(new URL("pipelines/no-website-leads.yaml", ROOT)),
  ) as { stages: { id: string; concurrency?: number; with?: Record<string, unknown> }[] };
  const stage = (id: string) => yaml.stages.find((s) => s.id === id)!;
  const perInstance = async (plugin: string) =>
    Math.max(
      1,
      JSON.parse(await Deno.readTextFile(new URL(`plugins/${plugin}/plugin.json`, ROOT)))
        .callsPerInstance ?? 1,
    );
  const dns = stage("dns");
  const http = stage("http-probe");
  const dnsConc = dns.concurrency ?? 2;
  const httpConc = http.concurrency ?? 2;
  const dnsProcs = Math.ceil(dnsConc / await perInstance("dns"));
  const httpProcs = Math.ceil(httpConc / await perInstance("http-probe"));
  const probe = http.with ?? {};
  return {
    dnsDomains: dnsConc * Math.ceil(net.concurrency / 5),
    dnsQueries: net.concurrency * dnsProcs,
    httpDomains: net.concurrency * httpProcs,
    perIp: Number(probe.perIpConcurrency ?? 4) * httpProcs,
    probe,
  };
}

/** Options of {@linkcode bareProbe}. */
export interface BareProbeOptions {
  /** CSV with a `website`/`domain`/`url` column. */
  input: string;
  network: NetworkSettings;
  /** Domains in DNS lookup at once (default: as the pipeline). */
  dnsConcurrency?: number;
  /** Domains in HTTP probing at once (default: as the pipeline). */
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
  const limits = await pipelineLimits(net);
  if (opts.dnsConcurrency) limits.dnsDomains = opts.dnsConcurrency;
  if (opts.httpConcurrency) limits.httpDomains = opts.httpConcurrency;
  const client = new DnsClient({
    servers: net.dnsServers,
    timeoutMs: net.timeouts.dns,
    concurrency: limits.dnsQueries,
  });
  const resolve: HostResolver = (host, s) => lookupHost(client, host, s);
  const perIp = new KeyedLimiter(limits.perIp);
  const dnsLimit = new Limiter(limits.dnsDomains);
  const httpLimit = new Limiter(limits.httpDomains);
  // As http-probe: a domain's slow retry hands its slot back and takes one of as many others.
  const slowLimit = new Limiter(limits.httpDomains);
  const p = limits.probe;
  const statuses: Record<string, number> = {};
  try {
    await Promise.all(domains.map(async (domain) => {
      const dns = await dnsLimit.run(() => lookupDomain(client, domain));
      let outcome = `dns_${dns.status}`;
      if (dns.status === "ok") {
        let release: (() => void) | undefined = await httpLimit.acquire();
        const handBack = () => {
          release?.();
          release = undefined;
        };
        outcome = await (async () => {
          const deadline = AbortSignal.timeout(net.timeouts.request * 3);
          // The stage's slow retry too (same default), so both sides make the same requests.
          const slowRetryMs = (p.slowRetryTimeoutMs as number | undefined) ??
            defaultSlowRetryMs(net.timeouts.request);
          const r = await probeDomain({
            domain,
            dns,
            hedgeMs: p.hedgeMs as number | undefined,
            slowRetryMs,
            lateAfterMs: p.keepOpen === false ? undefined : net.timeouts.request,
            slowRetryGate: async () => {
              handBack();
              return await slowLimit.acquire();
            },
            signal: deadline,
            fetch: (url, addresses, s, extra) =>
              fetchWithRedirects({
                url,
                addresses,
                resolve,
                network: extra?.timeoutMs === undefined
                  ? net
                  : { ...net, timeouts: fetchTimeouts(net.timeouts, extra) },
                maxRedirects: p.maxRedirects as number | undefined,
                maxBodyBytes: p.maxBodyBytes as number | undefined,
                perIp,
                signal: s,
              }),
          });
          return r.best ? `http_${Math.floor(r.best.status / 100)}xx` : `http_${r.status}`;
        })().finally(handBack);
      }
      statuses[outcome] = (statuses[outcome] ?? 0) + 1;
    }));
  } finally {
    client.close();
  }
  return {
    domains: domains.length,
    seconds: (performance.now() - started) / 1000,
    statuses,
    limits: { ...limits, probe: undefined },
  };
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
  // The line `sluice run` ends with: a profiler attached to this process (verify_bench.ts
  // --profile) takes its profile when it appears.
  console.error(`run bare succeeded in ${(performance.now() / 1000).toFixed(1)}s`);
}
