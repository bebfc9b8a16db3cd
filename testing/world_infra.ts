/**
 * Turns planned businesses into DNS zone data and websites: addresses from deterministic
 * 127.x pools, nameservers, mail records, and a {@link Site} per host rendering its template.
 * @module
 */
import type { NameRecords } from "./dns_zone.ts";
import type { RequestInfo, Site } from "./web_site.ts";
import type { PlannedBusiness } from "./world.ts";
import {
  LIVE_PAGES,
  marketplacePage,
  OTHER_PAGES,
  REDIRECT_PAGES,
  SALE_PAGES,
} from "./world_pages.ts";
import { PARKED_PAGES } from "./world_pages.ts";
import {
  HOSTING_MX,
  HOSTING_NS,
  mailRecords,
  MARKETPLACES,
  PARKING,
  PLATFORMS,
  VERIFICATION_TXT,
} from "./world_providers.ts";
import { Rng } from "./world_rng.ts";
import type { PageContext, PageDef } from "./world_types.ts";
import type { Pool } from "./world_variants.ts";

const PAGES: Record<string, PageDef> = {
  ...LIVE_PAGES,
  ...REDIRECT_PAGES,
  ...PARKED_PAGES,
  ...SALE_PAGES,
  ...OTHER_PAGES,
};

const CF_NS = ["ada", "bob", "cruz", "dina", "elle", "fred", "gina", "hugo"];

/** What {@link buildInfrastructure} returns. */
export interface Infrastructure {
  zone: Map<string, NameRecords>;
  sites: Map<string, Site>;
  addresses: string[];
  httpOnlyAddresses: string[];
}

