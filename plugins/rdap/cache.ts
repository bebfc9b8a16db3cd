/**
 * The RDAP result cache: a Deno KV file in the plugin's data folder (safe to share between the
 * stage's instances), entries expiring after `ttlMs`. Only definite answers are cached.
 * @module
 */
import { join } from "node:path";
import { openKv } from "@sluice/sdk/io/kv_locks.ts";
import type { RdapResult } from "./parse.ts";

/**
 * Key prefix of cached results; bump it when the parser changes what a result holds (e.g. which
 * registrant values count as real), so answers parsed by an older version are not served.
 */
const PREFIX = "domain-v3"; // v3: registrant phones as "+49 30…" instead of EPP "+49.30…"

/** A result cache over one KV file. */
export class RdapCache {
  readonly #kv: Deno.Kv;
  readonly #ttl: number;
  private constructor(kv: Deno.Kv, ttlMs: number) {
    this.#kv = kv;
    this.#ttl = ttlMs;
  }

  /** Opens (creating) `<dataDir>/rdap/cache.kv`. */
  static async open(dataDir: string, ttlMs: number): Promise<RdapCache> {
    await Deno.mkdir(join(dataDir, "rdap"), { recursive: true });
    return new RdapCache(await openKv(join(dataDir, "rdap", "cache.kv")), ttlMs);
  }

  /** The cached result of `domain`, if fresh. */
  async get(domain: string): Promise<RdapResult | undefined> {
    const r = await this.#kv.get<RdapResult>([PREFIX, domain]);
    return r.value ?? undefined;
  }

  /** Cached results of many domains at once (KV reads of up to 10 keys each). */
  async getMany(domains: string[]): Promise<Map<string, RdapResult>> {
    const found = new Map<string, RdapResult>();
    const unique = [...new Set(domains)];
    for (let i = 0; i < unique.length; i += 10) {
      const keys = unique.slice(i, i + 10).map((d) => [PREFIX, d]);
      const got = await this.#kv.getMany<RdapResult[]>(keys);
      for (const r of got) if (r.value) found.set(String(r.key[1]), r.value);
    }
    return found;
  }

  /**
   * Stores the definite answers among `entries` in few commits (one per 100), instead of one
   * commit (a file sync) per domain.
   */
  async putMany(entries: [string, RdapResult][]): Promise<void> {
    if (this.#ttl <= 0) return;
    const keep = entries.filter(([, r]) => r.status === "ok" || r.status === "not_found");
    for (let i = 0; i < keep.length; i += 100) {
      const op = this.#kv.atomic();
      for (const [domain, r] of keep.slice(i, i + 100)) {
        op.set([PREFIX, domain], r, { expireIn: this.#ttl });
      }
      await op.commit();
    }
  }

  /** Stores `result` when it is a definite answer (`ok` or `not_found`). */
  async put(domain: string, result: RdapResult): Promise<void> {
    if (result.status !== "ok" && result.status !== "not_found") return;
    if (this.#ttl <= 0) return;
    await this.#kv.set([PREFIX, domain], result, { expireIn: this.#ttl });
  }

  /** Closes the KV file. */
  close(): void {
    this.#kv.close();
  }
}
