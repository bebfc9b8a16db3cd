/**
 * Output shapes of the network plugins, for the stages that read them (e.g. `classify`):
 * `item.dns` is a {@linkcode DnsResult} (plugin `dns`), `item.http` an {@linkcode HttpProbeResult}
 * (plugin `http-probe`), and `normalize` adds the {@linkcode NormalizedFields}. Everything here is
 * plain JSON. A failure on OUR side (resolver unreachable, our own timeout) is never a verdict about
 * the domain: it shows as status `unknown` (DNS) or an error with `ours: true` (HTTP).
 * @module
 */

/** Fields `normalize` sets on every item it passes on. */
export interface NormalizedFields {
  /** Same as `domain`: the item's identity from here on. */
  key: string;
  /** Registrable domain (eTLD+1 by the Public Suffix List), lower-case ASCII (punycode for IDNs). */
  domain: string;
  /** The value as given in the input (before any cleaning). */
  domain_input: string;
  /** Host name as given, cleaned and in ASCII (e.g. `www.example.com`); equals `domain` for apex input. */
  host: string;
  /** Public suffix of the domain (e.g. `co.uk`, or `github.io` for a platform subdomain). */
  suffix: string;
  /** True when the domain is a site on a platform subdomain (`foo.github.io`, `x.business.site`). */
  private_suffix?: boolean;
  /** The site builder's name when the domain is a site on one of `platforms.json`'s builders. */
  platform?: string;
  /** The domain in Unicode (`bücher.de`), set only for internationalized domains. */
  domain_unicode?: string;
  /** Rows merged into this one because they normalized to the same domain (input order). */
  duplicates?: Record<string, unknown>[];
}

/** Overall DNS verdict of a domain (from the apex queries). */
export type DnsStatus =
  /** The apex name exists (NOERROR, with or without addresses). */
  | "ok"
  /** The name does not exist (NXDOMAIN from a resolver). */
  | "nxdomain"
  /** Every resolver answered SERVFAIL (broken delegation, DNSSEC failure...). */
  | "servfail"
  /** Every resolver refused the query. */
  | "refused"
  /** Timeout, unreachable resolver or garbled answer: no verdict, retry later. */
  | "unknown";

/** Address records of one host name (apex or www). */
export interface HostRecords {
  /** Status of this host's own lookup (the www host may not exist while the apex does). */
  status: DnsStatus;
  /** Why the status is not `ok` (e.g. `timeout after 3 servers`). */
  reason?: string;
  /** IPv4 addresses (after following CNAMEs). */
  a: string[];
  /** IPv6 addresses (after following CNAMEs). */
  aaaa: string[];
  /** CNAME chain, in order: the names the host aliases to (empty when none). */
  cname: string[];
  /**
   * The address queries that got no answer (timeout, unreachable resolver, SERVFAIL, REFUSED),
   * when any: the addresses above may be incomplete. When the other query found no address
   * either, `status` is that failure (never `ok` with empty lists) and `reason` names the query.
   */
  failed?: ("A" | "AAAA")[];
}

/** One MX record. `exchange` `"."` with priority 0 is a null MX (RFC 7505: accepts no mail). */
export interface MxRecord {
  priority: number;
  /** Host name, lower case, without trailing dot. */
  exchange: string;
}

/** `item.dns`, written by the `dns` plugin. */
export interface DnsResult {
  /** The apex verdict: `ok` when the name exists. */
  status: DnsStatus;
  /** Why, when not `ok`: the resolver's answer or our failure (`timeout`, `unreachable`...). */
  reason?: string;
  /** Records of the registrable domain itself. */
  apex: HostRecords;
  /** Records of `www.<domain>`. */
  www: HostRecords;
  /** Name servers of the domain (lower case, no trailing dot). */
  ns: string[];
  /** Mail exchangers, ordered by priority. */
  mx: MxRecord[];
  /** TXT records, each joined from its strings. */
  txt: string[];
  /**
   * True when some query besides the one that proved the apex exists failed (an apex or www
   * address query, NS, MX, TXT), so the lists above may be incomplete even though `status` is
   * `ok`.
   */
  partial?: boolean;
  /**
   * Set when the resolver answered NXDOMAIN for the domain and for the zone above it (`com`):
   * a broken or filtering resolver, so `status` is `unknown` instead of `nxdomain`.
   */
  zoneDenied?: string;
}

