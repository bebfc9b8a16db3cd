/**
 * A fake RDAP server (RFC 9083 domain answers) on loopback, plus the IANA-style bootstrap file
 * that points TLDs at it. Per-domain misbehaviour for tests: malformed JSON, a wrong shape,
 * error statuses (e.g. a 429 storm with `Retry-After`, N times then normal), slow and hung
 * answers. Serves HTTPS with a certificate from a test CA when `tls` is given.
 * @module
 */
import type { TestCa } from "./test_ca.ts";

/** A registered domain as the fake registry knows it. */
export interface RdapDomainSpec {
  registered?: string;
  expires?: string;
  updated?: string;
  registrar?: { name: string; ianaId?: string };
  /** EPP statuses in RDAP form, e.g. `client hold`, `redemption period`, `active`. */
  status?: string[];
  nameservers?: string[];
  /** Registrant contact; `redacted: true` answers like a GDPR-redacting registry. */
  registrant?: { org?: string; name?: string; phone?: string; email?: string; redacted?: boolean };
}

/** How the fake answers for one domain instead of (or before) answering normally. */
export type RdapBehaviour =
  /** Body that is not JSON. */
  | { kind: "malformed" }
  /** JSON that is not an RDAP domain object. */
  | { kind: "wrong_shape" }
  /** An error status, `times` times (default: always), then normal answers. */
  | { kind: "status"; status: number; retryAfter?: string; times?: number }
  /** Answer normally after a delay. */
  | { kind: "slow"; delayMs: number }
  /** Never answer (until the fake closes). */
  | { kind: "hang" };

/** Options of {@linkcode startRdapFake}. */
export interface RdapFakeOptions {
  /** Registered domains (others answer 404). */
  domains: Record<string, RdapDomainSpec>;
  /** Misbehaviour by domain. */
  behaviours?: Record<string, RdapBehaviour>;
  /** TLDs listed in the bootstrap document (default: the TLDs of `domains`). */
  tlds?: string[];
  /** Serve HTTPS as `hostName` with a certificate from `ca`. */
  tls?: { ca: TestCa; hostName: string };
  /** Address to bind (default 127.0.0.1). */
  hostname?: string;
}

/** A running fake. */
export interface RdapFake {
  /** RDAP base URL (ends with `/`). */
  readonly baseUrl: string;
  /** URL of the bootstrap document. */
  readonly bootstrapUrl: string;
  /** The bootstrap document (IANA `dns.json` format). */
  readonly bootstrap: { version: string; publication: string; services: string[][][] };
  readonly port: number;
  /** Domain queries received, in order (lower-case names). */
  readonly queries: string[];
  /** Bootstrap downloads so far. */
  readonly bootstrapFetches: number;
  setBehaviour(domain: string, b: RdapBehaviour | undefined): void;
  close(): Promise<void>;
}

function vcard(fields: [string, Record<string, unknown>, string, unknown][]): unknown[] {
  return ["vcard", [["version", {}, "text", "4.0"], ...fields]];
}

/** A realistic RDAP domain answer for `name`. */
export function rdapDomainJson(name: string, spec: RdapDomainSpec): Record<string, unknown> {
  const events = [];
  if (spec.registered) events.push({ eventAction: "registration", eventDate: spec.registered });
  if (spec.expires) events.push({ eventAction: "expiration", eventDate: spec.expires });
  if (spec.updated) events.push({ eventAction: "last changed", eventDate: spec.updated });
  events.push({ eventAction: "last update of RDAP database", eventDate: new Date().toISOString() });
  const entities: unknown[] = [];
  if (spec.registrar) {
    entities.push({
      objectClassName: "entity",
      roles: ["registrar"],
      handle: spec.registrar.ianaId ?? "0",
      publicIds: spec.registrar.ianaId
        ? [{ type: "IANA Registrar ID", identifier: spec.registrar.ianaId }]
        : [],
      vcardArray: vcard([["fn", {}, "text", spec.registrar.name]]),
      entities: [{
        objectClassName: "entity",
        roles: ["abuse"],
        vcardArray: vcard([
          ["fn", {}, "text", "Abuse Desk"],
          ["tel", { type: "voice" }, "uri", "tel:+1.5550000000"],
          ["email", {}, "text", "abuse@registrar.example"],
        ]),
      }],
    });
  }
  const reg = spec.registrant;
  if (reg) {
    const r = reg.redacted;
    const f: [string, Record<string, unknown>, string, unknown][] = [
      ["fn", {}, "text", r ? "REDACTED FOR PRIVACY" : (reg.name ?? "")],
    ];
    if (reg.org || r) f.push(["org", {}, "text", r ? "REDACTED FOR PRIVACY" : reg.org]);
    if (reg.phone || r) {
      f.push(["tel", { type: ["voice"] }, "uri", r ? "REDACTED FOR PRIVACY" : `tel:${reg.phone}`]);
    }
    if (reg.email || r) {
      f.push([
        "email",
        {},
        "text",
        r ? "Please query the RDDS service of the Registrar" : reg.email,
      ]);
    }
    entities.push({ objectClassName: "entity", roles: ["registrant"], vcardArray: vcard(f) });
  }
  return {
    rdapConformance: ["rdap_level_0", "icann_rdap_response_profile_0"],
    objectClassName: "domain",
    handle: `${name.toUpperCase()}-FAKE`,
    ldhName: name.toUpperCase(),
    status: spec.status ?? ["active"],
    events,
    entities,
    nameservers: (spec.nameservers ?? []).map((ns) => ({
      objectClassName: "nameserver",
      ldhName: ns.toUpperCase(),
    })),
    notices: [{ title: "Terms of Use", description: ["Fake registry for tests."] }],
  };
}

