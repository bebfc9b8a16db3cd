import assert from "node:assert/strict";
import { looksLikePhone, normalizeDomain } from "./normalize_domain.ts";

Deno.test("normalizeDomain strips scheme, www, path, port and case", () => {
  const cases: [string, string, string][] = [
    ["Example.COM", "example.com", "example.com"],
    ["https://www.Example.com:8443/shop?x=1#top", "example.com", "www.example.com"],
    ["www.example.co.uk/", "example.co.uk", "www.example.co.uk"],
    ["shop.example.com.", "example.com", "shop.example.com"],
    ["  //example.org/path ", "example.org", "example.org"],
    ["info@bakery-smith.de", "bakery-smith.de", "bakery-smith.de"],
  ];
  for (const [input, domain, host] of cases) {
    const n = normalizeDomain(input);
    assert.ok(!("reason" in n), input);
    assert.deepEqual([n.domain, n.host], [domain, host], input);
  }
});

Deno.test("normalizeDomain converts IDNs to punycode", () => {
  const n = normalizeDomain("https://www.Bücher.de/");
  assert.ok(!("reason" in n));
  assert.deepEqual([n.domain, n.host, n.suffix], [
    "xn--bcher-kva.de",
    "www.xn--bcher-kva.de",
    "de",
  ]);
  const rf = normalizeDomain("пример.рф");
  assert.ok(!("reason" in rf));
  assert.equal(rf.domain, "xn--e1afmkfd.xn--p1ai");
});

Deno.test("normalizeDomain keeps private-suffix sites apart unless told otherwise", () => {
  const a = normalizeDomain("foo.github.io");
  assert.ok(!("reason" in a));
  assert.deepEqual([a.domain, a.privateSuffix], ["foo.github.io", true]);
  const b = normalizeDomain("foo.github.io", { privateSuffixes: false });
  assert.ok(!("reason" in b));
  assert.deepEqual([b.domain, b.privateSuffix], ["github.io", false]);
});

Deno.test("normalizeDomain rejects invalid names with a reason", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["   ", /empty/],
    ["192.168.1.1", /IP address/],
    ["http://[::1]/", /IP address/],
    ["localhost", /no top-level domain/],
    ["co.uk", /public suffix/],
    ["example.notatld", /unknown top-level domain ".notatld"/],
    ["exa mple.com", /not a valid host name/],
    ["a_b.com", /label "a_b" is invalid/],
    ["-bad.com", /label "-bad" is invalid/],
    ["ftp://example.com", /not a web address/],
    ["x".repeat(64) + ".com", /invalid/],
  ];
  for (const [input, reason] of cases) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, input);
    assert.match(n.reason, reason, input);
  }
});

