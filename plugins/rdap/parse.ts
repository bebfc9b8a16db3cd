/**
 * RDAP domain answers (RFC 9083) to the `item.rdap` JSON: dates, registrar (name and IANA id),
 * EPP statuses with flags for the ones that matter to a lead, name servers, and the registrant's
 * organisation/phone/e-mail from its jCard (RFC 7095) when the registry did not redact them.
 * @module
 */

/** Contact data that was not redacted. */
export interface RdapContact {
  name?: string;
  org?: string;
  phone?: string;
  email?: string;
}

/** EPP statuses that change what a lead is worth. */
export interface RdapFlags {
  client_hold: boolean;
  server_hold: boolean;
  redemption_period: boolean;
  pending_delete: boolean;
}

/** `item.rdap`. */
export interface RdapResult {
  /**
   * `ok`: registered, details below; `not_found`: the registry says it is not registered;
   * `unsupported`: no RDAP server for the TLD; `unknown`: no verdict (our failure or theirs).
   */
  status: "ok" | "not_found" | "unsupported" | "unknown";
  /** Why, when not `ok`. */
  reason?: string;
  /** RDAP base URL asked. */
  server?: string;
  registered?: string;
  expires?: string;
  updated?: string;
  registrar?: { name?: string; iana_id?: string };
  /** EPP statuses as the registry wrote them (lower case). */
  epp_status?: string[];
  flags?: RdapFlags;
  nameservers?: string[];
  /** Registrant contact; null when absent or fully redacted. */
  registrant?: RdapContact | null;
  /** True when this came from the plugin's cache. */
  cached?: boolean;
}

/** The answer was not a usable RDAP domain object. */
export class RdapParseError extends Error {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "RdapParseError";
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const REDACTED = new RegExp(
  [
    "redact",
    "privacy",
    "private (registration|registrant|person|individual)",
    "withheld",
    "not (disclosed|available)",
    "non-?public",
    "data protected",
    "gdpr",
    "mask(ed|ing)",
    "rdds",
    "query the",
    "contact the registrar",
    "on request",
    "^hidden$",
    "hidden (for|by|upon)",
    "anonymi[sz]",
  ].join("|"),
  "i",
);

/**
 * Privacy/proxy services that register domains in their own name for a customer (GoDaddy's
 * Domains By Proxy, Namecheap's Withheld for Privacy, Tucows' Contact Privacy, WhoisGuard,
 * PrivacyGuardian, Porkbun's Private by Design, ...): when one is the registrant, every contact
 * value (the phone and e-mail too) is the service's, not the business's.
 */
const PRIVACY_SERVICE = new RegExp(
  [
    "(domain|registration|whois|registrant) proxy",
    "proxy (registration|service|protection)",
    "domains ?by ?proxy",
    "whois ?guard",
    "withheld for privacy",
    "contact privacy",
    "whois privacy",
    "perfect privacy",
    "super privacy",
    "privacy ?(protect|service|guardian|ltd|llc|inc|ehf|gmbh)",
    "private by design",
    "domain protection services",
    "identity protect",
    "anonymi[sz]e,? inc",
    "1337 services",
  ].join("|"),
  "i",
);

/** E-mail domains of privacy/proxy services (their forwarding addresses). */
const PRIVACY_MAIL_DOMAIN =
  /(^|\.)(domainsbyproxy\.com|withheldforprivacy\.com|contactprivacy\.com|whoisguard\.com|privacyguardian\.org|privacyprotect\.org|identity-protect\.org|anonymize\.com|whoisprivacyprotect\.com|whoisprivacyservice\.org|dynadot\.email|privatebydesign\.com)$/i;

/** True when a contact value is a redaction placeholder rather than data. */
export function isRedacted(value: string): boolean {
  return value.trim() === "" || REDACTED.test(value);
}

/** True when a registrant name/organisation/e-mail belongs to a privacy or proxy service. */
export function isPrivacyService(value: string): boolean {
  const at = value.lastIndexOf("@");
  if (at > 0) return PRIVACY_MAIL_DOMAIN.test(value.slice(at + 1).trim());
  return PRIVACY_SERVICE.test(value);
}

/** A date and time without a zone (`2021-03-04T05:06:07`): RDAP means UTC (RFC 9083 4.5). */
const NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

function isoDate(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  const t = Date.parse(NO_ZONE.test(s) ? `${s.replace(" ", "T")}Z` : s);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** A jCard's contact values and whether a privacy/proxy service stands in for the holder. */
interface JCardReading {
  contact: RdapContact;
  /** True when `fn`, `org` or `email` names a privacy/proxy service. */
  privacyService: boolean;
}

function readJCard(card: unknown): JCardReading {
  const out: RdapContact = {};
  let privacyService = false;
  if (!Array.isArray(card) || card[0] !== "vcard") return { contact: out, privacyService };
  for (const prop of arr(card[1])) {
    if (!Array.isArray(prop) || typeof prop[0] !== "string") continue;
    // A vCard group ("item1.email") is a jCard parameter by RFC 7095, but some servers keep it
    // in the name.
    const name = prop[0].toLowerCase().replace(/^[a-z0-9-]+\./, "");
    let value = prop[3];
    if (Array.isArray(value)) value = value.filter((x) => typeof x === "string" && x).join(" ");
    if (typeof value !== "string") continue;
    const v = value.trim();
    if ((name === "fn" || name === "org" || name === "email") && isPrivacyService(v)) {
      privacyService = true;
    }
    if (isRedacted(v)) continue;
    if (name === "fn" && !out.name) out.name = v;
    else if (name === "org" && !out.org) out.org = v;
    else if (name === "tel" && !out.phone && !isFax(prop[1])) {
      const [tel, ...params] = v.replace(/^tel:/i, "").split(";");
      const ext = params.map((p) => /^ext=(\d{1,10})$/i.exec(p.trim())?.[1]).find(Boolean);
      if (/\d{4,}/.test(tel.replace(/\D/g, ""))) {
        out.phone = displayPhone(tel) +
          (ext && !/ ext\. /.test(displayPhone(tel)) ? ` ext. ${ext}` : "");
      }
    } else if (name === "email" && !out.email) {
      const mail = v.replace(/^mailto:/i, "");
      if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mail)) out.email = mail.toLowerCase();
    }
  }
  return { contact: out, privacyService };
}