/** Starts the fake; see {@linkcode RdapFakeOptions}. */
export async function startRdapFake(options: RdapFakeOptions): Promise<RdapFake> {
  const domains = new Map(Object.entries(options.domains).map(([k, v]) => [k.toLowerCase(), v]));
  const behaviours = new Map(
    Object.entries(options.behaviours ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const served = new Map<string, number>();
  const queries: string[] = [];
  let bootstrapFetches = 0;
  const closing = new AbortController();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      closing.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/rdap+json", ...headers },
    });
  const doc: { value?: RdapFake["bootstrap"] } = {};

  const handler = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    if (path === "/bootstrap/dns.json") {
      bootstrapFetches++;
      return json(doc.value, 200, { "content-type": "application/json" });
    }
    const m = /^\/rdap\/domain\/([^/]+)$/.exec(path);
    if (!m) return json({ errorCode: 400, title: "bad request" }, 400);
    const name = decodeURIComponent(m[1]).toLowerCase();
    queries.push(name);
    const b = behaviours.get(name);
    if (b) {
      const n = served.get(name) ?? 0;
      served.set(name, n + 1);
      switch (b.kind) {
        case "malformed":
          return new Response('{"objectClassName": "domain", "events": [', {
            headers: { "content-type": "application/rdap+json" },
          });
        case "wrong_shape":
          return json({ hello: "world", events: "yesterday" });
        case "status":
          if (b.times === undefined || n < b.times) {
            return json(
              { errorCode: b.status, title: "error" },
              b.status,
              b.retryAfter ? { "retry-after": b.retryAfter } : {},
            );
          }
          break;
        case "slow":
          await wait(b.delayMs);
          break;
        case "hang":
          await wait(3_600_000);
          return new Response("closing", { status: 503 });
      }
    }
    const spec = domains.get(name);
    if (!spec) return json({ errorCode: 404, title: "Not Found" }, 404);
    return json(rdapDomainJson(name, spec));
  };

  const tlsOpts = options.tls
    ? {
      cert: await options.tls.ca.issue({
        commonName: options.tls.hostName,
        dnsNames: [options.tls.hostName],
      }),
      key: options.tls.ca.leafKeyPem,
    }
    : {};
  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: 0,
    onListen: () => {},
    signal: closing.signal,
    ...tlsOpts,
  }, handler);
  const port = server.addr.port;
  const host = options.tls ? options.tls.hostName : (options.hostname ?? "127.0.0.1");
  const origin = `${options.tls ? "https" : "http"}://${host}:${port}`;
  const baseUrl = `${origin}/rdap/`;
  const tlds = options.tlds ??
    [...new Set([...domains.keys(), ...behaviours.keys()].map((d) => d.split(".").pop()!))];
  const bootstrap = doc.value = {
    version: "1.0",
    publication: new Date().toISOString(),
    services: [[tlds, [baseUrl]]],
  };
  return {
    baseUrl,
    bootstrapUrl: `${origin}/bootstrap/dns.json`,
    bootstrap,
    port,
    queries,
    get bootstrapFetches() {
      return bootstrapFetches;
    },
    setBehaviour(domain, b) {
      if (b) behaviours.set(domain.toLowerCase(), b);
      else behaviours.delete(domain.toLowerCase());
      served.delete(domain.toLowerCase());
    },
    async close() {
      closing.abort();
      await server.finished;
    },
  };
}
