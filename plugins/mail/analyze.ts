/**
 * Pure mail analysis: provider class from MX hosts, null MX, SPF includes, DMARC policy, and
 * role-address guesses (never verified).
 * @module
 */
import { domainToASCII } from "node:url";
import PROVIDERS from "./providers.json" with { type: "json" };

/** Provider classes. */
export type MailProvider =
  | "google"
  | "microsoft"
  | "zoho"
  | "hosting"
  | "self_hosted"
  | "other"
  | "none";

/** One MX record (as `item.dns.mx`). */
export interface Mx {
  priority: number;
  exchange: string;
}

/** Parsed SPF record. */
export interface Spf {
  record: string;
  /** `include:` domains, then the `redirect=` target when it applies (no `all` in the record). */
  includes: string[];
  /** The `all` qualifier (`-all`, `~all`, `?all`, `+all`) when present. */
  all?: string;
  /** True when more than one SPF record is published (an SPF permerror). */
  multiple?: boolean;
}

/** Parsed DMARC record. */
export interface Dmarc {
  record: string;
  /**
   * `none`, `quarantine` or `reject` (`p=`); `invalid` when missing or unknown, or when more
   * than one DMARC record is published (receivers then apply no DMARC policy, RFC 7489 6.6.3).
   */
  policy: string;
  /** `sp=` when present: `none`, `quarantine`, `reject`, or `invalid`. */
  subdomain_policy?: string;
  pct?: number;
  rua?: string[];
  /** True when more than one DMARC record is published (the first is shown). */
  multiple?: boolean;
}

/** An address a sales person might try; never verified by this plugin. */
export interface AddressGuess {
  address: string;
  role?: string;
  /** `guess` (role address), `input` (given in the input row), `rdap` (registrant). */
  source: "guess" | "input" | "rdap";
  /** Always false: nothing here proves that the mailbox exists. */
  verified: false;
}

const TABLE: [Exclude<MailProvider, "self_hosted" | "none">, string[]][] = (
  ["google", "microsoft", "zoho", "hosting", "other"] as const
).map((k) => [k, PROVIDERS[k].suffixes]);

const bare = (s: string) => s.toLowerCase().replace(/\.$/, "");
const under = (host: string, suffix: string) => host === suffix || host.endsWith(`.${suffix}`);

/** True for a null MX (RFC 7505): a single MX whose exchange is `.` (or empty). */
export function isNullMx(mx: Mx[]): boolean {
  return mx.length > 0 && mx.every((m) => bare(m.exchange) === "" || m.exchange === ".");
}

/** The provider class and, for known providers, the matched MX suffix. */
export function classifyMx(domain: string, mx: Mx[]): { provider: MailProvider; via?: string } {
  const hosts = [...mx].sort((a, b) => a.priority - b.priority).map((m) => bare(m.exchange))
    .filter((h) => h !== "");
  if (hosts.length === 0) return { provider: "none" };
  const d = bare(domain);
  for (const h of hosts) {
    for (const [provider, suffixes] of TABLE) {
      const s = suffixes.find((x) => under(h, x));
      if (s) return { provider, via: s };
    }
  }
  if (hosts.some((h) => under(h, d))) return { provider: "self_hosted", via: hosts[0] };
  return { provider: "other", via: hosts[0] };
}

/** Parses the SPF record among TXT strings, if any. */
export function parseSpf(txt: string[]): Spf | undefined {
  const spf = txt.filter((t) => /^v=spf1(\s|$)/i.test(t.trim()));
  if (spf.length === 0) return undefined;
  const record = spf[0].trim();
  const includes: string[] = [];
  let all: string | undefined;
  let redirect: string | undefined;
  for (const term of record.split(/\s+/).slice(1)) {
    const inc = /^[+?~-]?include:(.+)$/i.exec(term);
    if (inc) includes.push(bare(inc[1]));
    const red = /^redirect=(.+)$/i.exec(term);
    if (red) redirect ??= bare(red[1]);
    const a = /^([+?~-]?)all$/i.exec(term);
    if (a) all = `${a[1] || "+"}all`;
  }
  // A redirect= applies only when the record has no "all" mechanism (RFC 7208 6.1).
  if (redirect !== undefined && all === undefined) includes.push(redirect);
  const out: Spf = { record, includes };
  if (all) out.all = all;
  if (spf.length > 1) out.multiple = true;
  return out;
}

const DMARC_POLICIES = ["none", "quarantine", "reject"];

/** Parses the DMARC record among `_dmarc` TXT strings, if any. */
export function parseDmarc(txt: string[]): Dmarc | undefined {
  const recs = txt.map((t) => t.trim()).filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t));
  if (recs.length === 0) return undefined;
  const rec = recs[0];
  const tags = new Map<string, string>();
  for (const part of rec.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) tags.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  const p = tags.get("p")?.toLowerCase();
  const out: Dmarc = {
    record: rec,
    policy: recs.length === 1 && p && DMARC_POLICIES.includes(p) ? p : "invalid",
  };
  const sp = tags.get("sp")?.toLowerCase();
  if (sp !== undefined) out.subdomain_policy = DMARC_POLICIES.includes(sp) ? sp : "invalid";
  const pct = Number(tags.get("pct"));
  if (tags.has("pct") && Number.isFinite(pct)) out.pct = pct;
  const rua = tags.get("rua");
  if (rua) out.rua = rua.split(",").map((s) => s.trim()).filter(Boolean);
  if (recs.length > 1) out.multiple = true;
  return out;
}

const EMAIL = /^[^@\s]+@([^@\s]+\.[^@\s]+)$/;

/**
 * Addresses worth trying, all `verified: false`: the input's and registrant's e-mail when on
 * this domain, then `role@domain` guesses — none when the domain cannot receive mail.
 */
export function guessAddresses(options: {
  domain: string;
  canReceive: boolean;
  roles: string[];
  inputEmail?: unknown;
  rdapEmail?: unknown;
}): AddressGuess[] {
  if (!options.canReceive) return [];
  const d = domainToASCII(bare(options.domain)) || bare(options.domain);
  const out: AddressGuess[] = [];
  const seen = new Set<string>();
  const add = (g: AddressGuess, ascii = g.address) => {
    if (seen.has(ascii)) return;
    seen.add(ascii);
    out.push(g);
  };
  for (const [v, source] of [[options.inputEmail, "input"], [options.rdapEmail, "rdap"]] as const) {
    if (typeof v !== "string") continue;
    const e = v.trim().toLowerCase();
    const m = EMAIL.exec(e);
    // An internationalized domain is compared in its ASCII form: `kontakt@café.fr` is on
    // `xn--caf-dma.fr` (the address stays as given; the same mailbox in either form is kept once).
    const host = m ? domainToASCII(m[1]) : "";
    if (m && host && under(host, d)) {
      add({ address: e, source, verified: false }, `${e.slice(0, -m[1].length)}${host}`);
    }
  }
  for (const role of options.roles) {
    if (!/^[a-z0-9._+-]+$/i.test(role)) continue;
    add({
      address: `${role.toLowerCase()}@${d}`,
      role: role.toLowerCase(),
      source: "guess",
      verified: false,
    });
  }
  return out;
}
