/**
 * Simulated web hosting on loopback: HTTP and HTTPS servers on many 127.x.y.z addresses that
 * share ONE http port and ONE https port, routing by Host header and TLS SNI to a {@link Site}
 * per host name, with certificates from a test CA whose PEM is written to `caFile`.
 * Linux routes all of 127.0.0.0/8 to loopback, so any 127.x address can be bound without root;
 * an address nobody listens on refuses connections.
 * @module
 */
import { createTestCa, type TestCa } from "./test_ca.ts";
import { type ConnectionState, serveConnection } from "./web_http.ts";
import type { Site } from "./web_site.ts";
import { SNI_RESOLVER, SniCertificates } from "./web_tls.ts";

export type {
  BodyChunk,
  RequestInfo,
  SchemeBehaviour,
  Site,
  SiteBody,
  SitePage,
  TlsMode,
  WebBehaviour,
} from "./web_site.ts";
export { binaryBody, hugeBody } from "./web_site.ts";
export { WRONG_HOST_NAME } from "./web_tls.ts";

/** Options of {@link startWebServers}. */
export interface WebServersOptions {
  /** Sites by host name (any case). Their `ips` are listened on unless they `refuse`. */
  sites: Record<string, Site> | Map<string, Site>;
  /** More addresses to serve HTTP and HTTPS on (default: none besides the sites' IPs). */
  addresses?: string[];
  /** Addresses with an HTTP listener only: HTTPS connections to them are refused. */
  httpOnlyAddresses?: string[];
  /** HTTP port (default 0: a free port, the same on every address). */
  httpPort?: number;
  /** HTTPS port (default 0). */
  httpsPort?: number;
  /** CA to issue certificates from (default: a fresh one). */
  ca?: TestCa;
  /** Folder for `ca.pem` (default: a new temp dir, removed on close). */
  caDir?: string;
  /**
   * Issue every site's certificate before listening (benchmarks: a measured run then pays for
   * serving, not for a simulation's certificates); default: each on its first handshake.
   */
  issueCertificatesAhead?: boolean;
}

/** Running web servers. */
export interface WebServers {
  /** Port of every HTTP listener (`SLUICE_HTTP_PORT`). */
  readonly httpPort: number;
  /** Port of every HTTPS listener (`SLUICE_HTTPS_PORT`). */
  readonly httpsPort: number;
  /** PEM file of the test CA (`SLUICE_HTTPS_CA`). */
  readonly caFile: string;
  /** PEM of the test CA, for clients' `ca` option. */
  readonly caPem: string;
  /** Addresses with listeners (HTTP and HTTPS, then HTTP-only). */
  readonly addresses: string[];
  /** Requests answered or accepted so far. */
  readonly requests: number;
  /** Add or replace the site of `host` (its IPs must already be listened on). */
  setSite(host: string, site: Site): void;
  /** Remove the site of `host` (requests then get a 404 "no site" page). */
  removeSite(host: string): void;
  /** Stop every listener and drop open connections. */
  close(): Promise<void>;
}