/** What went wrong with an HTTP attempt. */
export type HttpErrorKind =
  /** The host name has no address (NXDOMAIN / no A or AAAA), e.g. for a redirect target. */
  | "no_address"
  /** Our resolver failed while resolving a redirect target (ours). */
  | "dns_unknown"
  /** The address is private/loopback/link-local/reserved and `allowPrivate` is off. */
  | "blocked_private"
  /** Connection refused (nothing listens). */
  | "refused"
  /** Connection reset or closed before a full response. */
  | "reset"
  /** Network or host unreachable. */
  | "unreachable"
  /** TCP connect did not finish within `timeouts.connect` (ours). */
  | "connect_timeout"
  /** No (complete) response within `timeouts.request` (ours). */
  | "timeout"
  /**
   * The domain's probe deadline (or a cancel) ended the request before it finished, e.g. while
   * it waited for a per-IP slot: ours, never evidence that the site is down.
   */
  | "deadline"
  /** Certificate expired or not yet valid. */
  | "tls_expired"
  /** Certificate does not match the host name. */
  | "tls_hostname"
  /** Certificate self-signed or issued by an unknown CA. */
  | "tls_unknown_ca"
  /** Any other TLS failure (handshake aborted, protocol/cipher mismatch). */
  | "tls_handshake"
  /** Redirect chain longer than the limit. */
  | "too_many_redirects"
  /** Redirect chain came back to a URL already visited. */
  | "redirect_loop"
  /** Redirect with a missing or unusable `Location` (bad URL, unsupported scheme). */
  | "bad_redirect"
  /** The configured proxy (`network.proxy`) failed or refused the tunnel (ours). */
  | "proxy"
  /** Malformed HTTP response. */
  | "protocol"
  /** Anything else (message says what). */
  | "other";

/** An HTTP attempt's failure. */
export interface HttpError {
  kind: HttpErrorKind;
  /** The underlying message (e.g. the Node error code and text). */
  message: string;
  /**
   * True when the failure is on our side (our timeout, our resolver): the classifier must say
   * `unknown` rather than judge the domain.
   */
  ours: boolean;
  /** URL of the hop that failed. */
  url: string;
  /** Address we connected to (or refused to), when known: the last one tried. */
  ip?: string;
  /**
   * Addresses of the same host tried before `ip`, each failed at the connection (refused, reset
   * before any response, connect timeout, unreachable); absent when `ip` was the first.
   */
  failedBefore?: AddressFailure[];
}

/** An address that failed at the connection, after which the host's next address was tried. */
export interface AddressFailure {
  /** The address. */
  ip: string;
  /** How it failed (`refused`, `reset`, `connect_timeout` or `unreachable`). */
  kind: HttpErrorKind;
  /** The failure's message. */
  message: string;
}

/** One response in a redirect chain. */
export interface HttpHop {
  /** The requested URL. */
  url: string;
  /** The address that answered. */
  ip: string;
  /** Addresses of the host that failed at the connection before `ip` answered (in order). */
  failedBefore?: AddressFailure[];
  /** Response status. */
  status: number;
  /** `Location` header, resolved against `url` (redirect hops only). */
  location?: string;
}

/** The final response of an attempt (after redirects). */
export interface HttpResponseSummary {
  /** URL that gave the final response. */
  url: string;
  /** Host of that URL. */
  host: string;
  /** Address connected to. */
  ip: string;
  /** Final status (may be 4xx/5xx; a 3xx only if it had no usable Location). */
  status: number;
  /** Response headers, lower-case names (multi-value joined with `, `; set-cookie dropped). */
  headers: Record<string, string>;
  /** `content-type` without parameters, lower case (empty when absent). */
  contentType: string;
  /** True when the content type or the first bytes say it is not text. */
  binary: boolean;
  /** `<title>` text, whitespace collapsed (empty when none or binary). */
  title: string;
  /** Visible text (scripts/styles stripped, whitespace collapsed), at most ~4 KB. */
  text: string;
  /** Raw HTML from the start, at most ~16 KB (for JS-lander signatures); empty when binary. */
  html: string;
  /** `sha256:<hex>` of the first `hashBytes` bytes of the body. */
  bodyHash: string;
  /** Body bytes read, after undoing a `Content-Encoding` (at most `maxBodyBytes`). */
  bodyBytes: number;
  /**
   * True when the (decoded) body was longer than `maxBodyBytes` and reading stopped there, or it
   * was cut short (deadline, broken compressed data).
   */
  truncated: boolean;
  /** Time from the first request to the end of the final body, ms. */
  timeMs: number;
  /**
   * True when the probe's own User-Agent got 403 or 406 (bot protection) and this answer came to
   * the same URL asked once more with a common browser's User-Agent (http-probe).
   */
  browserUa?: boolean;
}

/** Which of the four start URLs an attempt is. */
export type HttpTarget = "https://apex" | "https://www" | "http://apex" | "http://www";

/** One probed start URL. */
export interface HttpAttempt {
  target: HttpTarget;
  /** The start URL, e.g. `https://example.com/`. */
  url: string;
  /** Every response on the way, including the final one. */
  hops: HttpHop[];
  /** The final response, when one came back. */
  response?: HttpResponseSummary;
  /** The failure, when no final response came back. */
  error?: HttpError;
  /** True when this attempt is the slow retry's (see {@linkcode SlowRetry}), not the first try. */
  slowRetry?: boolean;
}

