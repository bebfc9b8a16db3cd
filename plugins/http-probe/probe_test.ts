import assert from "node:assert/strict";
import type { FetchResult } from "@sluice/sdk/net/http_fetch.ts";
import type { DnsResult, HttpErrorKind, HttpResponseSummary } from "@sluice/sdk/net/types.ts";
import {
  defaultSlowRetryMs,
  type FetchExtra,
  fetchTimeouts,
  probeDomain,
  slowRetryTimeouts,
  summarize,
} from "./probe.ts";

const dns = (apex: string[], www: string[]): DnsResult => ({
  status: "ok",
  apex: { status: "ok", a: apex, aaaa: [], cname: [] },
  www: { status: www.length ? "ok" : "nxdomain", a: www, aaaa: [], cname: [] },
  ns: [],
  mx: [],
  txt: [],
});

const response = (url: string, status: number, extra: Partial<HttpResponseSummary> = {}) => ({
  url,
  host: new URL(url).hostname,
  ip: "192.0.2.1",
  status,
  headers: {},
  contentType: "text/html",
  binary: false,
  title: "T",
  text: "",
  html: "",
  bodyHash: `sha256:${url}`,
  bodyBytes: 1,
  truncated: false,
  timeMs: 1,
  ...extra,
});

const ok = (status: number) => (url: string): FetchResult => ({
  url,
  hops: [{ url, ip: "192.0.2.1", status }],
  response: response(url, status),
});
const fail = (kind: HttpErrorKind, ours = false) => (url: string): FetchResult => ({
  url,
  hops: [],
  error: { kind, message: kind, ours, url },
});

function fakeFetch(table: Record<string, (url: string) => FetchResult>) {
  const calls: string[] = [];
  return {
    calls,
    fetch: (url: string) => {
      calls.push(url);
      const f = table[url] ?? fail("refused");
      return Promise.resolve(f(url));
    },
  };
}

const signal = new AbortController().signal;

Deno.test("probeDomain tries https before http, apex before www, and stops at the first good", async () => {
  const f = fakeFetch({
    "https://x.test/": fail("tls_expired"),
    "https://www.x.test/": ok(404),
    "http://x.test/": ok(200),
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    ...f,
    signal,
  });
  assert.deepEqual(f.calls, ["https://x.test/", "https://www.x.test/", "http://x.test/"]);
  assert.equal(r.status, "responded");
  assert.equal(r.best?.target, "http://apex");
  assert.deepEqual(r.attempts.map((a) => a.target), ["https://apex", "https://www", "http://apex"]);
  assert.equal(r.attempts[0].error?.kind, "tls_expired");
});

Deno.test("probeDomain skips hosts without addresses and probes all when asked", async () => {
  const f = fakeFetch({ "https://x.test/": ok(200), "http://x.test/": ok(200) });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    probeAll: true,
    ...f,
    signal,
  });
  assert.deepEqual(f.calls, ["https://x.test/", "http://x.test/"]);
  assert.equal(r.best?.target, "https://apex");
});

Deno.test("probeDomain falls back to a 4xx/5xx response when nothing is below 400", async () => {
  const f = fakeFetch({ "https://x.test/": ok(503), "http://x.test/": ok(404) });
  const r = await probeDomain({ domain: "x.test", dns: dns(["192.0.2.1"], []), ...f, signal });
  assert.equal(r.best?.status, 503);
  assert.equal(r.attempts.length, 2);
});

Deno.test("summarize: failed, unknown, blocked_private and no_address", async () => {
  const failed = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    ...fakeFetch({}),
    signal,
  });
  assert.equal(failed.status, "failed");
  const unknown = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    ...fakeFetch({ "http://x.test/": fail("timeout", true) }),
    signal,
  });
  assert.equal(unknown.status, "unknown");
  const blocked = await probeDomain({
    domain: "x.test",
    dns: dns(["10.0.0.1"], []),
    ...fakeFetch({
      "https://x.test/": fail("blocked_private"),
      "http://x.test/": fail("blocked_private"),
    }),
    signal,
  });
  assert.equal(blocked.status, "blocked_private");
  assert.equal(summarize([]).status, "no_address");
  const nx = await probeDomain({
    domain: "x.test",
    dns: { ...dns([], []), status: "nxdomain" },
    ...fakeFetch({}),
    signal,
  });
  assert.deepEqual(nx, { status: "no_address", attempts: [] });
  const dnsDown = await probeDomain({
    domain: "x.test",
    dns: { ...dns([], []), status: "unknown" },
    ...fakeFetch({}),
    signal,
  });
  assert.equal(dnsDown.status, "unknown");
  for (const status of ["servfail", "refused"] as const) {
    const broken = await probeDomain({
      domain: "x.test",
      dns: { ...dns([], []), status },
      ...fakeFetch({}),
      signal,
    });
    assert.equal(broken.status, "unknown", `DNS ${status} says nothing about addresses`);
  }
});

