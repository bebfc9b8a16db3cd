/**
 * Judging search hits: does a hit show the business's own website on another domain, or its
 * social page? The business name's distinctive words must be in the hit's title, and the city
 * in the hit (or the name in the hit's host). Directories, marketplaces and the item's own
 * domain never count.
 * @module
 */
import { getDomainWithoutSuffix } from "tldts";
import { foldName, nameWords as sdkNameWords } from "@sluice/sdk/text/business_name.ts";

/** One search hit. */
export interface Hit {
  url: string;
  title: string;
  content: string;
}

/** A hit that counts, with why. */
export interface Evidence {
  url: string;
  title: string;
  kind: "website" | "social";
  reason: string;
}

/** Social networks where a business page counts as a web presence. */
export const SOCIAL_HOSTS = [
  "facebook.com",
  "instagram.com",
  "linkedin.com",
  "x.com",
  "twitter.com",
  "tiktok.com",
  "youtube.com",
  "xing.com",
  "pinterest.com",
];

/** Hosts that list businesses or sell domains: never the business's own website. */
export const IGNORED_HOSTS = [
  "yellowpages.com",
  "gelbeseiten.de",
  "dasoertliche.de",
  "dastelefonbuch.de",
  "das-telefonbuch.de",
  "golocal.de",
  "meinestadt.de",
  "werkenntdenbesten.de",
  "stadtbranchenbuch.com",
  "branchenbuch.de",
  "firmania.de",
  "pagesjaunes.fr",
  "paginasamarillas.es",
  "goudengids.nl",
  "detelefoongids.nl",
  "paginasamarelas.pt",
  "herold.at",
  "firmenabc.at",
  "local.ch",
  "search.ch",
  "yell.com",
  "maps.google.com",
  "g.page",
  "goo.gl",
  "maps.apple.com",
  "wikipedia.org",
  "wikidata.org",
  "11880.com",
  "opencorporates.com",
  "firmenwissen.de",
  "unternehmensregister.de",
  "handelsregister.de",
  "societe.com",
  "pappers.fr",
  "infogreffe.fr",
  "kununu.com",
  "jameda.de",
  "dan.com",
  "sedo.com",
  "afternic.com",
  "hugedomains.com",
  "godaddy.com",
  "duckduckgo.com",
];

/**
 * Directory, review, map, register, marketplace and search brands that appear under many
 * country domains (yelp.de, tripadvisor.co.uk, google.de, northdata.de, ...): a host whose
 * name is one of these followed by a country or generic TLD (with an optional second level
 * such as `co.uk`) is never the business's own website.
 */
export const IGNORED_BRANDS = [
  "yelp",
  "tripadvisor",
  "google",
  "bing",
  "cylex",
  "kompass",
  "northdata",
  "trustpilot",
  "hotfrog",
  "infobel",
  "foursquare",
  "europages",
  "wlw",
  "houzz",
  "doctolib",
  "treatwell",
  "thefork",
  "opentable",
  "booking",
  "lieferando",
  "ubereats",
  "wolt",
  "justeat",
  "amazon",
  "ebay",
  "etsy",
  "indeed",
  "stepstone",
  "glassdoor",
  "myhammer",
  "check24",
  "provenexpert",
  "dnb",
  "zoominfo",
  "crunchbase",
];

/**
 * Paths on social hosts that are not a business's own page: people's profiles (LinkedIn `/in/`,
 * Xing `/profile/`), posts, videos, pins, searches, hashtags, groups and events. (Facebook's
 * `/p/<name>-<id>` is a page; Instagram's `/p/<id>` is a post.)
 */
const SOCIAL_NOT_A_PAGE =
  /^\/(in|pub|profile|posts|pulse|feed|jobs|search|explore|hashtag|groups|events|watch|shorts|results|pin|share|sharer|login|help|policies|legal|photo\.php|story\.php|permalink\.php)(\/|$)|\/(status|posts|videos?|photos?|reels?|stories)\//i;
const INSTAGRAM_NOT_A_PAGE = /^\/(p|reel|reels|stories|tv)\//i;

/** Lower case, accents folded, ß as ss. */
export const fold = (s: string): string => foldName(s);

/** Distinctive words of a business name. */
export const nameWords = (name: string): string[] => sdkNameWords(name);

const under = (host: string, list: string[]) =>
  list.some((h) => host === h || host.endsWith(`.${h}`));

const BRAND_HOST = new RegExp(
  `(^|\\.)(${IGNORED_BRANDS.join("|")})\\.((co|com|org|net|or|ne|gob|gov)\\.)?[a-z]{2,}$`,
);

/** True when `host` is a directory, marketplace or search site (see the lists above). */
export function isIgnoredHost(host: string): boolean {
  return under(host, IGNORED_HOSTS) || BRAND_HOST.test(host);
}

/** True when a social-network URL is a business's page, not a person, a post or a search. */
export function isSocialPage(url: string): boolean {
  try {
    const u = new URL(url);
    const path = u.pathname;
    if (path === "/" || path === "" || SOCIAL_NOT_A_PAGE.test(path)) return false;
    const host = u.hostname.toLowerCase();
    return !(under(host, ["instagram.com"]) && INSTAGRAM_NOT_A_PAGE.test(path));
  } catch {
    return false;
  }
}