/**
 * A registry phone number as people write it: the EPP form `+CC.NUMBER` (RFC 5733, what most
 * registries return) becomes `+CC NUMBER`, and an EPP extension (`x123`) ` ext. 123`; other forms
 * stay as they are.
 */
export function displayPhone(tel: string): string {
  const m = /^\+(\d{1,3})\.(\d{4,14})(?:x(\d{1,10}))?$/.exec(tel.trim());
  if (!m) return tel.trim();
  return `+${m[1]} ${m[2]}${m[3] ? ` ext. ${m[3]}` : ""}`;
}

/** True for a `tel` whose `type` parameter says fax (and not also voice). */
function isFax(params: unknown): boolean {
  if (!isObj(params)) return false;
  const types = (Array.isArray(params.type) ? params.type : [params.type])
    .filter((t): t is string => typeof t === "string").map((t) => t.toLowerCase());
  return types.includes("fax") && !types.includes("voice");
}

/**
 * Reads `fn`, `org`, `tel` (not fax) and `email` from a jCard
 * (`["vcard", [[name, params, type, value]...]]`), skipping redaction placeholders.
 */
export function parseJCard(card: unknown): RdapContact {
  return readJCard(card).contact;
}

/** Registrant fields that an RFC 9537 `redacted` member says are not the real values. */
function redactedRegistrantFields(json: Obj): Set<keyof RdapContact> {
  const out = new Set<keyof RdapContact>();
  for (const r of arr(json.redacted)) {
    if (!isObj(r) || !isObj(r.name)) continue;
    const label = [r.name.type, r.name.description].filter((x) => typeof x === "string").join(" ")
      .toLowerCase();
    if (!label.includes("registrant")) continue;
    if (/\borg/.test(label)) out.add("org");
    else if (/\bname\b/.test(label)) out.add("name");
    if (/\bphone\b|\btel/.test(label) && !/\bext/.test(label)) out.add("phone");
    if (/e-?mail/.test(label)) out.add("email");
  }
  return out;
}

function entitiesWithRole(entities: unknown, role: string, depth = 0): Obj[] {
  const out: Obj[] = [];
  if (depth > 3) return out;
  for (const e of arr(entities)) {
    if (!isObj(e)) continue;
    if (arr(e.roles).some((r) => typeof r === "string" && r.toLowerCase() === role)) out.push(e);
    out.push(...entitiesWithRole(e.entities, role, depth + 1));
  }
  return out;
}

/**
 * Parses an RDAP domain answer (already JSON-decoded). Throws {@linkcode RdapParseError} when it
 * is not a domain object.
 */
export function parseRdapDomain(json: unknown): Omit<RdapResult, "status" | "server"> {
  if (!isObj(json)) throw new RdapParseError("the answer is not a JSON object");
  if (json.objectClassName !== "domain") {
    throw new RdapParseError(
      `the answer is not an RDAP domain object (objectClassName ${
        JSON.stringify(json.objectClassName ?? null)
      })`,
    );
  }
  const events = new Map<string, string>();
  for (const e of arr(json.events)) {
    if (!isObj(e) || typeof e.eventAction !== "string") continue;
    const d = isoDate(e.eventDate);
    const action = e.eventAction.toLowerCase();
    if (d && !events.has(action)) events.set(action, d);
  }
  const registrarEntity = entitiesWithRole(json.entities, "registrar")[0];
  let registrar: RdapResult["registrar"];
  if (registrarEntity) {
    const card = parseJCard(registrarEntity.vcardArray);
    const iana = arr(registrarEntity.publicIds).find((p) =>
      isObj(p) && typeof p.type === "string" && /iana/i.test(p.type)
    ) as Obj | undefined;
    registrar = {
      name: card.name ?? card.org,
      iana_id: iana && iana.identifier !== undefined ? String(iana.identifier) : undefined,
    };
  }
  const status = arr(json.status).filter((s): s is string => typeof s === "string").map((s) =>
    s.toLowerCase().trim()
  );
  const has = (s: string) => status.includes(s) || status.includes(s.replace(/ /g, ""));
  const registrantEntity = entitiesWithRole(json.entities, "registrant")[0];
  let registrant: RdapContact | null = null;
  if (registrantEntity) {
    const { contact, privacyService } = readJCard(registrantEntity.vcardArray);
    // A privacy service's phone and e-mail are its own, never the business's.
    if (!privacyService) {
      for (const field of redactedRegistrantFields(json)) delete contact[field];
      if (Object.keys(contact).length > 0) registrant = contact;
    }
  }
  const nameservers = arr(json.nameservers).flatMap((ns) =>
    isObj(ns) && typeof ns.ldhName === "string" ? [ns.ldhName.toLowerCase().replace(/\.$/, "")] : []
  );
  return {
    registered: events.get("registration"),
    expires: events.get("expiration"),
    updated: events.get("last changed"),
    registrar,
    epp_status: status,
    flags: {
      client_hold: has("client hold"),
      server_hold: has("server hold"),
      redemption_period: has("redemption period"),
      pending_delete: has("pending delete"),
    },
    nameservers,
    registrant,
  };
}
