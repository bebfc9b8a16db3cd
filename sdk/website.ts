/**
 * The website-status vocabulary of the domain-lead plugins: what a business's domain shows on
 * the web, and which statuses make a lead. The classifier writes it, the LLM second opinion must
 * answer in it, and the UI filters by it.
 * @module
 */

/** Every website status, in a fixed order. */
export const WEBSITE_STATUSES = [
  "live",
  "redirect",
  "no_dns",
  "no_address",
  "unreachable",
  "http_error",
  "parked",
  "for_sale",
  "placeholder",
  "suspended",
  "unknown",
] as const;

/** What the domain's website is. */
export type WebsiteStatus = typeof WEBSITE_STATUSES[number];

/** Statuses that make a lead by default: the business has a domain but no working website. */
export const LEAD_STATUSES: readonly WebsiteStatus[] = [
  "no_dns",
  "no_address",
  "unreachable",
  "http_error",
  "parked",
  "for_sale",
  "placeholder",
  "suspended",
];