Deno.test("probeDomain: random path on a catch-all site has the same body as best", async () => {
  const f = fakeFetch({
    "https://x.test/": (url) => ({
      url,
      hops: [],
      response: response(url, 200, { bodyHash: "h" }),
    }),
    "https://x.test/zz": (url) => ({
      url,
      hops: [],
      response: response(url, 200, { bodyHash: "h" }),
    }),
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    randomPath: true,
    randomSegment: () => "zz",
    ...f,
    signal,
  });
  assert.deepEqual(r.randomPath, {
    url: "https://x.test/zz",
    status: 200,
    bodyHash: "h",
    title: "T",
    sameAsBest: true,
  });
});

Deno.test("probeDomain after the deadline records our deadline (not a timeout) for the URLs left", async () => {
  const ac = new AbortController();
  ac.abort();
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    ...fakeFetch({}),
    signal: ac.signal,
  });
  assert.equal(r.status, "unknown");
  assert.deepEqual(r.attempts.map((a) => [a.error?.kind, a.error?.ours]), [
    ["deadline", true],
    ["deadline", true],
  ]);
});

/** A fetch whose answers the test releases by hand; records each call and its signal. */
function manualFetch() {
  const pending = new Map<string, { resolve: (r: FetchResult) => void; signal: AbortSignal }>();
  const calls: string[] = [];
  let notify: () => void = () => {};
  return {
    calls,
    pending,
    /** Resolves when `url` has been asked for. */
    asked: (url: string) =>
      new Promise<void>((resolve) => {
        const check = () => (pending.has(url) ? resolve() : (notify = check));
        check();
      }),
    fetch: (url: string, _addresses: string[], signal: AbortSignal) =>
      new Promise<FetchResult>((resolve) => {
        calls.push(url);
        pending.set(url, { resolve, signal });
        signal.addEventListener("abort", () => resolve(fail("timeout", true)(url)), {
          once: true,
        });
        notify();
      }),
  };
}

Deno.test("probeDomain hedges: HTTP starts while HTTPS hangs, and HTTPS still wins when it answers", async () => {
  const f = manualFetch();
  const probe = probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    hedgeMs: 0,
    signal,
  });
  await f.asked("http://x.test/"); // started although https://x.test/ has not answered
  assert.deepEqual(f.calls, ["https://x.test/", "http://x.test/"]);
  f.pending.get("https://x.test/")!.resolve(ok(200)("https://x.test/"));
  const r = await probe;
  assert.equal(r.best?.url, "https://x.test/");
  assert.deepEqual(r.attempts.map((a) => a.url), ["https://x.test/"], "HTTP attempts dropped");
  assert.equal(f.pending.get("http://x.test/")!.signal.aborted, true, "HTTP lane cancelled");
});

Deno.test("probeDomain hedges: when HTTPS fails the HTTP answer counts, attempts in order", async () => {
  const f = manualFetch();
  const probe = probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    hedgeMs: 0,
    signal,
  });
  await f.asked("http://x.test/");
  f.pending.get("http://x.test/")!.resolve(ok(200)("http://x.test/"));
  f.pending.get("https://x.test/")!.resolve(fail("timeout", true)("https://x.test/"));
  const r = await probe;
  assert.equal(r.best?.url, "http://x.test/");
  assert.deepEqual(r.attempts.map((a) => a.url), ["https://x.test/", "http://x.test/"]);
});

Deno.test("probeDomain without a hedge waits for HTTPS before it tries HTTP", async () => {
  const f = manualFetch();
  const probe = probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    hedgeMs: Infinity,
    signal,
  });
  await f.asked("https://x.test/");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(f.calls, ["https://x.test/"]);
  f.pending.get("https://x.test/")!.resolve(fail("refused")("https://x.test/"));
  await f.asked("http://x.test/");
  f.pending.get("http://x.test/")!.resolve(ok(200)("http://x.test/"));
  assert.equal((await probe).best?.url, "http://x.test/");
});

Deno.test("probeDomain does not ask the same address again after a connection failure", async () => {
  const failAt = (kind: HttpErrorKind, ip: string) => (url: string): FetchResult => ({
    url,
    hops: [],
    error: { kind, message: `${kind} at ${ip}`, ours: kind === "timeout", url, ip },
  });
  // www on the same address: known answer, recorded, not fetched.
  const same = fakeFetch({
    "https://x.test/": failAt("refused", "192.0.2.1"),
    "http://x.test/": failAt("timeout", "192.0.2.1"),
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: same.fetch,
    hedgeMs: Infinity,
    signal,
  });
  assert.deepEqual(same.calls, ["https://x.test/", "http://x.test/"]);
  assert.deepEqual(r.attempts.map((a) => [a.url, a.error?.kind]), [
    ["https://x.test/", "refused"],
    ["https://www.x.test/", "refused"],
    ["http://x.test/", "timeout"],
    ["http://www.x.test/", "timeout"],
  ]);
  assert.match(r.attempts[1].error!.message, /not tried again: 192\.0\.2\.1 already failed/);
  // A TLS failure belongs to the name: www is asked; so is www at another address.
  const tls = fakeFetch({ "https://x.test/": failAt("tls_hostname", "192.0.2.1") });
  await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: tls.fetch,
    hedgeMs: Infinity,
    signal,
  });
  assert.deepEqual(tls.calls.slice(0, 2), ["https://x.test/", "https://www.x.test/"]);
  const other = fakeFetch({ "https://x.test/": failAt("refused", "192.0.2.1") });
  await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.9"]),
    fetch: other.fetch,
    hedgeMs: Infinity,
    signal,
  });
  assert.deepEqual(other.calls.slice(0, 2), ["https://x.test/", "https://www.x.test/"]);
});

