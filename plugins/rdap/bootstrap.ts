/**
 * The IANA RDAP bootstrap registry for domains (RFC 9224 `dns.json`): which RDAP server serves
 * which TLD. Loaded from inline JSON, a file inside the plugin's data folder, or a URL; a
 * downloaded copy is kept in the data folder and refreshed when older than a day.
 * @module
 */
import { isAbsolute, join, relative, resolve } from "node:path";

/** The default bootstrap URL (IANA). */
export const IANA_BOOTSTRAP = "https://data.iana.org/rdap/dns.json";

/** A parsed bootstrap: TLD (lower case, may contain dots) to base URLs. */
export class Bootstrap {
  readonly #map: Map<string, string[]>;
  /** When it was loaded or downloaded (ms). */
  readonly loadedAt: number;

  /** Validates a `dns.json` document; throws an Error saying what is wrong. */
  constructor(doc: unknown, loadedAt: number, where: string) {
    const services = (doc as { services?: unknown })?.services;
    if (!Array.isArray(services)) {
      throw new Error(`RDAP bootstrap ${where}: expected {"services": [[[tlds], [urls]], ...]}`);
    }
    this.#map = new Map();
    for (const [i, s] of services.entries()) {
      if (
        !Array.isArray(s) || !Array.isArray(s[0]) || !Array.isArray(s[1]) ||
        !s[0].every((x: unknown) => typeof x === "string") ||
        !s[1].every((x: unknown) => typeof x === "string")
      ) {
        throw new Error(`RDAP bootstrap ${where}: services[${i}] is not [[tlds], [urls]]`);
      }
      const urls = (s[1] as string[]).filter((u) => /^https?:\/\//i.test(u))
        .sort((a, b) => Number(b.startsWith("https")) - Number(a.startsWith("https")))
        .map((u) => (u.endsWith("/") ? u : `${u}/`));
      if (urls.length === 0) continue;
      for (const tld of s[0] as string[]) this.#map.set(tld.toLowerCase().replace(/^\./, ""), urls);
    }
    this.loadedAt = loadedAt;
  }

  /** Number of TLDs known. */
  get size(): number {
    return this.#map.size;
  }

  /** The base URL for `domain` (longest matching suffix), or undefined. */
  serverFor(domain: string): string | undefined {
    const labels = domain.toLowerCase().replace(/\.$/, "").split(".");
    for (let i = 1; i < labels.length; i++) {
      const hit = this.#map.get(labels.slice(i).join("."));
      if (hit) return hit[0];
    }
    return undefined;
  }
}

/** A path inside the data folder, or an error saying why not. */
export function dataPath(dataDir: string, path: string): string {
  const full = isAbsolute(path) ? path : resolve(dataDir, path);
  const rel = relative(resolve(dataDir), full);
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) {
    throw new Error(
      `RDAP bootstrap path ${path} is outside the plugin's data folder ${dataDir}: copy the file ` +
        `there, give its URL, or put the JSON in with.bootstrapJson`,
    );
  }
  return full;
}

/** How to load a bootstrap. */
export interface BootstrapSource {
  /** Inline `dns.json` content. */
  json?: unknown;
  /** URL (http/https) or a path inside the data folder. */
  location: string;
  dataDir: string;
  /** Downloads a URL's text. */
  download: (url: string) => Promise<string>;
  /** Refresh a downloaded copy older than this (ms). */
  maxAgeMs: number;
  now: () => number;
  /** Reports a stale copy used because a refresh failed. */
  warn?: (msg: string) => void;
}

interface CachedCopy {
  url: string;
  fetchedAt: number;
  doc: unknown;
}

/**
 * The `dns.json` URL for a bootstrap location: a base URL of the bootstrap files (ending in `/`,
 * as `network.rdap.bootstrap` is written, e.g. `https://data.iana.org/rdap/`) gets `dns.json`
 * appended; a file URL or a data-folder path is kept.
 */
export function bootstrapUrl(location: string): string {
  return /^https?:\/\/.*\/$/i.test(location) ? `${location}dns.json` : location;
}

/** Loads the bootstrap; see {@linkcode BootstrapSource}. */
export async function loadBootstrap(source: BootstrapSource): Promise<Bootstrap> {
  const src = { ...source, location: bootstrapUrl(source.location) };
  if (src.json !== undefined) return new Bootstrap(src.json, src.now(), "in with.bootstrapJson");
  if (!/^https?:\/\//i.test(src.location)) {
    const path = dataPath(src.dataDir, src.location);
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      throw new Error(`RDAP bootstrap file ${path} cannot be read: ${(e as Error).message}`);
    }
    return new Bootstrap(parseJson(text, path), src.now(), path);
  }
  const cacheFile = join(src.dataDir, "rdap", "bootstrap.json");
  let cached: CachedCopy | undefined;
  try {
    cached = JSON.parse(await Deno.readTextFile(cacheFile));
    if (cached?.url !== src.location) cached = undefined;
  } catch {
    cached = undefined;
  }
  if (cached && src.now() - cached.fetchedAt < src.maxAgeMs) {
    return new Bootstrap(cached.doc, cached.fetchedAt, `${src.location} (cached)`);
  }
  try {
    const doc = parseJson(await src.download(src.location), src.location);
    const b = new Bootstrap(doc, src.now(), src.location);
    await Deno.mkdir(join(src.dataDir, "rdap"), { recursive: true });
    const tmp = `${cacheFile}.tmp-${crypto.randomUUID()}`;
    await Deno.writeTextFile(tmp, JSON.stringify({ url: src.location, fetchedAt: src.now(), doc }));
    await Deno.rename(tmp, cacheFile);
    return b;
  } catch (e) {
    if (!cached) throw e;
    src.warn?.(
      `RDAP bootstrap refresh from ${src.location} failed (${(e as Error).message}); ` +
        `using the copy from ${new Date(cached.fetchedAt).toISOString()}`,
    );
    return new Bootstrap(cached.doc, cached.fetchedAt, `${src.location} (stale copy)`);
  }
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`RDAP bootstrap ${where} is not valid JSON: ${(e as Error).message}`);
  }
}