Deno.test("normalizeDomain rejects pages on platforms of every kind, naming the platform", () => {
  const cases: [string, string, string, RegExp][] = [
    ["https://www.facebook.com/joes-pizza", "Facebook", "social", /is a Facebook page/],
    ["instagram.com/marias.bakery", "Instagram", "social", /is an Instagram page/],
    ["https://x.com/joespizza", "X (Twitter)", "social", /is an X \(Twitter\) page/],
    ["twitter.com/joespizza", "X (Twitter)", "social", /X \(Twitter\) page/],
    ["linkedin.com/company/acme", "LinkedIn", "social", /is a LinkedIn page/],
    ["https://www.tiktok.com/@joespizza", "TikTok", "social", /is a TikTok page/],
    ["youtube.com/@joespizza", "YouTube", "social", /is a YouTube page/],
    ["linktr.ee/joespizza", "Linktree", "link-in-bio", /is a Linktree link-in-bio page/],
    ["https://www.yelp.com/biz/joes-pizza-nyc", "Yelp", "directory", /is a Yelp listing/],
    ["yelp.de/biz/baeckerei", "Yelp", "directory", /is a Yelp listing/],
    ["google.com/maps/place/Joe's+Pizza", "Google Maps", "maps", /a Google Maps listing/],
    ["https://maps.app.goo.gl/AbC123", "Google Maps", "maps", /a Google Maps listing/],
    ["g.page/joes-pizza", "Google Business Profile", "maps", /Google Business Profile listing/],
    ["sites.google.com/view/marias", "Google Sites", "site-builder-page", /a page on Google Sites/],
    ["https://www.google.com/search?q=joes+pizza", "Google", "search", /is a Google page/],
    [
      "info@gmail.com",
      "Gmail",
      "free-mail",
      /is an address at Gmail \(a free e-mail provider\), not a website of/,
    ],
    ["mailto:joe@yahoo.co.uk", "Yahoo Mail", "free-mail", /an address at Yahoo Mail \(a free/],
    ["baeckerei@gmx.de", "GMX", "free-mail", /an address at GMX \(a free e-mail provider\)/],
  ];
  for (const [input, name, kind, wording] of cases) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, input);
    assert.deepEqual(n.platform, { name, kind }, input);
    assert.match(n.reason, wording, input);
    assert.ok(
      n.reason.startsWith(`platform page: "${input}" is `) &&
        n.reason.endsWith("not a website of the business's own: no domain to check"),
      n.reason,
    );
  }
});

Deno.test("normalizeDomain rejects a shop page on a marketplace, naming the marketplace", () => {
  const cases: [string, string][] = [
    // From the sales-ops review: each collapsed into the marketplace's domain, which probed live.
    ["https://www.ebay.de/str/joesshop", "eBay"],
    ["https://www.etsy.com/shop/JoesCrafts", "Etsy"],
    ["https://www.amazon.de/shops/ABC123", "Amazon"],
    ["https://www.kleinanzeigen.de/pro/joes-moebel", "Kleinanzeigen"],
    // eBay under any country suffix, its older store hosts, seller profiles and short links.
    ["ebay.co.uk/usr/joes-shop", "eBay"],
    ["https://stores.ebay.de/joesshop", "eBay"],
    ["https://www.ebay.com.au/itm/1234567890", "eBay"],
    ["https://ebay.us/AbC123", "eBay"],
    ["joescrafts.etsy.com", "Etsy"],
    ["https://etsy.me/3AbCdEf", "Etsy"],
    ["https://www.amazon.com/stores/JoesBrand/page/0A1B2C3D", "Amazon"],
    ["amazon.co.uk/sp?seller=A1B2C3D4E5", "Amazon"],
    ["https://www.amazon.co.jp/dp/B000000000", "Amazon"],
    ["https://amzn.to/3xYzAbC", "Amazon"],
    ["https://amzn.eu/d/abc123", "Amazon"],
    ["https://a.co/d/abc123", "Amazon"],
    ["https://www.ebay-kleinanzeigen.de/s-bestandsliste.html?userId=123", "Kleinanzeigen"],
    ["https://www.willhaben.at/iad/kaufen-und-verkaufen/d/sofa-123456789/", "willhaben"],
    ["https://www.leboncoin.fr/boutique/12345/joes_meubles.htm", "leboncoin"],
    ["es.wallapop.com/item/sofa-123456", "Wallapop"],
    ["https://allegro.pl/uzytkownik/joes-sklep", "Allegro"],
    ["allegro.cz/obchod/joes", "Allegro"],
    ["https://www.mercadolibre.com.ar/tienda/joes", "Mercado Libre"],
    ["https://articulo.mercadolibre.com.mx/MLM-123456789-silla", "Mercado Libre"],
    ["https://www.mercadolivre.com.br/loja/joes", "Mercado Livre"],
    ["https://www.bol.com/nl/nl/v/joes-meubels/1234567/", "bol.com"],
    ["https://www.rakuten.co.jp/joes-shop/", "Rakuten"],
    ["https://www.avito.ru/moskva/mebel/divan_123456789", "Avito"],
    ["https://www.vinted.fr/member/123456-joes", "Vinted"],
    ["vinted.co.uk/member/123456-joes", "Vinted"],
    ["https://www.marktplaats.nl/u/joes-meubels/12345678/", "Marktplaats"],
  ];
  for (const [input, name] of cases) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, `${input}: ${JSON.stringify(n)}`);
    assert.deepEqual(n.platform, { name, kind: "marketplace" }, input);
    assert.equal(
      n.reason,
      `platform page: "${input}" is a shop page on ${name} (a marketplace), not a website of ` +
        "the business's own: no domain to check",
    );
  }
});