Deno.test("probeDomain: a stock server page on the apex sends the probe on to www, whose site wins", async () => {
  const stockPage = (url: string): FetchResult => ({
    url,
    hops: [{ url, ip: "192.0.2.1", status: 200 }],
    response: response(url, 200, { title: "Welcome to nginx!" }),
  });
  const site = (url: string): FetchResult => ({
    url,
    hops: [{ url, ip: "192.0.2.1", status: 200 }],
    response: response(url, 200, { title: "Bäckerei Müller", text: "Frische Brötchen" }),
  });
  const f = fakeFetch({ "https://x.test/": stockPage, "https://www.x.test/": site });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    ...f,
    signal,
  });
  assert.deepEqual(f.calls, ["https://x.test/", "https://www.x.test/"]);
  assert.equal(r.best?.target, "https://www");
  assert.equal(r.best?.title, "Bäckerei Müller");

  // Both stock pages: the apex's stays best (classify calls it a placeholder); no www: no extra ask.
  const both = fakeFetch({ "https://x.test/": stockPage, "https://www.x.test/": stockPage });
  const r2 = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    ...both,
    signal,
  });
  assert.equal(r2.best?.target, "https://apex");
  // No www: www is not asked (HTTP is, for the stock page: see the HTTP-behind-stock test).
  const apexOnly = fakeFetch({ "https://x.test/": stockPage });
  await probeDomain({ domain: "x.test", dns: dns(["192.0.2.1"], []), ...apexOnly, signal });
  assert.deepEqual(apexOnly.calls, ["https://x.test/", "http://x.test/"]);
  // A business page on the apex stops the probe there, as before.
  const plain = fakeFetch({ "https://x.test/": site, "https://www.x.test/": site });
  await probeDomain({ domain: "x.test", dns: dns(["192.0.2.1"], ["192.0.2.1"]), ...plain, signal });
  assert.deepEqual(plain.calls, ["https://x.test/"]);
});

/** A fetch answering by URL and by the User-Agent asked for; records `[url, "bot" | "browser"]`. */
function uaFetch(
  table: Record<
    string,
    { bot: (url: string) => FetchResult; browser?: (url: string) => FetchResult }
  >,
) {
  const calls: [string, string][] = [];
  return {
    calls,
    fetch: (
      url: string,
      _addresses: string[],
      _signal: AbortSignal,
      extra?: { browserUa?: boolean },
    ) => {
      calls.push([url, extra?.browserUa ? "browser" : "bot"]);
      const row = table[url];
      const f = row ? (extra?.browserUa ? row.browser ?? row.bot : row.bot) : fail("refused");
      return Promise.resolve(f(url));
    },
  };
}

Deno.test("probeDomain asks a URL that answered 403 or 406 once more as a browser and keeps that answer (browserUa)", async () => {
  for (const blocked of [403, 406]) {
    const f = uaFetch({ "https://x.test/": { bot: ok(blocked), browser: ok(200) } });
    const r = await probeDomain({
      domain: "x.test",
      dns: dns(["192.0.2.1"], ["192.0.2.1"]),
      ...f,
      hedgeMs: Infinity,
      signal,
    });
    assert.deepEqual(f.calls, [["https://x.test/", "bot"], ["https://x.test/", "browser"]]);
    assert.equal(r.status, "responded");
    assert.equal(r.best?.target, "https://apex");
    assert.equal(r.best?.status, 200);
    assert.equal(r.best?.browserUa, true);
    assert.equal(r.attempts.length, 1);
    assert.equal(r.attempts[0].response?.browserUa, true);
    assert.deepEqual(r.attempts[0].hops.map((h) => h.status), [200]);
  }
});

Deno.test("probeDomain repeats as a browser once per domain at most, and keeps the 403 when that fails too", async () => {
  const f = uaFetch({
    "https://x.test/": { bot: ok(403) },
    "https://www.x.test/": { bot: ok(403), browser: ok(200) },
    "http://x.test/": { bot: ok(406), browser: ok(200) },
    "http://www.x.test/": { bot: ok(403), browser: ok(200) },
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    ...f,
    hedgeMs: Infinity,
    signal,
  });
  assert.deepEqual(f.calls, [
    ["https://x.test/", "bot"],
    ["https://x.test/", "browser"],
    ["https://www.x.test/", "bot"],
    ["http://x.test/", "bot"],
    ["http://www.x.test/", "bot"],
  ]);
  assert.equal(r.best?.status, 403);
  assert.equal(r.best?.browserUa, undefined);
  assert.ok(r.attempts.every((a) => a.response?.browserUa === undefined));
  // Other statuses are not repeated; the random path of a browser-only site is asked as a browser.
  const other = uaFetch({ "https://x.test/": { bot: ok(404), browser: ok(200) } });
  await probeDomain({ domain: "x.test", dns: dns(["192.0.2.1"], []), ...other, signal });
  assert.ok(other.calls.every(([, ua]) => ua === "bot"));
  const rp = uaFetch({
    "https://x.test/": { bot: ok(403), browser: ok(200) },
    "https://x.test/zz": { bot: ok(403), browser: ok(404) },
  });
  const withPath = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    ...rp,
    randomPath: true,
    randomSegment: () => "zz",
    signal,
  });
  assert.deepEqual(rp.calls.at(-1), ["https://x.test/zz", "browser"]);
  assert.equal(withPath.randomPath?.status, 404);
});

