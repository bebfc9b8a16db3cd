/**
 * Loads `platforms.json`, checks every entry once (a broken entry fails loudly with its list and
 * index) and matches hosts against it:
 *
 * - page platforms: a URL there names a business's page on someone else's site (a Facebook page,
 *   a Linktree, a Yelp listing, a Google Maps place, an eBay or Etsy shop): the business owns no
 *   domain there;
 * - subdomain platforms: site builders whose subdomain is the business's own hosted site
 *   (`mariasbakery.business.site`), missing from the Public Suffix List's private section.
 * @module
 */
import data from "./platforms.json" with { type: "json" };
import { getPublicSuffix } from "tldts";

/** What kind of page a page platform hosts; it decides the wording of the rejection reason. */
export const PLATFORM_KINDS = [
  "social",
  "link-in-bio",
  "directory",
  "maps",
  "site-builder-page",
  "search",
  "free-mail",
  "marketplace",
] as const;

/** One of {@linkcode PLATFORM_KINDS}. */
export type PlatformKind = typeof PLATFORM_KINDS[number];

/** A platform whose URLs are a business's page on the platform's own domain. */
export interface PagePlatform {
  /** Host, lower case; matches itself and every subdomain. A trailing `.*` is any ICANN suffix. */
  host: string;
  /** Path prefix the URL must start with (whole segments, lower case), e.g. `/maps`. */
  path?: string;
  /** Display name, e.g. `Facebook`. */
  name: string;
  /** What the page is. */
  kind: PlatformKind;
  /** Where the URL scheme is documented. */
  source: string;
}

/** A site builder whose `<name>.<host>` subdomain is the business's own site. */
export interface SubdomainPlatform {
  /** The platform's domain, lower case, e.g. `business.site`. */
  host: string;
  /** Display name, e.g. `Google Business Profile websites`. */
  name: string;
  /** Where the subdomain scheme is documented. */
  source: string;
}

/** Every platform, checked. */
export interface Platforms {
  /** Page platforms, in file order. */
  pages: PagePlatform[];
  /** Subdomain platforms, in file order. */
  subdomains: SubdomainPlatform[];
  /** Page platforms by host (`google.*` as written), for matching. */
  pagesByHost: Map<string, PagePlatform[]>;
  /** Subdomain platforms by host, for matching. */
  subdomainsByHost: Map<string, SubdomainPlatform>;
}

/** A URL that is on a page platform. */
export interface PageMatch {
  /** The most specific matching entry. */
  platform: PagePlatform;
  /** True when the URL is the platform itself (its home page, no query), not a page on it. */
  bare: boolean;
}

