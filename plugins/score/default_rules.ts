/**
 * The default scoring rules and bands, used when a stage gives no `rules`/`bands`. The same list
 * is documented in README.md and written out in `pipelines/no-website-leads.yaml`.
 * @module
 */

/** One scoring rule: when `when` is true for an item, add `points` (negative: a penalty). */
export interface ScoreRule {
  /** Short id shown in `score_reasons` (default `rule-<n>`). */
  id?: string;
  /** CEL condition over `item` (see expression.ts). */
  when: string;
  /** Points added when it fires (may be negative). */
  points: number;
  /** Why, in words a sales person understands. */
  reason: string;
}

/** Lower bounds of the bands; below `cool` is `cold`. */
export interface Bands {
  hot: number;
  warm: number;
  cool: number;
}

/** Default band thresholds. */
export const DEFAULT_BANDS: Bands = { hot: 85, warm: 60, cool: 35 };

/** Where a lead's phone numbers and e-mail addresses are, as a CEL list of dotted paths. */
const CONTACT_FIELDS = '["phone", "email", "rdap.registrant.phone", "rdap.registrant.email"]';

/** Default rules (see README.md for the reasoning). */
export const DEFAULT_RULES: ScoreRule[] = [
  {
    id: "no-website",
    when: 'item.lead == true && item.website.status != "unknown"',
    points: 30,
    reason: "domain has no working website",
  },
  {
    id: "search-confirms",
    when: 'item.search.status == "not_found"',
    points: 10,
    reason: "web search found no other website of the business",
  },
  {
    id: "real-mail",
    // A domain for sale belongs to an investor: its mail says nothing about the business. Any
    // other provider (Fastmail, Proton, a security gateway such as Mimecast) is real mail too.
    when: 'item.lead == true && item.website.status != "for_sale" && ' +
      'item.mail.provider in ["google", "microsoft", "zoho", "hosting", "self_hosted", "other"]',
    points: 15,
    reason: "domain receives mail at a real provider (the business uses it)",
  },
  {
    id: "domain-age",
    when: "item.lead == true && daysSince(item.rdap.registered) > 365.0",
    points: 10,
    reason: "domain registered more than a year ago",
  },
  {
    id: "expiry-far",
    when: "item.lead == true && daysUntil(item.rdap.expires) > 90.0",
    points: 10,
    reason: "the domain is paid for more than 90 days ahead",
  },
  {
    id: "expired",
    when: "daysUntil(item.rdap.expires) < 0.0",
    points: -30,
    reason: "the domain's registration has expired: it may be lost or sold soon",
  },
  {
    id: "contact-found",
    when: `anyPresent(item, ${CONTACT_FIELDS})`,
    points: 10,
    reason: "a phone number or e-mail address is known",
  },
  {
    id: "no-contact",
    when: `item.lead == true && !anyPresent(item, ${CONTACT_FIELDS})`,
    points: -15,
    reason: "no phone number or e-mail address known: find a contact first",
  },
  {
    id: "name-match",
    when: "nameMatchesDomain(item.name, item.domain)",
    points: 10,
    reason: "business name matches the domain",
  },
  {
    id: "null-mx",
    when: "item.mail.null_mx == true",
    points: -15,
    reason: "null MX: the domain accepts no mail",
  },
  {
    id: "marketplace",
    when: 'item.website.status == "for_sale"',
    points: -40,
    reason: "domain is listed for sale (likely owned by a domain investor, not the business)",
  },
  {
    id: "hold",
    when: "item.rdap.flags.client_hold || item.rdap.flags.server_hold || " +
      "item.rdap.flags.redemption_period || item.rdap.flags.pending_delete",
    points: -35,
    reason: "registry hold, redemption or pending delete: the domain may be lost",
  },
  {
    id: "timeout-only",
    when: "item.website.timedOut == true",
    points: -15,
    reason: "the site only timed out: it may be slow or briefly down rather than gone",
  },
  {
    id: "temporary-error",
    when: 'item.website.status == "http_error" && ' +
      "item.website.httpStatus in [502, 503, 504, 520, 521, 522, 523, 524]",
    points: -15,
    reason: "the server answered a temporary error (bad gateway, unavailable, timeout): the site " +
      "may be back soon",
  },
  {
    id: "refused-access",
    when: 'item.website.status == "http_error" && item.website.httpStatus in [401, 403]',
    points: -15,
    reason: "the server refuses access (HTTP 401/403), also to a browser: it may be a live site " +
      "that keeps robots out",
  },
  {
    id: "website-unknown",
    when: 'item.website.status == "unknown"',
    points: -20,
    reason: "website check gave no verdict",
  },
  {
    id: "enrichment-unknown",
    when: 'item.mail.status == "unknown" || item.rdap.status == "unknown"',
    points: -5,
    reason: "mail or registration lookup gave no verdict",
  },
];
