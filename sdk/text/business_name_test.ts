import assert from "node:assert/strict";
import { foldName, nameWords } from "./business_name.ts";

Deno.test("business names fold accents and drop legal forms and filler words", () => {
  assert.equal(foldName("Bäckerei Straße"), "backerei strasse");
  assert.equal(foldName("Bäckerei", true), "baeckerei");
  assert.deepEqual(nameWords("Müller & Söhne GmbH"), ["muller", "sohne"]);
  assert.deepEqual(nameWords("The Old Mill Ltd", { minLength: 3 }), ["old", "mill"]);
});