Deno.test("normalizeDomain rejects a marketplace's home page as the marketplace itself", () => {
  const cases: [string, string][] = [
    ["ebay.de", "eBay"],
    ["https://www.ebay.com/", "eBay"],
    ["www.amazon.co.uk", "Amazon"],
    ["etsy.com", "Etsy"],
    ["https://www.kleinanzeigen.de/", "Kleinanzeigen"],
  ];
  for (const [input, name] of cases) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, input);
    assert.deepEqual(n.platform, { name, kind: "marketplace" }, input);
    assert.equal(
      n.reason,
      `platform page: "${input}" is ${name} itself, not a website of the business's own: ` +
        "no domain to check",
    );
  }
});

Deno.test("normalizeDomain keeps businesses' own domains that merely name a marketplace", () => {
  const cases: [string, string][] = [
    ["ebay-repair-shop.de", "ebay-repair-shop.de"],
    ["https://www.myetsyfinds.com/shop/JoesCrafts", "myetsyfinds.com"],
    ["amazonas-reisen.de", "amazonas-reisen.de"],
    ["https://kleinanzeigen-muenchen.de/pro/x", "kleinanzeigen-muenchen.de"],
    ["joes-moebel.de/ebay", "joes-moebel.de"],
    ["shop.joesvinted.com", "joesvinted.com"],
    ["info@joes-moebel.de", "joes-moebel.de"],
    // `.*` is an ICANN suffix only: a GitHub Pages site named ebay is its own site.
    ["ebay.github.io", "ebay.github.io"],
  ];
  for (const [input, domain] of cases) {
    const n = normalizeDomain(input);
    assert.ok(!("reason" in n), `${input}: ${JSON.stringify(n)}`);
    assert.equal(n.domain, domain, input);
  }
});

Deno.test("normalizeDomain with platformPages keep gives a marketplace's domain, as for other kinds", () => {
  const cases: [string, string][] = [
    ["https://www.ebay.de/str/joesshop", "ebay.de"],
    ["https://www.etsy.com/shop/JoesCrafts", "etsy.com"],
    ["https://www.amazon.de/shops/ABC123", "amazon.de"],
    ["https://www.kleinanzeigen.de/pro/joes-moebel", "kleinanzeigen.de"],
  ];
  for (const [input, domain] of cases) {
    const n = normalizeDomain(input, { platformPages: "keep" });
    assert.ok(!("reason" in n), input);
    assert.deepEqual([n.domain, n.platform], [domain, undefined], input);
  }
});

Deno.test("normalizeDomain keeps an address at the business's own domain", () => {
  const n = normalizeDomain("info@bakery-smith.de");
  assert.ok(!("reason" in n), JSON.stringify(n));
  assert.equal(n.domain, "bakery-smith.de");
  const keep = normalizeDomain("info@gmail.com", { platformPages: "keep" });
  assert.ok(!("reason" in keep) && keep.domain === "gmail.com", "keep gives the old behaviour");
});

