/**
 * Internet infrastructure of the simulated world as data: hosting nameservers, parking
 * services (nameservers, CNAME targets), site platforms, domain marketplaces and mail
 * providers (MX, SPF). The generator in `world.ts` combines them; it holds no such names itself.
 * @module
 */
import type { MxData } from "./dns_zone.ts";

/** Nameserver sets of ordinary DNS/hosting providers (what live and most other domains use). */
export const HOSTING_NS: string[][] = [
  ["ns1.ionos.de", "ns2.ionos.de"],
  ["docks01.rzone.de", "shades02.rzone.de"],
  ["ns01.domaincontrol.com", "ns02.domaincontrol.com"],
  ["dns1.registrar-servers.com", "dns2.registrar-servers.com"],
  ["dns10.ovh.net", "ns10.ovh.net"],
  ["ns1.dns-parking.com", "ns2.dns-parking.com"], // Hostinger's ordinary DNS, despite the name
  ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
  ["ns1.transip.nl", "ns0.transip.net"],
  ["ns1.hetzner.com", "ns2.hetzner.com"],
];

/** A parking service: its nameservers, and a CNAME target some customers point `www` to. */
export interface ParkingService {
  name: string;
  ns: string[];
  cname: string;
}

/** Parking services (the real world's well-known parking nameservers). */
export const PARKING: ParkingService[] = [
  {
    name: "sedo",
    ns: ["ns1.sedoparking.com", "ns2.sedoparking.com"],
    cname: "parking.sedoparking.com",
  },
  {
    name: "parkingcrew",
    ns: ["ns1.parkingcrew.net", "ns2.parkingcrew.net"],
    cname: "x.parkingcrew.net",
  },
  { name: "bodis", ns: ["ns1.bodis.com", "ns2.bodis.com"], cname: "parking.bodis.com" },
  { name: "above", ns: ["ns1.above.com", "ns2.above.com"], cname: "park.above.com" },
  {
    name: "namebright",
    ns: ["ns1.namebrightdns.com", "ns2.namebrightdns.com"],
    cname: "parkingpage.namebright.com",
  },
];

/** Marketplace hosts that for-sale domains redirect to; `path(domain)` is the landing URL path. */
export interface Marketplace {
  host: string;
  ns: string[];
  path: (domain: string) => string;
}

/** Domain marketplaces. */
export const MARKETPLACES: Marketplace[] = [
  {
    host: "dan.com",
    ns: ["ns1.dan.com", "ns2.dan.com"],
    path: (d) => `/buy-domain/${d}?redirected=true`,
  },
  {
    host: "www.afternic.com",
    ns: ["ns1.afternic.com", "ns2.afternic.com"],
    path: (d) => `/forsale/${d}?traffic_id=daslnc&traffic_type=TDFS_DASLNC`,
  },
  {
    host: "sedo.com",
    ns: ["ns1.sedoparking.com", "ns2.sedoparking.com"],
    path: (d) => `/search/details/?domain=${d}&origin=parking`,
  },
  {
    host: "www.hugedomains.com",
    ns: ["ns1.hugedomains.com", "ns2.hugedomains.com"],
    path: (d) => `/domain_profile.cfm?d=${d.split(".")[0]}`,
  },
];

/** Site platforms whose unclaimed custom domains show the platform's own placeholder. */
export interface Platform {
  name: string;
  /** CNAME target for `www` (a wildcard `*.` part is filled with the domain slug). */
  cname: (slug: string) => string;
  /** Wildcard owner name served by the platform IP. */
  wildcard: string;
}

/** Platforms (unclaimed-site placeholders). */
export const PLATFORMS: Platform[] = [
  { name: "wix", cname: (s) => `${s}.wixdns.net`, wildcard: "*.wixdns.net" },
  { name: "shopify", cname: () => "shops.myshopify.com", wildcard: "*.myshopify.com" },
  { name: "github", cname: (s) => `${s}.github.io`, wildcard: "*.github.io" },
  { name: "heroku", cname: (s) => `${s}.herokudns.com`, wildcard: "*.herokudns.com" },
];

/** How a domain's mail is handled. */
export type MailKind =
  | "google"
  | "microsoft"
  | "zoho"
  | "hosting"
  | "self_hosted"
  | "none"
  | "null_mx";

/** Mail providers with weights, MX records and SPF include. */
export const MAIL: { kind: MailKind; weight: number }[] = [
  { kind: "google", weight: 24 },
  { kind: "microsoft", weight: 20 },
  { kind: "zoho", weight: 5 },
  { kind: "hosting", weight: 25 },
  { kind: "self_hosted", weight: 6 },
  { kind: "none", weight: 17 },
  { kind: "null_mx", weight: 3 },
];

/** MX records and SPF text of a mail kind for `domain` (undefined SPF: none published). */
export function mailRecords(
  kind: MailKind,
  domain: string,
  hostingMx: string,
): { mx: MxData[]; spf?: string } {
  switch (kind) {
    case "google":
      return {
        mx: [
          { preference: 1, exchange: "aspmx.l.google.com" },
          { preference: 5, exchange: "alt1.aspmx.l.google.com" },
          { preference: 10, exchange: "alt3.aspmx.l.google.com" },
        ],
        spf: "v=spf1 include:_spf.google.com ~all",
      };
    case "microsoft":
      return {
        mx: [{
          preference: 0,
          exchange: `${domain.replace(/\./g, "-")}.mail.protection.outlook.com`,
        }],
        spf: "v=spf1 include:spf.protection.outlook.com -all",
      };
    case "zoho":
      return {
        mx: [
          { preference: 10, exchange: "mx.zoho.eu" },
          { preference: 20, exchange: "mx2.zoho.eu" },
        ],
        spf: "v=spf1 include:zoho.eu ~all",
      };
    case "hosting":
      return {
        mx: [{ preference: 10, exchange: hostingMx }],
        spf: `v=spf1 a mx include:_spf.${hostingMx.split(".").slice(-2).join(".")} ?all`,
      };
    case "self_hosted":
      return { mx: [{ preference: 10, exchange: `mail.${domain}` }], spf: "v=spf1 mx -all" };
    case "null_mx":
      return { mx: [{ preference: 0, exchange: "." }], spf: "v=spf1 -all" };
    case "none":
      return { mx: [] };
  }
}

/** Mail exchangers of hosting providers. */
export const HOSTING_MX = ["mx00.ionos.de", "smtpin.rzone.de", "mx1.hostinger.com", "mx3.ovh.net"];

/** Extra TXT records that some domains carry (making TXT answers large: UDP truncation). */
export const VERIFICATION_TXT = [
  "google-site-verification=8f3kQ2vX0pLm9rT1sYwZ4bN6cD7eF5gH2jK8lM3nO0p",
  "MS=ms48213576",
  "facebook-domain-verification=x1y2z3a4b5c6d7e8f9g0h1i2j3k4l5",
  "apple-domain-verification=AbCdEfGhIjKlMnOp",
  "atlassian-domain-verification=Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0EdCbA/abcdefghijklmnop",
  "docusign=1b2c3d4e-5f6a-7b8c-9d0e-1f2a3b4c5d6e",
  "stripe-verification=0123456789abcdef0123456789abcdef0123456789abcdef",
];
