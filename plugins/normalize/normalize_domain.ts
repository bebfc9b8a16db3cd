/**
 * Pure domain normalization: a website value as people write it -> host and registrable domain
 * in lower-case ASCII, or a reason why it is not a usable domain. Pages on social, link-in-bio,
 * directory, maps and marketplace platforms are not a domain of the business's own (see
 * `platforms.json`).
 * @module
 */
import { isNoWebsite } from "@sluice/sdk/text/no_website.ts";
import { parse } from "tldts";
import {
  matchPagePlatform,
  matchSubdomainPlatform,
  type PagePlatform,
  type PlatformKind,
  PLATFORMS,
  type Platforms,
} from "./platforms.ts";

/** A normalized name. */
export interface NormalizedName {
  /** Registrable domain (eTLD+1), ASCII. */
  domain: string;
  /** The host as given, cleaned, ASCII (e.g. `www.example.com`). */
  host: string;
  /** The public suffix (e.g. `co.uk`). */
  suffix: string;
  /**
   * True when the suffix is a PSL private one (e.g. `github.io`) or a subdomain platform of
   * `platforms.json` (e.g. `business.site`): the business's site on a platform subdomain.
   */
  privateSuffix: boolean;
  /** The subdomain platform's name (e.g. `Weebly`) when the domain is a site on one. */
  platform?: string;
}

/** Normalization failure with a reason a person can act on. */
export interface NormalizeFailure {
  /** Why, naming the value as given. */
  reason: string;
  /**
   * Set when the value is a page on a platform (or the platform itself), not a domain of the
   * business's own; the reason then starts with {@linkcode PLATFORM_PAGE}. `kind` is the page
   * platform's kind, or `site-builder` for a subdomain platform's own address (`business.site`).
   */
  platform?: { name: string; kind: PlatformKind | "site-builder" };
}

/** Options of {@linkcode normalizeDomain}. */
export interface NormalizeOptions {
  /**
   * Treat PSL private suffixes and the subdomain platforms as suffixes (default true), so
   * `foo.github.io` and `foo.business.site` stay their own domains.
   */
  privateSuffixes?: boolean;
  /**
   * `reject` (default): a page on a page platform (`facebook.com/joes-pizza`), or a platform
   * itself, is a failure with {@linkcode NormalizeFailure.platform} set. `keep`: it becomes the
   * platform's domain like any other URL (the behaviour before platforms were known).
   */
  platformPages?: "reject" | "keep";
  /** Platform data; default: `platforms.json`. */
  platforms?: Platforms;
}

/** Start of every platform-page reason, so users can filter them. */
export const PLATFORM_PAGE = "platform page:";

