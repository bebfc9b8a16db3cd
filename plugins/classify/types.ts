/**
 * The vocabulary of the classify plugin: website statuses, signals and the verdict written to
 * `item.website`.
 * @module
 */

export {
  LEAD_STATUSES,
  WEBSITE_STATUSES as STATUSES,
  type WebsiteStatus,
} from "@sluice/sdk/website.ts";
import type { WebsiteStatus } from "@sluice/sdk/website.ts";

/** How much one signal weighs: strong signals decide alone, weak ones only in combination. */
export type Strength = "strong" | "weak";

/** One piece of evidence that fired, with what it points to. */
export interface Signal {
  /** Signal id, e.g. `parking_ns` (see README for the list). */
  id: string;
  /** The status this signal points to. */
  status: WebsiteStatus;
  strength: Strength;
  /** What exactly matched, in words (e.g. `NS ns1.sedoparking.com is Sedo Parking`). */
  evidence: string;
  /** Where the signature comes from (data files), when it is one. */
  source?: string;
}

/** `item.website`, written by classify. */
export interface WebsiteVerdict {
  status: WebsiteStatus;
  /** Every signal that fired (also those that did not decide). */
  signals: Signal[];
  /** One line: why this status. */
  reason: string;
  /** URL of the response the verdict is about, when there was one. */
  url?: string;
  /** HTTP status of that response. */
  httpStatus?: number;
  /** When the verdict was made (ISO 8601, whole seconds, UTC): the list's "checked on". */
  checkedAt?: string;
  /**
   * True when the site is `unreachable` only because every attempt timed out (no refusal, no
   * reset): it may be slow or briefly down rather than gone, a weaker lead (see the flagship's
   * `timeout-only` score rule).
   */
  timedOut?: boolean;
}
