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
  assert.deepEqual(result.items.map((i) => i.domain_unicode), [undefined, "bäcker.de", undefined]);
  assert.deepEqual(result.items[0].duplicates, [{ key: "row-2", row: 2, domain: "acme.com" }]);
  assert.equal(result.items[0].row, 1);
  assert.equal(result.rejected.length, 1);
  assert.equal(result.rejected[0].key, "row-3");
  assert.equal(
    result.rejected[0].reason,
    'row 3: "not a domain" is not a valid host name (bad characters or malformed URL)',
  );
  assert.equal(result.metrics.normalize_duplicates, 1);
  assert.ok(
    result.logs.some((l) =>
      l.msg.startsWith(
        "1 row merged into an earlier row of the same domain, e.g. row 2 into row 1 (acme.com)",
      )
    ),
    JSON.stringify(result.logs),
  );
});

Deno.test("normalize with dedupe none keeps every row", async () => {
  const { items } = await runPlugin({
    dir,
    config: { dedupe: "none", field: "site" },
    items: [{ key: "a", site: "acme.com" }, { key: "b", site: "www.acme.com" }],
  });
  assert.deepEqual(items.map((i) => [i.key, i.host, i.duplicates]), [
    ["acme.com", "acme.com", undefined],
    ["acme.com", "www.acme.com", undefined],
  ]);
});

Deno.test("normalize rejects platform pages: two businesses' Facebook pages are not merged", async () => {
  const items = [
    { key: "row-1", row: 1, name: "Joe's Pizza", domain: "https://www.facebook.com/joes-pizza" },
    { key: "row-2", row: 2, name: "Maria's Bakery", domain: "https://facebook.com/marias-bakery" },
    { key: "row-3", row: 3, name: "Facebook itself", domain: "facebook.com" },
    { key: "row-4", row: 4, name: "Maria's", domain: "https://mariasbakery.business.site/" },
    { key: "row-5", row: 5, name: "Joe's", domain: "linktr.ee/joespizza" },
    { key: "row-6", row: 6, name: "Acme", domain: "acme.com" },
  ];
  const result = await runPlugin({ dir, items });
  assert.deepEqual(result.rejected.map((r) => [r.key, r.reason]), [
    [
      "row-1",
      'row 1: platform page: "https://www.facebook.com/joes-pizza" is a Facebook page, not a ' +
      "website of the business's own: no domain to check",
    ],
    [
      "row-2",
      'row 2: platform page: "https://facebook.com/marias-bakery" is a Facebook page, not a ' +
      "website of the business's own: no domain to check",
    ],
    [
      "row-3",
      'row 3: platform page: "facebook.com" is Facebook itself, not a website of the ' +
      "business's own: no domain to check",
    ],
    [
      "row-5",
      'row 5: platform page: "linktr.ee/joespizza" is a Linktree link-in-bio page, not a ' +
      "website of the business's own: no domain to check",
    ],
  ]);
  // Nothing is lost: each rejected entry carries its whole row.
  assert.deepEqual(result.rejected.map((r) => r.raw), [items[0], items[1], items[2], items[4]]);
  assert.deepEqual(
    result.items.map((i) => [i.key, i.host, i.suffix, i.private_suffix, i.platform, i.duplicates]),
    [
      [
        "mariasbakery.business.site",
        "mariasbakery.business.site",
        "business.site",
        true,
        "Google Business Profile (business.site)",
        undefined,
      ],
      ["acme.com", "acme.com", "com", undefined, undefined, undefined],
    ],
  );
  assert.equal(result.metrics.normalize_platform_pages, 4);
  assert.equal(result.metrics.normalize_rejected, 4);
  assert.equal(result.metrics.normalize_duplicates ?? 0, 0);
});

Deno.test("normalize with platformPages keep merges platform pages into the platform, as before", async () => {
  const result = await runPlugin({
    dir,
    config: { platformPages: "keep" },
    items: [
      { key: "row-1", row: 1, domain: "https://www.facebook.com/joes-pizza" },
      { key: "row-2", row: 2, domain: "https://facebook.com/marias-bakery" },
    ],
  });
  assert.deepEqual(result.rejected, []);
  assert.deepEqual(result.items.map((i) => [i.key, i.host, i.platform]), [
    ["facebook.com", "www.facebook.com", undefined],
  ]);
  assert.deepEqual(result.items[0].duplicates, [
    { key: "row-2", row: 2, domain: "https://facebook.com/marias-bakery" },
  ]);
  assert.equal(result.metrics.normalize_platform_pages ?? 0, 0);
});