/** What the reason says of a cell holding several websites (`"a.com, b.com" holds more...`). */
export const MULTIPLE_WEBSITES = "holds more than one website";

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** A mistyped web scheme: `http//`, `http:/`, `https:\\` (never `httpshop.de`). */
const SCHEME_TYPO = /^(https?)(?::[/\\]{0,2}|[/\\]{1,2})(?![/\\])/i;
/** A note after the value that names no other website: `example.com (old)`. */
const NOTE = /\s+\([^().]*\)$/;
/** A note in parentheses at the end of a value (`a.com (old: b.com)`): its text. */
const ANY_NOTE = /\s*\(([^()]*)\)$/;
/** Longest value quoted whole in a reason; longer ones are cut (the item's `raw` keeps all). */
const QUOTE_MAX = 80;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** What separates websites written into one cell. */
const SEPARATORS = /[\s,;|]+/;
/** Words between two websites in one cell ("a.com or b.com"). */
const CONNECTORS = new Set(["and", "or", "&", "/", "+", "-", "und", "oder", "et", "ou", "y", "o"]);
/** A token that looks like one website: optional scheme and user, a host with a dot, a path. */
const WEBSITE_TOKEN =
  /^(?:https?:\/\/|\/\/)?(?:[^\s/?#@]+@)?([^\s/?#:@]+\.[^\s/?#:@]+)(?::\d+)?(?:[/?#]\S*)?$/i;

/** True when a token is a host name with a known public suffix (`a.com`, `https://b.de/x`). */
function isWebsite(token: string): boolean {
  const m = WEBSITE_TOKEN.exec(token);
  if (!m) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${m[1]}`).hostname.replace(/\.+$/, "");
  } catch {
    return false;
  }
  const p = parse(hostname);
  return (p.isIcann === true || p.isPrivate === true) && !!p.domain && !p.isIp;
}

/** The registrable domain of a website token (`https://www.a.com/x` → `a.com`). */
function registrableOf(token: string): string | undefined {
  const m = WEBSITE_TOKEN.exec(token);
  if (!m) return undefined;
  try {
    return parse(new URL(`http://${m[1]}`).hostname.replace(/\.+$/, "")).domain ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * The websites of a value that holds two or more and nothing else but separators and connectors
 * (`a.com, b.com`; `https://x.com, https://x.com/de`), in order; undefined for anything else.
 */
function websitesIn(value: string): string[] | undefined {
  const tokens = value.split(SEPARATORS).filter((t) => t !== "");
  if (tokens.length < 2) return undefined;
  const websites: string[] = [];
  for (const t of tokens) {
    if (isWebsite(t)) websites.push(t);
    else if (!CONNECTORS.has(t.toLowerCase())) return undefined;
  }
  return websites.length >= 2 ? websites : undefined;
}

/** True when websites name more than one registrable domain (not `x.com` and `www.x.com/de`). */
function severalDomains(websites: string[]): boolean {
  return new Set(websites.map((w) => registrableOf(w) ?? w.toLowerCase())).size > 1;
}

/** A spreadsheet's error values: a formula that failed, no website (`#N/A` is a placeholder). */
const SHEET_ERROR =
  /^#(?:REF!|NAME\?|VALUE!|DIV\/0!|NULL!|NUM!|ERROR!|SPILL!|CALC!|GETTING_DATA)$/i;

/** `=HYPERLINK("https://x.com", "site")`: the address of a spreadsheet link formula. */
const HYPERLINK = /^=\s*HYPERLINK\(\s*"([^"]+)"/i;

/** A value quoted for a reason, cut to its start when long. */
function quote(value: string): string {
  if (value.length <= QUOTE_MAX) return `"${value}"`;
  return `"${value.slice(0, 60)}… (${value.length} characters)"`;
}

/**
 * The value without what copying adds around a website: wrapping quotes or `<>`, trailing `,`
 * or `;`, a note in parentheses naming no other website, a mistyped `http//` scheme.
 */
function tidy(value: string): string {
  return value
    .replace(/^["'<]+|["'>,;]+$/g, "")
    .replace(NOTE, "")
    .trim()
    .replace(SCHEME_TYPO, "$1://");
}

const an = (name: string) => /^(?:[aeiou]|x\b)/i.test(name) ? "an" : "a";

/** "a Facebook page", "a Yelp listing"... */
function pageNoun(p: PagePlatform): string {
  switch (p.kind) {
    case "link-in-bio":
      return `${an(p.name)} ${p.name} link-in-bio page`;
    case "directory":
    case "maps":
      return `${an(p.name)} ${p.name} listing`;
    case "site-builder-page":
      return `a page on ${p.name}`;
    case "free-mail":
      return `an address at ${p.name} (a free e-mail provider)`;
    case "marketplace":
      return `a shop page on ${p.name} (a marketplace)`;
    default:
      return `${an(p.name)} ${p.name} page`;
  }
}

function platformFailure(
  input: string,
  what: string,
  platform: NormalizeFailure["platform"],
): NormalizeFailure {
  return {
    reason: `${PLATFORM_PAGE} ${quote(input)} is ${what}, not a website of the business's own: ` +
      "no domain to check",
    platform,
  };
}

/**
 * True for a phone number (`0421 667788`, `+49 (228) 123-456`, `030/1234567`): digits with
 * phone punctuation, at least six digits, and not an IPv4 address.
 */
export function looksLikePhone(s: string): boolean {
  if (!/^\+?[\d\s()/.-]+$/.test(s) || /^\d+(\.\d+){3}$/.test(s)) return false;
  return (s.match(/\d/g)?.length ?? 0) >= 6;
}

/**
 * Normalizes one value; see the module doc. With `platformPages: "reject"` (default) a page on a
 * social, link-in-bio, directory, maps, site-builder or marketplace platform
 * (`facebook.com/joes-pizza`, `linktr.ee/x`, `google.com/maps/...`, `ebay.de/str/x`), and such a
 * platform itself, is a failure whose reason starts with {@linkcode PLATFORM_PAGE}; any host
 * under a listed platform's domain counts (`developers.facebook.com`, `stores.ebay.de` too), since
 * a business never owns a subdomain of Facebook or eBay.
 */
export function normalizeDomain(
  input: string,
  options: NormalizeOptions = {},
): NormalizedName | NormalizeFailure {
  const link = HYPERLINK.exec(input.trim());
  let s = tidy(link ? link[1] : input.trim());
  if (s === "") return { reason: "empty value: no website or domain given" };
  if (isNoWebsite(s)) {
    return { reason: `no website given: ${quote(input.trim())} is a placeholder, not a website` };
  }
  if (SHEET_ERROR.test(s)) {
    return {
      reason: `no website given: ${quote(input.trim())} is a spreadsheet's error value (a ` +
        "formula that failed), not a website; fix the formula or export the cells' values",
    };
  }
  if (s.startsWith("=")) {
    return {
      reason: `${quote(input)} is a spreadsheet formula, not a website: export the cells' ` +
        "values (the website the formula shows)",
    };
  }
  // `a.com (old: b.com)`: a note naming another website.
  const note = ANY_NOTE.exec(s);
  if (note) {
    const named = note[1].split(SEPARATORS).filter((t) => isWebsite(t.replace(/[.,;:]+$/, "")));
    const main = s.slice(0, note.index).trim();
    if (named.length && isWebsite(main)) {
      if (severalDomains([main, ...named])) {
        return { reason: `${quote(input)} ${MULTIPLE_WEBSITES}; put one per row or pick one` };
      }
      s = main;
    }
  }
  const several = websitesIn(s);
  if (several) {
    if (severalDomains(several)) {
      return { reason: `${quote(input)} ${MULTIPLE_WEBSITES}; put one per row or pick one` };
    }
    // One domain written twice (`https://x.com, https://x.com/de`, `info@x.com; sales@x.com`).
    s = several[0];
  }
  if (looksLikePhone(s.replace(/^(?:tel|phone|fon|telefon|tél)\s*[:.]\s*/i, ""))) {
    return {
      reason: `${quote(input)} looks like a phone number, not a website or domain: the column ` +
        "read as the website holds phone numbers, or this row's values are in the wrong columns",
    };
  }
  if (/^mailto:/i.test(s)) s = s.slice(7);
  if (!SCHEME.test(s) && /^[^/?#]*@/.test(s)) s = s.slice(s.lastIndexOf("@") + 1); // e-mail
  if (s.startsWith("//")) s = s.slice(2);
  if (!SCHEME.test(s)) s = `http://${s}`;
  else if (!/^https?:\/\//i.test(s)) {
    return { reason: `${quote(input)} is not a web address (scheme ${s.split(":")[0]})` };
  }
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return { reason: `${quote(input)} is not a valid host name (bad characters or malformed URL)` };
  }
  const hostname = url.hostname.replace(/\.+$/, "");
  if (hostname.startsWith("[") || /^\d+(\.\d+){3}$/.test(hostname)) {
    return { reason: `${quote(input)} is an IP address, not a domain` };
  }
  if (hostname.length > 253) return { reason: `${quote(input)} is longer than 253 characters` };
  const labels = hostname.split(".");
  if (labels.length < 2) return { reason: `${quote(input)} has no top-level domain` };
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return {
      reason: `${quote(input)}: label "${bad}" is invalid (letters, digits and inner hyphens, ` +
        "1-63 characters)",
    };
  }
  const privateSuffixes = options.privateSuffixes ?? true;
  const p = parse(hostname, { allowPrivateDomains: privateSuffixes });
  if (!p.isIcann && !p.isPrivate) {
    return { reason: `${quote(input)}: unknown top-level domain ".${labels[labels.length - 1]}"` };
  }
  if (!p.domain) {
    return {
      reason: `${quote(input)} is a public suffix (${p.publicSuffix}), not a registrable domain`,
    };
  }
  const platforms = options.platforms ?? PLATFORMS;
  const rejectPages = (options.platformPages ?? "reject") === "reject";
  if (rejectPages) {
    const page = matchPagePlatform(platforms, hostname, url);
    if (page) {
      const { name, kind } = page.platform;
      // An address at a free mail provider (info@gmail.com) is "bare" too: name it as mail.
      const what = page.bare && kind !== "free-mail" ? `${name} itself` : pageNoun(page.platform);
      return platformFailure(input, what, {
        name,
        kind,
      });
    }
  }
  const sub = privateSuffixes ? matchSubdomainPlatform(platforms, hostname) : undefined;
  if (sub?.site) {
    return {
      domain: sub.site,
      host: hostname,
      suffix: sub.platform.host,
      privateSuffix: true,
      platform: sub.platform.name,
    };
  }
  if (sub && rejectPages) {
    return platformFailure(input, `the site builder ${sub.platform.name} itself`, {
      name: sub.platform.name,
      kind: "site-builder",
    });
  }
  return {
    domain: p.domain,
    host: hostname,
    suffix: p.publicSuffix ?? "",
    privateSuffix: p.isPrivate === true,
  };
}
