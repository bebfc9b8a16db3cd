/**
 * Serve a generated {@link World} on loopback: its DNS server and its web servers, started and
 * stopped inside the test process. The result carries the exact settings a test passes to
 * Sluice (`SLUICE_DNS_SERVERS`, `SLUICE_HTTP_PORT`, `SLUICE_HTTPS_PORT`, `SLUICE_HTTPS_CA`,
 * `SLUICE_ALLOW_PRIVATE`).
 * @module
 */
import { type DnsServer, startDnsServer } from "./dns_server.ts";
import { startWebServers, type WebServers } from "./web_server.ts";
import type { World } from "./world.ts";

/** Options of {@link startWorld}. */
export interface StartWorldOptions {
  /** Address of the DNS server (default 127.0.0.1). */
  dnsHostname?: string;
  /** Folder for `ca.pem` (default: a temp dir removed on close). */
  caDir?: string;
  /** Issue every site's certificate before serving (see `WebServersOptions`). */
  issueCertificatesAhead?: boolean;
}

/** A running world. */
export interface RunningWorld {
  /** `ip:port` of the DNS server. */
  dnsServer: string;
  httpPort: number;
  httpsPort: number;
  /** PEM file of the CA that signed every valid certificate. */
  caFile: string;
  /** The environment a Sluice process under test needs. */
  env: Record<string, string>;
  /** The DNS server, for counters and changes during a test. */
  dns: DnsServer;
  /** The web servers, for counters and changes during a test. */
  web: WebServers;
  /** Stop everything and remove the temp files. */
  close(): Promise<void>;
}

/** Start the DNS and web servers of `world`. */
export async function startWorld(
  world: World,
  options: StartWorldOptions = {},
): Promise<RunningWorld> {
  const dns = await startDnsServer({ zones: world.zone, hostname: options.dnsHostname });
  let web: WebServers;
  try {
    web = await startWebServers({
      sites: world.sites,
      addresses: world.addresses,
      httpOnlyAddresses: world.httpOnlyAddresses,
      caDir: options.caDir,
      issueCertificatesAhead: options.issueCertificatesAhead,
    });
  } catch (err) {
    await dns.close();
    throw err;
  }
  return {
    dnsServer: dns.address,
    httpPort: web.httpPort,
    httpsPort: web.httpsPort,
    caFile: web.caFile,
    env: {
      SLUICE_DNS_SERVERS: dns.address,
      SLUICE_HTTP_PORT: String(web.httpPort),
      SLUICE_HTTPS_PORT: String(web.httpsPort),
      SLUICE_HTTPS_CA: web.caFile,
      SLUICE_ALLOW_PRIVATE: "1",
    },
    dns,
    web,
    async close() {
      await Promise.all([dns.close(), web.close()]);
    },
  };
}
