/**
 * Certificates for the simulated HTTPS servers, chosen per TLS SNI name: issued on first use
 * by the test CA and cached, so thousands of hosts cost nothing at start. Hosts with valid
 * certificates share them: one certificate names up to {@link SAN_BATCH} hosts (as shared
 * hosting and CDN certificates do), so a world of 20,000 hosts signs a few hundred certificates,
 * not 20,000 (issuing one costs about 1.4 ms of CPU, more than serving a request).
 * Measured on Deno 2.9: `node:https` `createServer({ SNICallback })` works (an async callback
 * is fine), while `Deno.serve`/`Deno.listenTls` have no public per-SNI certificate option.
 * @module
 */
import tls from "node:tls";
import { createTestCa, type TestCa } from "./test_ca.ts";
import type { SiteLookup, TlsMode } from "./web_site.ts";

/** Common name of the certificate presented for unknown names and `wrong_host` sites. */
export const WRONG_HOST_NAME = "default-vhost.hosting.invalid";

const YEAR = 365 * 86_400_000;

/** Host names one shared valid certificate covers at most. */
export const SAN_BATCH = 64;

/** Issues and caches secure contexts per (mode, host). */
export class SniCertificates {
  #ca: TestCa;
  #untrusted?: Promise<TestCa>;
  #cache = new Map<string, Promise<tls.SecureContext>>();
  #lookup: SiteLookup;
  #names?: () => Iterable<string>;
  /** Valid-mode host -> the names of the shared certificate it is on. */
  #batchOf = new Map<string, string[]>();

  /**
   * @param ca trusted test CA; @param lookup finds the site (and its TLS mode) for a name;
   * @param names every host name served (valid-mode hosts among them share certificates).
   */
  constructor(ca: TestCa, lookup: SiteLookup, names?: () => Iterable<string>) {
    this.#ca = ca;
    this.#lookup = lookup;
    this.#names = names;
  }

  /** The names on `host`'s shared certificate: batches of valid hosts not yet batched. */
  #batch(host: string): string[] {
    let batch = this.#batchOf.get(host);
    if (batch) return batch;
    const fresh: string[] = [];
    for (const name of this.#names?.() ?? []) {
      if (this.#batchOf.has(name) || name === host) continue;
      const site = this.#lookup(name);
      if (site && (site.tls ?? "valid") === "valid") fresh.push(name);
    }
    fresh.unshift(host);
    for (let i = 0; i < fresh.length; i += SAN_BATCH) {
      const names = fresh.slice(i, i + SAN_BATCH);
      for (const n of names) this.#batchOf.set(n, names);
    }
    batch = this.#batchOf.get(host)!;
    return batch;
  }

  /** The default context (no SNI sent): a certificate for {@link WRONG_HOST_NAME}. */
  async defaultPair(): Promise<{ cert: string; key: string }> {
    const cert = await this.#ca.issue({ commonName: WRONG_HOST_NAME });
    return { cert, key: this.#ca.leafKeyPem };
  }

  /** `SNICallback` for `node:https`/`node:tls` servers. */
  readonly callback = (
    servername: string,
    cb: (err: Error | null, ctx?: tls.SecureContext) => void,
  ): void => {
    const name = servername.toLowerCase().replace(/\.$/, "");
    const site = this.#lookup(name);
    const mode: TlsMode = site ? site.tls ?? "valid" : "wrong_host";
    if (mode === "none") {
      cb(new Error(`simulated server: no certificate for ${name}`));
      return;
    }
    this.context(mode, name).then((ctx) => cb(null, ctx), (err) => cb(err as Error));
  };

  /** The context for `host` in `mode`, issued once. */
  context(mode: Exclude<TlsMode, "none">, host: string): Promise<tls.SecureContext> {
    const names = mode === "valid" && this.#names ? this.#batch(host) : undefined;
    const key = mode === "wrong_host" ? mode : names ? `valid:${names[0]}` : `${mode}:${host}`;
    let ctx = this.#cache.get(key);
    if (!ctx) {
      ctx = this.#issue(mode, host, names);
      this.#cache.set(key, ctx);
    }
    return ctx;
  }

  async #issue(
    mode: Exclude<TlsMode, "none">,
    host: string,
    names?: string[],
  ): Promise<tls.SecureContext> {
    let ca = this.#ca;
    let spec: Parameters<TestCa["issue"]>[0] = names
      ? { commonName: names[0], dnsNames: names }
      : { commonName: host };
    if (mode === "wrong_host") spec = { commonName: WRONG_HOST_NAME };
    if (mode === "expired") {
      spec = {
        commonName: host,
        notBefore: new Date(Date.now() - 2 * YEAR),
        notAfter: new Date(Date.now() - YEAR),
      };
    }
    if (mode === "self_signed") {
      this.#untrusted ??= createTestCa({ commonName: host + " (self-signed, untrusted)" });
      ca = await this.#untrusted;
    }
    const cert = await ca.issue(spec);
    return tls.createSecureContext({ cert, key: ca.leafKeyPem });
  }
}