Deno.test("normalize rejects shop pages on marketplaces instead of taking the marketplace's domain", async () => {
  const items = [
    { key: "row-1", row: 1, name: "Joe's Shop", website: "https://www.ebay.de/str/joesshop" },
    { key: "row-2", row: 2, name: "Joe's Crafts", website: "https://www.etsy.com/shop/JoesCrafts" },
    { key: "row-3", row: 3, name: "ABC", website: "https://www.amazon.de/shops/ABC123" },
    {
      key: "row-4",
      row: 4,
      name: "Joe's Möbel",
      website: "https://www.kleinanzeigen.de/pro/joes-moebel",
    },
    { key: "row-5", row: 5, name: "eBay Repair", website: "ebay-repair-shop.de" },
    { key: "row-6", row: 6, name: "My Etsy Finds", website: "https://myetsyfinds.com/" },
  ];
  const result = await runPlugin({ dir, items });
  const reason = (row: number, input: string, name: string) =>
    `row ${row}: platform page: "${input}" is a shop page on ${name} (a marketplace), not a ` +
    "website of the business's own: no domain to check";
  assert.deepEqual(result.rejected.map((r) => [r.key, r.reason]), [
    ["row-1", reason(1, "https://www.ebay.de/str/joesshop", "eBay")],
    ["row-2", reason(2, "https://www.etsy.com/shop/JoesCrafts", "Etsy")],
    ["row-3", reason(3, "https://www.amazon.de/shops/ABC123", "Amazon")],
    ["row-4", reason(4, "https://www.kleinanzeigen.de/pro/joes-moebel", "Kleinanzeigen")],
  ]);
  assert.deepEqual(result.rejected.map((r) => r.raw), items.slice(0, 4));
  assert.deepEqual(result.items.map((i) => [i.key, i.name]), [
    ["ebay-repair-shop.de", "eBay Repair"],
    ["myetsyfinds.com", "My Etsy Finds"],
  ]);
  assert.equal(result.metrics.normalize_platform_pages, 4);
  assert.equal(result.metrics.normalize_rejected, 4);
});

Deno.test("normalize with platformPages keep takes a marketplace's domain, as before", async () => {
  const result = await runPlugin({
    dir,
    config: { platformPages: "keep" },
    items: [
      { key: "row-1", row: 1, domain: "https://www.ebay.de/str/joesshop" },
      { key: "row-2", row: 2, domain: "https://www.ebay.de/str/mariasshop" },
    ],
  });
  assert.deepEqual(result.rejected, []);
  assert.deepEqual(result.items.map((i) => [i.key, i.host, i.platform]), [
    ["ebay.de", "www.ebay.de", undefined],
  ]);
  assert.equal((result.items[0].duplicates as unknown[]).length, 1);
  assert.equal(result.metrics.normalize_platform_pages ?? 0, 0);
});

Deno.test("normalize names items without a row by their key, and two websites in a cell", async () => {
  const result = await runPlugin({
    dir,
    items: [
      { key: "acme-ltd", website: "acme.com, acme.de" },
      { key: "line-4", domain: "a_b.com" },
      { key: "Joe's Pizza", domain: "x" },
    ],
  });
  assert.deepEqual(result.rejected.map((r) => r.reason), [
    'acme-ltd: "acme.com, acme.de" holds more than one website; put one per row or pick one',
    'line-4: "a_b.com": label "a_b" is invalid (letters, digits and inner hyphens, 1-63 ' +
    "characters)",
    '"Joe\'s Pizza": "x" has no top-level domain',
  ]);
  assert.equal(result.metrics.normalize_platform_pages ?? 0, 0);
});

Deno.test("normalize refuses an unknown platformPages value, saying which values work", async () => {
  await assert.rejects(
    // The schema refuses it too (sluice validate); the plugin's own check is for a value that
    // comes from a ${{ inputs.… }} template, which validate cannot see.
    runPlugin({
      dir,
      config: { platformPages: "drop" },
      checkConfig: false,
      items: [{ key: "a", domain: "a.com" }],
    }),
    /with\.platformPages is "drop"; use "reject"/,
  );
});

Deno.test("normalize: an empty or placeholder value is no website; the next field is tried, never the key", async () => {
  const result = await runPlugin({
    dir,
    items: [
      { key: "row-1", row: 1, name: "A", domain: "" },
      { key: "row-2", row: 2, name: "B", domain: "n/a", website: "www.b.com" },
      { key: "row-3", row: 3, name: "C", domain: "-", website: "" },
      { key: "c.com", name: "keyed by its domain" },
    ],
  });
  assert.deepEqual(result.items.map((i) => [i.key, i.name, i.domain_input]), [
    ["b.com", "B", "www.b.com"],
    ["c.com", "keyed by its domain", "c.com"],
  ]);
  assert.deepEqual(result.rejected.map((r) => r.reason), [
    "row 1: empty value: no website or domain given",
    'row 3: no website given: "-" is a placeholder, not a website',
  ]);
});

Deno.test("normalize names csv-source's file line, as csv-source's own reasons do", async () => {
  const result = await runPlugin({
    dir,
    items: [{ key: "row-7", row: 7, line: 9, name: "Cafe", domain: "facebook.com/cafesuess" }],
  });
  assert.match(result.rejected[0].reason, /^line 9: platform page: "facebook\.com\/cafesuess"/);
});

