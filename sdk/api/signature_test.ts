import assert from "node:assert/strict";
import { signBody, verifySignature } from "./signature.ts";

Deno.test("signature matches HMAC-SHA256 over `${t}.${body}` and verifies", async () => {
  const h = await signBody("s3cret", '{"a":1}', 1700000000.9);
  // openssl: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode("s3cret"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode('1700000000.{"a":1}')),
  );
  const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(h, `t=1700000000,sha256=${hex}`);
  assert.ok(await verifySignature("s3cret", h, '{"a":1}', { now: 1700000100 }));
  assert.ok(!(await verifySignature("other", h, '{"a":1}', { now: 1700000100 })));
  assert.ok(!(await verifySignature("s3cret", h, '{"a":2}', { now: 1700000100 })));
  assert.ok(!(await verifySignature("s3cret", h, '{"a":1}', { now: 1700001000 })), "too old");
  assert.ok(!(await verifySignature("s3cret", "garbage", "x")));
  assert.ok(!(await verifySignature("s3cret", undefined, "x")));
});
