/**
 * Abort callbacks for many operations that share one signal (a plugin call's signal, passed to
 * every DNS query and connection of its chunk). Deno's `EventTarget` scans a signal's listeners on
 * each `addEventListener` (for duplicates) and `removeEventListener`: an add and a remove cost 3 µs
 * with 10 listeners on the signal, 7 µs with 300 and 35 µs with 2,000 (Deno 2.9), and the dns
 * plugin spent ~15 % of its CPU there. {@linkcode whenAborted} registers one listener per signal
 * and keeps the callbacks in a `Set`.
 *
 * The listener goes again when the signal's last callback is taken back. A signal made by
 * `AbortSignal.any` that has an abort listener is held by each of its sources until it aborts or
 * loses the listener (Deno 2.9: 50,000 such signals of one long-lived source held 43 MB): the
 * host's per-call signals (`AbortSignal.any` of the engine's stop signal and the stage's) piled up
 * in the engine's stop signal for the life of the process (~6 per chunk of a two-stage run).
 * @module
 */

/** A signal's callbacks and the one listener that runs them. */
interface Registration {
  fns: Set<() => void>;
  listener: () => void;
}

const registrations = new WeakMap<AbortSignal, Registration>();

const NOTHING = () => {};

/** The registration of `signal`, its listener added on first use. */
function registrationOf(signal: AbortSignal): Registration {
  const known = registrations.get(signal);
  if (known) return known;
  const fns = new Set<() => void>();
  const listener = () => {
    registrations.delete(signal);
    for (const f of fns) {
      try {
        f();
      } catch (e) {
        reportError(e);
      }
    }
    fns.clear();
  };
  signal.addEventListener("abort", listener, { once: true });
  const r = { fns, listener };
  registrations.set(signal, r);
  return r;
}

/**
 * Calls `fn` once when `signal` aborts; returns the function that takes it back (call it when the
 * operation ends). Nothing is registered for an absent or already aborted signal: check
 * `signal.aborted` first, as with `addEventListener`. Callbacks run in the order they were given;
 * one that throws is reported (`reportError`) and the others still run. Taking back the last
 * callback of a signal removes the listener from it.
 */
export function whenAborted(signal: AbortSignal | undefined, fn: () => void): () => void {
  if (!signal || signal.aborted) return NOTHING;
  const r = registrationOf(signal);
  // A wrapper of its own, so the same function given twice is two callbacks, taken back apart.
  const entry = () => fn();
  r.fns.add(entry);
  return () => {
    if (!r.fns.delete(entry) || r.fns.size > 0 || registrations.get(signal) !== r) return;
    registrations.delete(signal);
    signal.removeEventListener("abort", r.listener);
  };
}
