import assert from "node:assert/strict";
import type { Item } from "../sdk/types.ts";
import { parse } from "yaml";
import {
  LEADS_CSV_COLUMNS,
  leadsCsvHeader,
  leadsCsvHeaderLine,
  leadsCsvRow,
  leadsCsvText,
} from "./leads_csv.ts";

Deno.test("a sales sheet row: readable dates, yes/no, score reasons on one line", () => {
  const item = {
    key: "baecker-mueller.de",
    domain: "baecker-mueller.de",
    name: "Bäcker Müller",
    phone: "+49 30 123",
    website: { status: "parked" },
    lead: true,
    lead_reason: "parked: text says ...",
    score: 85,
    band: "hot",
    score_reasons: [
      { rule: "no-website", points: 30, reason: "domain has no working website" },
      { rule: "marketplace", points: -25, reason: "domain is listed for sale" },
    ],
    rdap: { registered: "2023-05-24T00:00:00.000Z", expires: "2027-01-02T00:00:00Z" },
  } as unknown as Item;
  const row = Object.fromEntries(LEADS_CSV_COLUMNS.map(([h], i) => [h, leadsCsvRow(item)[i]]));
  assert.equal(row.domain, "baecker-mueller.de");
  assert.equal(row.website_status, "parked");
  assert.equal(row.lead, "yes");
  assert.equal(row.score, "85");
  assert.equal(
    row.score_reasons,
    "domain has no working website (+30); domain is listed for sale (-25)",
  );
  assert.equal(row.domain_registered, "2023-05-24");
  assert.equal(row.domain_expires, "2027-01-02");
  assert.equal(row.email, "");
  assert.equal(row.also_listed_as, "");
  // Rows normalize merged into the item that add something (another branch) are named.
  const merged = {
    ...item,
    city: "Berlin",
    duplicates: [
      { name: "Bäcker Müller", city: "Potsdam", phone: "+49 331 1" },
      { name: "Bäcker Müller", city: "Berlin" },
    ],
  } as unknown as Item;
  const at = LEADS_CSV_COLUMNS.findIndex(([h]) => h === "also_listed_as");
  assert.equal(leadsCsvRow(merged)[at], "Bäcker Müller, Potsdam, +49 331 1");
  // An item without a domain field shows its key, as the table does.
  assert.equal(leadsCsvRow({ key: "k1" } as Item)[0], "k1");
});

Deno.test("the sales sheet has the flagship leads.csv's columns (plus lead), guesses joined", async () => {
  const doc = parse(
    await Deno.readTextFile(new URL("../pipelines/no-website-leads.yaml", import.meta.url)),
  ) as { stages: { id: string; with?: { columns?: unknown[] } }[] };
  const columns = doc.stages.find((s) => s.id === "csv-export")?.with?.columns ?? [];
  const flagship = columns.map((c) =>
    typeof c === "string" ? [c, c] : [
      String((c as { header?: string; path: string }).header ?? (c as { path: string }).path),
      (c as { path: string }).path,
    ]
  );
  assert.ok(flagship.length > 10);
  assert.deepEqual(LEADS_CSV_COLUMNS.filter(([h]) => h !== "lead"), flagship);
  const row = leadsCsvRow({
    key: "a.de",
    mail: { role_guesses: ["info@a.de", "sales@a.de"] },
  } as unknown as Item);
  const at = LEADS_CSV_COLUMNS.findIndex(([h]) => h === "email_guesses_unverified");
  assert.equal(row[at], "info@a.de; sales@a.de");
});

Deno.test("the sales sheet's last columns are the input's other ones (a CRM's record id)", () => {
  const item = { key: "a.de", domain: "a.de", name: "A", "Record ID": "0015", score: 80 } as Item;
  const header = leadsCsvHeader(["Record ID", "Contact Person"]);
  const row = leadsCsvRow(item, [], ["Record ID", "Contact Person"]);
  assert.equal(header.length, row.length);
  assert.deepEqual(header.slice(-3), ["registrant_email", "Record ID", "Contact Person"]);
  assert.deepEqual(row.slice(-2), ["0015", ""]);
  assert.equal(row[header.indexOf("name")], "A");
  // Column names from the file are guarded against formulas, as cells are.
  const line = leadsCsvHeaderLine(['=HYPERLINK("http://evil.example","Click")', "@SUM(A1)"]);
  assert.ok(line.startsWith("\ufeffdomain,"));
  assert.match(line, /,"'=HYPERLINK\(""http:\/\/evil\.example"",""Click""\)",'@SUM\(A1\)\r?\n$/);
});

Deno.test("the sales sheet writes phone_e164 as it is (for CRMs and dialers), phone guarded", () => {
  const item = {
    key: "a.pt",
    domain: "a.pt",
    name: "=A",
    phone: "+351 21 082 6315",
    phone_e164: "+351210826315",
  } as unknown as Item;
  const text = leadsCsvText([leadsCsvRow(item)]);
  const cells = text.split(",");
  assert.equal(cells[LEADS_CSV_COLUMNS.findIndex(([h]) => h === "phone_e164")], "+351210826315");
  assert.equal(cells[LEADS_CSV_COLUMNS.findIndex(([h]) => h === "phone")], "'+351 21 082 6315");
  assert.equal(cells[LEADS_CSV_COLUMNS.findIndex(([h]) => h === "name")], "'=A");
  // Anything else in that column is guarded like any cell.
  const evil = { ...item, phone_e164: "=HYPERLINK(1)" } as unknown as Item;
  const guarded = leadsCsvText([leadsCsvRow(evil)]).split(",");
  assert.equal(guarded[LEADS_CSV_COLUMNS.findIndex(([h]) => h === "phone_e164")], "'=HYPERLINK(1)");
});
