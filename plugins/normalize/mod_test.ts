import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";

const dir = new URL(".", import.meta.url);

Deno.test("normalize in the sandbox: keys become domains, duplicates merge, bad rows are rejected", async () => {
  const result = await runPlugin({
    dir,
    chunkSize: 4,
    items: [
      { key: "row-1", row: 1, domain: "https://www.Acme.com/contact" },
      { key: "row-2", row: 2, domain: "acme.com" },
      { key: "row-3", row: 3, domain: "not a domain" },
      { key: "row-4", row: 4, website: "Bäcker.de" },
      { key: "row-5", row: 5, domain: "ACME.com" }, // next chunk: not merged
    ],
  });
  assert.deepEqual(result.items.map((i) => [i.key, i.domain, i.domain_input, i.host]), [
    ["acme.com", "acme.com", "https://www.Acme.com/contact", "www.acme.com"],
    ["xn--bcker-gra.de", "xn--bcker-gra.de", "Bäcker.de", "xn--bcker-gra.de"],
    ["acme.com", "acme.com", "ACME.com", "acme.com"],
  ]);
  assert.deepEqual(result.items[0].duplicates, [{ key: "row-2", row: 2, domain: "acme.com" }]);
  assert.equal(result.items[0].row, 1);
  assert.equal(result.rejected.length, 1);
  assert.equal(result.rejected[0].key, "row-3");
  assert.match(result.rejected[0].reason, /row-3.*not a valid host name/);
  assert.equal(result.metrics.normalize_duplicates, 1);
});

Deno.test("normalize with dedupe none keeps every row", async () => {
  const { items } = await runPlugin({
    dir,
    config: { dedupe: "none", field: "site" },
    items: [{ key: "a", site: "x.com" }, { key: "b", site: "www.x.com" }],
  });
  assert.deepEqual(items.map((i) => [i.key, i.host, i.duplicates]), [
    ["x.com", "x.com", undefined],
    ["x.com", "www.x.com", undefined],
  ]);
});
