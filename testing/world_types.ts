/**
 * Types shared by the world generator and its page templates.
 * @module
 */
import type { Lang, Trade } from "./world_names.ts";

/** The true verdict about a domain's website, from the fixed vocabulary. */
export type Label =
  | "live"
  | "redirect"
  | "no_dns"
  | "no_address"
  | "unreachable"
  | "http_error"
  | "parked"
  | "for_sale"
  | "placeholder"
  | "suspended"
  | "unknown";

/** Every label, in a fixed order. */
export const LABELS: readonly Label[] = [
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
];

/** What a page template knows about the site it renders. */
export interface PageContext {
  /** Business name. */
  name: string;
  city: string;
  phone?: string;
  email?: string;
  /** Domain as people write it (Unicode for IDNs). */
  domain: string;
  /** Host name the request was for (ASCII). */
  host: string;
  lang: Lang;
  trade: Trade;
  /** Per-site seed: templates draw their wording variations from it. */
  seed: number;
  /** Year the business was founded. */
  since: number;
  /** For redirects: the absolute URL to go to. */
  target?: string;
  /** Registrar, hosting or platform brand the page belongs to (when it has one). */
  brand?: string;
}

/** A small deterministic chooser handed to templates. */
export interface Picker {
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

/** A page template: status, headers and HTML, rendered on request from the context. */
export interface PageDef {
  status?: number;
  headers?: Record<string, string>;
  /** HTML of the page. */
  html: (c: PageContext, p: Picker) => string;
  /** Extra paths of the site (path -> HTML), e.g. the target of a JS lander. */
  paths?: Record<string, (c: PageContext, p: Picker) => string>;
  /** Any path returns this page (default: 404 for unknown paths). */
  catchAll?: boolean;
}
