/**
 * The probe of one domain: which URLs to try, in which order, when to stop, and how the attempts
 * add up to an {@linkcode HttpProbeResult}. Network access comes in through `fetch`, so this is
 * tested without sockets as well as through the real plugin.
 * @module
 */
import { serverDefaultPage } from "@sluice/sdk/net/server_default_page.ts";
import type { FetchOptions, FetchResult } from "@sluice/sdk/net/http_fetch.ts";
import { isOurs } from "@sluice/sdk/net/http_errors.ts";
import type {
  DnsResult,
  HttpAttempt,
  HttpProbeResult,
  HttpResponseSummary,
  HttpTarget,
  RandomPathProbe,
  SlowRetry,
} from "@sluice/sdk/net/types.ts";

/** What {@linkcode probeDomain} needs. */
export interface ProbeOptions {
  domain: string;
  /** The dns stage's result for the domain. */
  dns: DnsResult;
  /**
   * Fetches one start URL (e.g. `fetchWithRedirects` with the shared options bound); with
   * `browserUa` it sends a common desktop browser's User-Agent instead of the probe's.
   */
  fetch: (
    url: string,
    addresses: string[],
    signal: AbortSignal,
    extra?: FetchExtra,
  ) => Promise<FetchResult>;
  /** Probe all four URLs instead of stopping at the first good one. */
  probeAll?: boolean;
  /** Fetch a random path on the best host too. */
  randomPath?: boolean;
  /**
   * Start the HTTP URLs this long after the HTTPS ones when HTTPS has not settled by then
   * (default {@linkcode DEFAULT_HEDGE_MS}; `Infinity`: strictly one after the other).
   */
  hedgeMs?: number;
  /** Makes the random path segment (default: random hex). */
  randomSegment?: () => string;
  /**
   * Per-request timeout (ms) of the slow retry (see {@linkcode slowRetryTargets}); absent or `0`:
   * no slow retry.
   */
  slowRetryMs?: number;
  /**
   * Makes the slow retry's deadline when the retry starts: `signal` may have fired already (the
   * domain's deadline), so the caller extends it and passes its shutdown on (http-probe's
   * `mod.ts`); default: a deadline `slowRetryMs` + {@linkcode SLOW_RETRY_GRACE_MS} from then.
   */
  slowRetrySignal?: () => AbortSignal;
  /**
   * Called once the first round is over and a slow retry is due, before it starts; resolves to
   * a release called when the retry ends. http-probe hands the domain's probe slot back here and
   * takes one of the slow-retry slots instead, so domains waiting on slow servers do not hold up
   * the others' first rounds.
   */
  slowRetryGate?: () => Promise<() => void>;
  /**
   * Keep-open (with a `slowRetryMs` above it): the usual request timeout, ms. The first round's
   * requests are then made with `slowRetryMs` as their request timeout (the connect timeout stays
   * the usual one), and a URL that has not answered after `lateAfterMs` counts as timed out for
   * the rest of the first round while its request stays open (its answer counts if it comes in
   * before the round ends); when the round ends in a slow retry,
   * the retry waits for that request instead of asking the URL again, and otherwise it is
   * cancelled (see {@linkcode KeptOpen}). Absent: the first round's requests end at the usual
   * timeout and the slow retry asks again.
   */
  lateAfterMs?: number;
  /** The domain's deadline (and shutdown) for the first round of probes. */
  signal: AbortSignal;
}

/** What a probe asks of one fetch beyond the URL. */
export interface FetchExtra {
  /** Send a common desktop browser's User-Agent. */
  browserUa?: boolean;
  /** The request timeout (per hop) instead of `network.timeouts.request`: the slow retry's. */
  timeoutMs?: number;
  /**
   * A first-round request that may be kept open ({@linkcode ProbeOptions.lateAfterMs}):
   * `timeoutMs` is its request timeout, and its connect timeout stays the usual one.
   */
  keptOpen?: boolean;
}

/**
 * The network timeouts of one fetch that a probe asks for with `extra`: the usual ones; a slow
 * retry's ({@linkcode slowRetryTimeouts}); or, for a request that may be kept open, the usual
 * connect timeout with `extra.timeoutMs` as the request timeout.
 */
export function fetchTimeouts<T extends { connect: number; request: number }>(
  timeouts: T,
  extra?: FetchExtra,
): T {
  if (extra?.timeoutMs === undefined) return timeouts;
  if (extra.keptOpen) return { ...timeouts, request: extra.timeoutMs };
  return slowRetryTimeouts(timeouts, extra.timeoutMs);
}