Deno.test("probeDomain asks HTTP when HTTPS shows only stock pages, and the site there wins", async () => {
  const plesk = (url: string): FetchResult => ({
    url,
    hops: [{ url, ip: "192.0.2.1", status: 200 }],
    response: response(url, 200, { title: "Domain Default page" }),
  });
  const site = (url: string): FetchResult => ({
    url,
    hops: [{ url, ip: "192.0.2.1", status: 200 }],
    response: response(url, 200, { title: "Bäckerei Müller" }),
  });
  /** Probes x.test (apex and www on one address) against these pages, no hedging. */
  const probe = async (pages: Record<string, (url: string) => FetchResult>) => {
    const f = fakeFetch(pages);
    const r = await probeDomain({
      domain: "x.test",
      dns: dns(["192.0.2.1"], ["192.0.2.1"]),
      ...f,
      hedgeMs: Infinity,
      signal,
    });
    return { calls: f.calls, r };
  };
  const first = await probe({
    "https://x.test/": plesk,
    "https://www.x.test/": plesk,
    "http://x.test/": site,
    "http://www.x.test/": site,
  });
  assert.deepEqual(first.calls, ["https://x.test/", "https://www.x.test/", "http://x.test/"]);
  assert.equal(first.r.best?.target, "http://apex");
  assert.equal(first.r.best?.title, "Bäckerei Müller");
  assert.deepEqual(first.r.attempts.map((a) => a.target), [
    "https://apex",
    "https://www",
    "http://apex",
  ]);

  // Stock on HTTP's bare name too: www over HTTP, and no more (two extra requests at most).
  const wwwOnly = await probe({
    "https://x.test/": plesk,
    "https://www.x.test/": plesk,
    "http://x.test/": plesk,
    "http://www.x.test/": site,
  });
  assert.equal(wwwOnly.calls.length, 4);
  assert.equal(wwwOnly.r.best?.target, "http://www");
  // Stock everywhere: four requests, the apex's HTTPS stock page stays best (a placeholder).
  const stockOnly = await probe({
    "https://x.test/": plesk,
    "https://www.x.test/": plesk,
    "http://x.test/": plesk,
    "http://www.x.test/": plesk,
  });
  assert.equal(stockOnly.calls.length, 4);
  assert.equal(stockOnly.r.best?.target, "https://apex");
});

Deno.test("probeDomain hedges: the HTTP lane is kept, not cancelled, when HTTPS answers with a stock page", async () => {
  const f = manualFetch();
  const probe = probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    hedgeMs: 0,
    signal,
  });
  await f.asked("http://x.test/");
  f.pending.get("https://x.test/")!.resolve({
    url: "https://x.test/",
    hops: [],
    response: response("https://x.test/", 200, { title: "Welcome to nginx!" }),
  });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(f.pending.get("http://x.test/")!.signal.aborted, false);
  f.pending.get("http://x.test/")!.resolve(ok(200)("http://x.test/"));
  const r = await probe;
  assert.equal(r.best?.target, "http://apex");
  assert.deepEqual(f.calls, ["https://x.test/", "http://x.test/"]);
});

Deno.test("probeDomain skips www only when every one of its addresses already failed", async () => {
  const failAll = (ips: string[]) => (url: string): FetchResult => ({
    url,
    hops: [],
    error: {
      kind: "refused",
      message: "refused",
      ours: false,
      url,
      ip: ips.at(-1),
      failedBefore: ips.slice(0, -1).map((ip) => ({ ip, kind: "refused", message: "refused" })),
    },
  });
  const table = { "https://x.test/": failAll(["192.0.2.1", "192.0.2.2"]) };
  // www at the same two addresses: both refused already.
  const same = fakeFetch(table);
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1", "192.0.2.2"], ["192.0.2.2", "192.0.2.1"]),
    fetch: same.fetch,
    hedgeMs: Infinity,
    signal,
  });
  assert.equal(same.calls.includes("https://www.x.test/"), false);
  assert.match(
    r.attempts[1].error!.message,
    /not tried again: 192\.0\.2\.2, 192\.0\.2\.1 already failed/,
  );
  // www has an address that was not tried: it is asked.
  const more = fakeFetch(table);
  await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1", "192.0.2.2"], ["192.0.2.1", "192.0.2.3"]),
    fetch: more.fetch,
    hedgeMs: Infinity,
    signal,
  });
  assert.ok(more.calls.includes("https://www.x.test/"));
});

