/**
 * The classification: DNS verdicts first (no_dns, no_address, our failures), then the HTTP probe
 * (unreachable, TLS-only, redirect errors), then the final page (challenges, marketplace and
 * cross-domain redirects, fingerprints, wording, thin content, HTTP errors), with parking DNS as
 * supporting evidence. Pure: same input, same verdict.
 * @module
 */
import type {
  DnsResult,
  HttpAttempt,
  HttpProbeResult,
  HttpResponseSummary,
} from "@sluice/sdk/net/types.ts";
import { dnsSignals } from "./dns_signals.ts";
import { registrableDomain, SuffixIndex } from "./net_match.ts";
import {
  contentSignals,
  fingerprintSignals,
  pageRedirect,
  wordingSignals,
} from "./page_signals.ts";
import { type PageView, pageView } from "./page_view.ts";
import type { Signatures } from "./signatures.ts";
import type { Signal, WebsiteStatus, WebsiteVerdict } from "./types.ts";

/** What the classifier reads from an item. */
export interface ClassifyInput {
  /** Registrable domain (the item's key after `normalize`). */
  domain: string;
  /** `item.dns` from the `dns` plugin. */
  dns?: DnsResult;
  /** `item.http` from the `http-probe` plugin. */
  http?: HttpProbeResult;
}

/** Page-signal statuses in order of precedence when several fire. */
const PAGE_ORDER: WebsiteStatus[] = ["unknown", "suspended", "for_sale", "parked", "placeholder"];

const CONNECTION_ERRORS = new Set([
  "refused",
  "reset",
  "unreachable",
  "connect_timeout",
  "timeout",
  "no_address",
]);
const TLS_ERRORS = new Set(["tls_expired", "tls_hostname", "tls_unknown_ca", "tls_handshake"]);
const REDIRECT_ERRORS = new Set(["too_many_redirects", "redirect_loop", "bad_redirect"]);

function verdict(
  status: WebsiteStatus,
  reason: string,
  signals: Signal[],
  r?: HttpResponseSummary,
): WebsiteVerdict {
  const v: WebsiteVerdict = { status, signals, reason };
  if (r) {
    v.url = r.url;
    v.httpStatus = r.status;
  }
  return v;
}

/** The marketplace hosts of a set of signatures, indexed by name (built once). */
const marketIndexes = new WeakMap<Signatures, SuffixIndex>();

/** The marketplace a URL belongs to, if any. */
export function marketplaceOf(url: string, sigs: Signatures): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  let index = marketIndexes.get(sigs);
  if (!index) {
    marketIndexes.set(sigs, index = new SuffixIndex(sigs.marketplaces.map((m) => [m.host])));
  }
  const m = index.matches(u.hostname).map((i) => sigs.marketplaces[i]).find((m) =>
    !m.path || m.path.test(u.pathname + u.search)
  );
  return m?.name;
}

/** The status of a redirect that had no Location header (the attempt's last hop), if it was one. */
function noLocationStatus(a: HttpAttempt): number | undefined {
  const last = a.hops.at(-1);
  return a.error?.kind === "bad_redirect" && last && last.location === undefined
    ? last.status
    : undefined;
}

/**
 * Each attempt's start URL and outcome; a failure on a redirect target names that target, a
 * redirect without a Location its status.
 */
function describeErrors(attempts: HttpAttempt[]): string {
  return attempts.map((a) => {
    const at = a.error && a.error.url !== a.url ? ` -> ${a.error.url}` : "";
    const status = noLocationStatus(a);
    const what = status ? ` (${status} without a Location header)` : "";
    return `${a.url}${at} ${a.error ? a.error.kind : a.response?.status}${what}`;
  }).join("; ");
}

/** Failed URLs on another registrable domain than `domain`, when every failure is elsewhere. */
function failedElsewhere(domain: string, errs: HttpAttempt[]): string[] {
  const urls = [...new Set(errs.map((a) => a.error!.url))];
  const elsewhere = urls.filter((u) => {
    try {
      return registrableDomain(new URL(u).hostname) !== domain;
    } catch {
      return false;
    }
  });
  return elsewhere.length === urls.length ? elsewhere : [];
}

/**
 * The marketplace signal when a hop, a final URL or the in-page redirect of an attempt lands on
 * a domain marketplace. It decides before anything the marketplace's own page shows (a bot
 * challenge there hides the marketplace, not the sale) and even when that page never answered.
 */
function marketplaceSignal(
  http: HttpProbeResult,
  inPage: string | undefined,
  sigs: Signatures,
): Signal | undefined {
  const urls = http.attempts.flatMap((a) => [
    ...a.hops.map((h) => h.location ?? h.url),
    a.response?.url,
  ]).filter((u): u is string => !!u);
  if (inPage) urls.push(inPage);
  for (const u of urls) {
    const market = marketplaceOf(u, sigs);
    if (market) {
      return {
        id: "marketplace_redirect",
        status: "for_sale",
        strength: "strong",
        evidence: `redirects to ${u} (${market})`,
        source: sigs.marketplaces.find((m) => m.name === market)?.source,
      };
    }
  }
  return undefined;
}