Deno.test("normalize says an item has no website field instead of trying its source key", async () => {
  const result = await runPlugin({
    dir,
    items: [{ key: "line-2", line: 2, name: "B" }, { key: "acme.com" }],
  });
  assert.deepEqual(
    result.items.map((i) => i.domain),
    ["acme.com"],
    "a key that is a domain is kept",
  );
  assert.match(
    result.rejected[0].reason,
    /^line 2: no domain: the item has no "domain", "website", "url" field \(its fields: line, name\)/,
  );
});

Deno.test("normalize: an e-mail address in the website column gives the domain and the item's e-mail", async () => {
  const { items } = await runPlugin({
    dir,
    items: [
      { key: "r1", website: "info@steuerberatung-dresden.de" },
      { key: "r2", website: "mailto:Kontakt@Blumen-Haus.de" },
      { key: "r3", website: "office@salon-anna.at", email: "anna@salon-anna.at" },
      { key: "r4", website: "https://user@host-example.de/" },
      { key: "r5", website: "<info@firma5.de>" },
      { key: "r6", website: "mailto:info@firma6.de?subject=Hallo" },
      { key: "r7", website: '"Info" <info@firma7.de>' },
      { key: "r8", website: "info@firma8.de." },
      { key: "r9", website: "firma9.de" },
      { key: "r10", website: "info@firma9.de" }, // a later row of firma9.de: its address is kept
      { key: "r11", website: "office@firma11.de", email: ["a@firma11.de"] },
    ],
  });
  assert.deepEqual(items.map((i) => [i.key, i.email]), [
    ["steuerberatung-dresden.de", "info@steuerberatung-dresden.de"],
    ["blumen-haus.de", "Kontakt@Blumen-Haus.de"],
    ["salon-anna.at", "anna@salon-anna.at"], // the row's own e-mail column wins
    ["host-example.de", undefined], // a URL with user info is no e-mail address
    ["firma5.de", "info@firma5.de"],
    ["firma6.de", "info@firma6.de"],
    ["firma7.de", "info@firma7.de"],
    ["firma8.de", "info@firma8.de"],
    ["firma9.de", "info@firma9.de"],
    ["firma11.de", ["a@firma11.de"]],
  ]);
});

Deno.test("normalize adds phone_e164, read in the item's country or its domain's, else phoneCountry", async () => {
  const result = await runPlugin({
    dir,
    config: { phoneCountry: "US" },
    items: [
      { key: "r1", row: 1, domain: "baecker.de", phone: "(030) 123-4567" },
      { key: "r2", row: 2, domain: "acme.com", phone: "+44 20 7946 0123", country: "UK" },
      { key: "r3", row: 3, domain: "shop.com", phone: "030 1234567", country: "Deutschland" },
      { key: "r4", row: 4, domain: "plumb.com", phone: "415 555 0100" },
      { key: "r5", row: 5, domain: "tiny.com", phone: "555-0100" },
      { key: "r6", row: 6, domain: "none.com", phone: "n/a" },
      { key: "r7", row: 7, domain: "tiny.com", phone: "+1 212 555 0100" },
      { key: "r8", row: 8, domain: "merge.de" },
      { key: "r9", row: 9, domain: "merge.de", phone: "030 7654321" },
      // An input column of that name never passes through: the exports write it unguarded.
      { key: "r10", row: 10, domain: "evil.com", phone_e164: '=HYPERLINK("http://x")' },
    ],
  });
  assert.deepEqual(result.items.map((i) => [i.key, i.phone, i.phone_e164]), [
    ["baecker.de", "(030) 123-4567", "+49301234567"],
    ["acme.com", "+44 20 7946 0123", "+442079460123"],
    ["shop.com", "030 1234567", "+49301234567"],
    ["plumb.com", "415 555 0100", "+14155550100"],
    // Not a number; the later row of the domain keeps its own phone in `duplicates`.
    ["tiny.com", "555-0100", undefined],
    ["none.com", "n/a", undefined],
    // A later row gives the phone the kept row lacks.
    ["merge.de", "030 7654321", "+49307654321"],
    ["evil.com", undefined, undefined],
  ]);
  assert.equal(result.metrics.normalize_phones_invalid, 1);
  assert.ok(
    result.logs.some((l) =>
      l.msg.includes("1 phone number is no valid number") &&
      l.msg.includes('row 5: "555-0100" is not a valid phone number in US')
    ),
    JSON.stringify(result.logs),
  );
});

Deno.test("normalize names a phoneCountry it does not know", async () => {
  await assert.rejects(
    runPlugin({
      dir,
      config: { phoneCountry: "Atlantis" },
      items: [{ key: "a", domain: "a.com" }],
    }),
    /with\.phoneCountry is "Atlantis", no country Sluice knows/,
  );
});