Deno.test("normalizeDomain rejects a platform itself and any host under a platform's domain", () => {
  const cases: [string, RegExp][] = [
    ["facebook.com", /"facebook\.com" is Facebook itself/],
    ["https://www.facebook.com/", /is Facebook itself/],
    ["linktr.ee", /is Linktree itself/],
    // Not listed, but a business never owns a subdomain of Facebook: still Facebook's page.
    ["developers.facebook.com/docs", /is a Facebook page/],
    ["m.facebook.com/joes-pizza", /is a Facebook page/],
    // A site builder's own address is not a business's site either.
    ["business.site", /is the site builder Google Business Profile \(business\.site\) itself/],
    ["www.weebly.com", /is the site builder Weebly itself/],
  ];
  for (const [input, reason] of cases) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n && n.platform, input);
    assert.match(n.reason, /^platform page: /, input);
    assert.match(n.reason, reason, input);
  }
});

Deno.test("normalizeDomain keeps a site on a subdomain platform as its own domain", () => {
  const cases: [string, string, string, string][] = [
    [
      "https://mariasbakery.business.site/",
      "mariasbakery.business.site",
      "business.site",
      "Google",
    ],
    ["www.joes-pizza.weebly.com", "joes-pizza.weebly.com", "weebly.com", "Weebly"],
    ["shop.acme.wordpress.com/about", "acme.wordpress.com", "wordpress.com", "WordPress.com"],
    ["acme.godaddysites.com", "acme.godaddysites.com", "godaddysites.com", "GoDaddy"],
  ];
  for (const [input, domain, suffix, platform] of cases) {
    const n = normalizeDomain(input);
    assert.ok(!("reason" in n), input);
    assert.deepEqual([n.domain, n.suffix, n.privateSuffix], [domain, suffix, true], input);
    assert.ok(n.platform?.startsWith(platform), `${input}: ${n.platform}`);
  }
  // PSL private suffixes need no entry: tldts already keeps these apart.
  for (const input of ["marias.wixsite.com/home", "marias.square.site", "marias.carrd.co"]) {
    const n = normalizeDomain(input);
    assert.ok(!("reason" in n), input);
    assert.equal(n.domain, input.split("/")[0], input);
    assert.equal(n.privateSuffix, true, input);
  }
  // privateSuffixes: false collapses them like foo.github.io (the old behaviour).
  const off = normalizeDomain("mariasbakery.business.site", { privateSuffixes: false });
  assert.ok(!("reason" in off));
  assert.deepEqual([off.domain, off.privateSuffix, off.platform], [
    "business.site",
    false,
    undefined,
  ]);
});

Deno.test("normalizeDomain with platformPages keep gives the platform's domain, as before", () => {
  const cases: [string, string][] = [
    ["https://www.facebook.com/joes-pizza", "facebook.com"],
    ["facebook.com", "facebook.com"],
    ["sites.google.com/view/marias", "google.com"],
    ["linktr.ee/joes", "linktr.ee"],
    ["business.site", "business.site"],
  ];
  for (const [input, domain] of cases) {
    const n = normalizeDomain(input, { platformPages: "keep" });
    assert.ok(!("reason" in n), input);
    assert.equal(n.domain, domain, input);
  }
  // Subdomain platforms follow privateSuffixes, not platformPages.
  const site = normalizeDomain("marias.business.site", { platformPages: "keep" });
  assert.ok(!("reason" in site));
  assert.equal(site.domain, "marias.business.site");
});

Deno.test("normalizeDomain says so when a cell holds more than one website", () => {
  for (
    const input of [
      "a.com, b.com",
      "a.com b.com",
      "https://www.a.com/; http://b.de",
      "joespizza.com / facebook.com/joespizza",
      "a.com or b.co.uk",
      "info@a.com,info@b.com",
    ]
  ) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, input);
    assert.equal(n.reason, `"${input}" holds more than one website; put one per row or pick one`);
    assert.equal(n.platform, undefined);
  }
  // One website with a space in its path, or words that are no websites, are not two websites.
  const one = normalizeDomain("https://a.com/my page.html");
  assert.ok(!("reason" in one));
  assert.equal(one.domain, "a.com");
  for (const input of ["not a domain", "Joe's Pizza joespizza.com", "a.com b"]) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, input);
    assert.doesNotMatch(n.reason, /more than one website/, input);
  }
});

