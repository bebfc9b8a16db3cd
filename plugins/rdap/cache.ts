/**
 * The RDAP result cache: a Deno KV file in the plugin's data folder (safe to share between the
 * stage's instances), entries expiring after `ttlMs`. Only definite answers are cached.
 * @module
 */
import { join } from "node:path";
import type { RdapResult } from "./parse.ts";

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
    return new RdapCache(await Deno.openKv(join(dataDir, "rdap", "cache.kv")), ttlMs);
  }

  /** The cached result of `domain`, if fresh. */
  async get(domain: string): Promise<RdapResult | undefined> {
    const r = await this.#kv.get<RdapResult>(["domain", domain]);
    return r.value ?? undefined;
  }

  /** Stores `result` when it is a definite answer (`ok` or `not_found`). */
  async put(domain: string, result: RdapResult): Promise<void> {
    if (result.status !== "ok" && result.status !== "not_found") return;
    if (this.#ttl <= 0) return;
    await this.#kv.set(["domain", domain], result, { expireIn: this.#ttl });
  }

  /** Closes the KV file. */
  close(): void {
    this.#kv.close();
  }
}
