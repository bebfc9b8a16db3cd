import assert from "node:assert/strict";
import { isoInZone } from "./zoned_time.ts";

Deno.test("isoInZone: local wall time with the zone's offset, summer and winter", () => {
  const t = Date.parse("2026-11-30T05:00:00Z");
  assert.equal(isoInZone(t, "Europe/Berlin"), "2026-11-30T06:00:00+01:00");
  assert.equal(
    isoInZone(Date.parse("2026-07-01T04:00:00Z"), "Europe/Berlin"),
    "2026-07-01T06:00:00+02:00",
  );
  assert.equal(isoInZone(t, "America/New_York"), "2026-11-30T00:00:00-05:00");
  assert.equal(isoInZone(t, "Asia/Kolkata"), "2026-11-30T10:30:00+05:30");
  assert.equal(isoInZone(t, "UTC"), "2026-11-30T05:00:00Z");
  // Fall back in Berlin: 02:30 happens twice; the offset tells them apart.
  assert.equal(
    isoInZone(Date.parse("2026-10-25T00:30:00Z"), "Europe/Berlin"),
    "2026-10-25T02:30:00+02:00",
  );
  assert.equal(
    isoInZone(Date.parse("2026-10-25T01:30:00Z"), "Europe/Berlin"),
    "2026-10-25T02:30:00+01:00",
  );
  // Midnight is 00, not 24.
  assert.equal(
    isoInZone(Date.parse("2026-01-01T23:00:00Z"), "Europe/Berlin"),
    "2026-01-02T00:00:00+01:00",
  );
  assert.throws(() => isoInZone(t, "Europe/Berln"), RangeError);
});
