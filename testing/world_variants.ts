/**
 * How each label shows up on the simulated internet: per label, weighted variants that say
 * which DNS shape, address pool, TLS certificate, behaviour and page template a domain gets.
 * @module
 */
import type { TlsMode, WebBehaviour } from "./web_site.ts";
import type { Label } from "./world_types.ts";

/** Where a domain's name records point and which nameservers it has. */
export type DnsShape =
  /** Hosting NS, apex A and www (A or CNAME to apex). */
  | "hosted"
  /** Hosting NS, no apex A, www A. */
  | "www_only"
  /** No record at all: NXDOMAIN. */
  | "none"
  /** NS and SOA only. */
  | "ns_only"
  /** NS, SOA, MX and SPF, no address. */
  | "mail_only"
  /** Parking nameservers, apex and www to a parking IP. */
  | "parking_ns"
  /** Hosting NS, apex to a parking IP, www CNAME to the parking service. */
  | "parking_cname"
  /** Hosting NS, apex to a platform IP, www CNAME to the platform. */
  | "platform"
  /** Cloudflare NS, addresses from the Cloudflare-like pool. */
  | "cloudflare";

/** Address pool the site lives on. */
export type Pool = "hosting" | "http_only" | "dead" | "parking" | "platform" | "cloudflare";

/** One way a label appears. */
export interface Variant {
  id: string;
  weight: number;
  dns: DnsShape;
  pool?: Pool;
  /** Page template id (see world_pages*.ts). */
  page?: string;
  /**
   * Stock server page templates, one of which the bare name shows over HTTP and HTTPS while
   * www shows `page`: the server has a virtual host for www only (www on the apex's address or
   * on another one).
   */
  apexPages?: string[];
  tls?: TlsMode;
  /** `upgrade`: http -> https; `chain`: http://x -> https://x -> https://www.x. */
  https?: "upgrade" | "chain";
  behaviour?: WebBehaviour;
  /** Redirect the whole site: to another live domain or to a domain marketplace. */
  redirect?: "other_301" | "other_302" | "marketplace";
  /** Platform name for `platform` DNS (see world_providers.ts). */
  platform?: string;
  /** Brand shown on registrar pages. */
  brands?: string[];
  /** True: a business page that is hard to tell from a non-website (reported in the row). */
  hard?: boolean;
  /** Forces the business trade (for pages that must fit the business). */
  trade?: "it";
}

/**
 * Answer delay of the `slow_overloaded` live sites (an overloaded shared host) and of the HTTP of
 * the `https_hangs_http_slow` ones, ms: slower than the request timeout of the worlds' runs (4 s
 * in the labeled-world accuracy test, 2.5 s in the flagship world and its benches), so the first
 * probe of every URL times out, yet well within http-probe's slow retry (3 x the request timeout
 * by default), which must find them live.
 */
export const SLOW_SITE_MS = 5500;

