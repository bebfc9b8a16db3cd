/**
 * A deterministic simulated world for the domain-lead pipeline: N businesses with domains,
 * the TRUE label of each domain's website, the DNS records and the websites that show it.
 * `generateWorld` only computes data; `startWorld` (world_server.ts) serves it on loopback.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { NameRecords } from "./dns_zone.ts";
import type { Site } from "./web_site.ts";
import { COUNTRIES, type Country, SURNAMES, type Trade, TRADE_IT, TRADES } from "./world_names.ts";
import type { MailKind } from "./world_providers.ts";
import { MAIL } from "./world_providers.ts";
import { Rng } from "./world_rng.ts";
import { type Label, LABELS } from "./world_types.ts";
import { DEFAULT_MIX, type Variant, VARIANTS } from "./world_variants.ts";
import { buildInfrastructure } from "./world_infra.ts";

export type { Label } from "./world_types.ts";
export { LABELS } from "./world_types.ts";
export type { MailKind } from "./world_providers.ts";

/** One input row: a business and its (possibly messily written) website. */
export interface WorldBusiness {
  /** Row number, from 0. */
  id: number;
  name: string;
  city: string;
  /** ISO country code. */
  country: string;
  phone?: string;
  email?: string;
  /** The website as written in the input: bare domain, URL, upper case or IDN (Unicode). */
  website: string;
  /** Normalized domain: lower case ASCII (punycode for IDNs), no `www.`: the labels' key. */
  domain: string;
  /** Domain in Unicode (equals `domain` unless IDN). */
  domainUnicode: string;
  /** True label of the domain's website. */
  label: Label;
  /** Which variant of the label (see world_variants.ts). */
  variant: string;
  /** True for hard negatives: live sites that look like something else at first sight. */
  hard: boolean;
  /** How the domain's mail is handled (for the mail stage). */
  mail: MailKind;
  /** True when this row repeats another row's domain (a second branch of the business). */
  duplicate: boolean;
}

/** Options of {@link generateWorld}. */
export interface WorldOptions {
  /** Number of businesses (input rows). */
  size: number;
  /** Seed: the same seed and options give the same world. */
  seed: number;
  /**
   * Relative weights of labels. When given, it replaces the default mix entirely (labels left
   * out get none), e.g. `{ parked: 1, live: 1 }`.
   */
  mix?: Partial<Record<Label, number>>;
  /** Share of rows that repeat an earlier domain (default 0.01). */
  duplicateRate?: number;
}

/** A generated world. */
export interface World {
  readonly seed: number;
  readonly size: number;
  readonly businesses: WorldBusiness[];
  /** Normalized domain -> true label. */
  readonly labels: Map<string, Label>;
  /** DNS zone data served by the world's DNS server. */
  readonly zone: Map<string, NameRecords>;
  /** Web sites by host name. */
  readonly sites: Map<string, Site>;
  /** Addresses with HTTP and HTTPS listeners. */
  readonly addresses: string[];
  /** Addresses with an HTTP listener only. */
  readonly httpOnlyAddresses: string[];
  /** The pipeline input: CSV with header `name,city,country,phone,email,website`. */
  toCsv(): string;
  /** Number of domains per label. */
  labelCounts(): Record<Label, number>;
}

/** Internal: a business plus what the infrastructure builder needs. */
export interface PlannedBusiness extends WorldBusiness {
  variantDef: Variant;
  lang: Country["lang"];
  trade: Trade;
  seed: number;
  since: number;
}

const TRANSLIT: Record<string, string> = { ä: "ae", ö: "oe", ü: "ue", ß: "ss" };

