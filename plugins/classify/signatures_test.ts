import assert from "node:assert/strict";
import { defaultSignatures, expandPageIncludes } from "./signatures.ts";

Deno.test("the shared server default pages are included where page_signatures.json names them", () => {
  const ids = defaultSignatures().pages.map((p) => p.id);
  assert.equal(ids.length, 66);
  // The same order as when the entries lived in page_signatures.json itself.
  assert.deepEqual(ids.slice(14, 16), ["aws_waf", "nginx_welcome"]);
  assert.deepEqual(ids.slice(35, 37), ["nginx_debian_title", "directory_listing"]);
  assert.throws(
    () => expandPageIncludes([{ include: "nope" }], { server_default_pages: [] }),
    /page_signatures\.json entry 0: unknown include "nope"/,
  );
});
