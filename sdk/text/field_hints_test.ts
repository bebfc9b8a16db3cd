import assert from "node:assert/strict";
import { FieldPathWatch, misspeltPath } from "./field_hints.ts";

const items = [
  { key: "a", domain: "a.de", website: { status: "parked" }, rdap: { registrant: { phone: "1" } } },
  { key: "b", domain: "b.de", website: { status: "live" } },
];

Deno.test("misspeltPath names the missing step and the close name items have", () => {
  assert.deepEqual(misspeltPath(["webiste", "status"], items), {
    at: "webiste",
    missing: "webiste",
    suggestion: "website",
    suggestedPath: "website.status",
  });
  assert.deepEqual(misspeltPath(["website", "stauts"], items)?.suggestedPath, "website.status");
  assert.equal(misspeltPath(["Domain"], items)?.suggestion, "domain");
});

Deno.test("misspeltPath stays quiet for fields that are there, absent, or far from any name", () => {
  assert.equal(misspeltPath(["website", "status"], items), undefined);
  // One item has it: a field that is simply empty elsewhere.
  assert.equal(misspeltPath(["rdap", "registrant", "phone"], items), undefined);
  // No item has the stage's field at all (the stage did not run on them): no misspelling.
  assert.equal(misspeltPath(["search", "status"], items), undefined);
  assert.equal(misspeltPath(["mail", "provider"], items), undefined);
  // The deepest miss decides: rdap.registrant has no "email", and "phone" is not close.
  assert.equal(misspeltPath(["rdap", "registrant", "email"], items), undefined);
  assert.equal(misspeltPath(["domain", "x"], items), undefined);
  assert.equal(misspeltPath(["webiste"], []), undefined);
});

Deno.test("misspeltPath suggests only names of the kind the path needs there", () => {
  // No e-mail column in the input; `mail` is the mail stage's object, not a misspelt `email`.
  const rows = [{ key: "a", phone: "1", mail: { provider: "google" }, score: 80 }];
  assert.equal(misspeltPath(["email"], rows), undefined);
  assert.equal(misspeltPath(["emial"], [{ email: "x@y.de" }])?.suggestion, "email");
  // Where the path goes on, only an object can be meant.
  assert.equal(misspeltPath(["scroe", "x"], rows), undefined);
  assert.equal(misspeltPath(["mial", "provider"], rows)?.suggestedPath, "mail.provider");
  assert.equal(misspeltPath(["scroe"], rows)?.suggestion, "score");
});

Deno.test("FieldPathWatch reports each misspelt path once, with its label", () => {
  const watch = new FieldPathWatch([
    { path: ["webiste", "status"], label: "csv-export: columns[2]" },
    { path: ["domain"], label: "csv-export: columns[0]" },
  ]);
  const first = watch.check(items, "The column stays empty.");
  assert.deepEqual(first, [
    'csv-export: columns[2]: no item of this chunk has "webiste" (webiste.status), but they ' +
    'have "website"; did you mean website.status? The column stays empty.',
  ]);
  assert.deepEqual(watch.check(items, "The column stays empty."), []);
});

Deno.test("FieldPathWatch: a column written as a rule writes it (item.name) is named", () => {
  const watch = new FieldPathWatch([{ path: ["item", "name"], label: "csv-export: columns[0]" }]);
  assert.deepEqual(watch.check([{ key: "a", name: "A" }], "Empty."), [
    'csv-export: columns[0]: no item has a field "item" (item.name); paths name the item\'s ' +
    'fields without "item.": did you mean name? Empty.',
  ]);
});