function slugify(name: string, keepUnicode: boolean, joiner: string): string {
  let s = name.toLowerCase().replace(/[äöüß]/g, (ch) => keepUnicode ? ch : TRANSLIT[ch]);
  if (!keepUnicode) s = s.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  s = s.replace(/&/g, " ").replace(/['’]/g, "");
  const parts = s.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  return parts.join(joiner).slice(0, 40).replace(/-+$/, "");
}

function toAscii(domain: string): string {
  return new URL(`http://${domain}/`).hostname;
}

/** Largest-remainder quotas, so small worlds still get every label of the mix. */
function quotas(size: number, mix: Partial<Record<Label, number>>): Label[] {
  const entries = LABELS.filter((l) => (mix[l] ?? 0) > 0).map((l) => [l, mix[l]!] as const);
  if (entries.length === 0) throw new Error("world mix: give at least one label a weight > 0");
  const total = entries.reduce((n, [, w]) => n + w, 0);
  const exact = entries.map(([l, w]) => [l, (size * w) / total] as const);
  const counts = new Map(exact.map(([l, x]) => [l, Math.floor(x)]));
  let left = size - [...counts.values()].reduce((a, b) => a + b, 0);
  for (const [l] of [...exact].sort((a, b) => (b[1] % 1) - (a[1] % 1))) {
    if (left-- <= 0) break;
    counts.set(l, counts.get(l)! + 1);
  }
  return [...counts].flatMap(([l, n]) => Array<Label>(n).fill(l));
}

function businessName(rng: Rng, c: Country, trade: Trade, city: string): string {
  const sur = rng.pick(SURNAMES[c.lang]);
  const t = trade.names[c.lang];
  const forms: Record<Country["lang"], string[]> = {
    en: [`${sur} ${t}`, `${city} ${t}`, `${sur}'s ${t}`, `${sur} & Sons ${t}`],
    de: [`${t} ${sur}`, `${sur} ${t} GmbH`, `${t} ${city}`, `${t} ${sur} & Partner`],
    fr: [`${t} ${sur}`, `${t} de ${city}`, `${sur} ${t}`],
    es: [`${t} ${sur}`, `${t} ${city}`, `${sur} ${t} S.L.`],
    nl: [`${t} ${sur}`, `${sur} ${t}`, `${t} ${city}`],
    pt: [`${t} ${sur}`, `${t} ${city}`, `${sur} ${t} Lda`],
  };
  return rng.pick(forms[c.lang]);
}

function writtenForm(rng: Rng, domain: string): string {
  const r = rng.next();
  if (r < 0.55) return domain;
  if (r < 0.67) return `www.${domain}`;
  if (r < 0.76) return `https://www.${domain}/`;
  if (r < 0.82) return `http://${domain}`;
  if (r < 0.87) return `https://${domain}/${rng.pick(["contact", "kontakt", "index.html"])}`;
  if (r < 0.93) {
    return rng.chance(0.5)
      ? domain.toUpperCase()
      : `Www.${domain[0].toUpperCase()}${domain.slice(1)}`;
  }
  return `${domain}/`;
}

/** Generate a world. Pure and deterministic: same options, same world. */
export function generateWorld(options: WorldOptions): World {
  const { size, seed } = options;
  if (!Number.isInteger(size) || size < 0) {
    throw new Error(`world size must be an integer >= 0, got ${size}`);
  }
  const rng = new Rng(seed);
  const labels = rng.shuffle(quotas(size, options.mix ?? DEFAULT_MIX));
  const duplicateRate = options.duplicateRate ?? 0.01;
  const countryPicks = COUNTRIES.map((c) => [c, c.weight] as const);
  const mailPicks = MAIL.map((m) => [m.kind, m.weight] as const);
  const taken = new Set<string>();
  const planned: PlannedBusiness[] = [];
  const firstsByLabel = new Map<Label, PlannedBusiness[]>();

  for (let id = 0; id < size; id++) {
    const label = labels[id];
    const earlier = firstsByLabel.get(label) ?? [];
    if (id > 10 && earlier.length > 0 && rng.chance(duplicateRate)) {
      const first = rng.pick(earlier);
      const c = COUNTRIES.find((x) => x.code === first.country)!;
      planned.push({
        ...first,
        id,
        city: rng.pick(c.cities.filter((x) => x !== first.city)),
        website: writtenForm(rng, first.domainUnicode),
        duplicate: true,
      });
      continue;
    }
    const variant = rng.weighted(VARIANTS[label].map((v) => [v, v.weight] as const));
    const country = rng.weighted(countryPicks);
    const city = rng.pick(country.cities);
    const trade = variant.trade === "it" ? TRADE_IT : rng.pick(TRADES);
    const name = businessName(rng, country, trade, city);
    const idn = country.lang !== "en" && country.lang !== "nl" && rng.chance(0.04);
    const tld = rng.weighted(country.tlds);
    const joiner = rng.chance(0.6) ? "-" : "";
    let base = slugify(name.replace(/ (GmbH|S\.L\.|Lda)$/, ""), idn, joiner) || "business";
    if (idn && !/[^a-z0-9-]/.test(base)) base = slugify(name, true, joiner);
    let domainUnicode = `${base}.${tld}`;
    for (let n = 2; taken.has(toAscii(domainUnicode)); n++) {
      const extra = n === 2 ? slugify(city, false, "") : String(n);
      domainUnicode = `${base}${joiner || ""}${extra}.${tld}`;
    }
    const domain = toAscii(domainUnicode);
    taken.add(domain);
    let mail = rng.weighted(mailPicks);
    if (label === "no_dns") mail = "none";
    if (variant.dns === "mail_only" && (mail === "none" || mail === "null_mx")) mail = "google";
    const ownMail = !["none", "null_mx"].includes(mail);
    const area = country.areaCodes?.[city] ?? "";
    let areaDigit = 0;
    const phone = rng.chance(0.8)
      ? country.phone.replace(/[#%@]/g, (c) => {
        const digit = String(rng.int(c === "%" ? 2 : 0, 9));
        return c === "@" ? area[areaDigit++] ?? digit : digit;
      })
      : undefined;
    const user = rng.pick(["info", "kontakt", "contact", "hello", "office"]);
    const email = rng.chance(0.6)
      ? ownMail && label !== "no_dns"
        ? `${user}@${domainUnicode}`
        : `${slugify(name, false, ".")}@${rng.pick(country.freeMail)}`
      : undefined;
    const business: PlannedBusiness = {
      id,
      name,
      city,
      country: country.code,
      phone,
      email,
      website: writtenForm(rng, domainUnicode),
      domain,
      domainUnicode,
      label,
      variant: variant.id,
      hard: variant.hard ?? false,
      mail,
      duplicate: false,
      variantDef: variant,
      lang: country.lang,
      trade,
      seed: rng.seed(),
      since: rng.int(1950, 2021),
    };
    planned.push(business);
    if (!firstsByLabel.has(label)) firstsByLabel.set(label, earlier);
    earlier.push(business);
  }

  const infra = buildInfrastructure(planned, new Rng(seed ^ 0x5a5a5a5a));
  const worldLabels = new Map(planned.map((b) => [b.domain, b.label]));
  const businesses: WorldBusiness[] = planned.map((
    { variantDef: _v, lang: _l, trade: _t, seed: _s, since: _y, ...row },
  ) => row);
  return {
    seed,
    size,
    businesses,
    labels: worldLabels,
    zone: infra.zone,
    sites: infra.sites,
    addresses: infra.addresses,
    httpOnlyAddresses: infra.httpOnlyAddresses,
    toCsv: () =>
      stringify(
        businesses.map((b) => [b.name, b.city, b.country, b.phone ?? "", b.email ?? "", b.website]),
        { header: true, columns: ["name", "city", "country", "phone", "email", "website"] },
      ),
    labelCounts() {
      const counts = Object.fromEntries(LABELS.map((l) => [l, 0])) as Record<Label, number>;
      for (const l of worldLabels.values()) counts[l]++;
      return counts;
    },
  };
}
