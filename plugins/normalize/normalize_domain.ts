/**
 * Pure domain normalization: a website value as people write it -> host and registrable domain
 * in lower-case ASCII, or a reason why it is not a usable domain.
 * @module
 */
import { parse } from "tldts";

/** A normalized name. */
export interface NormalizedName {
  /** Registrable domain (eTLD+1), ASCII. */
  domain: string;
  /** The host as given, cleaned, ASCII (e.g. `www.example.com`). */
  host: string;
  /** The public suffix (e.g. `co.uk`). */
  suffix: string;
  /** True when the suffix is a PSL private one (e.g. `github.io`): a platform subdomain. */
  privateSuffix: boolean;
}

/** Normalization failure with a reason a person can act on. */
export interface NormalizeFailure {
  reason: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Normalizes one value; see the module doc. */
export function normalizeDomain(
  input: string,
  options: { privateSuffixes?: boolean } = {},
): NormalizedName | NormalizeFailure {
  let s = input.trim();
  if (s === "") return { reason: "empty value: no website or domain given" };
  if (/^mailto:/i.test(s)) s = s.slice(7);
  if (!SCHEME.test(s) && /^[^/?#]*@/.test(s)) s = s.slice(s.lastIndexOf("@") + 1); // e-mail
  if (s.startsWith("//")) s = s.slice(2);
  if (!SCHEME.test(s)) s = `http://${s}`;
  else if (!/^https?:\/\//i.test(s)) {
    return { reason: `"${input}" is not a web address (scheme ${s.split(":")[0]})` };
  }
  let hostname: string;
  try {
    hostname = new URL(s).hostname;
  } catch {
    return { reason: `"${input}" is not a valid host name (bad characters or malformed URL)` };
  }
  hostname = hostname.replace(/\.+$/, "");
  if (hostname.startsWith("[") || /^\d+(\.\d+){3}$/.test(hostname)) {
    return { reason: `"${input}" is an IP address, not a domain` };
  }
  if (hostname.length > 253) return { reason: `"${input}" is longer than 253 characters` };
  const labels = hostname.split(".");
  if (labels.length < 2) return { reason: `"${input}" has no top-level domain` };
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return {
      reason: `"${input}": label "${bad}" is invalid (letters, digits and inner hyphens, ` +
        "1-63 characters)",
    };
  }
  const p = parse(hostname, { allowPrivateDomains: options.privateSuffixes ?? true });
  if (!p.isIcann && !p.isPrivate) {
    return { reason: `"${input}": unknown top-level domain ".${labels[labels.length - 1]}"` };
  }
  if (!p.domain) {
    return {
      reason: `"${input}" is a public suffix (${p.publicSuffix}), not a registrable domain`,
    };
  }
  return {
    domain: p.domain,
    host: hostname,
    suffix: p.publicSuffix ?? "",
    privateSuffix: p.isPrivate === true,
  };
}