Deno.test("normalizeDomain reads values as copied from spreadsheets: scheme typos, notes, quotes", () => {
  const cases: [string, string][] = [
    ["http//example.com", "example.com"],
    ["https//www.example.com/shop", "example.com"],
    ["http:/example.com", "example.com"],
    ["http:\\\\example.com", "example.com"],
    ["Example.com (old)", "example.com"],
    ['"example.com"', "example.com"],
    ["<https://www.example.com/>", "example.com"],
    ["example.com,", "example.com"],
    ["httpshop.de", "httpshop.de"],
  ];
  for (const [input, domain] of cases) {
    const n = normalizeDomain(input);
    assert.ok(!("reason" in n), `${input}: ${JSON.stringify(n)}`);
    assert.equal(n.domain, domain, input);
  }
  // A note naming another website is not dropped silently.
  assert.ok("reason" in normalizeDomain("a.com (alt: b.com)"));
});

Deno.test("normalizeDomain says a placeholder is no website, and quotes long values shortened", () => {
  for (const input of ["n/a", "#N/A", "-", "none", "keine", "k.A."]) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, input);
    assert.equal(n.reason, `no website given: "${input}" is a placeholder, not a website`);
  }
  const long = normalizeDomain("x".repeat(5000) + ".com");
  assert.ok("reason" in long);
  assert.ok(long.reason.length < 200, long.reason);
  assert.match(long.reason, /^"x{60}… \(5004 characters\)" is longer than 253 characters$/);
});

Deno.test("a phone number in the website column is named as one", () => {
  for (
    const v of [
      "0421 667788",
      "+49 228 123456",
      "+49 (228) 123-456",
      "030/1234567",
      "4930123456",
      "tel:+4930123456",
      "Tel. 030 123456",
    ]
  ) {
    const r = normalizeDomain(v);
    assert.ok("reason" in r, v);
    assert.match(r.reason, /looks like a phone number, not a website or domain/, v);
  }
  for (const v of ["192.168.1.10", "1und1.de", "123.de", "12 34"]) {
    const r = normalizeDomain(v);
    assert.ok(!("reason" in r) || !/phone/.test(r.reason), v);
  }
  assert.equal(looksLikePhone("192.168.100.200"), false);
});

Deno.test("normalizeDomain: one domain written twice, link formulas, sheet errors, notes naming a website", () => {
  const ok: [string, string][] = [
    ["https://kapsalon.nl, https://kapsalon.nl/de", "kapsalon.nl"],
    ["info@kapsalon.nl; sales@kapsalon.nl", "kapsalon.nl"],
    ["www.smith.co.uk / smith.co.uk/shop", "smith.co.uk"],
    ['=HYPERLINK("http://hughes-plumbing.com","site")', "hughes-plumbing.com"],
    ['=hyperlink( "https://www.a.de/kontakt" )', "a.de"],
    ["bakers.com (new: www.bakers.com)", "bakers.com"],
  ];
  for (const [input, domain] of ok) {
    const n = normalizeDomain(input);
    assert.ok(!("reason" in n), `${input}: ${"reason" in n ? n.reason : ""}`);
    assert.equal(n.domain, domain, input);
  }
  const bad: [string, RegExp][] = [
    ["bakershairstudio.com (old: austin-plumbing.com)", /holds more than one website/],
    ["#REF!", /no website given: "#REF!" is a spreadsheet's error value/],
    ["#NAME?", /spreadsheet's error value/],
    ["#value!", /spreadsheet's error value/],
    ['=CONCAT("a", ".com")', /is a spreadsheet formula, not a website: export the cells' values/],
  ];
  for (const [input, reason] of bad) {
    const n = normalizeDomain(input);
    assert.ok("reason" in n, input);
    assert.match(n.reason, reason, input);
  }
});