// ---- slow retry ------------------------------------------------------------------------

/**
 * A fetch whose answer depends on the URL and on whether it is the slow retry's (`timeoutMs`
 * given): `table[url]` for the first round, `table["slow " + url]` for the retry; unlisted
 * first-round URLs time out, unlisted retries too (an entry may take its time: {@linkcode after}).
 * Records each call as `url` or `slow url`.
 */
function slowFetch(table: Record<string, (url: string) => FetchResult | Promise<FetchResult>>) {
  const calls: string[] = [];
  const timeouts: (number | undefined)[] = [];
  return {
    calls,
    timeouts,
    fetch: (
      url: string,
      _addresses: string[],
      _signal: AbortSignal,
      extra?: { browserUa?: boolean; timeoutMs?: number },
    ) => {
      const key = extra?.timeoutMs === undefined ? url : `slow ${url}`;
      calls.push(key);
      timeouts.push(extra?.timeoutMs);
      const f = table[key] ?? ((u: string) => timeoutAt("192.0.2.1")(u));
      return Promise.resolve(f(url));
    },
  };
}
const timeoutAt = (ip: string, kind: HttpErrorKind = "timeout") => (url: string): FetchResult => ({
  url,
  hops: [],
  error: { kind, message: `${kind} at ${ip}`, ours: kind !== "refused", url, ip },
});
/** `f`'s result `ms` later (a server that takes its time to answer or to time out). */
const after = (ms: number, f: (url: string) => FetchResult) => (url: string) =>
  new Promise<FetchResult>((resolve) => setTimeout(() => resolve(f(url)), ms));

Deno.test("slow retry: a domain that only timed out is asked again with the long timeout, and its answer wins", async () => {
  const f = slowFetch({ "slow https://x.test/": ok(200) });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    signal,
  });
  // First round: https apex times out (www at the same address not asked), http apex too; the
  // retry asks https apex and http apex alongside (one queue per port); https answers, so its
  // www is not asked, and http apex times out again, so its www is not either.
  assert.deepEqual(f.calls, [
    "https://x.test/",
    "http://x.test/",
    "slow https://x.test/",
    "slow http://x.test/",
  ]);
  assert.deepEqual(f.timeouts, [undefined, undefined, 9000, 9000]);
  assert.equal(r.status, "responded");
  assert.equal(r.best?.status, 200);
  assert.equal(r.best?.target, "https://apex");
  assert.equal(r.attempts[0].slowRetry, true);
  assert.equal(r.attempts[0].response?.status, 200);
  assert.equal(r.attempts[1].slowRetry, undefined, "https www keeps the first round's");
  assert.match(r.attempts[3].error!.message, /not tried again: http:\/\/x\.test\/ timed out/);
  assert.deepEqual({ ...r.slowRetry, ms: 0 }, {
    tried: true,
    answered: true,
    ms: 0,
    timeoutMs: 9000,
    targets: ["https://apex", "http://apex"],
  });
});

Deno.test("slow retry: a server that hangs again is asked once per address and port, and stays a timeout", async () => {
  const f = slowFetch({});
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    signal,
  });
  assert.deepEqual(f.calls, [
    "https://x.test/",
    "http://x.test/",
    "slow https://x.test/",
    "slow http://x.test/",
  ]);
  assert.equal(r.status, "unknown");
  assert.ok(r.attempts.every((a) => a.error?.kind === "timeout" && a.slowRetry));
  assert.match(r.attempts[1].error!.message, /not tried again: https:\/\/x\.test\/ timed out/);
  assert.match(r.attempts[3].error!.message, /not tried again: http:\/\/x\.test\/ timed out/);
  assert.equal(r.slowRetry?.answered, false);
  assert.deepEqual(r.slowRetry?.targets, ["https://apex", "http://apex"]);
});

Deno.test("slow retry: apex and www at other addresses are asked alongside, each once per port", async () => {
  const f = slowFetch({
    "https://www.x.test/": timeoutAt("192.0.2.9"),
    "http://www.x.test/": timeoutAt("192.0.2.9"),
    "slow https://www.x.test/": ok(200),
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.9"]),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    signal,
  });
  assert.deepEqual(f.calls.filter((c) => c.startsWith("slow")).sort(), [
    "slow http://www.x.test/",
    "slow http://x.test/",
    "slow https://www.x.test/",
    "slow https://x.test/",
  ]);
  assert.equal(r.best?.target, "https://www");
  assert.deepEqual(r.slowRetry?.targets, [
    "https://apex",
    "https://www",
    "http://apex",
    "http://www",
  ]);
  assert.equal(r.slowRetry?.answered, true);
});

Deno.test("slow retry: only URLs that timed out are asked again (a refused HTTPS is not)", async () => {
  const f = slowFetch({
    "https://x.test/": timeoutAt("192.0.2.1", "refused"),
    "slow http://x.test/": ok(200),
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    signal,
  });
  assert.deepEqual(f.calls, ["https://x.test/", "http://x.test/", "slow http://x.test/"]);
  assert.equal(r.attempts[0].error?.kind, "refused");
  assert.equal(r.best?.target, "http://apex");
});

