import assert from "node:assert/strict";
import { signRequest, timingSafeEqual, verifyRequest } from "./webhook_signatures.ts";

const now = Date.parse("2025-05-01T12:00:00Z");
const body = new TextEncoder().encode('{"a":1}');

async function verify(auth: "hmac" | "stripe" | "github" | "bearer", headers: HeadersInit) {
  return await verifyRequest({ auth, secret: "k", headers: new Headers(headers), body, now });
}

Deno.test("signatures: generic format signs `${t}.${body}` with HMAC-SHA256 in hex", async () => {
  const [name, value] = await signRequest({ auth: "hmac", secret: "k", body, now });
  assert.equal(name, "X-Sluice-Signature");
  const t = Math.floor(now / 1000);
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode("k"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${t}.{"a":1}`)),
  );
  const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(value, `t=${t},sha256=${hex}`);
  const ok = await verify("hmac", { [name]: value });
  assert.deepEqual(ok, { ok: true, replayKey: `sig:${t}:${hex}`, replayTtlMs: 600_000 });
  // Upper-case hex and a rotated (wrong) signature listed first are fine.
  const rotated = `t=${t},sha256=${"0".repeat(64)},sha256=${hex.toUpperCase()}`;
  assert.equal((await verify("hmac", { [name]: rotated })).ok, true);
});

Deno.test("signatures: malformed headers are refused with a reason", async () => {
  for (const v of ["sha256=abc", "t=abc,sha256=00", "t=1746100800", "garbage"]) {
    const r = await verify("hmac", { "x-sluice-signature": v });
    assert.equal(r.ok, false, v);
  }
  const short = await verify("hmac", { "x-sluice-signature": `t=${now / 1000},sha256=abcd` });
  assert.deepEqual(short, { ok: false, reason: "X-Sluice-Signature does not match the body" });
  assert.equal((await verify("github", { "x-hub-signature-256": "sha1=00" })).ok, false);
  assert.equal((await verify("bearer", { authorization: "Basic k" })).ok, false);
  assert.equal((await verify("bearer", { authorization: "Bearer k" })).ok, true);
  assert.equal((await verify("bearer", { authorization: "Bearer kk" })).ok, false);
});

Deno.test("signatures: stripe and github formats", async () => {
  const s = await signRequest({ auth: "stripe", secret: "k", body, now });
  assert.equal(s[0], "Stripe-Signature");
  assert.match(s[1], /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal((await verify("stripe", { [s[0]]: s[1] })).ok, true);
  const g = await signRequest({ auth: "github", secret: "k", body, now });
  assert.match(g[1], /^sha256=[0-9a-f]{64}$/);
  const r = await verify("github", { [g[0]]: g[1], "x-github-delivery": "abc" });
  assert.deepEqual(r, {
    ok: true,
    replayKey: `gh:${g[1].slice(7)}`, // the signature: the delivery id is not signed
    replayTtlMs: 86_400_000,
    deliveryId: "abc",
  });
});

Deno.test("signatures: constant-time comparison compares every byte", () => {
  assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3])), false);
});
