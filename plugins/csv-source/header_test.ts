import assert from "node:assert/strict";
import { headerlessHeader, list, looksLikeWebsite, prepareHeader } from "./header.ts";

Deno.test("prepareHeader: known columns get canonical names whatever their spelling", () => {
  const h = prepareHeader([
    "\uFEFFCompany",
    " Town ",
    "E-Mail",
    "Telefon",
    "Homepage URL",
    "Notes",
  ]);
  assert.deepEqual(h.fields, ["name", "city", "email", "phone", "url", "Notes"]);
  assert.deepEqual(h.domainColumns, [4]);
  assert.deepEqual(h.written[0], "Company", "BOM and spaces are trimmed");
  assert.deepEqual(prepareHeader(["Company"], { canonical: false }).fields, ["Company"]);
});

Deno.test("prepareHeader: website columns are tried in order domain, website, url, homepage, web, site", () => {
  const h = prepareHeader(["site", "URL", "name", "Domain", "Website"]);
  assert.deepEqual(h.domainColumns, [3, 4, 1, 0]);
  assert.deepEqual(prepareHeader(["name", "city"]).domainColumns, []);
});

Deno.test("prepareHeader: names later stages set are kept as input_<name>; repeats are numbered", () => {
  const h = prepareHeader(["name", "Website", "key", "score", "lead", "name", "Name"]);
  assert.deepEqual(h.fields, [
    "name",
    "website",
    "input_key",
    "input_score",
    "input_lead",
    "name_2",
    "name_3",
  ]);
  assert.deepEqual(h.domainColumns, [1]);
  assert.ok(h.renamed.some(([w, f]) => w === "key" && f === "input_key"));
});

Deno.test("prepareHeader: a repeated website column is tried too; no names that differ only in case", () => {
  // A Salesforce export: two Website columns, and its own Key and Score.
  const h = prepareHeader([
    "Account Name",
    "Website",
    "Website",
    "Phone",
    "Score",
    "Key",
    "notes",
    "Notes",
  ]);
  assert.deepEqual(h.fields, [
    "name",
    "website",
    "website_2",
    "phone",
    "input_score",
    "input_key",
    "notes",
    "Notes_2",
  ]);
  assert.deepEqual(h.domainColumns, [1, 2]);
  assert.deepEqual(prepareHeader(["Domain", "URL", "domain"]).domainColumns, [0, 2, 1]);
});

Deno.test("prepareHeader: with.domainColumn names one column, or fails naming the header", () => {
  assert.deepEqual(
    prepareHeader(["Firma", "Internetadresse"], { domainColumn: "Internetadresse" }).domainColumns,
    [1],
  );
  assert.throws(
    () => prepareHeader(["Firma", "Ort"], { domainColumn: "Web" }),
    /with\.domainColumn "Web" is not a column of the header \("Firma", "Ort"\)/,
  );
});

Deno.test("a first line holding a website and no column name is data: a list without a header", () => {
  for (const cell of ["acme.de", "https://www.Foo.co.uk/shop", "xn--bcher-kva.de", "münchen.de"]) {
    assert.equal(looksLikeWebsite(cell), true, cell);
  }
  for (
    const cell of ["E.Mail", "Firma", "info@acme.de", "v1.2", "Acme GmbH", "localhost", "a b.de"]
  ) {
    assert.equal(looksLikeWebsite(cell), false, cell);
  }
  assert.deepEqual(headerlessHeader(["Acme GmbH", "acme.de", "Berlin"])?.fields, [
    "column_1",
    "domain",
    "column_3",
  ]);
  // A known column name means it is a header, whatever else it holds.
  assert.equal(headerlessHeader(["Name", "acme.de"]), undefined);
  assert.equal(headerlessHeader(["Firma", "Ort", "Internetadresse"]), undefined);
});

Deno.test("prepareHeader: French, Spanish, Dutch, Portuguese, Italian and CRM exports' column names", () => {
  const cases: [string[], string[]][] = [
    [["Nom", "Ville", "Téléphone", "Courriel", "Site web", "Pays"], [
      "name",
      "city",
      "phone",
      "email",
      "website",
      "country",
    ]],
    [["Empresa", "Ciudad", "Teléfono", "Correo electrónico", "Sitio web"], [
      "name",
      "city",
      "phone",
      "email",
      "website",
    ]],
    [["Bedrijfsnaam", "Plaats", "Telefoonnummer", "E-mailadres", "Website"], [
      "name",
      "city",
      "phone",
      "email",
      "website",
    ]],
    [["Nome da empresa", "Cidade", "Telefone", "E-mail", "Site"], [
      "name",
      "city",
      "phone",
      "email",
      "site",
    ]],
    [["Ragione sociale", "Città", "Telefono", "Sito web"], ["name", "city", "phone", "website"]],
    // Salesforce and HubSpot exports.
    [["Account Name", "Billing City", "Billing Country", "Website", "Phone"], [
      "name",
      "city",
      "country",
      "website",
      "phone",
    ]],
    [["Record ID", "Company name", "Company Domain Name", "City"], [
      "Record ID",
      "name",
      "domain",
      "city",
    ]],
    [["Site internet", "Raison sociale", "Code postal"], ["website", "name", "postcode"]],
  ];
  for (const [cells, fields] of cases) {
    const h = prepareHeader(cells);
    assert.deepEqual(h.fields, fields, cells.join(","));
    assert.ok(h.domainColumns.length > 0, cells.join(","));
  }
});

Deno.test("list: names the first 30 cells and counts the rest, so a wide header makes no huge message", () => {
  const cells = Array.from({ length: 5_030 }, (_, i) => `c${i}`);
  const text = list(cells);
  assert.ok(text.startsWith('"c0", "c1", '));
  assert.ok(text.endsWith('"c29" and 5,000 more'), text.slice(-40));
  assert.equal(list(["a", "b"]), '"a", "b"');
});
