import assert from "node:assert/strict";
import { rdapSpecFor } from "./flagship_world.ts";

Deno.test("the fake registry agrees with a domain's 'registration expired' page", () => {
  const now = Date.parse("2026-06-01T00:00:00Z");
  for (const d of ["a-bau.de", "b-cafe.fr", "c-shop.com", "d-tischler.de"]) {
    const expired = rdapSpecFor(d, now, true);
    const left = (Date.parse(expired.expires!) - now) / 86_400_000;
    assert.ok(left < 0 && left >= -61, `${d}: expired ${-left} days ago`);
    // The same domain's ordinary record does not depend on the flag otherwise.
    assert.equal(rdapSpecFor(d, now).registered, expired.registered);
  }
});