/**
 * The one slow retry of a domain (http-probe `slowRetryTimeoutMs`): made when no URL got an HTTP
 * answer and at least one failed by a timeout (`timeout`, `deadline`). The URLs that timed out are
 * asked again, once, with the longer timeout, or their first request, kept open with that
 * timeout, is waited for (`keptOpen`); their attempts in {@linkcode HttpProbeResult.attempts} are
 * then the retry's (marked `slowRetry: true`).
 */
export interface SlowRetry {
  /** Always true: the retry was made. */
  tried: true;
  /** True when the retry got an HTTP response (any status): the site is slow, not gone. */
  answered: boolean;
  /** Wall time of the retry, ms. */
  ms: number;
  /** The per-request timeout of the retry, ms. */
  timeoutMs: number;
  /** The URLs asked again (or waited for, see `keptOpen`), in the probe's order. */
  targets: HttpTarget[];
  /**
   * Those of `targets` that were not asked again: their first-round request, set aside at the
   * usual request timeout but kept open with `timeoutMs` as its request timeout, was waited for
   * instead (http-probe's keep-open; absent when none). Such a URL had `timeoutMs` in all from
   * its first request, not a request timeout plus `timeoutMs`.
   */
  keptOpen?: HttpTarget[];
}

/** The optional random-path probe (`randomPath: true`), made on the best attempt's final host. */
export interface RandomPathProbe {
  url: string;
  /** Final status, when a response came back. */
  status?: number;
  bodyHash?: string;
  title?: string;
  /** True when it answered 200 with the same body hash or title as `best`: a catch-all site. */
  sameAsBest: boolean;
  error?: HttpError;
}

/** One name of a certificate's subject or issuer. */
export interface CertificateName {
  /** Common name (CN). */
  commonName?: string;
  /** Organization (O). */
  organization?: string;
}

/**
 * The certificate the domain's HTTPS server presents (http-probe `tlsDetails: true`; see
 * `sdk/net/tls_certificate.ts`): a description, not a verdict.
 */
export interface TlsCertificate {
  /** The host name sent as SNI. */
  host: string;
  /** The address connected to. */
  ip: string;
  /** The start URL whose host this is (`https://apex` or `https://www`). */
  target: HttpTarget;
  subject?: CertificateName;
  issuer?: CertificateName;
  /** DNS names of the subjectAltName extension (`*.example.com` as written). */
  dnsNames?: string[];
  /** Start of validity (ISO 8601). */
  validFrom?: string;
  /** End of validity (ISO 8601). */
  validTo?: string;
  /** Whole days from the probe to `validTo`; negative once expired. */
  daysLeft?: number;
  /** Serial number (hex, upper case). */
  serialNumber?: string;
  /** SHA-256 fingerprint of the DER certificate (`AA:BB:…`). */
  fingerprint256?: string;
  /** Subject and issuer are the same name: a self-signed (or self-issued) certificate. */
  selfIssued?: boolean;
  /** The certificate's names cover `host` (wildcards as browsers match them). */
  coversHost?: boolean;
  /** Set instead of the fields above when the handshake did not give a certificate. */
  error?: string;
}

/** Overall result of the probe. */
export type HttpProbeStatus =
  /** At least one attempt got an HTTP response (see `best`). */
  | "responded"
  /** Attempts were made and all failed on the domain's side (refused, TLS, reset...). */
  | "failed"
  /** No response, and at least one failure was ours (timeouts, resolver): no verdict. */
  | "unknown"
  /** Neither apex nor www has an address: nothing to probe. */
  | "no_address"
  /** Every address was private/loopback and `allowPrivate` is off. */
  | "blocked_private";

/** `item.http`, written by the `http-probe` plugin. */
export interface HttpProbeResult {
  status: HttpProbeStatus;
  /**
   * Attempts in the order made: https://apex, https://www, http://apex, http://www. Hosts without
   * an address are skipped; by default probing stops after the first attempt whose final status is
   * below 400 (config `probeAll: true` makes all four).
   */
  attempts: HttpAttempt[];
  /**
   * The first attempt (in that order) whose final status is below 400; when none is, the first
   * with any final response; absent when no attempt got a response.
   */
  best?: HttpResponseSummary & { target: HttpTarget };
  /** Present when `randomPath: true` and `best` exists. */
  randomPath?: RandomPathProbe;
  /**
   * With `tlsDetails: true`: the certificate of the first HTTPS host that reached the handshake
   * (absent when none did).
   */
  tls?: TlsCertificate;
  /**
   * Present when the slow retry was made: every URL had timed out (or hit the deadline) without
   * any HTTP answer, so the ones that timed out were asked once more with a longer timeout.
   */
  slowRetry?: SlowRetry;
}
