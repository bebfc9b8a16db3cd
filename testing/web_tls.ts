/**
 * Certificates for the simulated HTTPS servers, chosen per TLS SNI name: issued on first use
 * by the test CA and cached, so thousands of hosts cost nothing at start. Hosts with valid
 * certificates share them: one certificate names up to {@link SAN_BATCH} hosts (as shared
 * hosting and CDN certificates do), so a world of 20,000 hosts signs a few hundred certificates,
 * not 20,000 (issuing one costs about 1.4 ms of CPU, more than serving a request).
 * The certificates reach the server through `Deno.listenTls`'s per-SNI resolver
 * ({@link SNI_RESOLVER}, asked once per listener and name; Deno keeps the answer).
 * @module
 */
import { createTestCa, type TestCa } from "./test_ca.ts";
import type { SiteLookup, TlsMode } from "./web_site.ts";

/** Common name of the certificate presented for unknown names and `wrong_host` sites. */
export const WRONG_HOST_NAME = "default-vhost.hosting.invalid";

const YEAR = 365 * 86_400_000;

/**
 * The option key under which `Deno.listenTls` (Deno 2.x) takes a per-SNI certificate resolver:
 * `(serverName) => Promise<{ cert, key }>`; a rejection aborts the handshake. Deno's own
 * `node:tls` SNICallback is built on it; the public typings do not name it yet.
 */
export const SNI_RESOLVER: unique symbol = Symbol.for("unstableSniResolver") as never;

/** A PEM certificate chain and its private key. */
export interface PemPair {
  cert: string;
  key: string;
}

/** Host names one shared valid certificate covers at most. */
export const SAN_BATCH = 64;

/** Issues and caches certificates per (mode, host). */
export class SniCertificates {
  #ca: TestCa;
  #untrusted?: Promise<TestCa>;
  #cache = new Map<string, Promise<PemPair>>();
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

  /**
   * The certificate for a TLS server name, as `Deno.listenTls`'s {@link SNI_RESOLVER} wants it:
   * an unknown name (or none sent) gets the default-vhost certificate, a site in mode `none`
   * aborts the handshake.
   */
  readonly resolve = (servername: string): Promise<PemPair> => {
    const name = servername.toLowerCase().replace(/\.$/, "");
    const site = name ? this.#lookup(name) : undefined;
    const mode: TlsMode = site ? site.tls ?? "valid" : "wrong_host";
    if (mode === "none") {
      return Promise.reject(new Error(`simulated server: no certificate for ${name}`));
    }
    return this.pair(mode, name);
  };

  /**
   * Issues now the certificate of every name in `names` (as {@linkcode resolve} would on the
   * first handshake for it) and of unknown names, so no handshake waits for one and a benchmark's
   * measured run does not pay for them (a real server has its certificate before it is asked).
   * Returns how many certificates this instance holds.
   */
  async issueAll(names: Iterable<string>): Promise<number> {
    await this.pair("wrong_host", WRONG_HOST_NAME);
    for (const name of names) {
      await this.resolve(name).catch(() => {/* mode none: no certificate */});
    }
    return this.#cache.size;
  }

  /** The certificate and key for `host` in `mode`, issued once. */
  pair(mode: Exclude<TlsMode, "none">, host: string): Promise<PemPair> {
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
  ): Promise<PemPair> {
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
    return { cert, key: ca.leafKeyPem };
  }
}
