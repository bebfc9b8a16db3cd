import assert from "node:assert/strict";
import { cellText, columnValue, getPath, parseColumns, pick } from "./columns.ts";

Deno.test("columns: dotted paths, headers, values as cells", () => {
  const cols = parseColumns(["domain", { path: "website.status", header: "Status" }, "tags"]);
  assert.deepEqual(cols.map((c) => c.header), ["domain", "Status", "tags"]);
  const item = { key: "a", domain: "a.com", website: { status: "parked" }, tags: ["x", "y"] };
  assert.equal(getPath(item, ["website", "status"]), "parked");
  assert.equal(getPath(item, ["website", "nope", "deeper"]), undefined);
  assert.deepEqual(pick(item, cols), { domain: "a.com", Status: "parked", tags: ["x", "y"] });
  assert.deepEqual(
    [null, undefined, 3, true, ["a", 1], [{ a: 1 }], { b: 2 }].map(cellText),
    ["", "", "3", "true", "a; 1", '[{"a":1}]', '{"b":2}'],
  );
});

Deno.test("columns: bad specs are refused with their index", () => {
  assert.throws(() => parseColumns(["ok", "a..b"]), /columns\[1\]/);
  assert.throws(() => parseColumns([{ path: "" }]), /columns\[0\]/);
});

Deno.test("columns: format date writes a timestamp as its UTC calendar date", () => {
  const cols = parseColumns([
    { path: "rdap.registered", header: "registered", format: "date" },
    { path: "rdap.expires", format: "date" },
    { path: "rdap.note", format: "date" },
  ]);
  const item = {
    rdap: {
      registered: "2023-05-24T00:00:00.000Z",
      expires: Date.UTC(2027, 0, 2, 23),
      note: "n/a",
    },
  };
  assert.deepEqual(cols.map((c) => columnValue(item, c)), ["2023-05-24", "2027-01-02", "n/a"]);
  assert.deepEqual(pick({}, cols), { registered: null, "rdap.expires": null, "rdap.note": null });
  assert.throws(
    () => parseColumns([{ path: "a", format: "money" as "date" }]),
    /columns\[0\]: format "money" is unknown/,
  );
});

Deno.test("columns: two columns under one header are refused, naming both", () => {
  // jsonl and webhook rows are objects keyed by header: the second would overwrite the first,
  // and a CRM import cannot tell two "phone" columns of a CSV apart.
  assert.throws(
    () => parseColumns(["domain", "phone", { path: "rdap.registrant.phone", header: "phone" }]),
    /columns\[2\]: header "phone" is already the header of columns\[1\]; give one of them its own header/,
  );
  assert.throws(() => parseColumns(["city", "city"]), /columns\[1\]: header "city"/);
  assert.deepEqual(
    parseColumns(["phone", { path: "rdap.registrant.phone", header: "registrant_phone" }])
      .map((c) => c.header),
    ["phone", "registrant_phone"],
  );
});