/** Fields of {@linkcode FetchOptions} the plugin binds once. */
export type BoundFetchOptions = Omit<FetchOptions, "url" | "addresses" | "signal">;

const ORDER: { target: HttpTarget; scheme: "https" | "http"; www: boolean }[] = [
  { target: "https://apex", scheme: "https", www: false },
  { target: "https://www", scheme: "https", www: true },
  { target: "http://apex", scheme: "http", www: false },
  { target: "http://www", scheme: "http", www: true },
];

/**
 * User-Agent of the one repeat of a request that bot protection refused (403/406) for the probe's
 * own User-Agent: a current Chrome on Windows (config `browserUserAgent` replaces it).
 */
export const BROWSER_USER_AGENT =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) " +
  "Chrome/142.0.0.0 Safari/537.36";

/** Accept-Language of that repeat, as a browser sends it. */
export const BROWSER_ACCEPT_LANGUAGE = "en-US,en;q=0.9";

/** Final statuses that WAFs give clients whose User-Agent is not a browser's. */
const UA_BLOCKED: ReadonlySet<number> = new Set([403, 406]);

/** Requests repeated with the browser User-Agent, at most, per domain. */
const BROWSER_RETRIES = 1;

/** Per-domain budget shared by the lanes of one {@linkcode probeDomain}. */
interface Budget {
  browserRetries: number;
}

/**
 * Failure kinds that say the server may be there, only slower than our timeout: a domain whose
 * probes got no answer and hit one of these gets the slow retry. Refusals, resets, unreachable
 * networks, TLS and DNS failures say the server is not answering at all, and get none; nor does a
 * `connect_timeout`: a server that is merely slow still completes the TCP handshake (its kernel
 * does), while an address that drops the handshake is a firewall or a dead host, common in lead
 * lists, whose retry would hold a probe slot for minutes to no end.
 */
export const SLOW_RETRY_KINDS: ReadonlySet<string> = new Set([
  "timeout",
  "deadline",
]);

/** The longest default slow-retry timeout (a site slower than this works for no visitor). */
export const SLOW_RETRY_DEFAULT_CAP_MS = 30_000;

/**
 * The default `slowRetryTimeoutMs` for a request timeout: 3 × it, at most
 * {@linkcode SLOW_RETRY_DEFAULT_CAP_MS} and never less than the request timeout itself (a second
 * chance at the same timeout). 7.5 s for a 2.5 s timeout; 30 s for the default 30 s one: a site
 * that has not answered in a minute is no working website, and every hanging host holds its
 * chunk as long as its retry lasts.
 */
export function defaultSlowRetryMs(requestTimeoutMs: number): number {
  return Math.max(requestTimeoutMs, Math.min(3 * requestTimeoutMs, SLOW_RETRY_DEFAULT_CAP_MS));
}

/**
 * Time the slow retry's deadline leaves beyond its request timeout at least, so that a URL that
 * still hangs ends by its own timeout (a verdict: it timed out) rather than by the deadline (ours:
 * no verdict).
 */
export const SLOW_RETRY_GRACE_MS = 1000;

/**
 * The network timeouts of a slow-retry request: `timeoutMs` per hop, and the connect timeout grown
 * by the same factor as the request timeout (never above `timeoutMs`, never below the usual one).
 */
export function slowRetryTimeouts<T extends { connect: number; request: number }>(
  timeouts: T,
  timeoutMs: number,
): T {
  const grown = Math.round(timeouts.connect * timeoutMs / Math.max(1, timeouts.request));
  return {
    ...timeouts,
    request: timeoutMs,
    connect: Math.max(timeouts.connect, Math.min(timeoutMs, grown)),
  };
}

/** Default of {@linkcode ProbeOptions.hedgeMs}. */
export const DEFAULT_HEDGE_MS = 1000;

/** A request {@linkcode KeptOpen} set aside: its result, addresses, and its answer once it came. */
interface OpenRequest {
  result: Promise<FetchResult>;
  addresses: string[];
  settled?: FetchResult;
}