/** A host under a subdomain platform. */
export interface SubdomainMatch {
  /** The matching entry. */
  platform: SubdomainPlatform;
  /** `<name>.<host>`: the business's site; undefined for the platform's own host (bare, `www`). */
  site?: string;
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function fail(list: string, index: number, what: string): never {
  throw new Error(
    `plugins/normalize/platforms.json ${list}[${index}]: ${what}; fix the entry (every entry ` +
      "needs its fields and a source)",
  );
}

function str(list: string, i: number, entry: Record<string, unknown>, field: string): string {
  const v = entry[field];
  if (typeof v !== "string" || v.trim() === "") {
    fail(list, i, `"${field}" must be a non-empty string`);
  }
  return v;
}

function list(raw: Record<string, unknown>, name: string): Record<string, unknown>[] {
  const v = raw[name];
  if (!Array.isArray(v)) {
    throw new Error(`plugins/normalize/platforms.json: "${name}" must be a list of entries`);
  }
  return v.map((e, i) => {
    if (!e || typeof e !== "object" || Array.isArray(e)) fail(name, i, "must be an object");
    return e as Record<string, unknown>;
  });
}

function host(listName: string, i: number, entry: Record<string, unknown>, wild: boolean) {
  const h = str(listName, i, entry, "host");
  const bare = wild && h.endsWith(".*") ? h.slice(0, -2) : h;
  if (!HOST.test(bare)) {
    fail(
      listName,
      i,
      `"host" ${JSON.stringify(h)} must be a lower-case ASCII host name` +
        (wild ? " (a trailing .* stands for any public suffix)" : ""),
    );
  }
  return h;
}

/** Checks platform data (the parsed `platforms.json`, or other data in tests). */
export function compilePlatforms(raw: unknown): Platforms {
  if (!raw || typeof raw !== "object") {
    throw new Error("plugins/normalize/platforms.json must hold an object");
  }
  const r = raw as Record<string, unknown>;
  const seen = new Set<string>();
  const pages = list(r, "pagePlatforms").map((e, i): PagePlatform => {
    const h = host("pagePlatforms", i, e, true);
    let path: string | undefined;
    if (e.path !== undefined) {
      path = str("pagePlatforms", i, e, "path").toLowerCase().replace(/\/+$/, "");
      if (!path.startsWith("/") || path === "") {
        fail("pagePlatforms", i, `"path" must start with "/" and name a path, e.g. "/maps"`);
      }
    }
    const kind = str("pagePlatforms", i, e, "kind") as PlatformKind;
    if (!PLATFORM_KINDS.includes(kind)) {
      fail(
        "pagePlatforms",
        i,
        `"kind" ${JSON.stringify(kind)} is not ${PLATFORM_KINDS.join(", ")}`,
      );
    }
    const id = `${h}${path ?? ""}`;
    if (seen.has(id)) fail("pagePlatforms", i, `${id} is listed twice`);
    seen.add(id);
    return {
      host: h,
      ...(path ? { path } : {}),
      name: str("pagePlatforms", i, e, "name"),
      kind,
      source: str("pagePlatforms", i, e, "source"),
    };
  });
  const subdomains = list(r, "subdomainPlatforms").map((e, i): SubdomainPlatform => {
    const h = host("subdomainPlatforms", i, e, false);
    if (seen.has(h)) fail("subdomainPlatforms", i, `${h} is listed twice`);
    seen.add(h);
    return {
      host: h,
      name: str("subdomainPlatforms", i, e, "name"),
      source: str("subdomainPlatforms", i, e, "source"),
    };
  });
  const pagesByHost = new Map<string, PagePlatform[]>();
  for (const p of pages) pagesByHost.set(p.host, [...pagesByHost.get(p.host) ?? [], p]);
  const subdomainsByHost = new Map(subdomains.map((p) => [p.host, p]));
  return { pages, subdomains, pagesByHost, subdomainsByHost };
}

/** The platforms of `platforms.json`. */
export const PLATFORMS: Platforms = compilePlatforms(data);

/** The host and each parent domain, longest first: `m.facebook.com`, `facebook.com`, `com`. */
function parents(hostname: string): string[] {
  const out = [hostname];
  for (let i = hostname.indexOf("."); i >= 0; i = hostname.indexOf(".", i + 1)) {
    out.push(hostname.slice(i + 1));
  }
  return out;
}

/**
 * The page platform a URL is on, or undefined. `hostname` is lower-case ASCII without a trailing
 * dot; `url` gives the path (`/joes-pizza`) and query (`?cid=12`, or ""): a `URL` does, read only
 * when the host is a platform's. The most specific entry wins (longest host, `.*` resolved to the
 * host's ICANN suffix, then longest path), so `sites.google.com/view/x` is Google Sites, not
 * Google.
 */
export function matchPagePlatform(
  platforms: Platforms,
  hostname: string,
  url: { pathname: string; search: string },
): PageMatch | undefined {
  const icann = getPublicSuffix(hostname, { allowPrivateDomains: false });
  let path: string | undefined;
  for (const base of parents(hostname)) {
    const exact = platforms.pagesByHost.get(base);
    const wild = icann && base.endsWith(`.${icann}`)
      ? platforms.pagesByHost.get(`${base.slice(0, -icann.length)}*`)
      : undefined;
    if (!exact && !wild) continue;
    path ??= url.pathname.toLowerCase().replace(/\/+$/, "");
    let best: PagePlatform | undefined;
    for (const p of [...exact ?? [], ...wild ?? []]) {
      if (p.path && path !== p.path && !path.startsWith(`${p.path}/`)) continue;
      if (!best || (p.path?.length ?? 0) > (best.path?.length ?? 0)) best = p;
    }
    if (!best) continue;
    const home = hostname === base || hostname === `www.${base}`;
    const bare = home && path === (best.path ?? "") && url.search.replace(/^\?/, "") === "";
    return { platform: best, bare };
  }
  return undefined;
}

/**
 * The subdomain platform a host is under, or undefined: `shop.mariasbakery.business.site` gives
 * the site `mariasbakery.business.site`; `business.site` and `www.business.site` are the
 * platform's own host (no `site`).
 */
export function matchSubdomainPlatform(
  platforms: Platforms,
  hostname: string,
): SubdomainMatch | undefined {
  let below = "";
  for (const base of parents(hostname)) {
    const p = platforms.subdomainsByHost.get(base);
    if (p) {
      if (below === "" || below === "www") return { platform: p };
      return { platform: p, site: `${below}.${p.host}` };
    }
    below = base.slice(0, base.indexOf("."));
  }
  return undefined;
}