Deno.test("slow retry: HTTPS that still hangs does not hide HTTP that is merely slow (a queue per port)", async () => {
  // HTTPS takes connections and never answers; HTTP answers, but only after the request timeout.
  const f = slowFetch({ "slow http://x.test/": ok(200) });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    signal,
  });
  assert.deepEqual(f.calls.filter((c) => c.startsWith("slow")), [
    "slow https://x.test/",
    "slow http://x.test/",
  ]);
  assert.equal(r.status, "responded");
  assert.equal(r.best?.target, "http://apex");
  assert.equal(r.best?.status, 200);
  assert.match(r.attempts[1].error!.message, /not tried again: https:\/\/x\.test\/ timed out/);
  assert.equal(r.attempts[3].slowRetry, undefined, "http www: not asked after http apex answered");
  assert.deepEqual(r.slowRetry?.targets, ["https://apex", "http://apex"]);
  assert.equal(r.slowRetry?.answered, true);
});

Deno.test("slow retry: a server whose ports both still hang costs one retry timeout, two connections", async () => {
  const hang = after(150, timeoutAt("192.0.2.1"));
  let open = 0;
  let most = 0;
  const f = slowFetch({ "slow https://x.test/": hang, "slow http://x.test/": hang });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: async (url, addresses, s, extra) => {
      most = Math.max(most, ++open);
      try {
        return await f.fetch(url, addresses, s, extra);
      } finally {
        open--;
      }
    },
    hedgeMs: Infinity,
    slowRetryMs: 150,
    signal,
  });
  assert.equal(r.status, "unknown");
  assert.equal(most, 2, "https and http asked alongside, one connection each");
  assert.deepEqual(r.slowRetry?.targets, ["https://apex", "http://apex"]);
  assert.ok(r.slowRetry!.ms < 290, `one retry timeout of wall time, not two (${r.slowRetry!.ms})`);
  assert.deepEqual(
    r.attempts.map((a) => a.error?.message.startsWith("not tried again")),
    [false, true, false, true],
  );
});

Deno.test("slow retry: an answer on one port stops the other port's queue at those addresses", async () => {
  // HTTPS answers at once; HTTP apex (asked alongside) fails by a reset a little later: its www,
  // at the same addresses, is not asked, since the HTTPS answer is the verdict's.
  const f = slowFetch({
    "slow https://x.test/": ok(200),
    "slow http://x.test/": after(20, fail("reset")),
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    signal,
  });
  assert.deepEqual(f.calls.filter((c) => c.startsWith("slow")), [
    "slow https://x.test/",
    "slow http://x.test/",
  ]);
  assert.equal(r.best?.target, "https://apex");
  assert.equal(r.attempts[2].error?.kind, "reset", "the request in flight finished and is kept");
  assert.equal(r.attempts[3].slowRetry, undefined, "http www keeps the first round's");
  assert.deepEqual(r.slowRetry?.targets, ["https://apex", "http://apex"]);

  // HTTP answers first and HTTPS later: the HTTPS request in flight is not cancelled, and the
  // verdict is the same as if HTTPS had answered first (the first good answer in order).
  const g = slowFetch({
    "slow https://x.test/": after(20, ok(200)),
    "slow http://x.test/": ok(200),
  });
  const late = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: g.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    signal,
  });
  assert.deepEqual(g.calls.filter((c) => c.startsWith("slow")), [
    "slow https://x.test/",
    "slow http://x.test/",
  ]);
  assert.equal(late.best?.target, "https://apex");
  assert.equal(late.attempts[2].response?.status, 200);
});

Deno.test("slow retry: none for refused, reset, unreachable, dropped handshakes, TLS or DNS failures, nor after any answer", async () => {
  const cases: [string, Record<string, (url: string) => FetchResult>][] = [
    ["refused", { "https://x.test/": fail("refused"), "http://x.test/": fail("refused") }],
    // A firewall or a dead host drops the TCP handshake; a slow server completes it.
    ["connect_timeout", {
      "https://x.test/": fail("connect_timeout", true),
      "http://x.test/": fail("connect_timeout", true),
    }],
    ["reset", { "https://x.test/": fail("reset"), "http://x.test/": fail("reset") }],
    ["unreachable", {
      "https://x.test/": fail("unreachable", true),
      "http://x.test/": fail("unreachable", true),
    }],
    ["tls + refused", {
      "https://x.test/": fail("tls_expired"),
      "http://x.test/": fail("refused"),
    }],
    ["dns", {
      "https://x.test/": fail("dns_unknown", true),
      "http://x.test/": fail("dns_unknown", true),
    }],
    ["500 + timeout", { "https://x.test/": ok(500) }],
    ["timeout + 500", { "http://x.test/": ok(500) }],
  ];
  for (const [name, table] of cases) {
    const f = slowFetch(table);
    const r = await probeDomain({
      domain: "x.test",
      dns: dns(["192.0.2.1"], []),
      fetch: f.fetch,
      hedgeMs: Infinity,
      slowRetryMs: 9000,
      signal,
    });
    assert.deepEqual(f.calls, ["https://x.test/", "http://x.test/"], name);
    assert.equal(r.slowRetry, undefined, name);
  }
});

