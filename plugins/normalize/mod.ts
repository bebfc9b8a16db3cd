/**
 * normalize: website values -> registrable domains; the key becomes the domain, invalid names
 * and pages on platforms (a Facebook page, a Linktree, a Yelp listing, an eBay shop) are
 * rejected with a reason, duplicates within a chunk are merged into the first item.
 * @module
 */
import { domainToUnicode } from "node:url";
import { definePlugin, type Item, type Rejected } from "@sluice/sdk";
import { isNoWebsite } from "@sluice/sdk/text/no_website.ts";
import { normalizeDomain } from "./normalize_domain.ts";
import { type CountryCode, countryCode, phoneE164, tldCountry } from "./phone.ts";

interface Config {
  field?: string;
  dedupe?: "chunk" | "none";
  privateSuffixes?: boolean;
  platformPages?: "reject" | "keep";
  phoneCountry?: string;
}

const FALLBACKS = ["domain", "website", "url"];

/**
 * The website value of an item: the first of `field`, `domain`, `website`, `url` that gives one
 * (a placeholder such as `n/a` does not); else the first given value, empty or placeholder, so
 * the reason says so; the key only when the item has none of these fields.
 */
function hasWebsiteField(item: Item, field: string): boolean {
  if ([field, ...FALLBACKS].some((f) => typeof item[f] === "string")) return true;
  // Items keyed by their domain (`{ key: "acme.com" }`) are their own website value.
  return typeof item.key === "string" && !/^(?:row|line|sample|item)-\d+$/.test(item.key);
}

function inputOf(item: Item, field: string): string {
  const given = [field, ...FALLBACKS].map((f) => item[f]).filter((v) => typeof v === "string");
  return given.find((v) => !isNoWebsite(v)) ?? given.find((v) => v.trim() !== "") ??
    (given.length ? "" : String(item.key ?? ""));
}

/**
 * Where an item came from, for a reason a person reads: `line 8` (csv-source's `line`, the file
 * line its own reasons name), `row 7` (a `row` field alone), else the key as it is (`row-7`,
 * `line-12`, `acme`), quoted when it has spaces.
 */
