import assert from "node:assert/strict";
import type { FetchResult } from "@sluice/sdk/net/http_fetch.ts";
import type { DnsResult, HttpErrorKind, HttpResponseSummary } from "@sluice/sdk/net/types.ts";
import { probeDomain, summarize } from "./probe.ts";

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