Deno.test("slow retry: URLs cut off by the domain's deadline are asked again; slowRetryMs 0 asks none", async () => {
  const ac = new AbortController();
  ac.abort();
  const f = slowFetch({ "slow https://x.test/": ok(200) });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    slowRetryMs: 9000,
    signal: ac.signal,
  });
  assert.deepEqual(f.calls, ["slow https://x.test/", "slow http://x.test/"]);
  assert.equal(r.best?.status, 200);
  assert.deepEqual(r.attempts.map((a) => a.error?.kind), [undefined, "timeout"]);

  const off = slowFetch({ "slow https://x.test/": ok(200) });
  const o = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: off.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 0,
    signal,
  });
  assert.deepEqual(off.calls, ["https://x.test/", "http://x.test/"]);
  assert.equal(o.slowRetry, undefined);
});

Deno.test("slow retry: the retry's deadline (slowRetrySignal) ends it as ours, not as a timeout", async () => {
  const late = new AbortController();
  late.abort(new Error("slow retry deadline"));
  const f = slowFetch({});
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    slowRetrySignal: () => late.signal,
    signal,
  });
  // Nothing asked again: the first round's timeouts stay, and no target is named.
  assert.deepEqual(f.calls, ["https://x.test/", "http://x.test/"]);
  assert.deepEqual(r.slowRetry?.targets, []);
  assert.equal(r.slowRetry?.answered, false);
});

Deno.test("slowRetryTimeouts: the connect timeout grows with the request timeout, within bounds", () => {
  const t = { dns: 3000, connect: 5000, request: 10000 };
  assert.deepEqual(slowRetryTimeouts(t, 30000), { dns: 3000, connect: 15000, request: 30000 });
  assert.deepEqual(slowRetryTimeouts({ ...t, connect: 20000 }, 30000).connect, 30000);
  assert.deepEqual(slowRetryTimeouts(t, 5000).connect, 5000, "never below the usual one");
});

Deno.test("slow retry's default timeout: 3 x the request timeout, at most 30 s, never below the request timeout", () => {
  assert.equal(defaultSlowRetryMs(600), 1800);
  assert.equal(defaultSlowRetryMs(2500), 7500);
  assert.equal(defaultSlowRetryMs(10_000), 30_000);
  assert.equal(
    defaultSlowRetryMs(30_000),
    30_000,
    "the default request timeout: once more as long",
  );
  assert.equal(defaultSlowRetryMs(60_000), 60_000);
});

Deno.test("slow retry: the gate is passed before the retry starts and released after it", async () => {
  const events: string[] = [];
  const f = slowFetch({ "slow https://x.test/": ok(200) });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: async (url, addresses, s, extra) => {
      events.push(`${extra?.timeoutMs ? "retry" : "first"} ${url}`);
      return await f.fetch(url, addresses, s, extra);
    },
    hedgeMs: Infinity,
    slowRetryMs: 9000,
    slowRetryGate: () => {
      events.push("gate");
      return Promise.resolve(() => events.push("release"));
    },
    signal,
  });
  assert.equal(r.slowRetry?.answered, true);
  assert.deepEqual(events, [
    "first https://x.test/",
    "first http://x.test/",
    "gate",
    "retry https://x.test/",
    "retry http://x.test/",
    "release",
  ]);
});

/**
 * A fetch whose URLs answer `table[url]` after its `ms` (never when `ms` is absent: a server that
 * hangs until the request's signal ends it, which then gives our `deadline`). Records each call
 * with what it asked for and whether its signal ended it.
 */
