/**
 * Classifies network and TLS failures of HTTP requests into {@linkcode HttpErrorKind}s, and says
 * whether a failure is on our side (then the domain's verdict is `unknown`).
 * @module
 */
import type { HttpErrorKind } from "./types.ts";

/** Kinds that are our failures (timeouts, our resolver, our network), not the domain's. */
export const OUR_KINDS: ReadonlySet<HttpErrorKind> = new Set<HttpErrorKind>([
  "timeout",
  "deadline",
  "connect_timeout",
  "dns_unknown",
  "unreachable",
  "proxy",
]);

/** True when a failure of this kind says nothing about the domain. */
export function isOurs(kind: HttpErrorKind): boolean {
  return OUR_KINDS.has(kind);
}

/** Options of {@linkcode HttpProbeError}. */
export interface HttpProbeErrorOptions extends ErrorOptions {
  /** True when not one byte of a response had come (see `HttpProbeError.beforeResponse`). */
  beforeResponse?: boolean;
}

/** A failure with its kind, thrown inside the HTTP layer and recorded by the caller. */
export class HttpProbeError extends Error {
  /** What went wrong. */
  readonly kind: HttpErrorKind;
  /**
   * True when the failure came before any byte of a response (refused, reset right after the
   * request...): another address of the same host may still answer.
   */
  readonly beforeResponse: boolean;
  /** @param kind the failure kind; @param message what happened. */
  constructor(kind: HttpErrorKind, message: string, options?: HttpProbeErrorOptions) {
    super(message, options);
    this.name = "HttpProbeError";
    this.kind = kind;
    this.beforeResponse = options?.beforeResponse ?? false;
  }
}

const CODE_KINDS: Record<string, HttpErrorKind> = {
  ECONNREFUSED: "refused",
  ECONNRESET: "reset",
  EPIPE: "reset",
  ECONNABORTED: "reset",
  ENETUNREACH: "unreachable",
  EHOSTUNREACH: "unreachable",
  ENETDOWN: "unreachable",
  EHOSTDOWN: "unreachable",
  EADDRNOTAVAIL: "unreachable",
  ETIMEDOUT: "connect_timeout",
  ERR_TLS_CERT_ALTNAME_INVALID: "tls_hostname",
  CERT_HAS_EXPIRED: "tls_expired",
  CERT_NOT_YET_VALID: "tls_expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "tls_unknown_ca",
  SELF_SIGNED_CERT_IN_CHAIN: "tls_unknown_ca",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "tls_unknown_ca",
  UNABLE_TO_GET_ISSUER_CERT: "tls_unknown_ca",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "tls_unknown_ca",
  CERT_UNTRUSTED: "tls_unknown_ca",
  ERR_SSL_WRONG_VERSION_NUMBER: "tls_handshake",
  ERR_TLS_HANDSHAKE_TIMEOUT: "timeout",
};

/** Maps an error thrown by `node:http(s)` (or {@linkcode HttpProbeError}) to a kind. */
export function classifyError(err: unknown): HttpErrorKind {
  if (err instanceof HttpProbeError) return err.kind;
  const e = err as { code?: string; message?: string; name?: string };
  const message = e?.message ?? String(err);
  // Deno reports an aborted TLS handshake as ECONNRESET with this message.
  if (/before secure TLS connection|handshake|alert|ssl|tls/i.test(message)) {
    if (e.code && CODE_KINDS[e.code]?.startsWith("tls_")) return CODE_KINDS[e.code];
    if (/certificate.*expired|expired/i.test(message)) return "tls_expired";
    if (/not valid for|altname|hostname/i.test(message)) return "tls_hostname";
    if (/unknown ?issuer|UnknownIssuer|self.signed|unable to verify/i.test(message)) {
      return "tls_unknown_ca";
    }
    return "tls_handshake";
  }
  if (e?.code && CODE_KINDS[e.code]) return CODE_KINDS[e.code];
  if (e?.code?.startsWith("HPE_") || /parse error/i.test(message)) return "protocol";
  if (/socket hang up/i.test(message)) return "reset";
  if (e?.name === "TimeoutError") return "timeout";
  if (/connection refused/i.test(message)) return "refused";
  if (/connection reset|broken pipe/i.test(message)) return "reset";
  return "other";
}

/** The peer certificate fields that {@linkcode classifyCertificate} reads. */
export interface PeerCertificateInfo {
  valid_from?: string;
  valid_to?: string;
}

/**
 * Why a TLS peer was not authorized (`rejectUnauthorized: false` was used so the certificate can
 * be looked at, because node:tls in Deno reports expired and unknown-CA certificates alike):
 * a host name mismatch, an expired (or not yet valid) certificate, or an untrusted issuer.
 */
export function classifyCertificate(
  authorizationError: unknown,
  cert: PeerCertificateInfo | undefined,
  now: number,
): HttpErrorKind {
  const code = String((authorizationError as { code?: string })?.code ?? authorizationError ?? "");
  if (/ALTNAME|HOSTNAME/i.test(code)) return "tls_hostname";
  const from = cert?.valid_from ? Date.parse(cert.valid_from) : NaN;
  const to = cert?.valid_to ? Date.parse(cert.valid_to) : NaN;
  if ((!Number.isNaN(to) && to < now) || (!Number.isNaN(from) && from > now)) return "tls_expired";
  if (CODE_KINDS[code]?.startsWith("tls_")) return CODE_KINDS[code];
  return "tls_unknown_ca";
}
