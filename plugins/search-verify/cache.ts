/**
 * The search answers search-verify got, kept so that running a list again (a resumed run, next
 * week's run of the same list) does not pay for the same queries twice: a Deno KV file in the
 * plugin's data folder, shared by the stage's instances. An entry is the answer's hits (not the
 * verdict: matching runs again on them, with the item's own domain and phone), under a hash of
 * provider, service address, result count and query; one older than the cache's age is not
 * served. Only answers are kept, never failures.
 * @module
 */
import { join } from "node:path";
import { openKv } from "@sluice/sdk/io/kv_locks.ts";
import type { Hit } from "./match.ts";

/** Key prefix of entries; bump it when what an entry holds changes. */
const PREFIX = "hits-v1";

/** One kept answer. */
interface Entry {
  hits: Hit[];
  /** When it was asked, ms since the epoch. */
  at: number;
}

/** The hit cache over one KV file. */
export class SearchCache {
  readonly #kv: Deno.Kv;
  readonly #ttl: number;

  private constructor(kv: Deno.Kv, ttlMs: number) {
    this.#kv = kv;
    this.#ttl = ttlMs;
  }

  /** Opens (creating) `<dataDir>/search/cache.kv`; answers are served for `ttlMs`. */
  static async open(dataDir: string, ttlMs: number): Promise<SearchCache> {
    await Deno.mkdir(join(dataDir, "search"), { recursive: true });
    return new SearchCache(await openKv(join(dataDir, "search", "cache.kv")), ttlMs);
  }

  /** The key of a query: a hash of what decides its answer (provider, address, count, query). */
  static async keyOf(parts: (string | number)[]): Promise<string> {
    const bytes = new TextEncoder().encode(JSON.stringify(parts));
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** The kept hits of `keys` younger than the cache's age (KV reads of up to 10 keys each). */
  async getMany(keys: string[], now = Date.now()): Promise<Map<string, Hit[]>> {
    const found = new Map<string, Hit[]>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 10) {
      const got = await this.#kv.getMany<Entry[]>(unique.slice(i, i + 10).map((k) => [PREFIX, k]));
      for (const r of got) {
        if (r.value && now - r.value.at < this.#ttl) found.set(String(r.key[1]), r.value.hits);
      }
    }
    return found;
  }

  /** Keeps the hits of `entries`, in one commit per 100 (not a file sync per query). */
  async putMany(entries: [string, Hit[]][], now = Date.now()): Promise<void> {
    for (let i = 0; i < entries.length; i += 100) {
      const op = this.#kv.atomic();
      for (const [key, hits] of entries.slice(i, i + 100)) {
        op.set([PREFIX, key], { hits, at: now } satisfies Entry, { expireIn: this.#ttl });
      }
      await op.commit();
    }
  }

  /** Closes the KV file. */
  close(): void {
    this.#kv.close();
  }
}