function timedFetch(table: Record<string, { ms?: number; result?: (url: string) => FetchResult }>) {
  const calls: { url: string; extra?: FetchExtra; cancelled?: boolean }[] = [];
  return {
    calls,
    fetch: (url: string, _addresses: string[], signal: AbortSignal, extra?: FetchExtra) => {
      const call: (typeof calls)[number] = { url, ...(extra ? { extra } : {}) };
      calls.push(call);
      const entry = table[url] ?? {};
      return new Promise<FetchResult>((resolve) => {
        const timer = entry.ms === undefined ? undefined : setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve((entry.result ?? timeoutAt("192.0.2.1"))(url));
        }, entry.ms);
        const onAbort = () => {
          clearTimeout(timer);
          call.cancelled = true;
          resolve({
            url,
            hops: [],
            error: { kind: "deadline", message: "cancelled", ours: true, url },
          });
        };
        signal.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}

Deno.test("keep-open: a URL that answers after the request timeout is waited for on its first request, not asked again", async () => {
  const f = timedFetch({
    "https://x.test/": { ms: 150, result: ok(200) },
    "http://x.test/": { ms: 300 },
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.1"]),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 1000,
    lateAfterMs: 50,
    signal,
  });
  // One request per port, each made with the slow retry's timeout and the usual connect
  // timeout; www (same address as the apex whose request is still open) not asked at all.
  assert.deepEqual(f.calls, [
    { url: "https://x.test/", extra: { timeoutMs: 1000, keptOpen: true } },
    { url: "http://x.test/", extra: { timeoutMs: 1000, keptOpen: true } },
  ]);
  assert.equal(r.best?.status, 200);
  assert.equal(r.best?.target, "https://apex");
  assert.equal(r.attempts[0].slowRetry, true);
  assert.match(r.attempts[1].error!.message, /not tried again: .*kept open/);
  assert.equal(r.attempts[2].error?.kind, "timeout", "http's own timeout, waited for");
  assert.equal(r.attempts[2].slowRetry, true);
  assert.deepEqual({ ...r.slowRetry, ms: 0 }, {
    tried: true,
    answered: true,
    ms: 0,
    timeoutMs: 1000,
    targets: ["https://apex", "http://apex"],
    keptOpen: ["https://apex", "http://apex"],
  });
  // The retry waited for what was left of the requests, not a new timeout (HTTP ended at 300 ms
  // from its start at ~50 ms).
  assert.ok(r.slowRetry!.ms < 400, `${r.slowRetry!.ms} ms`);
});

Deno.test("keep-open: a good answer in the first round cancels the request kept open", async () => {
  const f = timedFetch({ "https://www.x.test/": { ms: 0, result: ok(200) } });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], ["192.0.2.9"]),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 1000,
    lateAfterMs: 50,
    signal,
  });
  assert.equal(r.best?.target, "https://www");
  assert.equal(r.slowRetry, undefined);
  assert.equal(r.attempts[0].error?.kind, "timeout");
  assert.match(
    r.attempts[0].error!.message,
    /no answer within 50 ms \(the request was kept open\)/,
  );
  assert.deepEqual(f.calls.map((c) => [c.url, c.cancelled ?? false]), [
    ["https://x.test/", true],
    ["https://www.x.test/", false],
  ]);
});

Deno.test("keep-open: an answer that comes in while the round goes on counts (an HTTPS 200 a little late beats a quick HTTP 500)", async () => {
  const f = timedFetch({
    // HTTPS set aside at 100 ms, answers at 140; HTTP asked at 100 answers at 160, in its 100 ms.
    "https://x.test/": { ms: 140, result: ok(200) },
    "http://x.test/": { ms: 60, result: ok(500) },
  });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 1000,
    lateAfterMs: 100,
    signal,
  });
  assert.equal(r.best?.target, "https://apex");
  assert.equal(r.best?.status, 200);
  assert.equal(r.attempts[0].slowRetry, undefined, "the first round's own answer");
  assert.equal(r.attempts[1].response?.status, 500);
  assert.equal(r.slowRetry, undefined, "an answer came: no slow retry");
  assert.deepEqual(f.calls.map((c) => [c.url, c.cancelled ?? false]), [
    ["https://x.test/", false],
    ["http://x.test/", false],
  ]);
});

Deno.test("keep-open: the retry's deadline (slowRetrySignal) ends the request still open as ours", async () => {
  const deadline = new AbortController();
  const f = timedFetch({ "http://x.test/": { ms: 0, result: fail("refused") } });
  const r = await probeDomain({
    domain: "x.test",
    dns: dns(["192.0.2.1"], []),
    fetch: f.fetch,
    hedgeMs: Infinity,
    slowRetryMs: 1000,
    lateAfterMs: 50,
    slowRetrySignal: () => {
      setTimeout(() => deadline.abort(new Error("slow retry deadline")), 100);
      return deadline.signal;
    },
    signal,
  });
  assert.equal(r.status, "unknown");
  assert.equal(r.attempts[0].error?.kind, "deadline");
  assert.equal(f.calls[0].cancelled, true);
  assert.deepEqual(r.slowRetry?.keptOpen, ["https://apex"]);
  assert.equal(r.slowRetry?.answered, false);
});

Deno.test("keep-open only when the slow retry's timeout is above the request timeout, and never without a slow retry", async () => {
  for (const slowRetryMs of [50, 0]) {
    const f = slowFetch({});
    await probeDomain({
      domain: "x.test",
      dns: dns(["192.0.2.1"], []),
      fetch: f.fetch,
      hedgeMs: Infinity,
      slowRetryMs,
      lateAfterMs: 50,
      signal,
    });
    assert.deepEqual(f.timeouts.slice(0, 2), [undefined, undefined], `${slowRetryMs}`);
    assert.deepEqual(
      f.calls,
      slowRetryMs
        ? [
          "https://x.test/",
          "http://x.test/",
          "slow https://x.test/",
          "slow http://x.test/",
        ]
        : ["https://x.test/", "http://x.test/"],
    );
  }
});

Deno.test("fetchTimeouts: usual, slow retry (connect grown), kept open (connect as usual)", () => {
  const t = { dns: 3000, connect: 5000, request: 10000 };
  assert.equal(fetchTimeouts(t), t);
  assert.equal(fetchTimeouts(t, { browserUa: true }), t);
  assert.deepEqual(fetchTimeouts(t, { timeoutMs: 30000 }), slowRetryTimeouts(t, 30000));
  assert.deepEqual(fetchTimeouts(t, { timeoutMs: 30000, keptOpen: true }), {
    dns: 3000,
    connect: 5000,
    request: 30000,
  });
});