/** Start HTTP and HTTPS listeners on every needed address; see {@link WebServersOptions}. */
export async function startWebServers(options: WebServersOptions): Promise<WebServers> {
  const sites = new Map<string, Site>();
  const entries = options.sites instanceof Map
    ? options.sites.entries()
    : Object.entries(options.sites);
  for (const [host, site] of entries) sites.set(host.toLowerCase(), site);
  const { both, httpOnly } = planAddresses(sites, options);

  const ca = options.ca ?? await createTestCa();
  const ownDir = !options.caDir;
  const caDir = options.caDir ?? await Deno.makeTempDir({ prefix: "sluice-test-ca-" });
  const caFile = `${caDir}/ca.pem`;
  await Deno.writeTextFile(caFile, ca.caPem);

  let requests = 0;
  const state: ConnectionState = {
    lookup: (host) => sites.get(host),
    hung: new Set(),
    timers: new Set(),
    count: () => void requests++,
  };
  const certs = new SniCertificates(ca, state.lookup, () => sites.keys());
  if (options.issueCertificatesAhead) await certs.issueAll(sites.keys());
  const open = new Set<Deno.Conn>();
  const listeners: Deno.Listener[] = [];
  const accepting: Promise<void>[] = [];
  const serve = (listener: Deno.Listener, scheme: "http" | "https") => {
    listeners.push(listener);
    accepting.push((async () => {
      try {
        for await (const conn of listener) {
          open.add(conn);
          serveConnection(conn, scheme, state).finally(() => open.delete(conn));
        }
      } catch { /* listener closed */ }
    })());
    return (listener.addr as Deno.NetAddr).port;
  };
  const closeAll = async () => {
    for (const t of state.timers) clearTimeout(t);
    for (const l of listeners) {
      try {
        l.close();
      } catch { /* already closed */ }
    }
    for (const c of open) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    await Promise.all(accepting);
    listeners.length = 0;
    accepting.length = 0;
  };

  let httpPort = options.httpPort ?? 0;
  let httpsPort = options.httpsPort ?? 0;
  const fixed = Boolean(options.httpPort || options.httpsPort);
  for (let attempt = 1;; attempt++) {
    try {
      for (const ip of [...both, ...httpOnly]) {
        httpPort = serve(Deno.listen({ hostname: ip, port: httpPort }), "http");
      }
      for (const ip of both) {
        const tlsOptions = { hostname: ip, port: httpsPort, [SNI_RESOLVER]: certs.resolve };
        httpsPort = serve(
          Deno.listenTls(tlsOptions as unknown as Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem),
          "https",
        );
      }
      break;
    } catch (err) {
      await closeAll();
      // A port picked on the first address can be taken on another one: pick again.
      if (fixed || attempt >= 10) {
        if (ownDir) await Deno.remove(caDir, { recursive: true });
        throw new Error(
          `simulated web servers: cannot listen (${(err as Error).message}); ` +
            "choose other ports or pass 0",
        );
      }
      httpPort = options.httpPort ?? 0;
      httpsPort = options.httpsPort ?? 0;
    }
  }

  let closed = false;
  return {
    httpPort,
    httpsPort,
    caFile,
    caPem: ca.caPem,
    addresses: [...both, ...httpOnly],
    get requests() {
      return requests;
    },
    setSite: (host, site) => void sites.set(host.toLowerCase(), site),
    removeSite: (host) => void sites.delete(host.toLowerCase()),
    async close() {
      if (closed) return;
      closed = true;
      await closeAll();
      if (ownDir) await Deno.remove(caDir, { recursive: true }).catch(() => {});
    },
  };
}

function planAddresses(
  sites: Map<string, Site>,
  options: WebServersOptions,
): { both: string[]; httpOnly: string[] } {
  const refused = new Map<string, string>();
  const both = new Set(options.addresses ?? []);
  const httpOnly = new Set(options.httpOnlyAddresses ?? []);
  for (const [host, site] of sites) {
    for (const ip of site.ips ?? []) {
      if (site.behaviour === "refuse") refused.set(ip, host);
      else if (!httpOnly.has(ip)) both.add(ip);
    }
  }
  for (const ip of httpOnly) both.delete(ip);
  for (const [ip, host] of refused) {
    if (both.has(ip) || httpOnly.has(ip)) {
      const other = [...sites].find(([, s]) => s.behaviour !== "refuse" && s.ips?.includes(ip));
      throw new Error(
        `simulated web servers: site "${host}" must refuse connections on ${ip}, but ` +
          `${other ? `site "${other[0]}"` : "the address list"} needs a listener there; ` +
          "give the refusing site an address of its own",
      );
    }
  }
  return { both: [...both], httpOnly: [...httpOnly] };
}
