/**
 * Judging search hits: does a hit show the business's own website on another domain, or its
 * social page? The business name's distinctive words must be in the hit's title, and the city
 * in the hit (or the name in the hit's host). Directories, marketplaces and the item's own
 * domain never count.
 * @module
 */
import { foldName, nameWords as words } from "@sluice/sdk/text/business_name.ts";

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
  "yelp.com",
  "yelp.de",
  "yelp.fr",
  "yellowpages.com",
  "gelbeseiten.de",
  "dasoertliche.de",
  "pagesjaunes.fr",
  "paginasamarillas.es",
  "goudengids.nl",
  "paginasamarelas.pt",
  "tripadvisor.com",
  "google.com",
  "maps.google.com",
  "wikipedia.org",
  "wikidata.org",
  "cylex.de",
  "11880.com",
  "kompass.com",
  "northdata.com",
  "opencorporates.com",
  "dan.com",
  "sedo.com",
  "afternic.com",
  "hugedomains.com",
  "godaddy.com",
  "bing.com",
  "duckduckgo.com",
  "trustpilot.com",
];

/** Lower case, accents folded, ß as ss. */
export const fold = (s: string): string => foldName(s);

/** Distinctive words of a business name. */
export const nameWords = (name: string): string[] => words(name);

const under = (host: string, list: string[]) =>
  list.some((h) => host === h || host.endsWith(`.${h}`));

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.toLowerCase().replace(/^www\./, "");
  } catch {
    return undefined;
  }
}

/** The hits that show the business elsewhere, best first. */
export function findEvidence(options: {
  hits: Hit[];
  name: string;
  city?: string;
  domain: string;
}): Evidence[] {
  const words = nameWords(options.name);
  if (words.length === 0) return [];
  const city = options.city ? fold(options.city).trim() : "";
  const own = options.domain.toLowerCase().replace(/^www\./, "");
  const out: Evidence[] = [];
  for (const h of options.hits) {
    const host = hostOf(h.url);
    if (!host || host === own || host.endsWith(`.${own}`) || under(host, IGNORED_HOSTS)) continue;
    const title = fold(h.title);
    const text = `${title} ${fold(h.content)} ${fold(decodeURIComponent(h.url))}`;
    const inTitle = words.filter((w) => new RegExp(`(^|[^a-z0-9])${w}([^a-z0-9]|$)`).test(title));
    if (inTitle.length < Math.max(1, Math.ceil(words.length * 0.75))) continue;
    const cityHit = city !== "" && text.includes(city);
    const hostName = host.replace(/[^a-z0-9]/g, "");
    const nameInHost = words.join("").length >= 4 && hostName.includes(words.join(""));
    const social = under(host, SOCIAL_HOSTS);
    if (!cityHit && !nameInHost) continue;
    out.push({
      url: h.url,
      title: h.title,
      kind: social ? "social" : "website",
      reason: `title has "${inTitle.join(" ")}"` +
        (cityHit ? ` and the hit mentions ${options.city}` : "") +
        (nameInHost ? ` and the host ${host} carries the name` : ""),
    });
  }
  return out.sort((a, b) => Number(a.kind === "social") - Number(b.kind === "social"));
}
