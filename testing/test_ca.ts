/**
 * A throwaway certificate authority for the simulated internet: ECDSA P-256 keys from WebCrypto
 * and a small DER encoder for X.509 v3 certificates (RFC 5280), so no npm package and no
 * `openssl` binary are needed. Leaf certificates share one key pair, which makes issuing a
 * certificate for a new host name a single signature (well under a millisecond).
 * @module
 */

const ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const DAY = 86_400_000;

// ---- minimal DER encoder -------------------------------------------------------------------

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n >>= 8;
  }
  return [0x80 | out.length, ...out];
}

function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const body = concat(parts);
  return concat([new Uint8Array([tag, ...len(body.length)]), body]);
}

function concat(parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const seq = (...p: Uint8Array[]) => tlv(0x30, ...p);
const set = (...p: Uint8Array[]) => tlv(0x31, ...p);
const utf8 = (s: string) => tlv(0x0c, new TextEncoder().encode(s));
const octets = (b: Uint8Array) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, new Uint8Array([v ? 0xff : 0]));
const explicit = (n: number, inner: Uint8Array) => tlv(0xa0 | n, inner);

/** A non-negative big-endian integer (leading zero added when the high bit is set). */
function uint(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const b = bytes.subarray(i);
  return tlv(0x02, b[0] & 0x80 ? concat([new Uint8Array([0]), b]) : b);
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a * 40 + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(out));
}

function bits(b: Uint8Array, unused = 0): Uint8Array {
  return tlv(0x03, new Uint8Array([unused]), b);
}

function time(d: Date): Uint8Array {
  const y = d.getUTCFullYear();
  const p = (n: number) => String(n).padStart(2, "0");
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}` +
    `${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  const enc = new TextEncoder();
  return y >= 1950 && y < 2050
    ? tlv(0x17, enc.encode(p(y % 100) + rest))
    : tlv(0x18, enc.encode(String(y) + rest));
}

const name = (cn: string) => seq(set(seq(oid("2.5.4.3"), utf8(cn))));
const ecdsaSha256 = seq(oid("1.2.840.10045.4.3.2"));

function ext(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

/** WebCrypto returns ECDSA signatures as r||s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function derSignature(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(uint(raw.subarray(0, half)), uint(raw.subarray(half)));
}

function pem(label: string, der: Uint8Array): string {
  let bin = "";
  for (const byte of der) bin += String.fromCharCode(byte);
  const b64 = btoa(bin);
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

// ---- certificates --------------------------------------------------------------------------

/** What to put in one certificate. */
export interface CertSpec {
  /** Subject common name. */
  commonName: string;
  /** DNS names for subjectAltName (leaf certificates). */
  dnsNames?: string[];
  /** Start of validity; default one day ago. */
  notBefore?: Date;
  /** End of validity; default 30 days from now. */
  notAfter?: Date;
  /** True for a CA certificate. */
  isCa?: boolean;
}

/** A PEM certificate with the PEM private key it belongs to. */
export interface CertPair {
  /** PEM `CERTIFICATE`. */
  cert: string;
  /** PEM PKCS#8 `PRIVATE KEY`. */
  key: string;
}

let serialCounter = 1;

/** SubjectPublicKeyInfo DER of public keys, exported once per key. */
const spkiCache = new WeakMap<CryptoKey, Promise<Uint8Array>>();

function spkiOf(key: CryptoKey): Promise<Uint8Array> {
  let p = spkiCache.get(key);
  if (!p) {
    p = crypto.subtle.exportKey("spki", key).then((b) => new Uint8Array(b));
    spkiCache.set(key, p);
  }
  return p;
}

async function buildCert(
  spec: CertSpec,
  issuerName: string,
  subjectPublic: CryptoKey,
  signer: CryptoKey,
): Promise<Uint8Array> {
  const now = Date.now();
  const serial = new Uint8Array(9);
  crypto.getRandomValues(serial.subarray(1, 5));
  new DataView(serial.buffer).setUint32(5, serialCounter++);
  serial[0] = 0x01;
  const spki = await spkiOf(subjectPublic);
  const exts: Uint8Array[] = [];
  if (spec.isCa) {
    exts.push(ext("2.5.29.19", true, seq(bool(true))));
    exts.push(ext("2.5.29.15", true, bits(new Uint8Array([0x06]), 1)));
  } else {
    exts.push(ext("2.5.29.19", true, seq()));
    exts.push(ext("2.5.29.15", true, bits(new Uint8Array([0x80]), 7)));
    exts.push(ext("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))));
    const names = spec.dnsNames ?? [spec.commonName];
    const enc = new TextEncoder();
    exts.push(ext("2.5.29.17", false, seq(...names.map((n) => tlv(0x82, enc.encode(n))))));
  }
  const tbs = seq(
    explicit(0, tlv(0x02, new Uint8Array([2]))),
    uint(serial),
    ecdsaSha256,
    name(issuerName),
    seq(
      time(spec.notBefore ?? new Date(now - DAY)),
      time(spec.notAfter ?? new Date(now + 30 * DAY)),
    ),
    name(spec.commonName),
    spki,
    explicit(3, seq(...exts)),
  );
  const sig = new Uint8Array(await crypto.subtle.sign(SIGN, signer, tbs));
  return seq(tbs, ecdsaSha256, bits(derSignature(sig)));
}

/** A certificate authority that issues leaf certificates for host names on demand. */
export interface TestCa {
  /** PEM of the CA certificate: what a client passes as `ca`. */
  caPem: string;
  /** The CA's common name. */
  commonName: string;
  /** PEM PKCS#8 key shared by every leaf certificate this CA issues. */
  leafKeyPem: string;
  /** Issue a leaf certificate (PEM) signed by this CA. */
  issue(spec: CertSpec): Promise<string>;
}

/**
 * Create a CA with a fresh ECDSA P-256 key.
 * @param options.commonName subject of the CA certificate (default "Sluice Test CA").
 */
export async function createTestCa(options: { commonName?: string } = {}): Promise<TestCa> {
  const commonName = options.commonName ?? "Sluice Test CA";
  const caKeys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const leafKeys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]) as CryptoKeyPair;
  const caDer = await buildCert(
    { commonName, isCa: true, notAfter: new Date(Date.now() + 365 * DAY) },
    commonName,
    caKeys.publicKey,
    caKeys.privateKey,
  );
  const leafKey = new Uint8Array(await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey));
  return {
    caPem: pem("CERTIFICATE", caDer),
    commonName,
    leafKeyPem: pem("PRIVATE KEY", leafKey),
    async issue(spec: CertSpec): Promise<string> {
      const der = await buildCert(spec, commonName, leafKeys.publicKey, caKeys.privateKey);
      return pem("CERTIFICATE", der);
    },
  };
}
