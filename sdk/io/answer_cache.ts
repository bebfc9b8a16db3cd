/**
 * Answers of a paid or rate-limited API kept by a plugin, so that running a list again (a resumed
 * run, next week's run of the same list) does not ask, and pay, twice: a Deno KV file in the
 * plugin's data folder, shared by the stage's processes (opened with `openKv` of `kv_locks.ts`).
 * An entry is stored under a hash of what decides the answer ({@linkcode AnswerCache.keyOf}: the
 * service, its address, the request) with the time it was asked; one older than the cache's age
 * is not served. Keep answers only, never failures.
 * @module
 */
import { join } from "node:path";
import { openKv } from "./kv_locks.ts";

/** One kept answer. */
interface Entry<T> {
  value: T;
  /** When it was asked, ms since the epoch. */
  at: number;
}

/** Kept answers of type `T` in one KV file. */
export class AnswerCache<T> {
  readonly #kv: Deno.Kv;
  readonly #ttl: number;
  readonly #prefix: string;

  private constructor(kv: Deno.Kv, ttlMs: number, prefix: string) {
    this.#kv = kv;
    this.#ttl = ttlMs;
    this.#prefix = prefix;
  }

  /**
   * Opens (creating) `<dataDir>/<folder>/cache.kv`; answers are served for `ttlMs`. `prefix`
   * names what the entries hold: change it when that changes, and older entries are not served.
   */
  static async open<T>(
    dataDir: string,
    folder: string,
    ttlMs: number,
    prefix: string,
  ): Promise<AnswerCache<T>> {
    await Deno.mkdir(join(dataDir, folder), { recursive: true });
    return new AnswerCache<T>(await openKv(join(dataDir, folder, "cache.kv")), ttlMs, prefix);
  }

  /** The key of a request: a SHA-256 hash of what decides its answer. */
  static async keyOf(parts: unknown[]): Promise<string> {
    const bytes = new TextEncoder().encode(JSON.stringify(parts));
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** The kept answers of `keys` younger than the cache's age (KV reads of up to 10 keys each). */
  async getMany(keys: string[], now = Date.now()): Promise<Map<string, T>> {
    const found = new Map<string, T>();
    const unique = [...new Set(keys)];
    for (let i = 0; i < unique.length; i += 10) {
      const got = await this.#kv.getMany<Entry<T>[]>(
        unique.slice(i, i + 10).map((k) => [this.#prefix, k]),
      );
      for (const r of got) {
        if (r.value && now - r.value.at < this.#ttl) found.set(String(r.key[1]), r.value.value);
      }
    }
    return found;
  }

  /** Keeps `entries` (key, answer), in one commit per 100 (not a file sync per answer). */
  async putMany(entries: [string, T][], now = Date.now()): Promise<void> {
    for (let i = 0; i < entries.length; i += 100) {
      const op = this.#kv.atomic();
      for (const [key, value] of entries.slice(i, i + 100)) {
        op.set([this.#prefix, key], { value, at: now } satisfies Entry<T>, {
          expireIn: this.#ttl,
        });
      }
      await op.commit();
    }
  }

  /** Closes the KV file. */
  close(): void {
    this.#kv.close();
  }
}