/**
 * The first round's requests of one domain that may be kept open (keep-open,
 * {@linkcode ProbeOptions.lateAfterMs}). Each is made under this object's signal with the slow
 * retry's request timeout; one that has not answered after `lateAfterMs` is set aside: the round
 * gets a `timeout` attempt for it (`deadline` when the round's signal ended the wait) and goes on,
 * while the request stays open. The slow retry then {@linkcode take}s it instead of asking the URL
 * again, so a server that is only slow answers once, at its own pace, and one that hangs costs one
 * `slowRetryMs` from its first request instead of a request timeout plus `slowRetryMs`. An answer
 * that comes in before the round ends is the round's ({@linkcode settled}). Requests not taken are
 * cancelled by {@linkcode close}.
 */
class KeptOpen {
  readonly #stop = new AbortController();
  readonly #open = new Map<HttpTarget, OpenRequest>();
  readonly #off: (() => void)[] = [];

  constructor(readonly lateAfterMs: number) {}

  /**
   * Makes the request of `target` with `start` and waits for it up to `lateAfterMs` (or until
   * `round` aborts); then returns a stand-in `timeout` (`deadline`) result and keeps the request.
   */
  async ask(
    target: HttpTarget,
    url: string,
    addresses: string[],
    round: AbortSignal,
    start: (signal: AbortSignal) => Promise<FetchResult>,
  ): Promise<FetchResult> {
    const result = start(this.#stop.signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onRound: (() => void) | undefined;
    const late = await new Promise<"timeout" | "deadline" | undefined>((resolve) => {
      const settled = () => resolve(undefined);
      result.then(settled, settled);
      timer = setTimeout(() => resolve("timeout"), this.lateAfterMs);
      if (round.aborted) return resolve("deadline");
      onRound = () => resolve("deadline");
      round.addEventListener("abort", onRound, { once: true });
    });
    clearTimeout(timer);
    if (onRound) round.removeEventListener("abort", onRound);
    if (!late) return await result;
    const open: OpenRequest = { result, addresses };
    // Its error is seen when taken; untaken, it is ours (cancelled).
    result.then((r) => open.settled = r, () => {});
    this.#open.set(target, open);
    return {
      url,
      hops: [],
      error: {
        kind: late,
        message: late === "timeout"
          ? `no answer within ${this.lateAfterMs} ms (the request was kept open)`
          : "the domain's probe deadline passed while waiting for an answer",
        ours: isOurs(late),
        url,
      },
    };
  }

  /** The addresses of `target`'s request when it was set aside and is still open. */
  addressesOf(target: HttpTarget): string[] | undefined {
    return this.#open.get(target)?.addresses;
  }

  /**
   * The first round's attempt `a` with the answer (or failure) of its request set aside, when that
   * came in meanwhile (then no longer open); else undefined.
   */
  settled(a: HttpAttempt): HttpAttempt | undefined {
    const r = this.#open.get(a.target)?.settled;
    if (!r) return undefined;
    this.#open.delete(a.target);
    return attemptOf(a.target, a.url, r);
  }

  /** The request of `target` that was set aside (once), for the slow retry to wait for. */
  take(target: HttpTarget): Promise<FetchResult> | undefined {
    const open = this.#open.get(target);
    this.#open.delete(target);
    return open?.result;
  }

  /** Ends the requests still open when `signal` aborts (the slow retry's deadline). */
  follow(signal: AbortSignal): void {
    if (signal.aborted) return this.close(signal.reason);
    const onAbort = () => this.close(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    this.#off.push(() => signal.removeEventListener("abort", onAbort));
  }

  /** Cancels the requests still open (their answers are no longer wanted). */
  close(reason: unknown = new Error("kept-open requests no longer wanted")): void {
    for (const off of this.#off.splice(0)) off();
    this.#open.clear();
    if (!this.#stop.signal.aborted) this.#stop.abort(reason);
  }
}

const good = (a: HttpAttempt) => a.response !== undefined && a.response.status < 400;

/** The attempt of `target` (at `url`) that fetch result `r` makes. */
function attemptOf(
  target: HttpTarget,
  url: string,
  r: FetchResult,
  slowRetry?: true,
): HttpAttempt {
  const attempt: HttpAttempt = { target, url, hops: r.hops };
  if (r.response) attempt.response = r.response;
  if (r.error) attempt.error = r.error;
  if (slowRetry) attempt.slowRetry = true;
  return attempt;
}

/** Stock-page answers already judged (about 20 µs per 16 KB page, and asked twice). */
const stockSeen = new WeakMap<HttpResponseSummary, boolean>();

/** A good answer that is a web server's stock page (nginx, Apache, IIS, cPanel…). */
function stock(a: HttpAttempt): boolean {
  if (!good(a)) return false;
  let is = stockSeen.get(a.response!);
  if (is === undefined) {
    stockSeen.set(a.response!, is = serverDefaultPage(a.response!) !== undefined);
  }
  return is;
}

/**
 * Summarizes attempts into the probe's status and best response: the first answer below 400
 * that is not a server's stock page, else the first below 400, else the first response.
 */
export function summarize(attempts: HttpAttempt[]): Omit<HttpProbeResult, "randomPath"> {
  const best = attempts.find((a) => good(a) && !stock(a)) ?? attempts.find(good) ??
    attempts.find((a) => a.response);
  if (best?.response) {
    return { status: "responded", attempts, best: { ...best.response, target: best.target } };
  }
  if (attempts.length === 0) return { status: "no_address", attempts };
  const errors = attempts.map((a) => a.error!).filter(Boolean);
  if (errors.length && errors.every((e) => e.kind === "blocked_private")) {
    return { status: "blocked_private", attempts };
  }
  if (errors.some((e) => e.ours)) return { status: "unknown", attempts };
  return { status: "failed", attempts };
}

function randomHex(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/**
 * Failure kinds that belong to the address and port, not to the host name asked for: another
 * name at the same address fails the same way, so it is not tried again (`timeout`: the server
 * there took the connection but never answered).
 */
const ADDRESS_FAILURES: ReadonlySet<string> = new Set([
  "refused",
  "connect_timeout",
  "unreachable",
  "timeout",
]);

/**
 * Addresses that failed at the connection in `attempt` (the start host's, no response at all):
 * every one `fetchWithRedirects` tried, when the last failed with an address failure too.
 */
function failedAddresses(attempt: HttpAttempt): Set<string> {
  const e = attempt.error;
  if (!e?.ip || attempt.hops.length || !ADDRESS_FAILURES.has(e.kind)) return new Set();
  return new Set([...(e.failedBefore ?? []).map((f) => f.ip), e.ip]);
}

/** Tries the URLs of one scheme (apex, then www) in order; stops at the first good answer. */
async function probeLane(
  opts: ProbeOptions,
  lane: typeof ORDER,
  hosts: { apex: string[]; www: string[] },
  budget: Budget,
  signal: AbortSignal,
  kept?: KeptOpen,
): Promise<HttpAttempt[]> {
  const attempts: HttpAttempt[] = [];
  for (const o of lane) {
    const addresses = o.www ? hosts.www : hosts.apex;
    if (addresses.length === 0) continue;
    const url = `${o.scheme}://${o.www ? "www." : ""}${opts.domain}/`;
    if (signal.aborted) {
      attempts.push({
        target: o.target,
        url,
        hops: [],
        error: {
          kind: "deadline",
          message: "the domain's probe deadline passed before this URL was tried",
          ours: isOurs("deadline"),
          url,
        },
      });
      continue;
    }
    // Every address already failed at the connection for a URL of this scheme: known answer.
    // (A request set aside and still open counts as timed out at all of its host's addresses.)
    const same = attempts.find((a) => {
      const open = kept?.addressesOf(a.target);
      const failed = open ? new Set(open) : failedAddresses(a);
      return failed.size > 0 && addresses.every((ip) => failed.has(ip));
    });
    if (same?.error) {
      const ips = [...new Set(addresses)].join(", ");
      attempts.push({
        target: o.target,
        url,
        hops: [],
        error: {
          ...same.error,
          url,
          message: `not tried again: ${ips} already failed for ${same.url} (${same.error.message})`,
        },
      });
      continue;
    }
    const r = kept
      ? await kept.ask(
        o.target,
        url,
        addresses,
        signal,
        (s) =>
          fetchAsBrowserIfBlocked(opts, url, addresses, budget, s, {
            timeoutMs: opts.slowRetryMs,
            keptOpen: true,
          }),
      )
      : await fetchAsBrowserIfBlocked(opts, url, addresses, budget, signal);
    const attempt = attemptOf(o.target, url, r);
    attempts.push(attempt);
    if (!opts.probeAll && good(attempt)) {
      // A stock server page for the bare name while www has an address: a virtual host may
      // exist for www only, so www is asked too (the site there wins, see `summarize`).
      const bare = !o.www && attempt.response!.host === opts.domain;
      if (bare && hosts.www.length && stock(attempt)) continue;
      break;
    }
  }
  return attempts;
}

/**
 * Fetches `url`; when the final answer is 403 or 406 (bot protection judging the User-Agent) and
 * the domain's budget allows, asks the same URL once more with a browser's User-Agent and takes
 * that answer when it is below 400 (marked `browserUa: true`), else keeps the first.
 */
async function fetchAsBrowserIfBlocked(
  opts: ProbeOptions,
  url: string,
  addresses: string[],
  budget: Budget,
  signal: AbortSignal,
  timeout?: Omit<FetchExtra, "browserUa">,
): Promise<FetchResult> {
  const r = await opts.fetch(url, addresses, signal, timeout);
  if (!r.response || !UA_BLOCKED.has(r.response.status)) return r;
  if (budget.browserRetries <= 0 || signal.aborted) return r;
  budget.browserRetries--;
  const b = await opts.fetch(url, addresses, signal, { ...timeout, browserUa: true });
  if (!b.response || b.response.status >= 400) return r;
  return { ...b, response: { ...b.response, browserUa: true } };
}

/**
 * Probes one domain; never throws for network trouble. HTTPS URLs come first (apex, then www),
 * then HTTP; the first answer below 400 wins (HTTP is asked as well when HTTPS gave only server
 * stock pages). When HTTPS has not settled after `hedgeMs`, the HTTP URLs are tried alongside
 * (their result counts only if HTTPS finds nothing good but stock pages), so a site that hangs
 * costs one request timeout, not one per URL. A URL whose address already failed at the
 * connection level for the other name of the same scheme is not tried again. A 403/406 is asked
 * once more as a browser (once per domain). When no URL got an answer and some timed out, those
 * are asked once more with `slowRetryMs` (see {@linkcode slowRetryTargets}).
 */
export async function probeDomain(opts: ProbeOptions): Promise<HttpProbeResult> {
  const { dns } = opts;
  if (dns.status !== "ok") {
    // Only NXDOMAIN says the name has no address; SERVFAIL, REFUSED and our failures say nothing.
    return { status: dns.status === "nxdomain" ? "no_address" : "unknown", attempts: [] };
  }
  const hosts = {
    apex: [...dns.apex.a, ...dns.apex.aaaa],
    www: [...dns.www.a, ...dns.www.aaaa],
  };
  const keepOpen = opts.lateAfterMs !== undefined && (opts.slowRetryMs ?? 0) > opts.lateAfterMs;
  const kept = keepOpen ? new KeptOpen(opts.lateAfterMs!) : undefined;
  try {
    return await probeHosts(opts, hosts, kept);
  } finally {
    kept?.close();
  }
}

/** {@linkcode probeDomain} for a domain with addresses. */
async function probeHosts(
  opts: ProbeOptions,
  hosts: { apex: string[]; www: string[] },
  kept: KeptOpen | undefined,
): Promise<HttpProbeResult> {
  const httpsLane = ORDER.filter((o) => o.scheme === "https");
  const httpLane = ORDER.filter((o) => o.scheme === "http");
  // The HTTP lane is cancelled when HTTPS answers well (its attempts are then dropped).
  const httpStop = new AbortController();
  const httpSignal = AbortSignal.any([opts.signal, httpStop.signal]);
  let httpRun: Promise<HttpAttempt[]> | undefined;
  const budget: Budget = { browserRetries: BROWSER_RETRIES };
  const startHttp = () => httpRun ??= probeLane(opts, httpLane, hosts, budget, httpSignal, kept);
  const hedgeMs = opts.probeAll ? 0 : opts.hedgeMs ?? DEFAULT_HEDGE_MS;
  const hedge = Number.isFinite(hedgeMs) ? setTimeout(startHttp, Math.max(0, hedgeMs)) : undefined;
  let attempts: HttpAttempt[];
  try {
    const https = await probeLane(opts, httpsLane, hosts, budget, opts.signal, kept);
    clearTimeout(hedge);
    // Only stock pages over HTTPS (apex and www as asked): an SSL default vhost may show the
    // panel's page while the site's vhost exists for port 80 only, so HTTP is asked too.
    if (!opts.probeAll && https.some((a) => good(a) && !stock(a))) {
      httpStop.abort(new Error("https answered"));
      httpRun?.catch(() => {});
      attempts = https;
    } else {
      attempts = [...https, ...await startHttp()];
    }
  } finally {
    clearTimeout(hedge);
  }
  // A request set aside whose answer (or failure) came in while the round went on counts as it
  // came: an HTTPS answer late by a little is not lost to an HTTP 500 that was quick.
  if (kept) attempts = attempts.map((a) => kept.settled(a) ?? a);
  let slow: SlowRetry | undefined;
  let signal = opts.signal;
  if (opts.slowRetryMs && opts.slowRetryMs > 0 && slowRetryTargets(attempts).length) {
    const release = await opts.slowRetryGate?.();
    try {
      const ran = await withRetrySignal(opts, (s) => {
        signal = s;
        kept?.follow(s);
        return retrySlow(opts, attempts, hosts, budget, opts.slowRetryMs!, s, kept);
      });
      attempts = ran.attempts;
      slow = ran.slowRetry;
    } finally {
      release?.();
    }
  }
  const result: HttpProbeResult = summarize(attempts);
  if (slow) result.slowRetry = slow;
  if (opts.randomPath && result.best && !signal.aborted) {
    // A site that answered only on the slow retry gets the retry's timeout here too.
    const timeoutMs = slow?.answered ? slow.timeoutMs : undefined;
    result.randomPath = await probeRandomPath(opts, result, signal, timeoutMs);
  }
  return result;
}

/**
 * Runs `fn` under the slow retry's deadline: `opts.slowRetrySignal`'s, else one of
 * `slowRetryMs` + {@linkcode SLOW_RETRY_GRACE_MS} that cleans up after itself.
 */
async function withRetrySignal<T>(
  opts: ProbeOptions,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (opts.slowRetrySignal) return await fn(opts.slowRetrySignal());
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(new Error("slow retry deadline")),
    opts.slowRetryMs! + SLOW_RETRY_GRACE_MS,
  );
  try {
    return await fn(ac.signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The attempts the slow retry asks again: none when any attempt got an HTTP response (a domain
 * that answered anything is judged by that answer), else those that failed by a timeout
 * ({@linkcode SLOW_RETRY_KINDS}, including the ones "not tried again" after their address timed
 * out for the other name). A domain whose URLs were all refused, reset, unreachable or failed TLS
 * or DNS gets none.
 */
export function slowRetryTargets(attempts: HttpAttempt[]): HttpAttempt[] {
  if (attempts.some((a) => a.response)) return [];
  return attempts.filter((a) => a.error && SLOW_RETRY_KINDS.has(a.error.kind));
}

/**
 * The slow retry: the URLs that timed out, asked once more with `timeoutMs` per request. URLs
 * whose hosts have the same addresses form one queue per scheme (port), asked one after the other
 * in the probe's order (apex before www: the URL most likely to be the site first): one
 * connection at a time to each address and port. The HTTPS and HTTP queues of the same addresses
 * run alongside, since a server's ports fail apart (HTTPS that hangs while HTTP is merely slow
 * must not hide the HTTP answer), so a server that still hangs costs one `timeoutMs` of wall
 * time and two connections. A queue stops at its first answer (any status: that answer is the
 * verdict's), and then the other scheme's queue of those addresses starts no further request
 * (see {@linkcode SlowQueue}), or at its first timeout (the other URLs of that queue are not asked
 * again and get that timeout). Queues of other addresses (apex and www hosted apart) run
 * alongside too. Each asked URL's attempt replaces the first round's one. A URL whose first-round
 * request was kept open (`kept`) is not asked again: its place in the queue waits for that
 * request, which has the same request timeout and started earlier.
 */
async function retrySlow(
  opts: ProbeOptions,
  attempts: HttpAttempt[],
  hosts: { apex: string[]; www: string[] },
  budget: Budget,
  timeoutMs: number,
  signal: AbortSignal,
  kept?: KeptOpen,
): Promise<{ attempts: HttpAttempt[]; slowRetry: SlowRetry }> {
  const started = performance.now();
  const queues = slowQueues(slowRetryTargets(attempts), hosts);
  const redone = new Map<HttpTarget, HttpAttempt>();
  const asked: HttpTarget[] = [];
  const waited: HttpTarget[] = [];
  await Promise.all(queues.map(async ({ urls, answered }) => {
    let hung: HttpAttempt | undefined;
    for (const o of urls) {
      const url = `${o.scheme}://${o.www ? "www." : ""}${opts.domain}/`;
      if (signal.aborted) break; // the first round's attempts stay
      if (hung?.error) {
        redone.set(o.target, notTriedAgain(o.target, url, hung));
        continue;
      }
      // The other scheme answered at these addresses: that answer is the verdict's.
      if (answered.value) break;
      asked.push(o.target);
      const addresses = o.www ? hosts.www : hosts.apex;
      // A request kept open from the first round is waited for instead of asked again.
      const open = kept?.take(o.target);
      if (open) waited.push(o.target);
      const r = await (open ??
        fetchAsBrowserIfBlocked(opts, url, addresses, budget, signal, { timeoutMs }));
      const attempt = attemptOf(o.target, url, r, true);
      redone.set(o.target, attempt);
      if (r.response) {
        answered.value = true;
        break;
      }
      if (r.error && SLOW_RETRY_KINDS.has(r.error.kind)) hung = attempt;
    }
  }));
  const order = ORDER.map((o) => o.target);
  return {
    attempts: attempts.map((a) => redone.get(a.target) ?? a),
    slowRetry: {
      tried: true,
      answered: [...redone.values()].some((a) => a.response !== undefined),
      ms: Math.round(performance.now() - started),
      timeoutMs,
      targets: asked.sort((a, b) => order.indexOf(a) - order.indexOf(b)),
      ...(waited.length
        ? { keptOpen: waited.sort((a, b) => order.indexOf(a) - order.indexOf(b)) }
        : {}),
    },
  };
}

/**
 * One queue of the slow retry: the due URLs of one scheme whose hosts have the same addresses,
 * in the probe's order. `answered` is shared with the other scheme's queue of those addresses:
 * once either gets an answer, neither starts another request. A request already in flight then
 * is not aborted but finishes: both queues start together, so each one's first URL is always
 * asked to its end, and the verdict (the first answer in the probe's order, see
 * {@linkcode summarize}) does not depend on which port happened to answer first. The price: the
 * retry may last one `timeoutMs` when one port answers at once and the other hangs, on a
 * connection that is open already.
 */
interface SlowQueue {
  urls: typeof ORDER;
  answered: { value: boolean };
}

/** The slow retry's queues for `due` (see {@linkcode SlowQueue}); hosts without addresses none. */
function slowQueues(
  due: HttpAttempt[],
  hosts: { apex: string[]; www: string[] },
): SlowQueue[] {
  const targets = new Set(due.map((a) => a.target));
  const queues = new Map<string, SlowQueue>();
  const answeredAt = new Map<string, { value: boolean }>();
  for (const o of ORDER) {
    const addresses = o.www ? hosts.www : hosts.apex;
    if (!targets.has(o.target) || addresses.length === 0) continue;
    const ips = [...new Set(addresses)].sort().join(" ");
    if (!answeredAt.has(ips)) answeredAt.set(ips, { value: false });
    const key = `${o.scheme} ${ips}`;
    if (!queues.has(key)) queues.set(key, { urls: [], answered: answeredAt.get(ips)! });
    queues.get(key)!.urls.push(o);
  }
  return [...queues.values()];
}

/** The attempt of a URL left out of the slow retry because `hung` (same queue) timed out. */
function notTriedAgain(target: HttpTarget, url: string, hung: HttpAttempt): HttpAttempt {
  return {
    target,
    url,
    hops: [],
    error: {
      ...hung.error!,
      url,
      message: `not tried again: ${hung.url} timed out on the slow retry too ` +
        `(${hung.error!.message})`,
    },
    slowRetry: true,
  };
}

async function probeRandomPath(
  opts: ProbeOptions,
  result: HttpProbeResult,
  signal: AbortSignal,
  timeoutMs?: number,
): Promise<RandomPathProbe> {
  const best = result.best!;
  const url = new URL(`/${(opts.randomSegment ?? randomHex)()}`, best.url).href;
  // A site that refused the probe's User-Agent would refuse it here too: ask as the browser.
  const r = await opts.fetch(url, [best.ip], signal, {
    browserUa: best.browserUa,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const out: RandomPathProbe = { url, sameAsBest: false };
  if (r.response) {
    out.status = r.response.status;
    out.bodyHash = r.response.bodyHash;
    out.title = r.response.title;
    out.sameAsBest = r.response.status === 200 &&
      (r.response.bodyHash === best.bodyHash ||
        (best.title !== "" && r.response.title === best.title));
  }
  if (r.error) out.error = r.error;
  return out;
}