/** Variants per label. Weights are relative within a label. */
export const VARIANTS: Record<Label, Variant[]> = {
  live: [
    {
      id: "business",
      weight: 34,
      dns: "hosted",
      pool: "hosting",
      page: "business",
      https: "upgrade",
    },
    { id: "business_both_schemes", weight: 8, dns: "hosted", pool: "hosting", page: "business" },
    {
      id: "redirect_chain_own_www",
      weight: 8,
      dns: "hosted",
      pool: "hosting",
      page: "business",
      https: "chain",
      hard: true,
    },
    {
      id: "www_only",
      weight: 6,
      dns: "www_only",
      pool: "hosting",
      page: "business",
      https: "upgrade",
      hard: true,
    },
    { id: "http_only", weight: 6, dns: "hosted", pool: "http_only", page: "business", hard: true },
    {
      id: "expired_cert",
      weight: 3,
      dns: "hosted",
      pool: "hosting",
      page: "business",
      tls: "expired",
      hard: true,
    },
    {
      id: "cloudflare_fronted",
      weight: 5,
      dns: "cloudflare",
      pool: "cloudflare",
      page: "business_cloudflare",
      https: "upgrade",
      hard: true,
    },
    {
      id: "coming_soon_mention",
      weight: 8,
      dns: "hosted",
      pool: "hosting",
      page: "coming_soon_mention",
      https: "upgrade",
      hard: true,
    },
    {
      id: "coming_soon_headline",
      weight: 5,
      dns: "hosted",
      pool: "hosting",
      page: "coming_soon_headline",
      https: "upgrade",
      hard: true,
    },
    {
      id: "stock_apex_www_site",
      weight: 5,
      dns: "hosted",
      pool: "hosting",
      page: "business",
      apexPages: [
        "nginx_default",
        "apache_default",
        "iis_default",
        "cpanel_default",
        "plesk_default",
      ],
      https: "upgrade",
      hard: true,
    },
    {
      id: "domain_mention",
      weight: 6,
      dns: "hosted",
      pool: "hosting",
      page: "domain_mention",
      https: "upgrade",
      hard: true,
      trade: "it",
    },
    { id: "tiny", weight: 6, dns: "hosted", pool: "hosting", page: "tiny", hard: true },
    {
      id: "js_app",
      weight: 2,
      dns: "hosted",
      pool: "hosting",
      page: "js_app",
      https: "upgrade",
      hard: true,
    },
    {
      // Answers every request, but only after SLOW_SITE_MS: a false lead ("no website") when
      // the probe gives up at its request timeout.
      id: "slow_overloaded",
      weight: 2,
      dns: "hosted",
      pool: "hosting",
      page: "business",
      behaviour: { slowMs: SLOW_SITE_MS },
      hard: true,
    },
    {
      // A server whose ports fail apart: HTTPS takes connections and never answers, HTTP answers
      // after SLOW_SITE_MS. A false lead when the slow retry gives up on the server at its HTTPS
      // timeout instead of asking HTTP again too.
      id: "https_hangs_http_slow",
      weight: 2,
      dns: "hosted",
      pool: "hosting",
      page: "business",
      behaviour: { https: "timeout", http: { slowMs: SLOW_SITE_MS } },
      hard: true,
    },
    {
      id: "slow",
      weight: 2,
      dns: "hosted",
      pool: "hosting",
      page: "business",
      behaviour: { slowMs: 400 },
    },
  ],
  redirect: [
    { id: "other_301", weight: 50, dns: "hosted", pool: "hosting", redirect: "other_301" },
    { id: "other_302", weight: 15, dns: "hosted", pool: "hosting", redirect: "other_302" },
    { id: "meta_refresh", weight: 20, dns: "hosted", pool: "hosting", page: "meta_refresh" },
    { id: "js_redirect", weight: 15, dns: "hosted", pool: "hosting", page: "js_redirect" },
  ],
  no_dns: [{ id: "nxdomain", weight: 1, dns: "none" }],
  no_address: [
    { id: "ns_only", weight: 50, dns: "ns_only" },
    { id: "mail_only", weight: 50, dns: "mail_only" },
  ],
  unreachable: [
    { id: "refused", weight: 70, dns: "hosted", pool: "dead" },
    { id: "timeout", weight: 18, dns: "hosted", pool: "hosting", behaviour: "timeout" },
    { id: "reset", weight: 12, dns: "hosted", pool: "hosting", behaviour: "reset" },
  ],
  http_error: [
    { id: "apache_500", weight: 20, dns: "hosted", pool: "hosting", page: "apache_500" },
    { id: "apache_403", weight: 15, dns: "hosted", pool: "hosting", page: "apache_403" },
    { id: "nginx_502", weight: 15, dns: "hosted", pool: "hosting", page: "nginx_502" },
    { id: "nginx_503", weight: 15, dns: "hosted", pool: "hosting", page: "nginx_503" },
    { id: "nginx_404", weight: 15, dns: "hosted", pool: "hosting", page: "nginx_404" },
    { id: "wordpress_db", weight: 10, dns: "hosted", pool: "hosting", page: "wordpress_db" },
    {
      id: "cf_521",
      weight: 10,
      dns: "cloudflare",
      pool: "cloudflare",
      page: "cf_521",
      https: "upgrade",
    },
  ],
  parked: [
    {
      id: "ppc_listing",
      weight: 30,
      dns: "parking_ns",
      pool: "parking",
      page: "ppc_listing",
      tls: "wrong_host",
    },
    {
      id: "parked_notice",
      weight: 20,
      dns: "parking_ns",
      pool: "parking",
      page: "parked_notice",
      tls: "wrong_host",
    },
    {
      id: "js_lander",
      weight: 20,
      dns: "parking_ns",
      pool: "parking",
      page: "js_lander",
      tls: "none",
    },
    {
      id: "js_park",
      weight: 15,
      dns: "parking_ns",
      pool: "parking",
      page: "js_park",
      tls: "wrong_host",
    },
    {
      id: "parking_cname",
      weight: 15,
      dns: "parking_cname",
      pool: "parking",
      page: "ppc_listing",
      tls: "wrong_host",
    },
  ],
  for_sale: [
    {
      id: "marketplace_redirect",
      weight: 35,
      dns: "hosted",
      pool: "parking",
      redirect: "marketplace",
      tls: "wrong_host",
    },
    {
      id: "sale_page",
      weight: 35,
      dns: "parking_ns",
      pool: "parking",
      page: "sale_page",
      tls: "wrong_host",
    },
    { id: "sale_contact", weight: 10, dns: "hosted", pool: "hosting", page: "sale_contact" },
    {
      id: "price_tag",
      weight: 20,
      dns: "hosted",
      pool: "parking",
      page: "price_tag",
      https: "upgrade",
    },
  ],
  placeholder: [
    {
      id: "coming_soon",
      weight: 20,
      dns: "hosted",
      pool: "hosting",
      page: "coming_soon",
      https: "upgrade",
    },
    {
      id: "under_construction",
      weight: 12,
      dns: "hosted",
      pool: "hosting",
      page: "under_construction",
    },
    { id: "nginx_default", weight: 8, dns: "hosted", pool: "http_only", page: "nginx_default" },
    {
      id: "apache_default",
      weight: 8,
      dns: "hosted",
      pool: "hosting",
      page: "apache_default",
      tls: "self_signed",
    },
    { id: "iis_default", weight: 4, dns: "hosted", pool: "http_only", page: "iis_default" },
    {
      id: "cpanel_default",
      weight: 8,
      dns: "hosted",
      pool: "hosting",
      page: "cpanel_default",
      tls: "wrong_host",
    },
    {
      id: "plesk_default",
      weight: 5,
      dns: "hosted",
      pool: "hosting",
      page: "plesk_default",
      tls: "wrong_host",
    },
    {
      id: "registrar_placeholder",
      weight: 12,
      dns: "hosted",
      pool: "hosting",
      page: "registrar_placeholder",
      brands: ["IONOS", "STRATO", "GoDaddy", "Namecheap", "OVHcloud", "Hostinger", "TransIP"],
    },
    { id: "index_of", weight: 3, dns: "hosted", pool: "http_only", page: "index_of" },
    { id: "empty", weight: 2, dns: "hosted", pool: "hosting", page: "empty" },
    {
      id: "wix_unclaimed",
      weight: 5,
      dns: "platform",
      pool: "platform",
      platform: "wix",
      page: "wix_unclaimed",
    },
    {
      id: "shopify_unclaimed",
      weight: 5,
      dns: "platform",
      pool: "platform",
      platform: "shopify",
      page: "shopify_unclaimed",
    },
    {
      id: "github_unclaimed",
      weight: 4,
      dns: "platform",
      pool: "platform",
      platform: "github",
      page: "github_unclaimed",
    },
    {
      id: "heroku_unclaimed",
      weight: 4,
      dns: "platform",
      pool: "platform",
      platform: "heroku",
      page: "heroku_unclaimed",
      tls: "wrong_host",
    },
  ],
  suspended: [
    {
      id: "account_suspended",
      weight: 40,
      dns: "hosted",
      pool: "hosting",
      page: "account_suspended",
    },
    { id: "hosting_expired", weight: 25, dns: "hosted", pool: "hosting", page: "hosting_expired" },
    {
      id: "domain_expired",
      weight: 20,
      dns: "hosted",
      pool: "parking",
      page: "domain_expired",
      tls: "wrong_host",
      brands: ["IONOS", "GoDaddy", "Namecheap", "Gandi", "OVHcloud"],
    },
    {
      id: "site_suspended_403",
      weight: 15,
      dns: "hosted",
      pool: "hosting",
      page: "site_suspended_403",
    },
  ],
  unknown: [
    {
      id: "cf_challenge",
      weight: 35,
      dns: "cloudflare",
      pool: "cloudflare",
      page: "cf_challenge",
      https: "upgrade",
    },
    {
      id: "cf_challenge_503",
      weight: 20,
      dns: "cloudflare",
      pool: "cloudflare",
      page: "cf_challenge_503",
      https: "upgrade",
    },
    {
      id: "cf_blocked",
      weight: 15,
      dns: "cloudflare",
      pool: "cloudflare",
      page: "cf_blocked",
      https: "upgrade",
    },
    {
      id: "ddos_guard",
      weight: 10,
      dns: "hosted",
      pool: "hosting",
      page: "ddos_guard",
      https: "upgrade",
    },
    {
      id: "sucuri_block",
      weight: 10,
      dns: "hosted",
      pool: "hosting",
      page: "sucuri_block",
      https: "upgrade",
    },
    {
      id: "incapsula",
      weight: 10,
      dns: "hosted",
      pool: "hosting",
      page: "incapsula",
      https: "upgrade",
    },
  ],
};

/** Default share of each label among businesses. */
export const DEFAULT_MIX: Record<Label, number> = {
  live: 44,
  redirect: 5,
  no_dns: 7,
  no_address: 4,
  unreachable: 6,
  http_error: 4,
  parked: 10,
  for_sale: 5,
  placeholder: 9,
  suspended: 3,
  unknown: 3,
};
