import assert from "node:assert/strict";
import { inputFields, STAGE_FIELDS } from "./input_columns.ts";
import { parseColumns, pick } from "./columns.ts";

Deno.test("STAGE_FIELDS holds every top-level field a first-party plugin adds", async () => {
  const plugins = new URL("../../plugins/", import.meta.url);
  let seen = 0;
  for await (const e of Deno.readDir(plugins)) {
    if (!e.isDirectory) continue;
    const manifest = JSON.parse(
      await Deno.readTextFile(new URL(`${e.name}/plugin.json`, plugins)),
    ) as { adds?: string[] };
    for (const field of manifest.adds ?? []) {
      seen++;
      assert.ok(STAGE_FIELDS.has(field.split(".")[0]), `${e.name} adds ${field}`);
    }
  }
  assert.ok(seen > 20);
});

Deno.test("inputFields: the input's scalar fields no stage sets and no column names", () => {
  const item = {
    key: "a.de",
    row: 3,
    domain: "a.de",
    name: "A",
    "Record ID": "0015",
    "Contact Person": "Hans",
    employees: 12,
    active: true,
    website: { status: "parked" },
    tags: ["x"],
    score: 80,
    phone_e164: "+49301",
  };
  assert.deepEqual(inputFields(item, new Set(["name"])), [
    ["Record ID", "0015"],
    ["Contact Person", "Hans"],
    ["employees", "12"],
    ["active", "true"],
  ]);
  // "*" in a picked export (jsonl, webhook): the fields by their own names, where it stands.
  const columns = parseColumns(["domain", "*", { path: "score", header: "Record ID" }]);
  assert.deepEqual(pick(item, columns), {
    domain: "a.de",
    name: "A",
    "Contact Person": "Hans",
    employees: "12",
    active: "true",
    "Record ID": 80,
  });
  assert.throws(() => parseColumns(["*", "domain", "*"]), /columns\[2\]: "\*" .* is listed twice/);
  // Names of Object.prototype's members are columns like any other.
  const odd = JSON.parse('{"domain":"b.com","toString":"1","constructor":"2","__proto__":"3"}');
  assert.deepEqual(
    JSON.parse(JSON.stringify(pick(odd, parseColumns(["domain", "*"])))),
    JSON.parse('{"domain":"b.com","toString":"1","constructor":"2","__proto__":"3"}'),
  );
});

Deno.test("inputFields: the website value as given is website_input, where domain_input stands", () => {
  const item = {
    key: "pricesflowers.co.uk",
    domain: "pricesflowers.co.uk",
    name: "Price's Flowers",
    "Record ID": "2001",
    domain_input: "https://pricesflowers.co.uk/kontakt",
    Owner: "Jo",
    website: { status: "parked" },
  };
  assert.deepEqual(inputFields(item, new Set(["name"])), [
    ["Record ID", "2001"],
    ["website_input", "https://pricesflowers.co.uk/kontakt"],
    ["Owner", "Jo"],
  ]);
  // Not when the export names it, nor when an input column already holds the value.
  assert.deepEqual(inputFields(item, new Set(["name", "domain_input", "Owner"])), [
    ["Record ID", "2001"],
  ]);
  assert.deepEqual(
    inputFields({ ...item, Website: "https://pricesflowers.co.uk/kontakt" }, new Set(["name"])),
    [["Record ID", "2001"], ["Owner", "Jo"], ["Website", "https://pricesflowers.co.uk/kontakt"]],
  );
  assert.deepEqual(
    pick(item, parseColumns(["domain", "*"])),
    {
      domain: "pricesflowers.co.uk",
      name: "Price's Flowers",
      "Record ID": "2001",
      website_input: "https://pricesflowers.co.uk/kontakt",
      Owner: "Jo",
    },
  );
});