/** The 429 answer when we were rate limited and nothing answered below 400. */
function rateLimited(http: HttpProbeResult, best: HttpResponseSummary): HttpAttempt | undefined {
  if (best.status < 400) return undefined;
  return http.attempts.find((a) => a.response?.status === 429);
}

/** The apex is an alias whose target does not exist: the domain exists, it has no address. */
function danglingAlias(domain: string, chain: string[]): WebsiteVerdict {
  const end = chain[chain.length - 1];
  return verdict("no_address", `${domain} is an alias of ${end}, which does not exist`, [{
    id: "no_address",
    status: "no_address",
    strength: "strong",
    evidence: `${domain} has no A/AAAA record: its CNAME ${end} does not exist (NXDOMAIN)`,
  }]);
}

function classifyDns(domain: string, dns: DnsResult | undefined): WebsiteVerdict | undefined {
  if (!dns) {
    return verdict("unknown", "no DNS result on the item: run the dns stage before classify", []);
  }
  const why = dns.reason ? ` (${dns.reason})` : "";
  switch (dns.status) {
    case "nxdomain":
      if (dns.apex.cname.length) return danglingAlias(domain, dns.apex.cname);
      return verdict("no_dns", `${domain} does not exist in DNS (NXDOMAIN)`, [{
        id: "nxdomain",
        status: "no_dns",
        strength: "strong",
        evidence: `the resolvers answered NXDOMAIN for ${domain}${why}`,
      }]);
    case "servfail":
    case "refused":
      return verdict(
        "unknown",
        `every resolver answered ${dns.status.toUpperCase()} for ${domain}${why}: its name ` +
          "servers are broken or failing right now; check again later",
        [{
          id: `dns_${dns.status}`,
          status: "unknown",
          strength: "strong",
          evidence: `${dns.status}${why}`,
        }],
      );
    case "unknown":
      return verdict("unknown", `our DNS lookup failed${why}; retry the run`, [{
        id: "dns_failure",
        status: "unknown",
        strength: "strong",
        evidence: `no DNS verdict${why}`,
      }]);
  }
  return undefined;
}

/**
 * Why "no address" is no verdict yet: an address query of the apex or of www got no answer
 * (timeout, SERVFAIL, REFUSED), so the address it would have returned may exist. Undefined when
 * every address query of both hosts answered.
 */
function failedAddressLookup(domain: string, dns: DnsResult): string | undefined {
  const hosts = [[domain, dns.apex], [`www.${domain}`, dns.www]] as const;
  for (const [name, h] of hosts) {
    if (!h || h.status === "ok" && !h.failed?.length || h.status === "nxdomain") continue;
    if (h.failed?.length === 1 && h.reason) return `${name}: ${h.reason}`;
    return `our lookup of ${name} failed (${h.reason ?? h.status})`;
  }
  return undefined;
}

/** Classifies one domain from its DNS and HTTP results. */
export function classifyWebsite(input: ClassifyInput, sigs: Signatures): WebsiteVerdict {
  const { domain, dns, http } = input;
  const early = classifyDns(domain, dns);
  if (early) return early;
  const dnsSigs = dnsSignals(dns!, sigs);
  const addrs = [dns!.apex, dns!.www].flatMap((h) => [...(h?.a ?? []), ...(h?.aaaa ?? [])]);
  if (addrs.length === 0 || http?.status === "no_address") {
    const lookupFailed = addrs.length === 0 ? failedAddressLookup(domain, dns!) : undefined;
    if (lookupFailed) {
      return verdict(
        "unknown",
        `no address found for ${domain} so far, but ${lookupFailed}: no verdict; retry the run`,
        [{
          id: "dns_address_failure",
          status: "unknown",
          strength: "strong",
          evidence: lookupFailed,
        }, ...dnsSigs],
      );
    }
    const mail = dns!.mx?.length ? "; it has mail (MX) records" : "";
    return verdict("no_address", `${domain} exists but has no web address${mail}`, [{
      id: "no_address",
      status: "no_address",
      strength: "strong",
      evidence: `no A/AAAA record for ${domain} or www.${domain}${mail}`,
    }, ...dnsSigs]);
  }
  if (!http) {
    return verdict(
      "unknown",
      "no HTTP result on the item: run http-probe before classify",
      dnsSigs,
    );
  }
  // A marketplace on the way decides before the private address the redirect ended at.
  const toPrivate = marketplaceSignal(http, undefined, sigs)
    ? undefined
    : privateRedirect(domain, http, dnsSigs);
  if (toPrivate) return toPrivate;
  if (http.status === "blocked_private") {
    const unique = [...new Set(addrs)].join(", ");
    return verdict(
      "unknown",
      `every address of ${domain} is private or loopback (${unique}); Sluice does not ` +
        "probe those unless network.allowPrivate is on",
      [{
        id: "private_address",
        status: "unknown",
        strength: "strong",
        evidence: `addresses ${unique} are private/loopback`,
      }, ...dnsSigs],
    );
  }
  if (!http.best) return classifyNoResponse(domain, http, dnsSigs, sigs);
  return classifyPage(domain, http, http.best, dnsSigs, sigs);
}

