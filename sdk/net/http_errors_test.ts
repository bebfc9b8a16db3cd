import assert from "node:assert/strict";
import { classifyCertificate, classifyError, HttpProbeError, isOurs } from "./http_errors.ts";

const err = (code: string | undefined, message: string) =>
  Object.assign(new Error(message), { code });

Deno.test("classifyError maps node error codes and Deno messages to kinds", () => {
  assert.equal(classifyError(err("ECONNREFUSED", "connect ECONNREFUSED 1.2.3.4:443")), "refused");
  assert.equal(classifyError(err("ECONNRESET", "socket hang up")), "reset");
  assert.equal(
    classifyError(
      err(
        "ECONNRESET",
        "Client network socket disconnected before secure TLS connection was established",
      ),
    ),
    "tls_handshake",
  );
  assert.equal(classifyError(err("EHOSTUNREACH", "no route")), "unreachable");
  assert.equal(classifyError(err("ETIMEDOUT", "connect ETIMEDOUT")), "connect_timeout");
  assert.equal(
    classifyError(err("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match")),
    "tls_hostname",
  );
  assert.equal(classifyError(err("CERT_HAS_EXPIRED", "certificate has expired")), "tls_expired");
  assert.equal(classifyError(err("DEPTH_ZERO_SELF_SIGNED_CERT", "self signed")), "tls_unknown_ca");
  assert.equal(classifyError(err("HPE_INVALID_CONSTANT", "Parse Error")), "protocol");
  assert.equal(classifyError(new HttpProbeError("redirect_loop", "x")), "redirect_loop");
  assert.equal(classifyError(err(undefined, "something odd")), "other");
});

Deno.test("classifyCertificate tells hostname, expiry and unknown issuer apart", () => {
  const now = Date.parse("2026-06-01T00:00:00Z");
  const valid = { valid_from: "Jan 1 00:00:00 2026 GMT", valid_to: "Jan 1 00:00:00 2027 GMT" };
  const old = { valid_from: "Jan 1 00:00:00 2024 GMT", valid_to: "Jan 1 00:00:00 2025 GMT" };
  assert.equal(classifyCertificate("ERR_TLS_CERT_ALTNAME_INVALID", valid, now), "tls_hostname");
  assert.equal(classifyCertificate("UNABLE_TO_VERIFY_LEAF_SIGNATURE", old, now), "tls_expired");
  assert.equal(
    classifyCertificate("UNABLE_TO_VERIFY_LEAF_SIGNATURE", valid, now),
    "tls_unknown_ca",
  );
  assert.equal(classifyCertificate("CERT_HAS_EXPIRED", undefined, now), "tls_expired");
});

Deno.test("only our own failures are marked ours", () => {
  for (
    const k of ["timeout", "deadline", "connect_timeout", "dns_unknown", "unreachable"] as const
  ) {
    assert.equal(isOurs(k), true, k);
  }
  for (const k of ["refused", "reset", "tls_expired", "no_address", "redirect_loop"] as const) {
    assert.equal(isOurs(k), false, k);
  }
});
