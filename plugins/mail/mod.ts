/**
 * mail: how each domain handles mail, as `item.mail`: MX records and the provider class, null MX,
 * SPF includes, DMARC policy (`_dmarc.<domain>` TXT), and role addresses as guesses marked
 * `verified: false`. Reuses `item.dns.mx`/`item.dns.txt` when the dns stage ran; queries through
 * `ctx.network.dnsServers` otherwise. A resolver failure is `unknown`, never a verdict.
 * @module
 */
import { Buffer } from "node:buffer";
import { definePlugin, type Item } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import { DnsClient, type DnsQueryResult, isDnsFailure } from "@sluice/sdk/net/dns_client.ts";
import { mapConcurrent } from "@sluice/sdk/net/limiter.ts";
import type { DnsResult } from "@sluice/sdk/net/types.ts";
import {
  type AddressGuess,
  classifyMx,
  type Dmarc,
  guessAddresses,
  isNullMx,
  type MailProvider,
  type Mx,
  parseDmarc,
  parseSpf,
  type Spf,
} from "./analyze.ts";

interface Config {
  roles?: string[];
  concurrency?: number;
  /** Query MX/TXT even when `item.dns` has them. */
  requery?: boolean;
}

/** `item.mail`. */
export interface MailResult {
  /** `ok`; `no_domain` (NXDOMAIN); `unknown` (resolver trouble: no verdict). */
  status: "ok" | "no_domain" | "unknown";
  reason?: string;
  provider: MailProvider;
  /** MX suffix or host that decided the provider. */
  provider_via?: string;
  null_mx: boolean;
  mx: Mx[];
  spf: Spf | null;
  dmarc: Dmarc | null;
  /** Guesses and given addresses; every one `verified: false`. */
  addresses: AddressGuess[];
  /**
   * The role-address guesses of `addresses` alone (`info@…`, `sales@…`), for a spreadsheet
   * column whose header says they are unverified; empty when the domain takes no mail.
   */
  role_guesses: string[];
  /** True when the DMARC or TXT lookup failed on our side (those fields may be missing). */
  partial?: boolean;
}

const DEFAULT_ROLES = ["info", "sales", "contact"];

function txtOf(r: DnsQueryResult): string[] {
  if (isDnsFailure(r) || r.rcode !== "NOERROR") return [];
  return r.answers.filter((a) => a.type === "TXT").map((a) => {
    const d = a.data;
    const parts = Array.isArray(d) ? d : [d];
    return parts.map((
      p,
    ) => (typeof p === "string" ? p : Buffer.from(p as Uint8Array).toString("utf8")))
      .join("");
  });
}

function mxOf(r: DnsQueryResult): Mx[] {
  if (isDnsFailure(r) || r.rcode !== "NOERROR") return [];
  return r.answers.filter((a) => a.type === "MX").map((a) => {
    const d = a.data as { preference?: number; exchange?: string };
    const ex = String(d.exchange ?? "").toLowerCase().replace(/\.$/, "");
    return { priority: Number(d.preference ?? 0), exchange: ex === "" ? "." : ex };
  }).sort((a, b) => a.priority - b.priority);
}

function failure(r: DnsQueryResult): string | undefined {
  if (isDnsFailure(r)) return `${r.failure}: ${r.message}`;
  if (r.rcode !== "NOERROR" && r.rcode !== "NXDOMAIN") return `${r.rcode} from ${r.server}`;
  return undefined;
}

async function analyze(
  item: Item,
  dns: DnsClient,
  roles: string[],
  requery: boolean,
  signal: AbortSignal,
): Promise<MailResult> {
  const domain = String(item.domain ?? item.key).toLowerCase();
  const known = item.dns as DnsResult | undefined;
  const empty = {
    provider: "none" as const,
    null_mx: false,
    mx: [],
    spf: null,
    dmarc: null,
    role_guesses: [],
  };
  if (!requery && known?.status === "nxdomain") {
    return {
      status: "no_domain",
      reason: known.reason ?? "NXDOMAIN",
      ...empty,
      addresses: [],
    };
  }
  const reuse = !requery && known?.status === "ok" && !known.partial &&
    Array.isArray(known.mx) && Array.isArray(known.txt);
  const [mxR, txtR, dmarcR] = await Promise.all([
    reuse ? undefined : dns.query(domain, "MX", signal),
    reuse ? undefined : dns.query(domain, "TXT", signal),
    dns.query(`_dmarc.${domain}`, "TXT", signal),
  ]);
  let mx: Mx[];
  let txt: string[];
  let partial = false;
  if (mxR && txtR) {
    const bad = failure(mxR);
    if (bad) {
      return {
        status: "unknown",
        reason: `MX lookup failed: ${bad}`,
        ...empty,
        addresses: [],
      };
    }
    if (!isDnsFailure(mxR) && mxR.rcode === "NXDOMAIN") {
      return {
        status: "no_domain",
        reason: `NXDOMAIN from ${mxR.server}`,
        ...empty,
        addresses: [],
      };
    }
    mx = mxOf(mxR);
    txt = txtOf(txtR);
    if (failure(txtR)) partial = true;
  } else {
    mx = known!.mx.map((m) => ({ priority: m.priority, exchange: m.exchange || "." }));
    txt = known!.txt;
  }
  if (failure(dmarcR)) partial = true;
  const nullMx = isNullMx(mx);
  const cls = nullMx ? { provider: "none" as const } : classifyMx(domain, mx);
  const rdap = item.rdap as { registrant?: { email?: unknown } | null } | undefined;
  const addresses = guessAddresses({
    domain,
    canReceive: cls.provider !== "none",
    roles,
    inputEmail: item.email,
    rdapEmail: rdap?.registrant?.email,
  });
  const out: MailResult = {
    status: "ok",
    provider: cls.provider,
    null_mx: nullMx,
    mx,
    spf: parseSpf(txt) ?? null,
    dmarc: parseDmarc(txtOf(dmarcR)) ?? null,
    addresses,
    role_guesses: addresses.filter((a) => a.source === "guess").map((a) => a.address),
  };
  if (cls.via) out.provider_via = cls.via;
  if (partial) out.partial = true;
  return out;
}

export default definePlugin<Config, DnsClient>({
  setup({ network, signal }) {
    const client = new DnsClient({
      servers: network.dnsServers,
      timeoutMs: network.timeouts.dns,
      concurrency: network.concurrency,
    });
    signal.addEventListener("abort", () => client.close(), { once: true });
    return client;
  },
  async process(items, { state, config, network, metrics, signal }) {
    const roles = config.roles ?? DEFAULT_ROLES;
    const limit = Math.min(config.concurrency ?? 64, network.concurrency);
    const tally = new MetricTally();
    try {
      return await mapConcurrent(items, limit, async (item) => {
        const mail = await analyze(item, state, roles, config.requery ?? false, signal);
        tally.count(`mail_${mail.status === "ok" ? mail.provider : mail.status}`);
        return { ...item, mail };
      });
    } finally {
      tally.flush(metrics);
    }
  },
});