export function locationOf(item: Item): string {
  for (const field of ["line", "row"]) {
    const v = item[field];
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return `${field} ${v}`;
  }
  const key = String(item.key ?? "");
  return key !== "" && !/[\s:"]/.test(key) ? key : JSON.stringify(key);
}

export default definePlugin<Config>({
  process(items, { config, metrics, log }) {
    const field = config.field ?? "domain";
    const phoneCountry = config.phoneCountry === undefined
      ? undefined
      : countryCode(config.phoneCountry);
    if (config.phoneCountry !== undefined && !phoneCountry) {
      throw new Error(
        `normalize: with.phoneCountry is ${JSON.stringify(config.phoneCountry)}, no country ` +
          'Sluice knows; give its ISO code ("DE", "US", "GB") or its English name',
      );
    }
    const dedupe = (config.dedupe ?? "chunk") === "chunk";
    const platformPages = config.platformPages ?? "reject";
    if (platformPages !== "reject" && platformPages !== "keep") {
      throw new Error(
        `normalize: with.platformPages is ${JSON.stringify(platformPages)}; use "reject" ` +
          '(pages on Facebook, Linktree, Yelp... are rejected) or "keep" (they become the ' +
          "platform's domain)",
      );
    }
    const out: Item[] = [];
    const rejected: Rejected[] = [];
    const byDomain = new Map<string, Item>();
    let pages = 0;
    let merged = 0;
    let mergedExample: string | undefined;
    let badPhones = 0;
    let badPhone: string | undefined;
    for (const item of items) {
      if (!hasWebsiteField(item, field)) {
        // A source's own key (`line-2`, `row-7`) is no domain to try.
        const fields = Object.keys(item).filter((k) => k !== "key").slice(0, 8);
        rejected.push({
          key: item.key,
          reason:
            `${locationOf(item)}: no domain: the item has no ${
              [...new Set([field, ...FALLBACKS])].map((f) => `"${f}"`).join(", ")
            } field${fields.length ? ` (its fields: ${fields.join(", ")})` : ""}; name the ` +
            "field that holds the website with.field",
          raw: item,
        });
        continue;
      }
      const raw = inputOf(item, field);
      const n = normalizeDomain(raw, {
        privateSuffixes: config.privateSuffixes,
        platformPages,
      });
      if ("reason" in n) {
        if (n.platform) pages++;
        rejected.push({ key: item.key, reason: `${locationOf(item)}: ${n.reason}`, raw: item });
        continue;
      }
      const first = dedupe ? byDomain.get(n.domain) : undefined;
      if (first) {
        ((first.duplicates ??= []) as unknown[]).push(item);
        // A later row of the domain that gives an address the kept one lacks: keep the address.
        const mail = hasValue(item.email) ? undefined : emailIn(String(raw));
        if (!hasValue(first.email) && (mail || hasValue(item.email))) {
          first.email = mail ?? item.email;
        }
        // And a phone number it lacks.
        if (!hasValue(first.phone) && hasValue(item.phone)) {
          first.phone = item.phone;
          const phone = phoneOf(first, phoneCountry);
          if (phone && "e164" in phone) first.phone_e164 = phone.e164;
        }
        metrics.count("normalize_duplicates");
        merged++;
        mergedExample ??= `${locationOf(item)} into ${locationOf(first)} (${n.domain})`;
        continue;
      }
      const next: Item = {
        ...item,
        key: n.domain,
        domain: n.domain,
        domain_input: String(raw),
        host: n.host,
        suffix: n.suffix,
      };
      // An e-mail address given as the website (info@firma.de) is the business's address too.
      const mail = emailIn(String(raw));
      if (mail && !hasValue(item.email)) next.email = mail;
      if (n.privateSuffix) next.private_suffix = true;
      if (n.platform) next.platform = n.platform;
      // An IDN as people read it (`bücher.de`), beside the ASCII form the network needs.
      if (n.domain.includes("xn--")) next.domain_unicode = domainToUnicode(n.domain);
      // phone_e164 is this stage's own field: an input column of that name never passes through
      // (exports write it unguarded for CRMs and dialers, so it must be E.164 or absent).
      delete next.phone_e164;
      const phone = phoneOf(next, phoneCountry);
      if (phone && "e164" in phone) next.phone_e164 = phone.e164;
      else if (phone) {
        badPhones++;
        badPhone ??= `${locationOf(item)}: ${phone.problem}`;
      }
      if (dedupe) byDomain.set(n.domain, next);
      out.push(next);
    }
    if (merged) {
      log.info(
        `${merged} row${merged === 1 ? "" : "s"} merged into an earlier row of the same domain, ` +
          `e.g. ${mergedExample}: one item per domain, the merged rows in its duplicates ` +
          "(exports name them in the column also_listed_as)",
      );
    }
    if (badPhones) {
      metrics.count("normalize_phones_invalid", badPhones);
      log.info(
        `${badPhones} phone number${badPhones === 1 ? " is" : "s are"} no valid number, so ` +
          `phone_e164 stays empty (${badPhone}); phone keeps the value as given`,
      );
    }
    metrics.count("normalize_rejected", rejected.length);
    metrics.count("normalize_platform_pages", pages);
    return { items: out, rejected };
  },
});

/**
 * The E.164 form of an item's `phone`, read in the item's `country`, else its domain's country,
 * else `fallback`; undefined when the item gives no phone (a placeholder such as `n/a` is none).
 */
function phoneOf(item: Item, fallback: CountryCode | undefined) {
  const raw = item.phone;
  if (typeof raw !== "string" && typeof raw !== "number") return undefined;
  const text = String(raw);
  if (!/\d/.test(text) || isNoWebsite(text)) return undefined;
  const country = countryCode(item.country) ?? tldCountry(String(item.domain ?? "")) ?? fallback;
  return phoneE164(text, country);
}

/** True for a field that holds something: a non-blank string or a non-empty list. */
function hasValue(v: unknown): boolean {
  if (typeof v === "string") return v.trim() !== "";
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== null;
}

/**
 * The e-mail address a website value is, if it is one: `info@firma.de`, `mailto:info@firma.de?subject=…`,
 * `<info@firma.de>`, `"Info" <info@firma.de>`, a trailing dot dropped; a URL with user info
 * (`https://user@host/`) is none.
 */
export function emailIn(raw: string): string | undefined {
  let s = raw.trim();
  const angled = /<([^<>\s]+)>\s*$/.exec(s);
  if (angled) s = angled[1];
  s = s.replace(/^mailto:/i, "").replace(/[?#].*$/, "").replace(/\.+$/, "");
  return /^[^\s/?#@:<>"(),;]+@[^\s/?#@:<>"(),;]+\.[^\s/?#@:<>"(),;.][^\s/?#@:<>"(),;]*$/.test(s)
    ? s
    : undefined;
}