/** `s` percent-decoded, or as it is when it is not valid percent-encoding. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase().replace(/^www\./, "");
  } catch {
    return undefined;
  }
}

/**
 * True when the host's name (without its public suffix) is made of `parts` only:
 * `schmidt-gmbh.de` or `schmidtkoeln.de` for "Schmidt GmbH" in Köln, not `schmidt-elektro.de`.
 */
function isNameHost(host: string, parts: string[]): boolean {
  let rest = (getDomainWithoutSuffix(host) ?? host).replace(/[^a-z0-9]/g, "");
  for (const p of [...new Set(parts)].filter(Boolean).sort((a, b) => b.length - a.length)) {
    rest = rest.replaceAll(p, "");
  }
  return rest === "";
}

/** The last seven digits of a phone number (the subscriber part, whatever the prefix). */
function phoneTail(phone: string | undefined): string | undefined {
  const digits = (phone ?? "").replace(/\D/g, "");
  return digits.length >= 7 ? digits.slice(-7) : undefined;
}

/** True when `text` shows a phone number ending in `tail` (`+49 221 1234567`, `0221/123 45 67`). */
function hasPhone(text: string, tail: string): boolean {
  for (const m of text.matchAll(/[+(]?\d[\d\s\-/().]{5,}\d/g)) {
    if (m[0].replace(/\D/g, "").endsWith(tail)) return true;
  }
  return false;
}

/**
 * The hits that show the business elsewhere, best first. A hit counts when its title has the
 * name's distinctive words and either the city (as a whole word), the name in its host, or the
 * business's phone number confirms it. A name with one distinctive word ("Schmidt GmbH") is
 * shared by many businesses, so there the city alone is not enough: the title must also carry
 * the whole name as written (with its legal form), or the host must carry the name as well as
 * the hit the city, or the phone number must match.
 */
export function findEvidence(options: {
  hits: Hit[];
  name: string;
  city?: string;
  domain: string;
  /** The business's phone number, if known: a hit showing it is the business for sure. */
  phone?: string;
}): Evidence[] {
  const words = nameWords(options.name);
  if (words.length === 0) return [];
  const fullName = fold(options.name).replace(/[^a-z0-9]+/g, " ").trim();
  const fullRe = new RegExp(
    `(^|[^a-z0-9])${escape(fullName).replace(/ /g, "[^a-z0-9]+")}([^a-z0-9]|$)`,
  );
  const tail = phoneTail(options.phone);
  const city = options.city ? fold(options.city).trim() : "";
  // What a one-word name's own host may consist of: the name, its legal form, the city.
  const nameParts = [
    ...fullName.split(" "),
    ...(city ? [city, foldName(options.city!, true)].map((c) => c.replace(/[^a-z0-9]/g, "")) : []),
  ];
  const cityRe = city ? new RegExp(`(^|[^a-z0-9])${escape(city)}([^a-z0-9]|$)`) : undefined;
  const own = options.domain.toLowerCase().replace(/^www\./, "");
  const joined = [words.join(""), sdkNameWords(options.name, { german: true }).join("")];
  const out: Evidence[] = [];
  for (const h of options.hits) {
    const host = hostOf(h.url);
    if (!host || host === own || host.endsWith(`.${own}`) || isIgnoredHost(host)) continue;
    const social = under(host, SOCIAL_HOSTS);
    if (social && !isSocialPage(h.url)) continue;
    const title = fold(h.title);
    const text = `${title} ${fold(h.content)} ${fold(safeDecode(h.url))}`;
    const inTitle = words.filter((w) => new RegExp(`(^|[^a-z0-9])${w}([^a-z0-9]|$)`).test(title));
    if (inTitle.length < Math.max(1, Math.ceil(words.length * 0.75))) continue;
    // The city as a whole word, not inside another ("Hamm" in "Hammer", "Bonn" in "Bonnie").
    const cityHit = city !== "" && cityRe!.test(text);
    const hostName = host.replace(/[^a-z0-9]/g, "");
    // German hosts spell umlauts out (baeckerei-schmidt.de), others drop the accent.
    const nameInHost = joined.some((n) => n.length >= 4 && hostName.includes(n));
    const phoneHit = tail !== undefined && hasPhone(`${h.title} ${h.content}`, tail);
    if (words.length === 1) {
      // The whole name with its legal form ("Schmidt GmbH – Heizung"), or the name as the title.
      const fullInTitle = (fullName.includes(" ") && fullRe.test(title)) ||
        title.replace(/[^a-z0-9]+/g, " ").trim() === fullName;
      const hostIsName = nameInHost && isNameHost(host, [...joined, ...nameParts]);
      const confirmed = phoneHit || (fullInTitle && (cityHit || hostIsName)) ||
        (hostIsName && cityHit);
      if (!confirmed) continue;
    } else if (!cityHit && !nameInHost && !phoneHit) continue;
    out.push({
      url: h.url,
      title: h.title,
      kind: social ? "social" : "website",
      reason: `title has "${inTitle.join(" ")}"` +
        (cityHit ? ` and the hit mentions ${options.city}` : "") +
        (nameInHost ? ` and the host ${host} carries the name` : "") +
        (phoneHit ? ` and the hit shows the business's phone number` : ""),
    });
  }
  return out.sort((a, b) => Number(a.kind === "social") - Number(b.kind === "social"));
}