const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));
const ip = (b: number, i: number) => `127.${b}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;

/** Build the zone and sites of planned businesses (duplicates share their first row's). */
export function buildInfrastructure(planned: PlannedBusiness[], rng: Rng): Infrastructure {
  const n = planned.length;
  const pools: Record<Exclude<Pool, "dead">, string[]> = {
    hosting: Array.from({ length: clamp(Math.ceil(n / 16), 8, 2000) }, (_, i) => ip(1, i)),
    http_only: Array.from({ length: clamp(Math.ceil(n / 150), 2, 250) }, (_, i) => ip(2, i)),
    parking: PARKING.flatMap((_, k) => [`127.3.${k}.1`, `127.3.${k}.2`]),
    platform: PLATFORMS.map((_, k) => `127.4.0.${k + 1}`),
    cloudflare: Array.from({ length: 16 }, (_, i) => `127.5.0.${i + 1}`),
  };
  const marketIps = MARKETPLACES.map((_, k) => `127.3.100.${k + 1}`);
  const zone = new Map<string, NameRecords>();
  const sites = new Map<string, Site>();
  let dead = 0;

  // Shared infrastructure: marketplaces, parking CNAME targets, platform wildcards.
  MARKETPLACES.forEach((m, k) => {
    const apex = m.host.replace(/^www\./, "");
    zone.set(apex, { A: [marketIps[k]], NS: m.ns, SOA: soa(m.ns) });
    if (apex !== m.host) zone.set(m.host, { CNAME: apex });
    const site: Site = {
      ips: [marketIps[k]],
      catchAll: true,
      body: (req) => marketplacePage(domainInUrl(req.url) ?? apex, apex),
    };
    sites.set(apex, site);
    sites.set(`www.${apex}`, site);
  });
  PARKING.forEach((p, k) => zone.set(p.cname, { A: [`127.3.${k}.1`] }));
  PLATFORMS.forEach((p, k) => zone.set(p.wildcard, { A: [`127.4.0.${k + 1}`] }));

  const liveTargets = planned.filter((b) =>
    !b.duplicate &&
    ["business", "business_both_schemes", "redirect_chain_own_www"].includes(b.variant)
  ).map((b) => b.domain);
  if (liveTargets.length === 0 && planned.some((b) => b.label === "redirect")) {
    const target = `new-home-${rng.int(1000, 9999)}.com`;
    liveTargets.push(target);
    zone.set(target, { A: [pools.hosting[0]] });
    zone.set(`www.${target}`, { CNAME: target });
    const site: Site = { ips: [pools.hosting[0]], body: "<h1>Our new home</h1>" };
    sites.set(target, site);
    sites.set(`www.${target}`, site);
  }

  for (const b of planned) {
    if (b.duplicate) continue;
    const v = b.variantDef;
    const d = b.domain;
    if (v.dns === "none") continue;
    const parking = PARKING[rng.int(0, PARKING.length - 1)];
    const parkingK = PARKING.indexOf(parking);
    let addr: string;
    if (v.pool === "dead") addr = ip(250, dead++);
    else if (v.pool === "parking") addr = `127.3.${parkingK}.${rng.int(1, 2)}`;
    else if (v.pool === "platform") {
      addr = `127.4.0.${PLATFORMS.findIndex((p) => p.name === v.platform) + 1}`;
    } else addr = rng.pick(pools[v.pool ?? "hosting"]);

    let ns = rng.pick(HOSTING_NS);
    if (v.dns === "parking_ns") ns = parking.ns;
    if (v.dns === "cloudflare") {
      ns = [rng.pick(CF_NS), rng.pick(CF_NS)].map((x) => `${x}.ns.cloudflare.com`);
    }
    const ttl = rng.pick([300, 3600, 3600, 14400]);
    const apex: NameRecords = { NS: ns, SOA: soa(ns), ttl };
    const mail = mailRecords(b.mail, d, rng.pick(HOSTING_MX));
    if (mail.mx.length) apex.MX = mail.mx;
    const txt: string[] = mail.spf ? [mail.spf] : [];
    if (rng.chance(0.15)) txt.push(...rng.shuffle([...VERIFICATION_TXT]).slice(0, rng.int(3, 7)));
    if (txt.length) apex.TXT = txt;
    if (b.mail === "self_hosted") zone.set(`mail.${d}`, { A: [rng.pick(pools.hosting)], ttl });
    if (mail.mx.length && rng.chance(b.mail === "null_mx" ? 0.7 : 0.55)) {
      const policy = b.mail === "null_mx"
        ? "reject"
        : rng.pick(["none", "none", "quarantine", "reject"]);
      zone.set(`_dmarc.${d}`, { TXT: [`v=DMARC1; p=${policy}; rua=mailto:dmarc@${d}`], ttl });
    }
    zone.set(d, apex);
    if (v.dns === "ns_only" || v.dns === "mail_only") continue;

    const www = `www.${d}`;
    let wwwAddr = addr;
    if (v.dns === "www_only") zone.set(www, { A: [addr], ttl });
    else {
      apex.A = [addr];
      if (v.dns === "parking_cname") zone.set(www, { CNAME: parking.cname, ttl });
      else if (v.dns === "platform") {
        const platform = PLATFORMS.find((p) => p.name === v.platform)!;
        zone.set(www, { CNAME: platform.cname(d.replace(/\./g, "-")), ttl });
      } else if (v.dns === "parking_ns" && rng.chance(0.5)) zone.set(`*.${d}`, { A: [addr], ttl });
      else if (v.apexPages && rng.chance(0.5)) {
        // The www-only virtual host lives on another server.
        wwwAddr = rng.pick(pools.hosting.filter((x) => x !== addr));
        zone.set(www, { A: [wwwAddr], ttl });
      } else if (rng.chance(0.5)) zone.set(www, { CNAME: d, ttl });
      else zone.set(www, { A: [addr], ttl });
    }

    if (v.pool === "dead") continue; // nothing listens there: connection refused
    const ctx: PageContext = {
      name: b.name,
      city: b.city,
      phone: b.phone,
      email: b.email,
      domain: b.domainUnicode,
      host: d,
      lang: b.lang,
      trade: b.trade,
      seed: b.seed,
      since: b.since,
      brand: v.brands ? rng.pick(v.brands) : undefined,
    };
    const base: Site = { ips: [addr], tls: v.tls ?? "valid", behaviour: v.behaviour };
    let site: Site;
    if (v.redirect === "marketplace") {
      const m = MARKETPLACES[rng.int(0, MARKETPLACES.length - 1)];
      site = { ...base, redirect: { location: `https://${m.host}${m.path(d)}`, status: 302 } };
    } else if (v.redirect) {
      const location = `https://www.${rng.pick(liveTargets)}/`;
      site = { ...base, redirect: { location, status: v.redirect === "other_302" ? 302 : 301 } };
    } else {
      if (v.page === "meta_refresh" || v.page === "js_redirect") {
        ctx.target = `https://www.${rng.pick(liveTargets)}/`;
      }
      site = {
        ...base,
        ...pageSite(PAGES[v.page ?? "business"], ctx),
        httpsUpgrade: v.https !== undefined,
      };
    }
    if (v.https === "chain") {
      sites.set(d, {
        ...base,
        httpsUpgrade: true,
        redirect: { location: `https://${www}/`, keepPath: true },
      });
      sites.set(www, site);
    } else if (v.apexPages) {
      // Virtual host for www only: the bare name gets the server's stock page on both schemes.
      sites.set(d, { ...base, ...pageSite(PAGES[rng.pick(v.apexPages)], ctx) });
      sites.set(www, { ...site, ips: [wwwAddr] });
    } else {
      if (v.dns !== "www_only") sites.set(d, site);
      sites.set(www, site);
    }
  }
  return {
    zone,
    sites,
    addresses: [
      ...pools.hosting,
      ...pools.parking,
      ...pools.platform,
      ...pools.cloudflare,
      ...marketIps,
    ],
    httpOnlyAddresses: pools.http_only,
  };
}

function soa(ns: string[]): NameRecords["SOA"] {
  return { mname: ns[0], rname: `hostmaster.${ns[0].split(".").slice(1).join(".")}` };
}

/** The site fields of a page template bound to one business. */
function pageSite(def: PageDef, ctx: PageContext): Site {
  const bind = (fn: PageDef["html"]) => (req: RequestInfo) =>
    fn({ ...ctx, host: req.host }, new Rng(ctx.seed));
  const paths = def.paths
    ? Object.fromEntries(Object.entries(def.paths).map(([p, fn]) => [p, { body: bind(fn) }]))
    : undefined;
  return {
    status: def.status,
    headers: def.headers,
    body: bind(def.html),
    paths,
    catchAll: def.catchAll,
  };
}

function domainInUrl(url: string): string | undefined {
  const m = /(?:buy-domain|forsale)\/([^/?#]+)/.exec(url) ?? /[?&](?:domain|d)=([^&#]+)/.exec(url);
  return m ? decodeURIComponent(m[1]) : undefined;
}
