import assert from "node:assert/strict";
import { isNoWebsite, NO_WEBSITE_VALUES } from "./no_website.ts";

Deno.test("placeholders and blanks give no website; no placeholder could be a domain", () => {
  for (const v of ["", "  ", "n/a", " N/A ", "#N/A", "-", "Keine", "none"]) {
    assert.ok(isNoWebsite(v), v);
  }
  for (const v of ["a.com", "x", "na.de", "none.org"]) assert.ok(!isNoWebsite(v), v);
  // No top-level domain (two or more letters after a dot): none could be a real website.
  for (const v of NO_WEBSITE_VALUES) assert.ok(!/\.[a-z]{2,}/.test(v), `${v} could be a domain`);
});
