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

const REDACTED =
  /redact|privacy|private|withheld|not disclosed|data protected|gdpr|masked|rdds service|query the|contact the registrar|on request|hidden|anonymi[sz]ed/i;

/** True when a contact value is a redaction placeholder rather than data. */
export function isRedacted(value: string): boolean {
  return value.trim() === "" || REDACTED.test(value);
}

function isoDate(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Reads `fn`, `org`, `tel` and `email` from a jCard (`["vcard", [[name, params, type, value]...]]`). */
export function parseJCard(card: unknown): RdapContact {
  const out: RdapContact = {};
  if (!Array.isArray(card) || card[0] !== "vcard") return out;
  for (const prop of arr(card[1])) {
    if (!Array.isArray(prop) || typeof prop[0] !== "string") continue;
    const name = prop[0].toLowerCase();
    let value = prop[3];
    if (Array.isArray(value)) value = value.filter((x) => typeof x === "string" && x).join(" ");
    if (typeof value !== "string") continue;
    value = value.trim();
    if (isRedacted(value as string)) continue;
    const v = value as string;
    if (name === "fn" && !out.name) out.name = v;
    else if (name === "org" && !out.org) out.org = v;
    else if (name === "tel" && !out.phone) {
      const tel = v.replace(/^tel:/i, "").split(";")[0];
      if (/\d{4,}/.test(tel.replace(/\D/g, ""))) out.phone = tel;
    } else if (name === "email" && !out.email) {
      const mail = v.replace(/^mailto:/i, "");
      if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mail)) out.email = mail.toLowerCase();
    }
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
    const c = parseJCard(registrantEntity.vcardArray);
    if (Object.keys(c).length > 0) registrant = c;
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