/**
 * No answer, and an attempt's redirect led to a private or loopback address that the probe did
 * not connect to: no verdict, naming the redirect target and its address (not the domain's own).
 */
function privateRedirect(
  domain: string,
  http: HttpProbeResult,
  dnsSigs: Signal[],
): WebsiteVerdict | undefined {
  if (http.best) return undefined;
  const blocked = http.attempts.filter((a) => a.error?.kind === "blocked_private" && a.hops.length);
  if (!blocked.length) return undefined;
  const targets = [...new Set(blocked.map((a) => a.error!.url))];
  const ips = [...new Set(blocked.map((a) => a.error!.ip).filter(Boolean))];
  const hosts = [...new Set(targets.map((u) => new URL(u).hostname))];
  const at = ips.length ? ` (${ips.join(", ")})` : "";
  const evidence = [
    ...new Set(blocked.map((a) => `${a.url} -> ${a.error!.url} ${a.error!.ip ?? ""}`.trim())),
  ];
  return verdict(
    "unknown",
    `${domain} redirects to ${targets.join(", ")}: ${hosts.join(", ")} is a private or loopback ` +
      `address${at}; Sluice does not probe those unless network.allowPrivate is on`,
    [{
      id: "private_redirect",
      status: "unknown",
      strength: "strong",
      evidence: `redirect to a private/loopback address: ${evidence.join("; ")}`,
    }, ...dnsSigs],
  );
}

function classifyNoResponse(
  domain: string,
  http: HttpProbeResult,
  dnsSigs: Signal[],
  sigs: Signatures,
) {
  const errs = http.attempts.filter((a) => a.error);
  const kinds = errs.map((a) => a.error!.kind);
  const detail = describeErrors(http.attempts);
  if (errs.length === 0) {
    return verdict("unknown", `the probe of ${domain} made no attempt`, dnsSigs);
  }
  const market = marketplaceSignal(http, undefined, sigs);
  if (market) {
    return verdict("for_sale", `${domain} ${market.evidence}`, [market, ...dnsSigs]);
  }
  if (kinds.includes("dns_unknown") || kinds.includes("other")) {
    return verdict("unknown", `our probe failed: ${detail}; retry the run`, [{
      id: "probe_failure",
      status: "unknown",
      strength: "strong",
      evidence: detail,
    }, ...dnsSigs]);
  }
  if (kinds.some((k) => REDIRECT_ERRORS.has(k) || k === "protocol")) {
    const v = verdict("http_error", `the site of ${domain} answers with broken HTTP: ${detail}`, [{
      id: "broken_http",
      status: "http_error",
      strength: "strong",
      evidence: detail,
    }, ...dnsSigs]);
    // A redirect to nowhere: its status is the answer a visitor gets.
    const noLocation = errs.find((a) => noLocationStatus(a) !== undefined);
    if (noLocation) {
      v.url = noLocation.error!.url;
      v.httpStatus = noLocationStatus(noLocation);
    }
    return v;
  }
  if (kinds.some((k) => TLS_ERRORS.has(k))) {
    return verdict(
      "unknown",
      `${domain} only answers over HTTPS with a certificate we do not accept (${detail}); a ` +
        "visitor sees a warning but a site may be there",
      [{ id: "tls_only", status: "unknown", strength: "strong", evidence: detail }, ...dnsSigs],
    );
  }
  if (kinds.every((k) => CONNECTION_ERRORS.has(k))) {
    const schemes = new Set(errs.map((a) => a.target.split(":")[0]));
    const elsewhere = failedElsewhere(domain, errs);
    return verdict(
      "unreachable",
      elsewhere.length
        ? `${domain} redirects to ${elsewhere.join(", ")}, where no web server answers: ${detail}`
        : `no web server answers for ${domain} on ${[...schemes].join(" or ")}: ${detail}`,
      [
        { id: "connection_failed", status: "unreachable", strength: "strong", evidence: detail },
        ...dnsSigs,
      ],
    );
  }
  return verdict("unknown", `the probe of ${domain} got no response: ${detail}`, dnsSigs);
}

