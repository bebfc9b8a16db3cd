/**
 * Deno KV files shared by several handles or processes (a `sluice run` beside `sluice serve`, the
 * instances of one plugin on its cache file). SQLite lets one writer at a time. Deno KV waits up
 * to five seconds for the lock in a plain write, but an atomic operation with `check`s reads
 * first, and SQLite refuses that reader's upgrade to a writer at once while another process holds
 * the write lock (no busy wait): the commit throws "database is locked" (measured on Deno 2.9).
 * A retry reads the checked keys again, so it is safe: the write applies to the state it checked
 * or reports the conflict (`ok: false`) as usual.
 *
 * {@link openKv} opens a file through {@link lockRetrying}, which retries every write of the
 * handle ({@link retryLocked}); open KV files with it, not with `Deno.openKv`.
 * @module
 */

const LOCKED = /database is locked|SQLITE_BUSY/i;

/**
 * Runs `fn` again while SQLite refuses it because another handle or process holds the write lock
 * ("database is locked"), for `waitMs` at most (default 30 s, longer than any commit of a busy
 * run takes), pausing a little longer each time (up to 200 ms); any other error is thrown at once.
 * When the lock outlasts the wait, the error names `file` (the KV file, when known) and what to
 * do, with the lock error as its cause.
 */
export async function retryLocked<T>(
  fn: () => Promise<T>,
  waitMs = 30_000,
  file?: string,
): Promise<T> {
  const until = Date.now() + waitMs;
  for (let i = 1;; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!LOCKED.test(String((e as Error)?.message))) throw e;
      if (Date.now() >= until) {
        throw new Error(
          `${file ?? "a Deno KV file"} stayed locked by another process for ` +
            `${Math.round(waitMs / 1000)} s (database is locked): another Sluice process on the ` +
            "same data folder (sluice run, serve or worker) kept it busy or hangs; stop the " +
            "process that hangs and try again",
          { cause: e },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(200, 2 * i) + Math.random() * 5));
    }
  }
}

const wrapped = new WeakSet<object>();
/** The wrapper of each handle: wrapping a handle again gives the same object. */
const wrappers = new WeakMap<Deno.Kv, Deno.Kv>();

/** An atomic operation whose `commit` is retried on a lock; its builder methods chain on it. */
function retryingAtomic(op: Deno.AtomicOperation, file?: string): Deno.AtomicOperation {
  const proxy: Deno.AtomicOperation = new Proxy(op, {
    get(target, prop) {
      if (prop === "commit") return () => retryLocked(() => target.commit(), undefined, file);
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const out = value.apply(target, args);
        return out === target ? proxy : out;
      };
    },
  });
  return proxy;
}

/**
 * `kv` with every write retried on a lock ({@link retryLocked}): `atomic().commit()`, `set`,
 * `delete` and `enqueue`. Reads and the queue listener are the handle's own (Deno KV reads do not
 * meet the lock). Wrapping a wrapped handle returns it as it is, and wrapping one handle again
 * returns the same wrapper (so wrappers of one handle compare equal). `file` names the KV file in
 * the error of a lock that outlasts the wait.
 */
export function lockRetrying(kv: Deno.Kv, file?: string): Deno.Kv {
  if (wrapped.has(kv)) return kv;
  const known = wrappers.get(kv);
  if (known) return known;
  const proxy = new Proxy(kv, {
    get(target, prop) {
      if (prop === "atomic") return () => retryingAtomic(target.atomic(), file);
      if (prop === "set" || prop === "delete" || prop === "enqueue") {
        const method = target[prop] as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) =>
          retryLocked(() => method.apply(target, args), undefined, file);
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  wrapped.add(proxy);
  wrappers.set(kv, proxy);
  return proxy;
}

/** Opens (or creates) the KV file at `path` (`:memory:` too) as a {@link lockRetrying} handle. */
export async function openKv(path: string): Promise<Deno.Kv> {
  return lockRetrying(await retryLocked(() => Deno.openKv(path), undefined, path), path);
}
