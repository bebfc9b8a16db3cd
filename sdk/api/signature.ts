/**
 * Webhook signatures: `X-Sluice-Signature: t=<unix seconds>,sha256=<hex>` where the hex is
 * HMAC-SHA256 with the shared secret over `${t}.${body}`. Receivers verify with
 * {@linkcode verifySignature} (constant-time compare, timestamp tolerance against replays).
 * @module
 */

/** The header that carries the signature. */
export const SIGNATURE_HEADER = "X-Sluice-Signature";

const enc = new TextEncoder();

async function hmacHex(secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(data)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The header value for `body` signed at `t` (unix seconds). */
export async function signBody(secret: string, body: string, t: number): Promise<string> {
  const ts = Math.floor(t);
  return `t=${ts},sha256=${await hmacHex(secret, `${ts}.${body}`)}`;
}

/** Options of {@linkcode verifySignature}. */
export interface VerifyOptions {
  /** Accepted clock difference in seconds (default 300). */
  toleranceSeconds?: number;
  /** Current unix time in seconds (default now). */
  now?: number;
}

/** True when `header` is a valid signature of `body` with `secret`, made within the tolerance. */
export async function verifySignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  options: VerifyOptions = {},
): Promise<boolean> {
  if (!header) return false;
  const parts = new Map(
    header.split(",").map((p) => p.trim().split("=", 2) as [string, string]),
  );
  const t = Number(parts.get("t"));
  const sig = parts.get("sha256") ?? "";
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(sig)) return false;
  const now = options.now ?? Date.now() / 1000;
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const want = await hmacHex(secret, `${t}.${body}`);
  let diff = 0;
  for (let i = 0; i < want.length; i++) diff |= want.charCodeAt(i) ^ sig.charCodeAt(i);
  return diff === 0;
}