function pickPageStatus(signals: Signal[]): Signal | undefined {
  for (const status of PAGE_ORDER) {
    const s = signals.find((x) => x.status === status && x.strength === "strong");
    if (s) return s;
  }
  return undefined;
}

function classifyPage(
  domain: string,
  http: HttpProbeResult,
  best: HttpResponseSummary,
  dnsSigs: Signal[],
  sigs: Signatures,
): WebsiteVerdict {
  const page = pageView(best);
  const signals: Signal[] = [];
  const finish = (status: WebsiteStatus, reason: string) =>
    verdict(status, reason, [...signals, ...dnsSigs], best);

  // 1. A redirect to a domain marketplace: for sale, whatever the marketplace's page shows.
  const inPage = pageRedirect(page);
  const market = marketplaceSignal(http, inPage?.target, sigs);
  if (market) {
    signals.push(market);
    return finish("for_sale", `${domain} ${market.evidence}`);
  }

  // 2. Bot challenges and rate limits hide the real site: no verdict.
  const prints = fingerprintSignals(page, sigs);
  const challenge = prints.find((s) => s.status === "unknown");
  if (challenge) {
    signals.push(challenge);
    return finish(
      "unknown",
      `a bot challenge hides the site (${challenge.evidence}); check by hand`,
    );
  }
  const limited = rateLimited(http, best);
  if (limited) {
    signals.push({
      id: "rate_limited",
      status: "unknown",
      strength: "strong",
      evidence: `${limited.response!.url} answered 429 Too Many Requests${
        limited.response!.headers["retry-after"]
          ? ` (retry-after ${limited.response!.headers["retry-after"]})`
          : ""
      }`,
    });
    return finish("unknown", `${domain} rate-limited our probe (429); retry later`);
  }
  const finalDomain = registrableDomain(best.host);
  const away = finalDomain !== domain;

  // 3. What the final page is.
  const pairWith = new Set(dnsSigs.map((s) => s.status));
  signals.push(...prints, ...wordingSignals(page, sigs, pairWith));
  const decisive = pickPageStatus(signals);
  // Thin or empty content decides last: parking DNS says more about such a page.
  const content = best.status < 400 && !away && !inPage ? contentSignals(page) : [];

  if (away) {
    signals.unshift({
      id: "redirects_away",
      status: "redirect",
      strength: "strong",
      evidence: `${http.attempts[0]?.url ?? domain} ends at ${best.url} (${best.status})`,
    });
    if (decisive) {
      return finish(decisive.status, `${domain} redirects to ${finalDomain}: ${decisive.evidence}`);
    }
    if (best.status < 400) return finish("redirect", `${domain} redirects to ${best.url}`);
    return finish("http_error", `${domain} redirects to ${best.url}, which answers ${best.status}`);
  }
  if (decisive) return finish(decisive.status, decisive.evidence);
  if (inPage && best.status < 400) {
    const target = registrableDomain(new URL(inPage.target).hostname);
    if (target !== domain) {
      signals.unshift({
        id: inPage.kind === "meta_refresh" ? "meta_refresh_away" : "script_redirect_away",
        status: "redirect",
        strength: "strong",
        evidence: `the page sends visitors to ${inPage.target} by ${inPage.kind.replace("_", " ")}`,
      });
      return finish("redirect", `${domain} forwards visitors to ${inPage.target}`);
    }
  }
  if (best.status >= 400) {
    const statuses = http.attempts.map((a) => `${a.url} ${a.response?.status ?? a.error?.kind}`);
    signals.push({
      id: "http_status",
      status: "http_error",
      strength: "strong",
      evidence: `no attempt answered below 400: ${statuses.join("; ")}`,
    });
    return finish(
      "http_error",
      `every attempt answered with an error (${best.status} at ${best.url})`,
    );
  }
  // 4. Parking or sale DNS and a page without business content.
  const dnsLead = dnsSigs.find((s) => s.status === "parked") ??
    dnsSigs.find((s) => s.status === "for_sale");
  if (dnsLead && !page.substantive) {
    signals.push({
      id: "dns_with_empty_page",
      status: dnsLead.status,
      strength: "strong",
      evidence: `${dnsLead.evidence}, and the page has no business content (${page.words} words)`,
    });
    return finish(dnsLead.status, `${dnsLead.evidence}; the page has no business content`);
  }
  if (content.length) {
    signals.push(...content);
    return finish(content[0].status, content[0].evidence);
  }
  return finish("live", `${best.url} answers ${best.status} with ${liveWhat(page, best)}`);
}

/** What a live answer holds, for the reason: binary content or a page with its substance. */
function liveWhat(page: PageView, best: HttpResponseSummary): string {
  if (page.binary) {
    return `binary content (${best.contentType || "unknown type"}, ${best.bodyBytes} bytes)`;
  }
  const business = page.business.length ? `, ${page.business.join(", ")}` : "";
  return `a real page (${page.words} words${business})`;
}
