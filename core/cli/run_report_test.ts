import assert from "node:assert/strict";
import { leadsLine } from "./run_report.ts";

Deno.test("leadsLine: a lead count above an export's rows says why (one row per domain)", () => {
  const found = { leads: 323, partial: false, field: true, unknown: 0, items: 800 };
  assert.equal(leadsLine(found), "leads: 323");
  assert.equal(
    leadsLine(found, [
      "export csv-export: csv-export: 320 row(s) written to /d/leads.csv from 4 chunk(s) " +
      "(3 more row(s) of a key already written left out: one row per key)",
    ]),
    "leads: 323 (items with lead == true; the export files hold one row per domain, so fewer " +
      "when a domain came in two chunks: see the export lines)",
  );
  assert.match(leadsLine({ ...found, unknown: 2 }), /^leads: 323; no website verdict for 2 of 800/);
});
