/**
 * Short-lived caches of the engine (run records, who runs a run) that drop what they no longer
 * trust, so a long-lived server does not keep every run it once read.
 * @module
 */

/** Most entries a cache keeps, however fresh. */
export const CACHE_MAX_ENTRIES = 1000;

/**
 * Sets `key` to `value` in a cache whose entries are trusted for `ttl` ms (`at`: a monotonic
 * clock, `performance.now()`), and drops the entries older than that, and the oldest beyond
 * {@link CACHE_MAX_ENTRIES}. Entries stay in the order they were set, oldest first.
 */
export function cacheSet<V extends { at: number }>(
  cache: Map<string, V>,
  key: string,
  value: V,
  ttl: number,
): void {
  cache.delete(key);
  cache.set(key, value);
  for (const [k, v] of cache) {
    if (value.at - v.at < ttl && cache.size <= CACHE_MAX_ENTRIES) break;
    cache.delete(k);
  }
}
