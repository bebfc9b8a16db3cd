/**
 * The certificate a domain's HTTPS server presents (what `httpx -tls-grab` records): subject,
 * issuer, names, validity, fingerprint. The probe's own requests run over `Deno.startTls`, which
 * does not expose the peer certificate, so this is one more handshake over `node:tls` (whose
 * `getPeerCertificate` does), made only when asked for, at the address the probe already
 * connected to (so it passed the private-address check), with the real SNI, and through
 * `network.proxy`'s tunnel when one is set. It never verifies: the probe's attempts say what is
 * wrong with the certificate (`tls_expired`, `tls_hostname`, …); this only describes it.
 * @module
 */
import tls from "node:tls";
import type { Duplex } from "node:stream";
import { openTunnel } from "./proxy_tunnel.ts";
import { whenAborted } from "../io/when_aborted.ts";
import type { CertificateName, HttpProbeResult, HttpTarget, TlsCertificate } from "./types.ts";

/** Options of {@linkcode grabCertificate}. */
export interface GrabOptions {
  host: string;
  ip: string;
  port: number;
  target: HttpTarget;
  /** Time for the connection and handshake together (ms). */
  timeoutMs: number;
  /** `network.proxy`: the handshake runs inside a CONNECT tunnel to `ip:port`. */
  proxy?: string;
  /** The clock for `daysLeft` (default `Date.now`). */
  now?: () => number;
  signal?: AbortSignal;
}

const DAY_MS = 86_400_000;

/**
 * The HTTPS host and address whose certificate describes the domain: the first HTTPS attempt (in
 * probe order) that reached the TLS handshake, that is, got an answer (its first hop) or failed
 * in TLS (`tls_*`). Undefined when no HTTPS connection got that far.
 */
export function certificateTarget(
  result: HttpProbeResult,
): { host: string; ip: string; target: HttpTarget } | undefined {
  for (const a of result.attempts) {
    if (!a.target.startsWith("https:")) continue;
    const first = a.hops[0];
    if (first?.url.startsWith("https:")) {
      return { host: new URL(first.url).hostname, ip: first.ip, target: a.target };
    }
    const e = a.error;
    if (a.hops.length === 0 && e?.ip && e.kind.startsWith("tls_")) {
      return { host: new URL(e.url).hostname, ip: e.ip, target: a.target };
    }
  }
  return undefined;
}

function nameOf(n: Record<string, unknown> | undefined): CertificateName | undefined {
  if (!n) return undefined;
  const pick = (v: unknown) => Array.isArray(v) ? String(v[0]) : typeof v === "string" ? v : "";
  const out: CertificateName = {};
  const cn = pick(n.CN);
  const o = pick(n.O);
  if (cn) out.commonName = cn;
  if (o) out.organization = o;
  return out;
}

const isoOf = (s: unknown): string | undefined => {
  const t = typeof s === "string" ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
};

/** Describes a peer certificate as node:tls gives it (`getPeerCertificate()`), for `host`. */
export function describeCertificate(
  cert: tls.PeerCertificate,
  at: Omit<TlsCertificate, "error">,
  now: number,
): TlsCertificate {
  const out: TlsCertificate = { ...at };
  const subject = nameOf(cert.subject as unknown as Record<string, unknown>);
  const issuer = nameOf(cert.issuer as unknown as Record<string, unknown>);
  if (subject) out.subject = subject;
  if (issuer) out.issuer = issuer;
  const dnsNames = (cert.subjectaltname ?? "").split(/,\s*/)
    .filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4));
  out.dnsNames = dnsNames;
  out.validFrom = isoOf(cert.valid_from);
  out.validTo = isoOf(cert.valid_to);
  if (out.validTo) out.daysLeft = Math.floor((Date.parse(out.validTo) - now) / DAY_MS);
  if (cert.serialNumber) out.serialNumber = cert.serialNumber.toUpperCase();
  if (cert.fingerprint256) out.fingerprint256 = cert.fingerprint256;
  out.selfIssued = JSON.stringify(cert.subject) === JSON.stringify(cert.issuer);
  out.coversHost = tls.checkServerIdentity(at.host, cert) === undefined;
  for (const k of Object.keys(out) as (keyof TlsCertificate)[]) {
    if (out[k] === undefined) delete out[k];
  }
  return out;
}

/**
 * Makes one TLS handshake with `ip:port` for `host` (SNI) and describes the certificate the
 * server presents. Never throws: a failure (no answer in time, the handshake refused, the proxy)
 * is the result's `error`.
 */
export async function grabCertificate(opts: GrabOptions): Promise<TlsCertificate> {
  const at = { host: opts.host, ip: opts.ip, target: opts.target };
  const ac = new AbortController();
  const timer = setTimeout(
    () => ac.abort(new Error(`no certificate in ${opts.timeoutMs} ms`)),
    opts.timeoutMs,
  );
  const signal = opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
  let socket: tls.TLSSocket | undefined;
  let tunnel: Duplex | undefined;
  try {
    if (opts.proxy) {
      tunnel = await openTunnel({
        proxy: opts.proxy,
        ip: opts.ip,
        port: opts.port,
        timeoutMs: opts.timeoutMs,
        signal,
      });
    }
    const cert = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new Error("cancelled"));
      if (signal.aborted) return onAbort();
      const offAbort = whenAborted(signal, onAbort);
      const s = tls.connect({
        ...(tunnel ? { socket: tunnel } : { host: opts.ip, port: opts.port }),
        servername: opts.host,
        // Describe, never judge: the probe's attempts carry the verdict on the certificate.
        rejectUnauthorized: false,
      });
      socket = s;
      s.once("secureConnect", () => {
        offAbort();
        const c = s.getPeerCertificate();
        if (!c || Object.keys(c).length === 0) reject(new Error("the server sent no certificate"));
        else resolve(c);
      });
      s.once("error", (err: Error & { code?: string }) => {
        offAbort();
        reject(new Error(err.code ? `${err.code}: ${err.message}` : err.message));
      });
    });
    return describeCertificate(cert, at, (opts.now ?? Date.now)());
  } catch (err) {
    return { ...at, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
    socket?.destroy();
    tunnel?.destroy();
  }
}
